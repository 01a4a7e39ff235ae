"""`flask housekeeping`: expiry, reminders and no-shows, each acted on once."""

from __future__ import annotations

from datetime import date, timedelta

from helpers import outbox, reload

from marketplace.extensions import db
from marketplace.models import ClaimStatus, ListingStatus
from marketplace.models.base import utcnow
from marketplace.services import housekeeping


def _run_twice() -> None:
    for _ in range(2):  # a second run, as cron may overlap, must change and send nothing more
        list(housekeeping.run())


def test_listings_past_their_date_expire_and_their_posters_are_told(app, make_listing,
                                                                     make_claim, make_user):
    listing = make_listing("Oude bedden", available_until=date.today() - timedelta(days=1))
    poster = make_user(organisation=listing.organisation)
    listing.created_by = poster
    waiting = make_claim(listing, make_user())
    db.session.commit()
    _run_twice()
    assert reload(listing).status is ListingStatus.EXPIRED
    assert len(outbox("listing_expired", to=poster.email)) == 1
    assert reload(waiting).status is ClaimStatus.EXPIRED
    assert len(outbox("claim_listing_gone")) == 1


def test_posters_are_warned_three_days_before_expiry_once(app, make_listing, make_user):
    listing = make_listing(available_until=date.today() + timedelta(days=2))
    poster = make_user(organisation=listing.organisation)
    listing.created_by = poster
    db.session.commit()
    make_listing(available_until=date.today() + timedelta(days=20))
    _run_twice()
    assert len(outbox("listing_expiring")) == 1
    assert reload(listing).status is ListingStatus.PUBLISHED


def test_unanswered_claims_are_reminded_after_three_days_and_expire_after_seven(
    app, make_listing, make_claim, make_user
):
    listing = make_listing()
    poster = make_user(organisation=listing.organisation)
    listing.created_by = poster
    db.session.commit()
    fresh = make_claim(listing, make_user(), age=timedelta(days=1))
    waiting = make_claim(listing, make_user(), age=timedelta(days=4))
    forgotten = make_claim(listing, make_user(), age=timedelta(days=8))
    _run_twice()
    assert len(outbox("claim_reminder", to=poster.email)) == 1
    assert reload(waiting).status is ClaimStatus.REQUESTED
    assert reload(fresh).reminded_at is None
    assert reload(forgotten).status is ClaimStatus.EXPIRED
    assert len(outbox("claim_expired", to=forgotten.claimant.email)) == 1


def test_accepted_claims_never_collected_expire_and_give_the_quantity_back(
    app, make_listing, make_claim, make_user
):
    listing = make_listing(quantity=3, quantity_available=2)
    no_show = make_claim(listing, make_user(), ClaimStatus.ACCEPTED, decided_at=utcnow(),
                         agreed_pickup_date=date.today() - timedelta(days=15))
    on_time = make_claim(listing, make_user(), ClaimStatus.ACCEPTED, decided_at=utcnow(),
                         agreed_pickup_date=date.today() - timedelta(days=3))
    _run_twice()
    assert reload(no_show).status is ClaimStatus.EXPIRED
    assert reload(on_time).status is ClaimStatus.ACCEPTED
    assert reload(listing).quantity_available == 3
    assert outbox("claim_not_collected", to=no_show.claimant.email)


def test_the_housekeeping_command_reports_what_it_did(app, runner, make_listing):
    make_listing(available_until=date.today() - timedelta(days=1))
    result = runner.invoke(args=["housekeeping"])
    assert result.exit_code == 0
    assert "1 expired" in result.output


def test_the_claimant_is_reminded_the_day_before_the_pick_up(app, make_listing, make_claim,
                                                             make_user):
    from datetime import date

    listing = make_listing()
    tomorrow = make_claim(listing, make_user(), ClaimStatus.ACCEPTED, decided_at=utcnow(),
                          agreed_pickup_date=date.today() + timedelta(days=1))
    make_claim(listing, make_user(), ClaimStatus.ACCEPTED, decided_at=utcnow(),
               agreed_pickup_date=date.today() + timedelta(days=4))
    _run_twice()
    [reminder] = outbox("claim_pickup_tomorrow")
    assert reminder.recipient == tomorrow.claimant.email
    assert listing.site.street in reminder.body_text
