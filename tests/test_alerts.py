"""Wanted alerts: saved searches, matched once when a listing becomes visible to others."""

from __future__ import annotations

import re
from datetime import datetime, timedelta

import pytest
from helpers import outbox, reload
from sqlalchemy import func, select

from marketplace.extensions import db
from marketplace.models import (
    Alert,
    AlertFrequency,
    AlertMatch,
    Category,
    Condition,
    Language,
    ListingStatus,
    NotificationPreference,
    Province,
    UserStatus,
)
from marketplace.models.base import utcnow
from marketplace.services import alerts as alert_service
from marketplace.services import announcements
from marketplace.services.errors import DomainError
from marketplace.services.moderation import approve_listing
from marketplace.services.search import SearchQuery


def category_id(slug: str) -> int:
    return db.session.scalar(select(Category.id).where(Category.slug == slug))


def alert_for(user, **fields) -> Alert:
    alert = Alert(user=user, **fields)
    db.session.add(alert)
    db.session.commit()
    return alert


def publish(listing) -> int:
    """Publish a listing that waits for review, as a platform admin would."""
    listing.status = ListingStatus.PENDING_REVIEW
    listing.published_at = None
    db.session.commit()
    from marketplace.models import Role

    admin = db.session.scalar(select(alert_service.User).where(
        alert_service.User.role == Role.PLATFORM_ADMIN))
    approve_listing(admin, listing)
    return db.session.scalar(select(func.count(AlertMatch.id))
                             .where(AlertMatch.listing_id == listing.id))


@pytest.fixture
def admin(app, make_user):
    from marketplace.models import Role

    return make_user(role=Role.PLATFORM_ADMIN)


def test_a_matching_alert_of_another_organisation_is_emailed_once(admin, make_user,
                                                                   make_listing):
    member = make_user()
    alert_for(member, words="rolstoel")
    listing = make_listing("Rolstoelen, opvouwbaar", description="Vijf stuks.",
                           status=ListingStatus.DRAFT)
    assert publish(listing) == 1
    [mail] = outbox("alert_match", to=member.email)
    assert "Rolstoelen, opvouwbaar" in mail.subject
    # Matching again (a re-list, a second run) sends nothing more.
    assert announcements.announce(listing) == 0
    db.session.commit()
    assert len(outbox("alert_match")) == 1


def test_alerts_of_the_own_organisation_paused_or_not_matching_stay_quiet(
    admin, make_user, make_listing
):
    listing = make_listing("Douchestoel", status=ListingStatus.DRAFT, category="mobility",
                           condition=Condition.GOOD)
    colleague = make_user(organisation=listing.organisation)
    alert_for(colleague, words="douchestoel")
    alert_for(make_user(), words="douchestoel", paused=True)
    alert_for(make_user(), words="tillift")
    alert_for(make_user(), words="douchestoel", province=Province.ZEELAND)
    alert_for(make_user(), words="douchestoel", condition=Condition.NEW)
    parent = make_user()
    alert_for(parent, category_id=category_id("medical-aids"))  # the parent of "mobility"
    prefix = make_user()
    alert_for(prefix, words="DOUCHE", province=Province.UTRECHT)
    assert publish(listing) == 2
    assert {mail.recipient for mail in outbox("alert_match")} == {parent.email, prefix.email}


def test_daily_alerts_and_digest_members_get_one_digest_a_day(app, admin, make_user,
                                                             make_listing):
    daily_alert_member = make_user()
    alert_for(daily_alert_member, words="bed", frequency=AlertFrequency.DAILY)
    digest_member = make_user()
    digest_member.notifications = NotificationPreference.DAILY
    alert_for(digest_member, words="bed")
    quiet = make_user()
    quiet.notifications = NotificationPreference.OFF
    alert_for(quiet, words="bed")
    for title in ("Hoog-laag bed", "Bed met matras"):
        publish(make_listing(title, status=ListingStatus.DRAFT))
    assert outbox("alert_match") == []

    morning = utcnow().astimezone().replace(hour=9, minute=0)
    assert alert_service.send_daily_digests(morning) == 2
    digests = outbox("alert_digest")
    assert {mail.recipient for mail in digests} == {daily_alert_member.email,
                                                    digest_member.email}
    assert "Hoog-laag bed" in digests[0].body_text and "Bed met matras" in digests[0].body_text
    # Later the same day nothing more, even with a new match.
    publish(make_listing("Nog een bed", status=ListingStatus.DRAFT))
    assert alert_service.send_daily_digests(morning + timedelta(hours=3)) == 0
    assert alert_service.send_daily_digests(morning + timedelta(days=1)) == 2


def test_digests_wait_for_the_morning(app, admin, make_user, make_listing):
    member = make_user()
    alert_for(member, words="bed", frequency=AlertFrequency.DAILY)
    publish(make_listing("Bed", status=ListingStatus.DRAFT))
    night = utcnow().astimezone().replace(hour=3)
    assert alert_service.send_daily_digests(night) == 0


def test_a_listing_in_its_internal_phase_is_matched_when_the_phase_ends(admin, make_user,
                                                                       make_listing):
    member = make_user()
    alert_for(member, words="kast")
    listing = make_listing("Kast voor het archief", status=ListingStatus.DRAFT, internal_days=2)
    assert publish(listing) == 0
    assert outbox("alert_match") == []
    later: datetime = reload(listing).internal_until + timedelta(minutes=1)
    assert announcements.announce_listings_whose_internal_phase_ended(later) == 1
    assert outbox("alert_match", to=member.email)


def test_saving_a_search_as_an_alert_from_the_search_page(app, make_user, login_as):
    member = make_user()
    client = login_as(member)
    page = client.get("/listings/?q=rollator&province=utrecht").get_data(as_text=True)
    assert "Alert me" in page
    response = client.post("/alerts/", data={"q": "rollator", "province": "utrecht",
                                             "frequency": "daily"})
    assert response.status_code == 302
    alert = db.session.scalar(select(Alert))
    assert (alert.words, alert.province, alert.frequency) == \
        ("rollator", Province.UTRECHT, AlertFrequency.DAILY)
    listing_page = client.get("/alerts/").get_data(as_text=True)
    assert "rollator" in listing_page and "Utrecht" in listing_page


def test_the_alert_form_holds_the_search_in_the_members_language(app, make_user, login_as,
                                                                 client):
    """Its fields are kept with the search's results (listings/pages.py): per language and
    search, and only members who may take part get the form."""
    form = re.compile(r'<form method="post" action="/alerts/" class="alert-me">(.*?)</form>',
                      re.DOTALL)
    english, dutch = (login_as(make_user(language=language))
                      for language in (Language.EN, Language.NL))
    for member, words, label in ((english, "rollator", "Alert me"),
                                 (dutch, "rollator", "Maak een zoekmelding"),
                                 (english, "bed", "Alert me")):
        page = member.get(f"/listings/?q={words}&province=utrecht").get_data(as_text=True)
        fields = form.search(page).group(1)
        assert f'name="q" value="{words}"' in fields
        assert 'name="province" value="utrecht"' in fields
        assert label in fields
    assert not form.search(english.get("/listings/").get_data(as_text=True))  # no criteria
    assert not form.search(client.get("/listings/?q=rollator").get_data(as_text=True))
    pending = login_as(make_user(status=UserStatus.PENDING))
    assert not form.search(pending.get("/listings/?q=rollator").get_data(as_text=True))


def test_an_alert_on_everything_is_refused(app, make_user, login_as):
    client = login_as(make_user())
    response = client.post("/alerts/", data={}, follow_redirects=True)
    assert "Add a word or a filter first" in response.get_data(as_text=True)
    assert db.session.scalar(select(Alert)) is None


def test_my_alerts_pause_resume_change_and_delete(app, make_user, login_as):
    member = make_user()
    alert = alert_service.create_alert(member, SearchQuery(text="bed"))
    client = login_as(member)
    client.post(f"/alerts/{alert.id}/pause")
    assert reload(alert).paused
    client.post(f"/alerts/{alert.id}/resume")
    assert not reload(alert).paused
    client.post(f"/alerts/{alert.id}/frequency", data={"frequency": "daily"})
    assert reload(alert).frequency is AlertFrequency.DAILY
    client.post(f"/alerts/{alert.id}/delete")
    assert db.session.scalar(select(Alert)) is None


def test_someone_elses_alert_is_not_found(app, make_user, login_as):
    alert = alert_service.create_alert(make_user(), SearchQuery(text="bed"))
    client = login_as(make_user())
    assert client.post(f"/alerts/{alert.id}/delete").status_code == 404
    assert reload(alert).id


def test_an_alert_on_a_category_that_does_not_exist_is_refused(app, make_user):
    with pytest.raises(DomainError):
        alert_service.create_alert(make_user(), SearchQuery(category_id=999_999))
    db.session.rollback()
    assert db.session.scalar(select(Alert)) is None


def test_a_listing_posted_through_the_form_is_described_in_the_alert(make_user, make_org,
                                                                     login_as):
    from builders import post_listing

    giver_organisation = make_org()
    giver_organisation.trusted = True  # published at once, so the alert goes out
    giver = make_user(organisation=giver_organisation)
    watcher = make_user()
    db.session.add(Alert(user=watcher, words="rollators"))
    db.session.commit()

    response = post_listing(login_as(giver), giver, quantity="3", condition="good")

    assert response.status_code == 302
    [message] = outbox("alert_match", to=watcher.email)
    assert "(3 pieces, Good)" in message.body_text
