"""Fixtures: a fresh application and database per test, builders, and a logged-in client.

The suite runs on SQLite (a file per test, copied from one made once per process), and on
PostgreSQL when TEST_DATABASE_URL is set (schema made once, every table emptied and the reference
rows put back before each test).
"""

from __future__ import annotations

import atexit
import contextvars
import os
import shutil
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from helpers import PASSWORD, TEST_DATABASE_URL, AuthActions, on_postgres
from hypothesis import settings as hypothesis_settings
from jinja2 import BytecodeCache
from jinja2.bccache import Bucket
from sqlalchemy import Table, event, func, insert, select, text, update
from sqlalchemy import table as table_clause
from werkzeug.routing import Rule

from marketplace import create_app
from marketplace.config import normalise_database_url
from marketplace.extensions import db, limiter
from marketplace.models import (
    Category,
    Claim,
    ClaimStatus,
    Condition,
    Language,
    Listing,
    ListingStatus,
    Organisation,
    OrganisationKind,
    OrganisationStatus,
    Province,
    Role,
    Site,
    Unit,
    User,
    UserStatus,
    search_index,
)
from marketplace.models.base import UTCDateTime, utcnow
from marketplace.services.defaults import ensure_defaults
from marketplace.services.passwords import hash_password

# PYTHONDONTWRITEBYTECODE (set in some containers) would make every test process, and every
# server a test starts, parse and assertion-rewrite all of tests/ and marketplace/ again (about
# 15 s each); the caches go to __pycache__/, which git ignores.
sys.dont_write_bytecode = False

# The tests run in the platform's default TIMEZONE, so their "today" (date.today()) is the day
# the code means, also late in the evening UTC. A test of another server zone sets its own TZ.
os.environ["TZ"] = "Europe/Amsterdam"
time.tzset()

_postgres_schema_ready = False

# The fuzz tests (test_fuzz_*.py). On CI each test draws the same examples every run (derived
# from the test itself), so a red build means a regression, never an unlucky new draw; locally
# the draws are random, to keep finding new bugs, and a failing example is saved in .hypothesis/
# and tried first next time. HYPOTHESIS_PROFILE=ci reproduces a CI run.
hypothesis_settings.register_profile("ci", derandomize=True, database=None, print_blob=True)
hypothesis_settings.register_profile("dev", print_blob=True)
hypothesis_settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE")
                                 or ("ci" if os.environ.get("CI") else "dev"))


def test_config(tmp_path: Path, **overrides: object) -> dict[str, object]:
    url = normalise_database_url(TEST_DATABASE_URL) if TEST_DATABASE_URL \
        else f"sqlite:///{tmp_path / 'test.sqlite'}"
    config: dict[str, object] = {
        "TESTING": True,
        "SECRET_KEY": "test-secret-key",
        "SQLALCHEMY_DATABASE_URI": url,
        "WTF_CSRF_ENABLED": False,
        "RATELIMIT_ENABLED": False,
        "RATELIMIT_STORAGE_URI": "memory://",
        "EMAIL_LOOKUP_FLOOR_MS": 0,  # test_password_reset checks the floor itself
        "MAIL_SERVER": None,
        "MAIL_SUPPRESS_SEND": False,
        "MAIL_DELIVER_AFTER_REQUEST": False,
        "MAIL_FOLDER": str(tmp_path / "mail"),
        "UPLOAD_FOLDER": str(tmp_path / "uploads"),
        "BASE_URL": "http://localhost",
        # Fast hashing in tests; production uses scrypt (see test_passwords).
        "PASSWORD_HASH_METHOD": "pbkdf2:sha256:1000",
        "SESSION_COOKIE_SECURE": False,
        "REMEMBER_COOKIE_SECURE": False,
    }
    config.update(overrides)
    return config


# --- a fresh database per test, cheaply -----------------------------------------------------
# Every test starts from the schema and the reference rows (categories, moderation reasons,
# watch-words, impact factors) exactly as create_all() and ensure_defaults() make them. Making
# them takes a third of a second, so each test process makes them once: on SQLite into a file
# that each test copies, on PostgreSQL into rows put back after emptying every table.

_sqlite_template: Path | None = None
_reference_rows: list[tuple[Table, list[dict[str, object]]]] | None = None


def _fill_database() -> None:
    """The schema and reference rows on a new database; remember which rows they are."""
    global _reference_rows
    db.create_all()
    ensure_defaults()  # the migrations seed them in real databases
    _reference_rows = [(table, [dict(row._mapping) for row in db.session.execute(select(table))])
                       for table in db.metadata.sorted_tables]
    _reference_rows = [(table, rows) for table, rows in _reference_rows if rows]


def _stamp_reference_rows() -> None:
    """Reference rows stamped with the time they were made (created_at, updated_at) carry the
    test's start, as if ensure_defaults() had just made them."""
    now = utcnow()
    for table, _rows in _reference_rows or []:
        stamped = {column.name: now for column in table.columns
                   if isinstance(column.type, UTCDateTime) and column.default is not None
                   and column.default.is_callable}
        if stamped:
            db.session.execute(update(table).values(stamped))
    db.session.commit()


def _reset_postgres() -> None:
    global _postgres_schema_ready
    if not _postgres_schema_ready:
        db.drop_all()
        db.session.execute(text("DROP TABLE IF EXISTS alembic_version"))
        db.session.commit()
        _fill_database()
        _postgres_schema_ready = True
        return
    # DELETE, not TRUNCATE: truncating every table takes PostgreSQL about 0.4 s (a new, synced
    # file for each), deleting the few rows a test made a hundredth of that.
    for table in reversed(db.metadata.sorted_tables):
        db.session.execute(table.delete())
    # Kept by triggers, outside the models: the words of titles that earlier tests made.
    db.session.execute(table_clause(search_index.PARTS_WORDS_TABLE).delete())
    for table, rows in _reference_rows or []:
        db.session.execute(insert(table), rows)
    # As after TRUNCATE … RESTART IDENTITY and ensure_defaults(): ids go on from the last one.
    db.session.execute(select(*(
        func.setval(func.pg_get_serial_sequence(table.name, table.autoincrement_column.name),
                    select(func.coalesce(func.max(table.autoincrement_column), 0) + 1)
                    .scalar_subquery(), False)
        for table in db.metadata.sorted_tables if table.autoincrement_column is not None)))
    _stamp_reference_rows()


def _copy_sqlite_template(path: Path) -> None:
    """The template database (made on first use), copied to `path`."""
    global _sqlite_template
    if _sqlite_template is None:
        folder = Path(tempfile.mkdtemp(prefix="marketplace-tests-"))
        template = create_app(test_config(folder))
        with template.app_context():
            _fill_database()
            db.session.remove()
            db.engine.dispose()  # closes the file, folding the write-ahead log into it
        _sqlite_template = folder / "test.sqlite"
        atexit.register(shutil.rmtree, folder, ignore_errors=True)
    shutil.copyfile(_sqlite_template, path)


def _commit_without_waiting_for_the_disk(application: Flask) -> None:
    """The test's connections commit without syncing to disk: what other connections see is
    the same, only what survives a power cut is not (a test database need not). This saves a
    few milliseconds on each of a test's many commits."""
    with application.app_context():
        engine = db.engine
    statement = "SET synchronous_commit = off" if engine.dialect.name == "postgresql" \
        else "PRAGMA synchronous = OFF"

    @event.listens_for(engine, "connect")
    def _no_sync(dbapi_connection: Any, _record: Any) -> None:
        cursor = dbapi_connection.cursor()
        cursor.execute(statement)
        cursor.close()
        dbapi_connection.commit()  # else the pool's rollback would undo the SET


class _TemplateCodeCache(BytecodeCache):
    """Templates compiled once per test process instead of once per test's application; a
    bucket is keyed by the template's name and checked against its source, so an edited
    template is compiled again."""

    def __init__(self) -> None:
        self.compiled: dict[str, bytes] = {}

    def load_bytecode(self, bucket: Bucket) -> None:
        if bucket.key in self.compiled:
            bucket.bytecode_from_string(self.compiled[bucket.key])

    def dump_bytecode(self, bucket: Bucket) -> None:
        self.compiled[bucket.key] = bucket.bytecode_to_string()


_TEMPLATE_CODE = _TemplateCodeCache()


def _reuse_url_builders() -> None:
    """Each application compiles a Python function per URL rule for url_for (two thirds of
    create_app's time). The function depends only on the rule's parts, so the tests' many
    applications share them.

    Werkzeug has no public way to do this; the private method is worth it (issue 15,
    bench/app_startup.py): create_app took 61 ms without it and 10 ms with it (161 and 28 ms
    while the 2-core machine was busy), once per test: 1.4 to 3.7 CPU-minutes of the 1,661
    tests, on each database. If a werkzeug upgrade drops the method, the tests run unchanged,
    only slower."""
    compile_builder = getattr(Rule, "_compile_builder", None)
    if compile_builder is None or getattr(compile_builder, "shared_by_tests", False):
        return
    built: dict[tuple[object, ...], Callable[..., object]] = {}

    def shared(self: Rule, append_unknown: bool = True) -> Callable[..., object]:
        if self.defaults and any(dynamic and name in self.defaults
                                 for dynamic, name in self._trace):
            return compile_builder(self, append_unknown)  # a default folded into the code
        key = (self.rule, tuple(self._trace), tuple(sorted(self.defaults or {})),
               append_unknown)
        if key not in built:
            built[key] = compile_builder(self, append_unknown)
        return built[key]

    shared.shared_by_tests = True  # type: ignore[attr-defined]
    Rule._compile_builder = shared  # type: ignore[method-assign]


_reuse_url_builders()


class EnglishClient(FlaskClient):
    """A browser asking for English (Dutch is the default), one request context each.

    Each request runs in an empty context, so it gets its own application context, `g` and
    database session as in production, instead of sharing the test's (where Flask-Login's
    cached user in `g` would hide a session that ought to have ended).
    """

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)
        self.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"

    def open(self, *args: object, **kwargs: object):
        return contextvars.Context().run(super().open, *args, **kwargs)


@pytest.fixture
def make_app(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Callable[..., Flask]]:
    """Build an application with extra settings; its database is fresh."""
    monkeypatch.setenv("INSTANCE_PATH", str(tmp_path / "instance"))
    for name in ("DATABASE_URL", "MAIL_SERVER", "SECRET_KEY", "FLASK_DEBUG", "BASE_URL"):
        monkeypatch.delenv(name, raising=False)
    built: list[Flask] = []

    def build(**overrides: object) -> Flask:
        fresh = not built and "SQLALCHEMY_DATABASE_URI" not in overrides
        if fresh and not on_postgres():
            _copy_sqlite_template(tmp_path / "test.sqlite")
        application = create_app(test_config(tmp_path, **overrides))
        application.test_client_class = EnglishClient
        application.jinja_env.bytecode_cache = _TEMPLATE_CODE
        _commit_without_waiting_for_the_disk(application)
        with application.app_context():
            if fresh and on_postgres():
                _reset_postgres()
            elif fresh:
                _stamp_reference_rows()
        built.append(application)
        return application

    yield build
    for application in built:
        with application.app_context():
            db.session.remove()
            db.engine.dispose()
            if application.config["RATELIMIT_ENABLED"]:
                limiter.reset()  # the limiter is one object: counts must not leak into other tests


@pytest.fixture
def app(make_app: Callable[..., Flask]) -> Iterator[Flask]:
    application = make_app()
    with application.app_context():
        yield application


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


@pytest.fixture
def runner(app: Flask):
    return app.test_cli_runner()


@pytest.fixture
def make_org() -> Callable[..., Organisation]:
    counter = iter(range(1, 10_000))

    def build(name: str | None = None, status: OrganisationStatus = OrganisationStatus.ACTIVE,
              kind: OrganisationKind = OrganisationKind.HOSPITAL) -> Organisation:
        number = next(counter)
        organisation = Organisation(name=name or f"Zorginstelling {number}", kind=kind,
                                    status=status)
        organisation.sites.append(Site(name="Hoofdlocatie", street=f"Zorgweg {number}",
                                       postcode="3511 AB", city="Utrecht",
                                       province=Province.UTRECHT))
        db.session.add(organisation)
        db.session.commit()
        return organisation

    return build


@pytest.fixture
def make_listing(make_org: Callable[..., Organisation]) -> Callable[..., Listing]:
    """A listing straight in the database (published by default), for tests of what follows."""
    counter = iter(range(1, 100_000))

    def build(title: str | None = None, *, organisation: Organisation | None = None,
              status: ListingStatus = ListingStatus.PUBLISHED, category: str = "furniture",
              **fields: object) -> Listing:
        number = next(counter)
        organisation = organisation or make_org()
        values: dict[str, object] = {
            "title": title or f"Bureaustoel {number}",
            "description": "Verstelbare bureaustoel, goed onderhouden.",
            "condition": Condition.GOOD,
            "quantity": 4,
            "unit": Unit.PIECE,
            "available_until": date.today() + timedelta(days=30),
        }
        values.update(fields)
        values.setdefault("quantity_available", values["quantity"])
        listing = Listing(
            organisation=organisation,
            site=organisation.sites[0],
            category=db.session.scalar(select(Category).where(Category.slug == category)),
            status=status,
            published_at=utcnow() if status is ListingStatus.PUBLISHED else None,
            **values,
        )
        db.session.add(listing)
        db.session.commit()
        return listing

    return build


@pytest.fixture
def make_claim() -> Callable[..., Claim]:
    """A claim straight in the database, made `age` ago, for tests of what follows a claim
    (the claim services themselves are tested in test_claims.py)."""

    def build(listing: Listing, claimant: User, status: ClaimStatus = ClaimStatus.REQUESTED, *,
              age: timedelta = timedelta(0), quantity: int = 1, **fields: object) -> Claim:
        claim = Claim(listing=listing, claimant=claimant, quantity=quantity, status=status,
                      claimant_organisation_id=claimant.organisation_id,
                      created_at=utcnow() - age, **fields)
        db.session.add(claim)
        db.session.commit()
        return claim

    return build


@pytest.fixture
def make_user(make_org: Callable[..., Organisation]) -> Callable[..., User]:
    counter = iter(range(1, 10_000))

    def build(email: str | None = None, *, organisation: Organisation | None = None,
              role: Role = Role.MEMBER, status: UserStatus = UserStatus.ACTIVE,
              confirmed: bool = True, language: Language = Language.EN,
              name: str | None = None, password: str = PASSWORD) -> User:
        number = next(counter)
        if organisation is None and role is not Role.PLATFORM_ADMIN:
            organisation = make_org()
        user = User(
            email=email or f"user{number}@example.org",
            name=name or f"Test User {number}",
            password_hash=hash_password(password),
            organisation=organisation,
            role=role,
            status=status,
            language=language,
            email_confirmed_at=utcnow() if confirmed else None,
        )
        db.session.add(user)
        db.session.commit()
        return user

    return build


@pytest.fixture
def auth(client: FlaskClient) -> AuthActions:
    return AuthActions(client)


@pytest.fixture
def login_as(app: Flask) -> Callable[[User], FlaskClient]:
    """A new client, logged in as `user` (several may be logged in at once)."""

    def build(user: User) -> FlaskClient:
        new_client = app.test_client()
        response = AuthActions(new_client).login(user)
        assert response.status_code == 302, response.get_data(as_text=True)
        return new_client

    return build
