"""`flask backup` and `flask restore`: a snapshot of the database and the photo files, taken
while the app runs, restored into a fresh instance (a new SQLite file or PostgreSQL database and
a new upload folder) with every listing, photo and claim; damaged backups and databases holding
data are refused with nothing changed."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import sqlite3
import threading
import traceback
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from io import BytesIO
from pathlib import Path

import pytest
from flask import has_app_context
from helpers import SHARED_TESTDATA, TEST_DATABASE_URL, on_postgres
from PIL import Image
from sqlalchemy import create_engine, func, select, text
from sqlalchemy.engine import make_url

from marketplace.config import normalise_database_url
from marketplace.extensions import db
from marketplace.models import (
    Category,
    Claim,
    ClaimMessage,
    Listing,
    ListingPhoto,
    Photo,
    User,
)
from marketplace.services import backup as backup_service
from marketplace.services import claims, listings
from marketplace.services.backup import MANIFEST, head_revision, revision_advice
from marketplace.services.backup import limits as backup_limits
from marketplace.services.backup import making as backup_making
from marketplace.services.backup import postgres_dump as backup_postgres
from marketplace.services.photos import VARIANTS, photo_file_name
from marketplace.storage import get_storage

GOOD = SHARED_TESTDATA / "images" / "good"
UNREACHABLE_POSTGRES = "postgresql+psycopg://backup:s3cret@127.0.0.1:9/nowhere"


# --- building a world worth backing up ------------------------------------------------------

def post(poster: User, title: str, uploads: list[tuple[str, bytes]], submit: bool = True):
    details = listings.ListingDetails(
        title=title, description="Netjes, gereinigd en gecontroleerd.",
        category_id=db.session.scalar(select(Category.id).where(Category.slug == "furniture")),
        condition="good", quantity=5, unit="piece", site_id=poster.organisation.sites[0].id,
        available_until=date.today() + timedelta(days=20))
    changes = listings.PhotoChanges(uploads=[listings.Upload(name, data) for name, data in uploads])
    return listings.create_listing(poster, details, changes, submit=submit)


def real_photo(name: str) -> tuple[str, bytes]:
    return name, (GOOD / name).read_bytes()


def generated_photo(number: int) -> tuple[str, bytes]:
    """A small PNG of its own content (photos are stored once per content)."""
    buffer = BytesIO()
    Image.new("RGB", (48, 36), (number % 256, number // 256 % 256, 120)).save(buffer, "PNG")
    return f"foto-{number}.png", buffer.getvalue()


@dataclass
class World:
    giver_id: int
    claimant_id: int


@pytest.fixture
def world(app, make_org, make_user) -> World:
    giving = make_org("Ziekenhuis Rivierenland")
    giving.trusted = True  # its listings are published at once
    db.session.commit()
    giver = make_user("anna@rivierenland.example.org", organisation=giving)
    claimant = make_user("daan@delinde.example.org", organisation=make_org("Zorggroep De Linde"))
    chairs = post(giver, "Bureaustoelen", [real_photo("hopper.jpg"), real_photo("hopper.png")])
    rollators = post(giver, "Rollators", [real_photo("exif_gps.jpg")])
    post(giver, "Dossierkasten", [real_photo("pil_sample_cmyk.jpg"), real_photo("hopper.webp")])
    post(giver, "Nog een concept", [real_photo("hopper_gray.jpg")], submit=False)
    accepted = claims.claim_listing(claimant, chairs, 2, "Wij kunnen ze goed gebruiken.")
    claims.accept_claim(giver, accepted, "Ophalen bij de achteringang.")
    claims.post_message(claimant, accepted, "Dank je, donderdag om tien uur?")
    claims.post_message(giver, accepted, "Prima, tot donderdag.")
    claims.claim_listing(claimant, rollators, 1, "Eén is genoeg.")
    return World(giver.id, claimant.id)


def state() -> dict[str, object]:
    """What a restore must bring back, as plain values, read in the current app's context."""
    return {
        "listings": sorted(db.session.execute(
            select(Listing.id, Listing.title, Listing.status, Listing.quantity_available))),
        "listing photos": sorted(db.session.execute(
            select(ListingPhoto.listing_id, ListingPhoto.position, Photo.content_hash)
            .join(Photo))),
        "claims": sorted(db.session.execute(
            select(Claim.id, Claim.listing_id, Claim.status, Claim.quantity))),
        "messages": sorted(db.session.execute(select(ClaimMessage.claim_id, ClaimMessage.body))),
        "users": sorted(db.session.scalars(select(User.email))),
    }


def stored_files() -> dict[str, bytes]:
    storage = get_storage()
    return {name: storage.read(name) for name in storage.names()}


# --- fresh instances ------------------------------------------------------------------------

@pytest.fixture
def new_database_url(tmp_path):
    """A URL of an empty database: a new SQLite file, or a throwaway PostgreSQL database next to
    the test database (dropped afterwards)."""
    made: list[str] = []
    server = make_url(normalise_database_url(TEST_DATABASE_URL)) if on_postgres() else None

    def admin(statement: str) -> None:
        engine = create_engine(server, isolation_level="AUTOCOMMIT")
        with engine.connect() as connection:
            connection.execute(text(statement))
        engine.dispose()

    def build(label: str) -> str:
        if server is None:
            (tmp_path / label).mkdir()
            return f"sqlite:///{tmp_path / label / 'marketplace.sqlite'}"
        name = f"{server.database}_{label}"
        admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin(f'CREATE DATABASE "{name}"')
        made.append(name)
        return server.set(database=name).render_as_string(hide_password=False)

    yield build
    for name in made:
        admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
def fresh_instance(make_app, new_database_url, tmp_path):
    """A new application on an empty database with an empty upload folder."""

    def build(label: str = "restored"):
        return make_app(SQLALCHEMY_DATABASE_URI=new_database_url(label),
                        UPLOAD_FOLDER=str(tmp_path / f"{label}-uploads"))

    return build


def take_backup(application, directory: Path) -> Path:
    result = invoke(application, "backup", str(directory))
    assert result.exit_code == 0, result.output + "".join(
        traceback.format_exception(*result.exc_info))
    folders = [path for path in directory.iterdir() if not path.name.startswith(".")]
    assert len(folders) == 1, folders
    return folders[0]


def invoke(application, *arguments: str, answer: str | None = None):
    """Run a command of `application` in an app context of its own, as `flask` does; the
    test's session first lets go of what it read (as a separate process would hold nothing)."""
    if has_app_context():
        db.session.remove()
    with application.app_context():
        return application.test_cli_runner().invoke(args=list(arguments), input=answer)


def restore(application, folder: Path, *arguments: str, answer: str | None = None):
    return invoke(application, "restore", str(folder), *arguments, answer=answer)


def backups_dir(tmp_path: Path) -> Path:
    directory = tmp_path / "backups"
    directory.mkdir()
    return directory


# --- backup and restore ---------------------------------------------------------------------

def test_a_backup_restores_into_a_fresh_instance_with_every_listing_photo_and_claim(
        app, world, fresh_instance, tmp_path):
    before, files = state(), stored_files()
    assert len(before["listings"]) == 4 and len(before["claims"]) == 2
    assert len(files) == 6 * len(VARIANTS)  # six photos, three variants each

    folder = take_backup(app, backups_dir(tmp_path))

    assert folder.name.startswith("marketplace-backup-")
    manifest = json.loads((folder / MANIFEST).read_text())
    assert manifest["database"]["kind"] == ("postgresql" if on_postgres() else "sqlite")
    assert manifest["file_count"] == len(files)
    assert manifest["missing_files"] == []
    assert manifest["counts"]["listing"] == 4
    assert manifest["app_version"] == "0.1.0"
    assert {name: entry["sha256"] for name, entry in manifest["files"].items()} == {
        name: hashlib.sha256(data).hexdigest() for name, data in files.items()}

    restored = fresh_instance()
    result = restore(restored, folder)

    assert result.exit_code == 0, result.output
    assert "4 listings, 6 photos, 2 claims, 2 messages" in result.output
    assert f"Restored {len(files)} files" in result.output
    with restored.app_context():
        assert state() == before
        assert stored_files() == files  # every photo file, byte for byte
        assert Path(restored.config["UPLOAD_FOLDER"]).is_dir()


def test_the_restored_instance_serves_its_listings_and_photos(
        app, world, fresh_instance, tmp_path, login_as):
    folder = take_backup(app, backups_dir(tmp_path))
    restored = fresh_instance()
    assert restore(restored, folder).exit_code == 0

    with restored.app_context():
        chairs = db.session.scalar(select(Listing).where(Listing.title == "Bureaustoelen"))
        name = photo_file_name(chairs.photos[0].photo, "card")
        client = restored.test_client()
        login = client.post("/auth/login", data={"email": "daan@delinde.example.org",
                                                 "password": "tulpen-fiets-regen-42"})
        assert login.status_code == 302
        page = client.get(f"/listings/{chairs.id}")
        assert page.status_code == 200
        assert "Bureaustoelen" in page.get_data(as_text=True)
        assert name in page.get_data(as_text=True)
        with client.get(f"/photos/{name}") as photo:
            assert photo.status_code == 200
            assert photo.data == (folder / "files" / name).read_bytes()


def test_a_backup_taken_while_members_post_and_claim_restores_consistently(
        app, world, fresh_instance, tmp_path, monkeypatch):
    """The issue's done-when: a backup taken under load restores completely."""
    progress = threading.Condition()
    posted = [0]
    stop = threading.Event()
    failures: list[BaseException] = []

    def keep_posting_and_claiming() -> None:
        try:
            with app.app_context():
                giver = db.session.get(User, world.giver_id)
                claimant = db.session.get(User, world.claimant_id)
                number = 0
                while not stop.is_set():
                    number += 1
                    listing = post(giver, f"Onder belasting {number}", [generated_photo(number)])
                    claim = claims.claim_listing(claimant, listing, 1, "Graag")
                    claims.post_message(giver, claim, "Kom maar halen.")
                    with progress:
                        posted[0] = number
                        progress.notify_all()
        except BaseException as error:  # judged in the test's thread
            failures.append(error)
            with progress:
                progress.notify_all()

    def posted_at_least(count: int) -> None:
        with progress:
            assert progress.wait_for(lambda: posted[0] >= count or failures, timeout=120)
        assert not failures, "".join(traceback.format_exception(failures[0]))

    real_get_storage = backup_making.get_storage

    class StorageStillBeingWritten:
        """The storage as the backup sees it, once the database snapshot is taken: the writer
        gets to post more listings (rows and photo files) before the files are listed, and
        again while they are copied."""

        def __init__(self) -> None:
            self.inner = real_get_storage()
            self.reads = 0

        def names(self):
            posted_at_least(posted[0] + 2)
            return self.inner.names()

        def read(self, name: str) -> bytes:
            self.reads += 1
            if self.reads == 1:
                posted_at_least(posted[0] + 1)
            return self.inner.read(name)

    monkeypatch.setattr(backup_making, "get_storage", StorageStillBeingWritten)
    writer = threading.Thread(target=keep_posting_and_claiming, daemon=True)
    writer.start()
    try:
        posted_at_least(3)
        count_before = db.session.scalar(select(func.count(Listing.id)))
        db.session.commit()  # the test's session holds nothing open while the backup runs
        folder = take_backup(app, backups_dir(tmp_path))
        db.session.expire_all()
        count_after = db.session.scalar(select(func.count(Listing.id)))
    finally:
        stop.set()
        writer.join(timeout=120)
        monkeypatch.setattr(backup_making, "get_storage", real_get_storage)
    assert not writer.is_alive()
    assert not failures, "".join(traceback.format_exception(failures[0]))
    source_files = stored_files()
    # The writer went on after the snapshot (files of rows the snapshot does not have are
    # in the backup too: harmless, and the proof that the files were listed afterwards).
    manifest = json.loads((folder / MANIFEST).read_text())
    assert manifest["missing_files"] == []
    assert manifest["file_count"] > manifest["counts"]["photo"] * len(VARIANTS)

    restored = fresh_instance()
    result = restore(restored, folder)
    assert result.exit_code == 0, result.output

    with restored.app_context():
        restored_count = db.session.scalar(select(func.count(Listing.id)))
        assert count_before <= restored_count < count_after
        storage = get_storage()
        shown = db.session.scalars(select(Photo).join(ListingPhoto)).unique().all()
        assert len(shown) >= restored_count  # every listing was posted with a photo
        for photo in shown:
            for variant in VARIANTS:
                name = photo_file_name(photo, variant)
                assert storage.read(name) == source_files[name], name
        # Each listing under load was followed by its claim, then a message, in transactions of
        # their own: a consistent snapshot lacks at most the last one's claim and message.
        under_load = db.session.scalar(select(func.count(Listing.id))
                                       .where(Listing.title.like("Onder belasting %")))
        load_claims = db.session.scalar(select(func.count(Claim.id)).join(Listing)
                                        .where(Listing.title.like("Onder belasting %")))
        load_messages = db.session.scalar(
            select(func.count(ClaimMessage.id)).join(Claim).join(Listing)
            .where(Listing.title.like("Onder belasting %")))
        assert under_load - 1 <= load_claims <= under_load
        assert load_claims - 1 <= load_messages <= load_claims
        if not on_postgres():
            database = restored.config["SQLALCHEMY_DATABASE_URI"].removeprefix("sqlite:///")
            with sqlite3.connect(database) as connection:
                assert connection.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
                assert connection.execute("PRAGMA foreign_key_check").fetchall() == []


# --- refusals -------------------------------------------------------------------------------

def nothing_restored(application) -> bool:
    with application.app_context():
        empty = backup_service.database_is_empty()
        folder = Path(application.config["UPLOAD_FOLDER"])
        return empty and not (folder.exists() and any(folder.iterdir()))


def change_a_photo_file(folder: Path) -> str:
    name = sorted(json.loads((folder / MANIFEST).read_text())["files"])[0]
    path = folder / "files" / name
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0xFF
    path.write_bytes(bytes(data))
    return name


def remove_a_photo_file(folder: Path) -> str:
    name = sorted(json.loads((folder / MANIFEST).read_text())["files"])[-1]
    (folder / "files" / name).unlink()
    return name


def change_the_database_file(folder: Path) -> str:
    path = next(folder.glob("database.*"))
    with open(path, "ab") as file:
        file.write(b"\0")
    return path.name


def remove_the_manifest(folder: Path) -> str:
    (folder / MANIFEST).unlink()
    return MANIFEST


@pytest.mark.parametrize(("damage", "said"), [
    (change_a_photo_file, "has changed"),
    (remove_a_photo_file, "is missing"),
    (change_the_database_file, "has changed"),
    (remove_the_manifest, "not a backup, or an incomplete one"),
])
def test_a_damaged_or_incomplete_backup_is_refused_with_nothing_restored(
        app, world, fresh_instance, tmp_path, damage, said):
    folder = take_backup(app, backups_dir(tmp_path))
    damaged = damage(folder)
    restored = fresh_instance()

    result = restore(restored, folder, "--force", "--yes")

    assert result.exit_code == 1
    assert said in result.output and damaged in result.output
    assert "Nothing was restored." in result.output
    assert nothing_restored(restored)


def test_restoring_over_data_needs_force_and_a_confirmation(app, world, tmp_path):
    folder = take_backup(app, backups_dir(tmp_path))
    giver = db.session.get(User, world.giver_id)
    post(giver, "Na de back-up geplaatst", [generated_photo(1)])
    with_later_listing = state()

    refused = restore(app, folder)
    assert refused.exit_code == 1
    assert "is not empty" in refused.output and "--force" in refused.output
    declined = restore(app, folder, "--force", answer="n\n")
    assert declined.exit_code == 1
    assert "Replace everything in" in declined.output
    assert "Nothing was restored." in declined.output
    db.session.remove()
    assert state() == with_later_listing

    confirmed = restore(app, folder, "--force", answer="y\n")
    assert confirmed.exit_code == 0, confirmed.output
    db.session.remove()
    titles = [title for _id, title, *_rest in state()["listings"]]
    assert "Na de back-up geplaatst" not in titles
    assert "Bureaustoelen" in titles


def test_a_restore_over_a_running_app_gives_up_with_nothing_changed(
        app, world, tmp_path, monkeypatch):
    folder = take_backup(app, backups_dir(tmp_path))
    giver = db.session.get(User, world.giver_id)
    post(giver, "Na de back-up geplaatst", [generated_photo(1)])
    before = state()
    monkeypatch.setattr(backup_limits, "SQLITE_TIMEOUT", 0.5)
    monkeypatch.setattr(backup_limits, "POSTGRES_LOCK_TIMEOUT", "500ms")
    other_process = create_engine(app.config["SQLALCHEMY_DATABASE_URI"])
    with other_process.connect() as connection:
        # What a running app does: SQLite allows one writer, PostgreSQL cannot drop a table
        # that an open transaction has read.
        if on_postgres():
            connection.execute(text("SELECT count(*) FROM listing"))
        else:
            connection.exec_driver_sql("BEGIN IMMEDIATE")

        result = restore(app, folder, "--force", "--yes")

        connection.rollback()
    other_process.dispose()
    assert result.exit_code == 1, result.output
    assert "stop the app and its workers" in result.output
    assert "Nothing was restored" in result.output
    db.session.remove()
    assert state() == before


def test_yes_skips_the_question_when_forcing(app, world, tmp_path):
    folder = take_backup(app, backups_dir(tmp_path))
    before = state()
    db.session.execute(text("DELETE FROM claim_message"))
    db.session.commit()

    result = restore(app, folder, "--force", "--yes")

    assert result.exit_code == 0, result.output
    assert "Replace everything" not in result.output
    db.session.remove()
    assert state() == before


def test_a_backup_of_one_kind_of_database_is_refused_by_the_other(
        app, world, make_app, tmp_path):
    if on_postgres():
        folder = take_backup(app, backups_dir(tmp_path))
        other = make_app(SQLALCHEMY_DATABASE_URI=f"sqlite:///{tmp_path / 'other.sqlite'}",
                         UPLOAD_FOLDER=str(tmp_path / "other-uploads"))
        expected = "a backup of a PostgreSQL database and the configured database " \
                   "(DATABASE_URL) is SQLite"
    else:
        folder = take_backup(app, backups_dir(tmp_path))
        # Refused before any connection: this server does not even exist.
        other = make_app(SQLALCHEMY_DATABASE_URI=UNREACHABLE_POSTGRES,
                         UPLOAD_FOLDER=str(tmp_path / "other-uploads"))
        expected = "a backup of a SQLite database and the configured database " \
                   "(DATABASE_URL) is PostgreSQL"

    result = restore(other, folder, "--force", "--yes")

    assert result.exit_code == 1
    assert expected in result.output
    assert not (tmp_path / "other-uploads").exists()
    assert not (tmp_path / "other.sqlite").exists()


def test_restore_refuses_a_folder_that_is_not_a_backup(app, tmp_path):
    result = restore(app, tmp_path / "nowhere")
    assert result.exit_code != 0
    assert "not a folder" in result.output or "does not exist" in result.output


# --- making backups: refusals and half-made ones -------------------------------------------

def a_file(tmp_path: Path) -> Path:
    (tmp_path / "a-file").write_text("")
    return tmp_path / "a-file"


@pytest.mark.parametrize("make_target", [lambda tmp: tmp / "not-mounted", a_file])
def test_backup_refuses_a_missing_folder_or_a_file(app, runner, tmp_path, make_target):
    target = make_target(tmp_path)
    result = runner.invoke(args=["backup", str(target)])
    assert result.exit_code != 0
    assert "does not exist" in result.output or "is a file" in result.output
    assert not (tmp_path / "not-mounted").exists()


def test_a_backup_that_fails_halfway_leaves_nothing_that_looks_complete(
        app, runner, world, tmp_path, monkeypatch):
    real_get_storage = backup_making.get_storage

    class FailingStorage:
        def __init__(self) -> None:
            self.inner, self.reads = real_get_storage(), 0

        def names(self):
            return self.inner.names()

        def read(self, name: str) -> bytes:
            self.reads += 1
            if self.reads == 5:
                raise OSError("disk on fire")
            return self.inner.read(name)

    monkeypatch.setattr(backup_making, "get_storage", FailingStorage)
    directory = backups_dir(tmp_path)

    result = runner.invoke(args=["backup", str(directory)])

    assert result.exit_code == 1
    assert "The backup failed and was removed: disk on fire" in result.output
    assert list(directory.iterdir()) == []  # not even the temporary folder is left


def test_a_folder_left_by_an_interrupted_backup_is_refused(
        app, world, fresh_instance, tmp_path):
    folder = take_backup(app, backups_dir(tmp_path))
    interrupted = folder.with_name(".marketplace-backup-interrupted.incomplete")
    shutil.copytree(folder, interrupted)
    (interrupted / MANIFEST).unlink()  # the manifest is the last thing written
    restored = fresh_instance()

    result = restore(restored, interrupted)

    assert result.exit_code == 1
    assert "incomplete" in result.output
    assert nothing_restored(restored)


def test_two_backups_in_one_second_get_their_own_folders(app, runner, world, tmp_path,
                                                         monkeypatch):
    """The clock the folder names come from stands still: the two are always in one second,
    however long a backup takes (a pg_dump takes longer than a second on a busy machine)."""

    class StoppedClock(datetime):
        @classmethod
        def now(cls, tz=None):
            return datetime(2026, 3, 1, 9, 30, 15, tzinfo=UTC)

    monkeypatch.setattr(backup_making, "datetime", StoppedClock)
    directory = backups_dir(tmp_path)
    for _attempt in range(2):
        assert runner.invoke(args=["backup", str(directory)]).exit_code == 0
    assert sorted(path.name for path in directory.iterdir()) == [
        "marketplace-backup-20260301T093015Z", "marketplace-backup-20260301T093015Z-2"]


def test_backup_says_what_it_saved(app, runner, world, tmp_path):
    result = runner.invoke(args=["backup", str(backups_dir(tmp_path))])
    assert result.exit_code == 0, result.output
    assert "4 listings, 6 photos, 2 claims, 2 messages" in result.output
    assert f"Files: {6 * len(VARIANTS)}," in result.output
    assert "Backup saved in" in result.output


# --- PostgreSQL: the client programs and the password ---------------------------------------

def test_a_missing_pg_dump_is_a_clear_error(make_app, tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", str(tmp_path / "empty-path"))
    application = make_app(SQLALCHEMY_DATABASE_URI=UNREACHABLE_POSTGRES)
    directory = backups_dir(tmp_path)

    result = invoke(application, "backup", str(directory))

    assert result.exit_code == 1
    assert "pg_dump was not found on PATH" in result.output
    assert list(directory.iterdir()) == []


def test_pg_dump_gets_the_password_from_the_environment_not_its_arguments(make_app):
    application = make_app(
        SQLALCHEMY_DATABASE_URI="postgresql+psycopg://backup:s3cret@db.example:5433/market"
                                "?sslmode=require")
    with application.app_context():
        dsn, environment = backup_postgres.libpq_target()
    assert dsn == "postgresql://backup@db.example:5433/market?sslmode=require"
    assert "s3cret" not in dsn
    assert environment["PGPASSWORD"] == "s3cret"


def test_an_unreachable_database_is_a_clear_error(make_app, tmp_path):
    application = make_app(SQLALCHEMY_DATABASE_URI=UNREACHABLE_POSTGRES,
                           UPLOAD_FOLDER=str(tmp_path / "other-uploads"))
    directory = backups_dir(tmp_path)

    result = invoke(application, "backup", str(directory))

    assert result.exit_code == 1
    assert "The database cannot be read: connection failed" in result.output
    assert list(directory.iterdir()) == []


# --- the schema revision --------------------------------------------------------------------

def test_a_backup_of_an_older_schema_tells_the_operator_to_upgrade(
        make_app, new_database_url, fresh_instance, tmp_path):
    older = make_app(SQLALCHEMY_DATABASE_URI=new_database_url("older"),
                     UPLOAD_FOLDER=str(tmp_path / "older-uploads"))
    upgrade = invoke(older, "db", "upgrade", "0007")
    assert upgrade.exit_code == 0, upgrade.output
    folder = take_backup(older, backups_dir(tmp_path))
    assert json.loads((folder / MANIFEST).read_text())["alembic_revision"] == "0007"
    restored = fresh_instance()

    result = restore(restored, folder)

    assert result.exit_code == 0, result.output
    with restored.app_context():
        head = head_revision()
    assert f"older than this version's {head}: run `flask db upgrade`" in result.output
    upgraded = invoke(restored, "db", "upgrade")
    assert upgraded.exit_code == 0, upgraded.output
    with restored.app_context():
        assert db.session.scalar(text("SELECT version_num FROM alembic_version")) == head


@pytest.mark.parametrize(("revision", "advice"), [
    ("head", "this version's latest"),
    ("0003", "run `flask db upgrade`"),
    ("9999", "unknown to this version"),
    (None, "records no schema revision"),
])
def test_the_advice_about_the_restored_schema(app, revision, advice):
    assert advice in revision_advice(head_revision() if revision == "head" else revision)


def test_a_photo_file_lost_from_the_storage_is_named_in_the_backup(app, world, tmp_path):
    name = sorted(stored_files())[0]
    get_storage().delete(name)

    result = invoke(app, "backup", str(backups_dir(tmp_path)))

    assert result.exit_code == 0, result.output
    assert "Warning: 1 photo files the database refers to are not in the storage" in result.output
    assert name in result.output
    folder = next((tmp_path / "backups").iterdir())
    assert json.loads((folder / MANIFEST).read_text())["missing_files"] == [name]


def test_backups_are_private_to_their_owner(app, world, tmp_path):
    folder = take_backup(app, backups_dir(tmp_path))
    # Password hashes and personal data are in it.
    assert os.stat(folder).st_mode & 0o077 == 0
