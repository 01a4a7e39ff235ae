"""Moderation: the review queue, the decisions on listings (with reasons in the poster's
language), watch-words that hold listings for review, the admin pages for reasons and
watch-words, and the daily summary for platform admins."""

from __future__ import annotations

import re
from datetime import timedelta

import builders
import pytest
from helpers import SHARED_TESTDATA, outbox, reload
from sqlalchemy import delete, func, select, update

from marketplace.extensions import db
from marketplace.models import (
    AuditEvent,
    ClaimStatus,
    DailyTask,
    Language,
    Listing,
    ListingStatus,
    ModerationReason,
    OrganisationStatus,
    OutboxMessage,
    Report,
    ReportReason,
    Role,
    WatchWord,
    WatchWordKind,
)
from marketplace.models.base import utcnow
from marketplace.services import claims, housekeeping, moderation, watch_words
from marketplace.services.errors import DomainError, PermissionDenied

GOOD = SHARED_TESTDATA / "images" / "good"


# --- helpers ---------------------------------------------------------------------------------

def audit_events(action: str) -> list[AuditEvent]:
    return list(db.session.scalars(select(AuditEvent).where(AuditEvent.action == action)
                                   .order_by(AuditEvent.id)))


def count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def listing_form(user, **overrides) -> dict[str, object]:
    return builders.listing_form(user, photos=["hopper.jpg"], **{
        "description": "Twaalf inklapbare rollators met mandje.", **overrides})


def post_listing(client, user, **overrides):
    return client.post("/listings/new", data=listing_form(user, **overrides),
                       content_type="multipart/form-data")


def newest_listing() -> Listing:
    return db.session.scalar(select(Listing).order_by(Listing.id.desc()).limit(1))


@pytest.fixture
def admin(app, make_user):
    return make_user(role=Role.PLATFORM_ADMIN, name="Mo Derator")


@pytest.fixture
def poster(app, make_user):
    return make_user(name="Fenna Poster", language=Language.EN)


@pytest.fixture
def trusted_poster(app, make_org, make_user):
    organisation = make_org("Vertrouwd Zorghuis")
    organisation.trusted = True
    db.session.commit()
    return make_user(organisation=organisation, name="Tess Trusted")


def pending_of(make_listing, poster, **fields) -> Listing:
    return make_listing(organisation=poster.organisation, created_by=poster,
                        status=fields.pop("status", ListingStatus.PENDING_REVIEW),
                        submitted_at=utcnow(), **fields)


# --- the decisions: allowed and refused transitions ------------------------------------------

ALL = list(ListingStatus)


@pytest.mark.parametrize("status", ALL)
def test_only_listings_waiting_for_review_can_be_approved(admin, poster, make_listing, status):
    listing = pending_of(make_listing, poster, status=status)
    if status is ListingStatus.PENDING_REVIEW:
        moderation.approve_listing(admin, listing)
        assert reload(listing).status is ListingStatus.PUBLISHED
        assert len(audit_events("listing.approve")) == 1
        [mail] = outbox("listing_published", to=poster.email)
        assert f"/listings/{listing.id}" in mail.body_text
    else:
        with pytest.raises(DomainError):
            moderation.approve_listing(admin, listing)
        db.session.rollback()
        assert reload(listing).status is status
        assert audit_events("listing.approve") == []


@pytest.mark.parametrize("status", ALL)
def test_only_listings_waiting_for_review_can_be_rejected(admin, poster, make_listing, status):
    listing = pending_of(make_listing, poster, status=status)
    if status is ListingStatus.PENDING_REVIEW:
        moderation.reject_listing(admin, listing, "The photos are too dark.")
        listing = reload(listing)
        assert listing.status is ListingStatus.REJECTED
        assert listing.moderation_reason == "The photos are too dark."
        [event] = audit_events("listing.reject")
        assert event.reason == "The photos are too dark." and event.target_id == listing.id
        [mail] = outbox("listing_rejected", to=poster.email)
        assert "The photos are too dark." in mail.body_text
        assert f"/listings/{listing.id}/edit" in mail.body_text
        assert f"/listings/{listing.id}/edit" in mail.body_html
    else:
        with pytest.raises(DomainError):
            moderation.reject_listing(admin, listing, "No")
        db.session.rollback()
        assert reload(listing).status is status
        assert audit_events("listing.reject") == [] and outbox() == []


@pytest.mark.parametrize("status", ALL)
def test_changes_can_be_asked_for_listings_waiting_for_review_or_published(
        admin, poster, make_listing, status):
    listing = pending_of(make_listing, poster, status=status)
    if status in (ListingStatus.PENDING_REVIEW, ListingStatus.PUBLISHED):
        moderation.request_changes(admin, listing, "Give the size of the mattress.")
        listing = reload(listing)
        assert listing.status is ListingStatus.DRAFT
        assert listing.moderation_reason == "Give the size of the mattress."
        [event] = audit_events("listing.request_changes")
        assert event.reason == "Give the size of the mattress."
        [mail] = outbox("listing_changes_requested", to=poster.email)
        assert "Give the size of the mattress." in mail.body_text
        assert f"/listings/{listing.id}/edit" in mail.body_text
    else:
        with pytest.raises(DomainError):
            moderation.request_changes(admin, listing, "No")
        db.session.rollback()
        assert reload(listing).status is status
        assert audit_events("listing.request_changes") == [] and outbox() == []


@pytest.mark.parametrize("status", ALL)
def test_any_listing_but_a_closed_or_removed_one_can_be_removed(admin, poster, make_listing,
                                                                status):
    listing = pending_of(make_listing, poster, status=status)
    if status not in (ListingStatus.CLOSED, ListingStatus.REMOVED):
        moderation.remove_listing(admin, listing, "Medicines may not be offered.")
        listing = reload(listing)
        assert listing.status is ListingStatus.REMOVED
        assert listing.moderation_reason == "Medicines may not be offered."
        [event] = audit_events("listing.remove")
        assert event.reason == "Medicines may not be offered."
        [mail] = outbox("listing_removed", to=poster.email)
        assert "Medicines may not be offered." in mail.body_text
    else:
        with pytest.raises(DomainError):
            moderation.remove_listing(admin, listing, "No")
        db.session.rollback()
        assert reload(listing).status is status
        assert audit_events("listing.remove") == [] and outbox() == []


@pytest.mark.parametrize("decision", ["approve", "reject", "request_changes", "remove"])
@pytest.mark.parametrize("role", [Role.MEMBER, Role.ORG_ADMIN])
def test_only_platform_admins_decide(poster, make_user, make_listing, decision, role):
    listing = pending_of(make_listing, poster)
    outsider = make_user(role=role, organisation=poster.organisation)
    with pytest.raises(PermissionDenied):
        if decision == "approve":
            moderation.approve_listing(outsider, listing)
        else:
            getattr(moderation, f"{decision}_listing" if decision != "request_changes"
                    else decision)(outsider, listing, "Because")
    db.session.rollback()
    assert reload(listing).status is ListingStatus.PENDING_REVIEW
    assert count(AuditEvent) == 0


@pytest.mark.parametrize("reason", ["", "   ", "x" * 1001])
def test_a_decision_needs_a_reason_of_reasonable_length(admin, poster, make_listing, reason):
    listing = pending_of(make_listing, poster)
    with pytest.raises(DomainError) as refused:
        moderation.reject_listing(admin, listing, reason)
    assert refused.value.field == "text"
    db.session.rollback()
    assert reload(listing).status is ListingStatus.PENDING_REVIEW


# --- claims when a listing leaves ------------------------------------------------------------

@pytest.fixture
def claimed(admin, poster, make_user, make_listing):
    """A published listing of 10 with a collected, an accepted and a waiting claim."""
    listing = pending_of(make_listing, poster, status=ListingStatus.PUBLISHED, quantity=10)
    takers = [make_user(name=f"Taker {number}") for number in range(3)]
    made = [claims.claim_listing(taker, listing, quantity)
            for taker, quantity in zip(takers, (2, 3, 4), strict=True)]
    claims.accept_claim(poster, made[0])
    claims.mark_collected(poster, made[0])
    claims.accept_claim(poster, made[1])
    db.session.execute(delete(OutboxMessage))  # only what the decisions send is checked
    db.session.commit()
    return listing, made, takers


def test_removing_cancels_every_open_claim_and_gives_back_the_quantity(admin, poster, claimed):
    listing, (collected, accepted, waiting), takers = claimed
    assert reload(listing).quantity_available == 5

    moderation.remove_listing(admin, listing, "Recalled product.")

    assert reload(collected).status is ClaimStatus.COLLECTED
    for claim in (accepted, waiting):
        claim = reload(claim)
        assert claim.status is ClaimStatus.CANCELLED and claim.closed_at is not None
    listing = reload(listing)
    assert listing.quantity_available == listing.quantity - collected.quantity == 8
    told = {mail.recipient for mail in outbox("claim_listing_removed")}
    assert told == {takers[1].email, takers[2].email}
    assert "The moderators have removed" in outbox("claim_listing_removed")[0].body_text
    assert outbox("claim_quantity_freed") == []  # nothing is on offer any more
    assert [mail.recipient for mail in outbox("listing_removed")] == [poster.email]


def test_a_removed_listing_cannot_be_claimed_or_accepted(admin, poster, make_user, claimed):
    listing, _made, _takers = claimed
    late = make_user()
    late_claim = claims.claim_listing(late, listing, 1)
    moderation.remove_listing(admin, listing, "Recalled product.")
    with pytest.raises(DomainError):
        claims.claim_listing(make_user(), listing, 1)
    db.session.rollback()
    with pytest.raises(DomainError):
        claims.accept_claim(poster, reload(late_claim))


def test_removing_a_reported_listing_answers_its_reports_and_tells_the_reporters(
        admin, poster, make_listing, make_user):
    listing = pending_of(make_listing, poster, status=ListingStatus.PUBLISHED)
    reporters = [make_user(), make_user()]
    db.session.add_all([Report(listing=listing, reporter=reporter, reason=ReportReason.UNSAFE,
                               text="Broken brakes") for reporter in reporters])
    db.session.commit()

    moderation.remove_listing(admin, listing, "Unsafe: the brakes do not work.")

    reports = db.session.scalars(select(Report).where(Report.listing_id == listing.id)).all()
    assert {(report.status.value, report.outcome.value) for report in reports} == \
        {("resolved", "listing_removed")}
    assert sorted(mail.recipient for mail in outbox("report_resolved")) == \
        sorted(reporter.email for reporter in reporters)
    assert len(audit_events("report.resolve")) == 1


def test_a_listing_another_moderator_just_removed_is_not_removed_twice(admin, poster,
                                                                      make_listing):
    listing = pending_of(make_listing, poster, status=ListingStatus.PUBLISHED)
    # Another moderator removes it while this one still sees it published (not reloaded).
    db.session.execute(update(Listing).where(Listing.id == listing.id)
                       .values(status=ListingStatus.REMOVED)
                       .execution_options(synchronize_session=False))
    assert listing.status is ListingStatus.PUBLISHED

    with pytest.raises(DomainError):
        moderation.remove_listing(admin, listing, "Recalled product.")

    db.session.rollback()
    assert audit_events("listing.remove") == []
    assert outbox("listing_removed") == []


def test_asking_changes_of_a_published_listing_closes_waiting_claims_only(admin, poster,
                                                                         claimed):
    listing, (_collected, accepted, waiting), takers = claimed
    moderation.request_changes(admin, listing, "Show the label.")
    assert reload(waiting).status is ClaimStatus.EXPIRED
    assert reload(accepted).status is ClaimStatus.ACCEPTED  # the hand-over was agreed
    assert [mail.recipient for mail in outbox("claim_listing_gone")] == [takers[2].email]
    assert reload(listing).quantity_available == 5


@pytest.mark.parametrize("decide", [moderation.reject_listing, moderation.request_changes],
                         ids=["reject", "request-changes"])
def test_claims_waiting_on_an_edited_listing_back_in_review_are_closed_by_the_decision(
        admin, poster, claimed, decide):
    """An untrusted organisation's edit sends a published listing back to review with its
    claims; refusing it or sending it back to draft must not leave them waiting for a week."""
    listing, (_collected, accepted, waiting), takers = claimed
    listing.status = ListingStatus.PENDING_REVIEW
    db.session.commit()
    decide(admin, listing, "Show the label.")
    assert reload(waiting).status is ClaimStatus.EXPIRED
    assert reload(accepted).status is ClaimStatus.ACCEPTED
    assert [mail.recipient for mail in outbox("claim_listing_gone")] == [takers[2].email]


# --- reasons in the poster's language --------------------------------------------------------

def first_reason() -> ModerationReason:
    return db.session.scalar(select(ModerationReason).order_by(ModerationReason.position))


@pytest.mark.parametrize("language", [Language.NL, Language.EN])
def test_a_standard_reason_is_sent_in_the_posters_language(app, admin, make_user, make_listing,
                                                           login_as, language):
    poster = make_user(language=language)
    listing = pending_of(make_listing, poster)
    reason = first_reason()
    response = login_as(admin).post(f"/admin/listings/{listing.id}/reject", data={
        f"listing-{listing.id}-reason_id": str(reason.id),
        f"listing-{listing.id}-text": ""})
    assert response.status_code == 302
    expected = reason.text_nl if language is Language.NL else reason.text_en
    assert reload(listing).moderation_reason == expected
    [mail] = outbox("listing_rejected")
    assert expected in mail.body_text


def test_own_words_follow_the_standard_reason_or_stand_alone(admin, poster, make_listing):
    listing = pending_of(make_listing, poster)
    reason = first_reason()
    assert moderation.compose_reason(listing, reason.id, "  Add the label.  ") == \
        f"{reason.text_en}\n\nAdd the label."
    assert moderation.compose_reason(listing, None, "Only mine.") == "Only mine."
    with pytest.raises(DomainError):
        moderation.compose_reason(listing, None, "  ")
    reason.active = False
    db.session.commit()
    with pytest.raises(DomainError):
        moderation.compose_reason(listing, reason.id, "")


def test_a_decision_without_a_reason_keeps_the_form_and_writes_nothing(admin, poster,
                                                                       make_listing, login_as):
    listing = pending_of(make_listing, poster)
    client = login_as(admin)
    for action in ("reject", "request-changes", "remove"):
        response = client.post(f"/admin/listings/{listing.id}/{action}", data={
            f"listing-{listing.id}-reason_id": "", f"listing-{listing.id}-text": ""})
        assert response.status_code == 422
        assert "Choose a reason or write your own." in response.get_data(as_text=True)
    response = client.post(f"/admin/listings/{listing.id}/reject", data={
        f"listing-{listing.id}-reason_id": "999999", f"listing-{listing.id}-text": "Mine"})
    assert response.status_code == 422
    assert reload(listing).status is ListingStatus.PENDING_REVIEW
    assert count(AuditEvent) == 0 and outbox() == []


def test_asking_for_changes_through_the_page_shows_the_reason_to_the_poster(
        admin, poster, make_listing, login_as):
    listing = pending_of(make_listing, poster, title="Hoog-laag bed")
    response = login_as(admin).post(f"/admin/listings/{listing.id}/request-changes", data={
        f"listing-{listing.id}-reason_id": "",
        f"listing-{listing.id}-text": "Give the <b>size</b>."})
    assert response.status_code == 302
    poster_client = login_as(poster)
    page = poster_client.get(f"/listings/{listing.id}").get_data(as_text=True)
    assert "Changes requested: Give the &lt;b&gt;size&lt;/b&gt;." in page
    mine = poster_client.get("/listings/mine?status=draft").get_data(as_text=True)
    assert "Changes requested: Give the &lt;b&gt;size&lt;/b&gt;." in mine


@pytest.mark.parametrize("status, label", [(ListingStatus.REJECTED, "Rejected:"),
                                           (ListingStatus.REMOVED, "Removed by moderation:")])
def test_the_poster_sees_why_on_the_listing_and_in_our_listings(poster, make_listing, login_as,
                                                                status, label):
    listing = pending_of(make_listing, poster, status=status, moderation_reason="Too vague")
    client = login_as(poster)
    assert f"{label} Too vague" in client.get(f"/listings/{listing.id}").get_data(as_text=True)
    mine = client.get(f"/listings/mine?status={status.value}").get_data(as_text=True)
    assert f"{label} Too vague" in mine


def test_a_rejected_listing_is_edited_and_resubmitted(app, admin, poster, login_as):
    client = login_as(poster)
    post_listing(client, poster)
    listing = newest_listing()
    moderation.reject_listing(admin, listing, "Too vague")
    form = listing_form(poster, description="Twaalf rollators, 60 cm breed, met mandje.")
    del form["photos"]
    response = client.post(f"/listings/{listing.id}/edit", data=form,
                           content_type="multipart/form-data")
    assert response.status_code == 302
    listing = reload(listing)
    assert listing.status is ListingStatus.PENDING_REVIEW
    assert listing.moderation_reason is None


# --- watch-words -----------------------------------------------------------------------------

@pytest.mark.parametrize("title, description, words", [
    ("Doos met pillen", "Over van de afdeling.", ["pillen"]),
    ("Box of INSULIN pens", "Unopened.", ["insulin"]),
    ("Geneesmiddelen", "Diverse.", ["geneesmiddelen"]),
    ("Bureaustoel", "Nog TE   KOOP gezet, nu gratis.", ["te koop"]),
    ("Medicatie-karren", "Twee karren voor medicatie.", ["medicatie"]),
])
def test_a_watch_word_holds_a_trusted_organisations_listing_for_review(
        trusted_poster, login_as, title, description, words):
    client = login_as(trusted_poster)
    response = post_listing(client, trusted_poster, title=title, description=description)
    assert response.status_code == 302
    listing = newest_listing()
    assert listing.status is ListingStatus.PENDING_REVIEW
    assert watch_words.held_words_of(listing) == words
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "waits for review because it mentions" in page


def test_accents_and_capitals_do_not_hide_a_watch_word(admin):
    watch_words.add_watch_word(admin, "Café", WatchWordKind.OTHER)
    assert db.session.scalar(select(WatchWord.word).where(WatchWord.word == "cafe"))
    assert watch_words.find_watch_words("Koffie voor het CAFÉ") == ["cafe"]
    assert watch_words.find_watch_words("Koffie voor het cafe") == ["cafe"]
    assert watch_words.find_watch_words("Oude ampullén") == ["ampullen"]


@pytest.mark.parametrize("text", ["A soft pillow", "Pilates mat", "Drugstore shelves",
                                  "Tabletop trolley", "Receptiebalie", "Vialine"])
def test_parts_of_words_are_no_hit(app, text):
    assert watch_words.find_watch_words(text) == []


def test_batch_number_and_storage_conditions_are_checked_too(app):
    assert watch_words.find_watch_words(None, "Stoel", "LOT-7 vaccin", "Koel, bij de apotheek") \
        == ["apotheek", "vaccin"]


def test_a_trusted_organisation_without_watch_words_publishes_at_once(trusted_poster,
                                                                       login_as):
    post_listing(login_as(trusted_poster), trusted_poster,
                 title="Kussens (pillows)", description="Zachte kussens.")
    listing = newest_listing()
    assert listing.status is ListingStatus.PUBLISHED
    assert listing.held_words is None


def test_editing_a_published_listing_to_add_a_watch_word_sends_it_back_to_review(
        trusted_poster, login_as):
    client = login_as(trusted_poster)
    post_listing(client, trusted_poster)
    listing = newest_listing()
    assert listing.status is ListingStatus.PUBLISHED
    form = listing_form(trusted_poster, description="Met een doosje tabletten erbij.")
    del form["photos"]
    client.post(f"/listings/{listing.id}/edit", data=form, content_type="multipart/form-data")
    listing = reload(listing)
    assert listing.status is ListingStatus.PENDING_REVIEW
    assert listing.held_words == "tabletten"


def test_the_queue_marks_watch_words_and_escapes_the_text(admin, poster, make_listing,
                                                          login_as):
    listing = pending_of(make_listing, poster, title="<script>alert(1)</script> Pillen",
                         description="Doos <b>pillen</b> & meer", held_words="pillen")
    page = login_as(admin).get("/admin/listings").get_data(as_text=True)
    assert "<script>alert(1)</script>" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt; <mark>Pillen</mark>" in page
    assert "Doos &lt;b&gt;<mark>pillen</mark>&lt;/b&gt; &amp; meer" in page
    assert "Held for review: it mentions pillen." in page
    assert listing.id


def test_highlight_escapes_before_marking(app):
    marked = watch_words.highlight('<img src=x onerror="1"> pil & pillow', ["pil"])
    assert str(marked) == '&lt;img src=x onerror=&#34;1&#34;&gt; <mark>pil</mark> &amp; pillow'


# --- the queue -------------------------------------------------------------------------------

def test_a_long_queue_comes_a_page_at_a_time_oldest_first(admin, poster, make_listing,
                                                         login_as):
    for number in range(moderation.QUEUE_PAGE_SIZE + 3):
        listing = pending_of(make_listing, poster, title=f"Wachtend {number:02d}")
        listing.submitted_at = utcnow() - timedelta(hours=100 - number)
    db.session.commit()
    client = login_as(admin)

    first = client.get("/admin/listings").get_data(as_text=True)
    second = client.get("/admin/listings?page=2").get_data(as_text=True)

    assert f"{moderation.QUEUE_PAGE_SIZE + 3} listings wait for review" in first
    assert "Wachtend 00" in first and f"Wachtend {moderation.QUEUE_PAGE_SIZE - 1:02d}" in first
    assert f"Wachtend {moderation.QUEUE_PAGE_SIZE:02d}" not in first
    assert 'href="/admin/listings?page=2"' in first
    assert "Wachtend 22" in second and "Wachtend 00" not in second
    assert client.get("/admin/listings?page=abc").status_code == 200


def test_the_queue_lists_the_oldest_first_with_photos_and_the_posters_history(
        app, admin, poster, make_listing, make_user, login_as):
    client = login_as(poster)
    post_listing(client, poster, title="Eerst ingestuurd")
    first = newest_listing()
    post_listing(client, poster, title="Later ingestuurd")
    second = newest_listing()
    first.submitted_at = utcnow() - timedelta(days=2)
    db.session.commit()
    # History: one published, one rejected, one removed, one open report.
    published = pending_of(make_listing, poster, status=ListingStatus.PUBLISHED)
    db.session.add(Report(listing=published, reporter=make_user(),
                          reason=ReportReason.OTHER, text="?"))
    rejected = pending_of(make_listing, poster)
    moderation.reject_listing(admin, rejected, "No")
    removed = pending_of(make_listing, poster)
    moderation.remove_listing(admin, removed, "No")

    page = login_as(admin).get("/admin/listings").get_data(as_text=True)
    assert page.index("Eerst ingestuurd") < page.index("Later ingestuurd")
    assert page.count('src="/photos/') >= 2
    assert "1 published, 1 rejected, 1 removed, 1 open reports" in page
    assert "not trusted: every listing is reviewed" in page
    assert f"/admin/listings/{first.id}/approve" in page
    assert f'formaction="/admin/listings/{second.id}/reject"' in page
    assert first_reason().text_en in page  # the poster reads English
    detail = login_as(admin).get(f"/admin/listings/{first.id}")
    assert detail.status_code == 200 and "Eerst ingestuurd" in detail.get_data(as_text=True)


def test_approving_from_the_queue_publishes(admin, poster, make_listing, login_as):
    listing = pending_of(make_listing, poster)
    assert login_as(admin).post(f"/admin/listings/{listing.id}/approve").status_code == 302
    assert reload(listing).status is ListingStatus.PUBLISHED
    assert login_as(admin).post("/admin/listings/999999/approve").status_code == 404


# --- standard reasons and watch-words pages --------------------------------------------------

def test_platform_admins_add_edit_and_deactivate_standard_reasons(admin, poster, make_listing,
                                                                  login_as):
    client = login_as(admin)
    response = client.post("/admin/moderation/reasons", data={
        "text_en": "The item is too worn.", "text_nl": "Het artikel is te versleten.",
        "position": ""})
    assert response.status_code == 302
    reason = db.session.scalar(select(ModerationReason)
                               .where(ModerationReason.text_en == "The item is too worn."))
    assert reason.position == max(r.position for r in moderation.all_reasons())
    assert "The item is too worn." in client.get("/admin/moderation/reasons").get_data(
        as_text=True)

    response = client.post(f"/admin/moderation/reasons/{reason.id}", data={
        "text_en": "The item is worn out.", "text_nl": "Het artikel is versleten.",
        "position": "0"})
    assert response.status_code == 302
    reason = reload(reason)
    assert (reason.text_en, reason.text_nl, reason.position) == (
        "The item is worn out.", "Het artikel is versleten.", 0)

    client.post(f"/admin/moderation/reasons/{reason.id}/deactivate")
    assert reload(reason).active is False
    listing = pending_of(make_listing, poster)
    assert "The item is worn out." not in client.get(f"/admin/listings/{listing.id}").get_data(
        as_text=True)
    client.post(f"/admin/moderation/reasons/{reason.id}/activate")
    assert reload(reason).active is True
    assert "The item is worn out." in client.get(f"/admin/listings/{listing.id}").get_data(
        as_text=True)
    assert [len(audit_events(f"moderation_reason.{verb}"))
            for verb in ("add", "update", "deactivate", "activate")] == [1, 1, 1, 1]


def test_a_reason_needs_both_languages(admin, login_as):
    before = count(ModerationReason)
    response = login_as(admin).post("/admin/moderation/reasons", data={
        "text_en": "Only English", "text_nl": "", "position": "x"})
    assert response.status_code == 422
    assert "Only English" in response.get_data(as_text=True)
    assert count(ModerationReason) == before and count(AuditEvent) == 0


def test_platform_admins_add_and_delete_watch_words(admin, login_as):
    client = login_as(admin)
    response = client.post("/admin/moderation/watch-words",
                           data={"word": "  Bloed  Plasma ", "kind": "medicine"})
    assert response.status_code == 302
    word = db.session.scalar(select(WatchWord).where(WatchWord.word == "bloed plasma"))
    assert word.kind is WatchWordKind.MEDICINE
    assert watch_words.find_watch_words("Zakjes bloed-plasma? Nee: bloed plasma") == \
        ["bloed plasma"]
    assert "bloed plasma" in client.get("/admin/moderation/watch-words").get_data(as_text=True)
    [added] = audit_events("watch_word.add")
    assert added.target_label == "bloed plasma"

    assert client.post(f"/admin/moderation/watch-words/{word.id}/delete").status_code == 302
    assert db.session.scalar(select(WatchWord.id).where(WatchWord.id == word.id)) is None
    assert [event.target_label for event in audit_events("watch_word.delete")] == [
        "bloed plasma"]


@pytest.mark.parametrize("word, message", [
    ("", "Enter a word or phrase"),
    ("pil<script>", "Use letters, digits, spaces and hyphens only."),
    ("x" * 61, "Field cannot be longer than 60 characters."),
    ("PIL", "is on the list already"),
    ("---", "Use letters, digits, spaces and hyphens only."),
])
def test_bad_watch_words_are_refused_and_nothing_written(admin, login_as, word, message):
    before = count(WatchWord)
    response = login_as(admin).post("/admin/moderation/watch-words",
                                    data={"word": word, "kind": "other"})
    assert response.status_code == 422
    assert message in response.get_data(as_text=True)
    assert count(WatchWord) == before and count(AuditEvent) == 0


# --- the daily summary -----------------------------------------------------------------------

def morning(hour: int = 9):
    return utcnow().astimezone().replace(hour=hour, minute=5)


def test_the_summary_is_sent_once_a_day_even_when_two_runs_overlap(app, admin, make_user,
                                                                   poster, make_listing,
                                                                   make_org):
    second_admin = make_user(role=Role.PLATFORM_ADMIN)
    make_user(role=Role.PLATFORM_ADMIN, confirmed=False)  # not confirmed: not emailed
    listing = pending_of(make_listing, poster)
    listing.submitted_at = morning() - timedelta(days=3, hours=1)
    make_org("Wacht op goedkeuring", status=OrganisationStatus.PENDING)
    db.session.commit()

    assert "moderation: 2 summaries" in list(housekeeping.run(morning()))
    assert "moderation: 0 summaries" in list(housekeeping.run(morning() + timedelta(minutes=1)))
    assert moderation.send_moderation_summary(morning(hour=20)) == 0
    mails = outbox("moderation_summary")
    assert {mail.recipient for mail in mails} == {admin.email, second_admin.email}
    assert mails[0].subject == "Waiting for moderation: 2"
    assert "Listings waiting for review: 1 (the oldest waits 3 days)" in mails[0].body_text
    assert "Organisations waiting for approval: 1" in mails[0].body_text
    assert "http://localhost/admin/listings" in mails[0].body_text
    assert count(DailyTask) == 1
    # The next day it comes again.
    assert moderation.send_moderation_summary(morning() + timedelta(days=1)) == 2


def test_a_run_that_finds_the_summary_done_by_another_leaves_it(app, admin, poster,
                                                                 make_listing):
    pending_of(make_listing, poster)
    db.session.add(DailyTask(name="moderation_summary", day=morning().date()))
    db.session.commit()
    assert moderation.send_moderation_summary(morning()) == 0
    assert outbox("moderation_summary") == []
    # The session is usable after the refused insert.
    assert count(DailyTask) == 1


def test_no_summary_before_the_digest_hour_or_when_nothing_waits(app, admin, poster,
                                                                 make_listing):
    assert app.config["DIGEST_HOUR"] == 7
    assert moderation.send_moderation_summary(morning()) == 0  # nothing waits
    pending_of(make_listing, poster)
    assert moderation.send_moderation_summary(morning(hour=3)) == 0
    assert outbox("moderation_summary") == [] and count(DailyTask) == 0
    assert moderation.send_moderation_summary(morning()) == 1


# --- who may open the pages ------------------------------------------------------------------

ROUTES = [
    ("get", "/admin/listings"), ("get", "/admin/listings/{listing}"),
    ("post", "/admin/listings/{listing}/approve"), ("post", "/admin/listings/{listing}/reject"),
    ("post", "/admin/listings/{listing}/request-changes"),
    ("post", "/admin/listings/{listing}/remove"),
    ("get", "/admin/moderation/reasons"), ("post", "/admin/moderation/reasons"),
    ("get", "/admin/moderation/reasons/{reason}"), ("post", "/admin/moderation/reasons/{reason}"),
    ("post", "/admin/moderation/reasons/{reason}/deactivate"),
    ("post", "/admin/moderation/reasons/{reason}/activate"),
    ("get", "/admin/moderation/watch-words"), ("post", "/admin/moderation/watch-words"),
    ("post", "/admin/moderation/watch-words/{word}/delete"),
]


@pytest.mark.parametrize("role", [Role.MEMBER, Role.ORG_ADMIN])
def test_members_and_organisation_admins_get_403_on_every_moderation_route(
        poster, make_user, make_listing, login_as, role):
    listing = pending_of(make_listing, poster)
    user = make_user(role=role, organisation=poster.organisation)
    client = login_as(user)
    ids = {"listing": listing.id, "reason": first_reason().id,
           "word": db.session.scalar(select(WatchWord.id).limit(1))}
    data = {"word": "nieuw", "kind": "other", "text_en": "x", "text_nl": "x",
            f"listing-{listing.id}-text": "Because"}
    for method, path in ROUTES:
        url = path.format(**ids)
        response = getattr(client, method)(url, data=data if method == "post" else None)
        assert response.status_code == 403, url
    assert reload(listing).status is ListingStatus.PENDING_REVIEW
    assert count(AuditEvent) == 0


def test_anonymous_visitors_are_sent_to_log_in(client):
    response = client.get("/admin/moderation/watch-words")
    assert response.status_code == 302
    assert re.match(r"/auth/login\?next=", response.headers["Location"])


@pytest.mark.parametrize("position", [-1, 10_001])
def test_a_standard_reason_goes_at_a_position_from_0_to_10000(admin, position):
    before = count(ModerationReason)
    with pytest.raises(DomainError) as refused:
        moderation.add_reason(admin, "Te vaag omschreven", "Too vague", position)
    assert refused.value.field == "position"
    assert count(ModerationReason) == before
