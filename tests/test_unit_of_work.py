"""Units of work: the outermost one commits, nested service calls join it, a refusal leaves
nothing half-written, follow-ups run after the commit only, savepoints work on both databases;
and no code outside marketplace/unit_of_work.py commits or rolls back the session itself."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from builders import listing_details
from helpers import outbox, reload
from sqlalchemy import event, func, select

from marketplace.extensions import db
from marketplace.models import (
    AuditEvent,
    DailyTask,
    ListingStatus,
    Organisation,
    Report,
    ReportOutcome,
    ReportReason,
    ReportStatus,
    Role,
    WatchWord,
    WatchWordKind,
)
from marketplace.models.base import utcnow
from marketplace.services import accounts, listings, moderation, reports
from marketplace.services.accounts import registration
from marketplace.services.errors import DomainError
from marketplace.services.organisations import SiteDetails
from marketplace.unit_of_work import (
    Skip,
    after_commit,
    atomic,
    each_in_own_unit,
    in_unit_of_work,
    savepoint,
    unit_of_work,
)

MARKETPLACE = Path(__file__).resolve().parent.parent / "marketplace"


@pytest.fixture
def admin(app, make_user):
    return make_user(role=Role.PLATFORM_ADMIN, name="Mo Derator")


@pytest.fixture
def poster(app, make_user):
    return make_user(name="Fenna Poster")


@pytest.fixture
def commits(app) -> Iterator[list[str]]:
    """What was committed, in order (with the after_commit callbacks that append to it)."""
    seen: list[str] = []

    def committed(_session) -> None:
        seen.append("commit")

    event.listen(db.session, "after_commit", committed)
    yield seen
    event.remove(db.session, "after_commit", committed)


def reported(listing, reporter) -> None:
    reports.report_listing(reporter, listing, ReportReason.UNSAFE, "The brakes do not work.")


def count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def morning():
    return utcnow().astimezone().replace(hour=9, minute=5)


def pending(make_listing, poster):
    return make_listing(organisation=poster.organisation, created_by=poster,
                        status=ListingStatus.PENDING_REVIEW, submitted_at=utcnow())


# --- one commit, at the outermost unit -------------------------------------------------------

def test_the_outermost_unit_commits_once_and_nested_service_calls_join_it(
        admin, poster, make_user, make_listing, commits):
    published = make_listing(organisation=poster.organisation, created_by=poster)
    reported(published, make_user())
    waiting = pending(make_listing, poster)
    commits.clear()
    with unit_of_work():
        moderation.approve_listing(admin, waiting)
        # Resolving asks for changes through moderation: a service inside a service.
        reports.resolve_reports(admin, published, ReportOutcome.CHANGES_REQUESTED, "",
                                reason_for_poster="Add a photo of the brakes.")
        assert commits == [] and in_unit_of_work()
    assert commits == ["commit"] and not in_unit_of_work()
    assert reload(waiting).status is ListingStatus.PUBLISHED
    assert reload(published).status is ListingStatus.DRAFT


def test_a_nested_service_call_is_rolled_back_when_the_outer_unit_fails_after_it(
        admin, poster, make_user, make_listing, commits):
    published = make_listing(organisation=poster.organisation, created_by=poster)
    reported(published, make_user())
    mails_before = len(outbox())
    commits.clear()
    with pytest.raises(DomainError, match="Only listings waiting for review"), unit_of_work():
        reports.resolve_reports(admin, published, ReportOutcome.LISTING_REMOVED, "",
                                reason_for_poster="Unsafe.")
        moderation.approve_listing(admin, published)  # refused: it is removed, not waiting
    assert commits == []
    assert reload(published).status is ListingStatus.PUBLISHED
    assert db.session.scalar(select(Report.status)) is ReportStatus.OPEN
    assert len(outbox()) == mails_before and count(AuditEvent) == 0


def test_a_refusal_leaves_nothing_half_written(poster, make_listing):
    listing = make_listing(organisation=poster.organisation, created_by=poster)
    title = listing.title
    # The details are applied to the listing before the rule that refuses it is checked.
    with pytest.raises(DomainError, match="Add at least one photo"):
        listings.update_listing(poster, listing, listing_details(poster, title="Iets anders"),
                                listings.PhotoChanges(), submit=False)
    db.session.commit()  # whatever a later unit of work would write along
    db.session.expire_all()
    assert listing.title == title


def test_atomic_runs_a_generator_in_one_unit(app, commits):
    @atomic
    def words() -> Iterator[str]:
        for word in ("kraan", "zuil"):
            db.session.add(WatchWord(word=word, kind=WatchWordKind.OTHER))
            yield word

    steps = words()
    assert next(steps) == "kraan" and commits == []  # the unit is still open
    assert list(steps) == ["zuil"] and commits == ["commit"]
    assert {"kraan", "zuil"} <= set(db.session.scalars(select(WatchWord.word)))


def test_a_sign_up_that_loses_its_address_to_another_writes_only_the_owners_mail(
        app, make_user, monkeypatch):
    owner = make_user("sam@example.org")
    real_lookup = registration.find_user_by_email
    looks = []

    def lookup(email: str):  # the first look finds nobody: the other sign-up had not committed
        looks.append(email)
        return real_lookup(email) if len(looks) > 1 else None

    monkeypatch.setattr(registration, "find_user_by_email", lookup)
    organisations = count(Organisation)
    site = SiteDetails("Hoofdlocatie", "Kade 1", "3511 AB", "Utrecht", "utrecht")
    assert accounts.sign_up(
        name="Sam Tweede", email="sam@example.org", password="een-lange-zin-als-wachtwoord",
        language="en", new_organisation_request=accounts.NewOrganisationRequest(
            "Zorghuis Nieuw", "other", site, kvk_number="12345678")) is None
    assert count(Organisation) == organisations  # the new organisation went with the rollback
    assert [mail.recipient for mail in outbox()] == [owner.email]
    assert outbox()[0].template == "account_exists" and len(looks) == 2


# --- after the commit ------------------------------------------------------------------------

def test_after_commit_runs_once_the_outermost_unit_has_committed(app, commits):
    with unit_of_work():
        with unit_of_work():
            after_commit(lambda: commits.append(f"callback, in a unit: {in_unit_of_work()}"))
        assert commits == []
    assert commits == ["commit", "callback, in a unit: False"]


def test_after_commit_callbacks_are_dropped_by_a_rollback(app, commits):
    with pytest.raises(DomainError), unit_of_work():
        after_commit(lambda: commits.append("callback"))
        raise DomainError("refused")
    with unit_of_work():
        pass
    assert commits == ["commit"]


def test_a_failing_callback_does_not_undo_or_hide_the_commit(app, commits, caplog):
    def fail() -> None:
        raise OSError("disk gone")

    with unit_of_work():
        db.session.add(WatchWord(word="kraan", kind=WatchWordKind.OTHER))
        after_commit(fail)
        after_commit(lambda: commits.append("next callback"))
    assert commits == ["commit", "next callback"]
    assert "A callback after a commit failed" in caplog.text
    assert db.session.scalar(select(WatchWord.id).where(WatchWord.word == "kraan"))


def test_after_commit_needs_a_unit_of_work(app):
    with pytest.raises(RuntimeError):
        after_commit(lambda: None)


# --- one unit per row ------------------------------------------------------------------------

def test_each_row_commits_on_its_own(app):
    def add(word: str) -> bool:
        db.session.add(WatchWord(word=word, kind=WatchWordKind.OTHER))
        db.session.flush()
        if word == "zuil":
            raise Skip
        if word == "boom":
            raise ValueError(word)
        return True

    with pytest.raises(ValueError, match="boom"):
        each_in_own_unit(["kraan", "zuil", "lift", "boom", "later"], add)
    words = set(db.session.scalars(select(WatchWord.word)))
    assert {"kraan", "lift"} <= words and not words & {"zuil", "boom", "later"}
    with pytest.raises(RuntimeError), unit_of_work():
        each_in_own_unit([], add)


# --- savepoints (both databases) -------------------------------------------------------------

def test_a_savepoint_lost_to_a_unique_key_leaves_the_unit_going(admin, poster, make_listing):
    first, _second = pending(make_listing, poster), pending(make_listing, poster)
    db.session.add(DailyTask(name=moderation.SUMMARY_TASK, day=morning().date()))
    db.session.commit()
    with unit_of_work():
        moderation.approve_listing(admin, first)
        # Its insert of the day's row fails on the unique key, inside a savepoint.
        assert moderation.send_moderation_summary(morning()) == 0
    assert reload(first).status is ListingStatus.PUBLISHED
    assert outbox("moderation_summary") == []


def test_a_savepoint_as_the_first_write_rolls_back_with_its_unit(admin, poster, make_listing):
    # pysqlite opens no transaction before the first INSERT: a SAVEPOINT before any opened one
    # of its own, and its RELEASE committed the row at once.
    pending(make_listing, poster)
    with pytest.raises(RuntimeError), unit_of_work():
        assert moderation.send_moderation_summary(morning()) == 1
        raise RuntimeError("the unit fails after the summary")
    assert count(DailyTask) == 0 and outbox("moderation_summary") == []


def test_a_savepoint_rolls_back_only_its_block(app):
    with unit_of_work():
        db.session.add(WatchWord(word="kraan", kind=WatchWordKind.OTHER))
        with pytest.raises(ValueError), savepoint():
            db.session.add(WatchWord(word="zuil", kind=WatchWordKind.OTHER))
            raise ValueError("this block only")
    words = set(db.session.scalars(select(WatchWord.word)))
    assert "kraan" in words and "zuil" not in words


# --- the code's shape ------------------------------------------------------------------------

SESSION_TRANSACTION = re.compile(r"\bsession(?:\(\))?\.(commit|rollback|begin_nested)\(")
ALLOWED = {
    "unit_of_work.py": "the one place units commit, roll back and take savepoints",
    "errors.py": "a failed request's session is reset so the error page can read (a unit "
                 "that was open has rolled back already)",
    "health.py": "a failed probe (SELECT 1) resets its session; it wrote nothing",
    "mail_sender.py": "after a lost database the dead session is dropped before reconnecting",
    "services/backup/checking.py": "ends the read-only transaction of a check before a "
                                   "restore replaces the database",
}


def test_only_the_unit_of_work_commits_or_rolls_back():
    found: dict[str, list[str]] = {}
    for path in sorted(MARKETPLACE.rglob("*.py")):
        for number, line in enumerate(path.read_text().splitlines(), start=1):
            if SESSION_TRANSACTION.search(line):
                found.setdefault(path.relative_to(MARKETPLACE).as_posix(), []).append(
                    f"{number}: {line.strip()}")
    outside = {name: lines for name, lines in found.items() if name not in ALLOWED}
    assert outside == {}, "use unit_of_work / @atomic / savepoint (marketplace/unit_of_work.py)"
    assert set(ALLOWED) == set(found), "an allowed file no longer needs it: take it off"
