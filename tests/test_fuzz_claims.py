"""The claim state machine driven through its services by any sequence of actions.

Hypothesis plays several members of several organisations claiming two listings (one of a
trusted organisation, one of an untrusted one, whose edits go back to review), the givers
accepting, declining and editing the quantity, claimants cancelling, either side confirming
hand-overs, time passing (unanswered claims and no-shows expire, listings expire), withdrawals,
re-listings, moderators approving, asking for changes and removing. Actions the services must
refuse are part of the mix: a refusal is a DomainError, and after the rollback a view does,
nothing has changed.

The accounting, from services/claims.py and services/listings.py: accepting moves a claim's
quantity out of `quantity_available` (a reservation); collecting keeps it out (handed over);
cancelling an accepted claim, a no-show (expired) and a removal by moderation give it back;
an edit of the quantity keeps what claims took (`quantity - quantity_available`). So after
every step, for each listing:

    quantity_available + reserved (accepted) + collected == quantity
    0 <= quantity_available <= quantity, and collected <= quantity

and each claim's status moves only requested → accepted | declined | cancelled | expired and
accepted → collected | cancelled | expired; a member has one open claim per listing at most;
a closed, withdrawn, expired or removed listing has no claim waiting for an answer. Where the
outcome follows from the state alone (claim, accept, decline, cancel, collect, withdraw,
re-list, edit), the test also predicts whether the service agrees or refuses.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

import pytest
from helpers import SHARED_TESTDATA
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    rule,
    run_state_machine_as_test,
)
from sqlalchemy import select

from marketplace.extensions import db
from marketplace.models import (
    Claim,
    ClaimStatus,
    Listing,
    ListingPhoto,
    ListingStatus,
    Organisation,
    Role,
    User,
)
from marketplace.models.base import utcnow
from marketplace.services import claims as claim_service
from marketplace.services import housekeeping, moderation
from marketplace.services import listings as listing_service
from marketplace.services.errors import DomainError
from marketplace.services.photos import prepare_photo, save_prepared

TODAY = date.today()
ALLOWED = {
    ClaimStatus.REQUESTED: {ClaimStatus.ACCEPTED, ClaimStatus.DECLINED, ClaimStatus.CANCELLED,
                            ClaimStatus.EXPIRED},
    ClaimStatus.ACCEPTED: {ClaimStatus.COLLECTED, ClaimStatus.CANCELLED, ClaimStatus.EXPIRED},
}
GONE = {ListingStatus.CLOSED, ListingStatus.WITHDRAWN, ListingStatus.EXPIRED,
        ListingStatus.REMOVED}
# Which claim an action is about: mostly one in a state where the action makes sense.
PICK = st.integers(0, 50)
FITTING = st.sampled_from([True, True, True, False])
WAITING = {ClaimStatus.REQUESTED}
ACCEPTED = {ClaimStatus.ACCEPTED}
OPEN = {ClaimStatus.REQUESTED, ClaimStatus.ACCEPTED}
# Who acts on a claim (see ClaimMachine.actor): mostly the side the action belongs to.
GIVER_SIDE = st.sampled_from(["giver", "giver", "giver", "colleague", "claimant", "anyone"])
CLAIMANT_SIDE = st.sampled_from(["claimant", "claimant", "claimant", "giver", "anyone"])
EITHER_SIDE = st.sampled_from(["claimant", "giver", "colleague", "anyone"])
MACHINE_SETTINGS = settings(max_examples=25, stateful_step_count=30, deadline=None,
                            suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                   HealthCheck.too_slow])


@dataclass(frozen=True)
class ListingRow:
    status: ListingStatus
    quantity: int
    available: int


@dataclass(frozen=True)
class Snapshot:
    listings: dict[int, ListingRow]
    claims: dict[int, tuple[int, int, int | None, ClaimStatus]]  # listing, qty, claimant, status

    def reserved(self, listing_id: int, status: ClaimStatus) -> int:
        return sum(quantity for listing, quantity, _who, claim_status in self.claims.values()
                   if listing == listing_id and claim_status is status)


def snapshot(listing_ids: list[int]) -> Snapshot:
    """What the database says now (fresh queries, not the session's cached objects)."""
    db.session.expire_all()
    listings = {row.id: ListingRow(row.status, row.quantity, row.quantity_available)
                for row in db.session.execute(
                    select(Listing.id, Listing.status, Listing.quantity,
                           Listing.quantity_available).where(Listing.id.in_(listing_ids)))}
    claims = {row.id: (row.listing_id, row.quantity, row.claimant_id, row.status)
              for row in db.session.execute(
                  select(Claim.id, Claim.listing_id, Claim.quantity, Claim.claimant_id,
                         Claim.status).where(Claim.listing_id.in_(listing_ids)))}
    return Snapshot(listings, claims)


@dataclass
class Cast:
    """The people, made once per test function; listings are new in every example."""

    givers: list[Organisation]  # [trusted, untrusted]
    posters: list[User]  # one per giving organisation
    colleague: User  # of the trusted giver
    claimants: list[User]  # members of two other organisations
    admin: User
    photo_id: int


@pytest.fixture
def cast(app, make_org, make_user) -> Cast:
    trusted, untrusted = make_org(name="Vertrouwd Ziekenhuis"), make_org(name="Nieuw Verpleeghuis")
    trusted.trusted = True
    db.session.commit()
    first, second = make_org(name="Zorg Noord"), make_org(name="Zorg Zuid")
    image = SHARED_TESTDATA / "images" / "good" / "hopper.jpg"
    photo = save_prepared(prepare_photo(image.read_bytes(), image.name))
    db.session.commit()
    return Cast(
        givers=[trusted, untrusted],
        posters=[make_user(organisation=trusted), make_user(organisation=untrusted)],
        colleague=make_user(organisation=trusted),
        claimants=[make_user(organisation=first), make_user(organisation=first),
                   make_user(organisation=second)],
        admin=make_user(role=Role.PLATFORM_ADMIN),
        photo_id=photo.id,
    )


def details_of(listing: Listing, quantity: int) -> listing_service.ListingDetails:
    return listing_service.ListingDetails(
        title=listing.title, description=listing.description, category_id=listing.category_id,
        condition=listing.condition, quantity=quantity, unit=listing.unit,
        site_id=listing.site_id, available_until=listing.available_until)


def test_any_sequence_of_claim_actions_keeps_the_quantities_consistent(cast, make_listing):
    people = [*cast.posters, cast.colleague, *cast.claimants, cast.admin]

    class ClaimMachine(RuleBasedStateMachine):
        def __init__(self) -> None:
            super().__init__()
            self.listing_ids = []
            for organisation, poster in zip(cast.givers, cast.posters, strict=True):
                listing = make_listing(organisation=organisation, created_by=poster,
                                       quantity=5)
                listing.photos.append(ListingPhoto(photo_id=cast.photo_id, position=0))
                db.session.commit()
                self.listing_ids.append(listing.id)
            self.before = snapshot(self.listing_ids)
            self.seen: dict[int, ClaimStatus] = {}

        # --- running an action and judging its outcome -------------------------------------

        def attempt(self, action, expected: bool | None = None) -> bool:
            """Run a service call as a view does; a refusal must change nothing."""
            before = snapshot(self.listing_ids)
            try:
                action()
            except DomainError:
                db.session.rollback()
                assert snapshot(self.listing_ids) == before, "a refusal changed something"
                succeeded = False
            else:
                succeeded = True
            if expected is not None:
                assert succeeded == expected, \
                    f"expected {'success' if expected else 'a refusal'}; state was {before}"
            return succeeded

        def listing(self, index: int) -> Listing:
            return db.session.get(Listing, self.listing_ids[index])

        def pick_claim(self, pick: int, statuses: set[ClaimStatus] | None) -> Claim | None:
            """One of the claims made so far; one in `statuses` when there is one."""
            claims = list(db.session.scalars(select(Claim).where(
                Claim.listing_id.in_(self.listing_ids)).order_by(Claim.id)))
            fitting = [claim for claim in claims if statuses is None or claim.status in statuses]
            claims = fitting or claims
            return claims[pick % len(claims)] if claims else None

        @staticmethod
        def actor(claim: Claim, role: str, anyone: User) -> User:
            """Who acts on a claim: mostly one of its sides, sometimes anyone at all."""
            if role == "claimant" and claim.claimant is not None:
                return claim.claimant
            if role == "giver":
                return claim.listing.created_by
            if role == "colleague":
                return cast.colleague  # a giver for the trusted organisation's listing only
            return anyone

        @staticmethod
        def is_giver(user: User, listing: Listing) -> bool:
            return user.organisation_id == listing.organisation_id

        # --- the claimant's side -----------------------------------------------------------

        @initialize(quantities=st.lists(st.integers(1, 3), min_size=3,
                                                       max_size=3),
                    indexes=st.lists(st.integers(0, 1), min_size=3, max_size=3))
        def first_claims(self, quantities, indexes):
            """Each claimant starts with a claim, so the giver's rules have work at once."""
            for member, quantity, index in zip(cast.claimants, quantities, indexes, strict=True):
                claim_service.claim_listing(member, self.listing(index), quantity)

        @rule(member=st.sampled_from(cast.claimants) | st.sampled_from(people),
              index=st.integers(0, 1),
              quantity=st.integers(-1, 7), days_ahead=st.none() | st.integers(-1, 121))
        def claim(self, member, index, quantity, days_ahead):
            listing = self.listing(index)
            state = snapshot(self.listing_ids)
            row = state.listings[listing.id]
            has_open = any(listing_id == listing.id and who == member.id and status.is_open
                           for listing_id, _q, who, status in state.claims.values())
            expected = (row.status is ListingStatus.PUBLISHED
                        and not self.is_giver(member, listing) and not member.is_platform_admin
                        and 1 <= quantity <= row.available and not has_open
                        and (days_ahead is None or 0 <= days_ahead <= 120))
            made: list[Claim] = []
            pickup = None if days_ahead is None else TODAY + timedelta(days=days_ahead)
            self.attempt(lambda: made.append(claim_service.claim_listing(
                member, listing, quantity, "Graag", pickup)), expected)

        @rule(pick=PICK, fitting=FITTING, role=CLAIMANT_SIDE, anyone=st.sampled_from(people))
        def cancel(self, pick, fitting, role, anyone):
            claim = self.pick_claim(pick, OPEN if fitting else None)
            if claim is None:
                return
            actor = self.actor(claim, role, anyone)
            expected = actor.id == claim.claimant_id and claim.status.is_open
            self.attempt(lambda: claim_service.cancel_claim(actor, claim), expected)

        # --- the giver's side --------------------------------------------------------------

        @rule(pick=PICK, fitting=FITTING, role=GIVER_SIDE, anyone=st.sampled_from(people))
        def accept(self, pick, fitting, role, anyone):
            claim = self.pick_claim(pick, WAITING if fitting else None)
            if claim is None:
                return
            actor = self.actor(claim, role, anyone)
            listing = claim.listing
            expected = (self.is_giver(actor, listing) and claim.status is ClaimStatus.REQUESTED
                        and listing.status is ListingStatus.PUBLISHED
                        and listing.quantity_available >= claim.quantity)
            self.attempt(lambda: claim_service.accept_claim(actor, claim, "Tot dan"), expected)

        @rule(pick=PICK, fitting=FITTING, role=GIVER_SIDE, anyone=st.sampled_from(people))
        def decline(self, pick, fitting, role, anyone):
            claim = self.pick_claim(pick, WAITING if fitting else None)
            if claim is None:
                return
            actor = self.actor(claim, role, anyone)
            expected = (self.is_giver(actor, claim.listing)
                        and claim.status is ClaimStatus.REQUESTED)
            self.attempt(lambda: claim_service.decline_claim(actor, claim, "Helaas"), expected)

        @rule(pick=PICK, fitting=FITTING, role=EITHER_SIDE, anyone=st.sampled_from(people))
        def collect(self, pick, fitting, role, anyone):
            claim = self.pick_claim(pick, ACCEPTED if fitting else None)
            if claim is None:
                return
            actor = self.actor(claim, role, anyone)
            expected = ((self.is_giver(actor, claim.listing) or actor.id == claim.claimant_id)
                        and claim.status is ClaimStatus.ACCEPTED)
            self.attempt(lambda: claim_service.mark_collected(actor, claim), expected)

        @rule(index=st.integers(0, 1), quantity=st.integers(0, 8),
              by_colleague=st.booleans())
        def edit_quantity(self, index, quantity, by_colleague):
            listing = self.listing(index)
            actor = cast.colleague if by_colleague and index == 0 else cast.posters[index]
            taken = listing.quantity - listing.quantity_available
            expected = (listing.status in listing_service.EDITABLE and quantity >= 1
                        and quantity >= taken)
            # A colleague who is not an org admin may not edit someone else's listing.
            if actor is cast.colleague:
                expected = None
            self.attempt(lambda: listing_service.update_listing(
                actor, listing, details_of(listing, quantity), listing_service.PhotoChanges(),
                submit=False), expected)

        # The listing's lifecycle, by its poster and by moderators, is one rule (the action
        # drawn inside, the ending ones less often), so it does not crowd out the claims.
        @rule(index=st.integers(0, 1), days=st.integers(0, 120), action=st.sampled_from(
            ["relist", "relist", "approve", "approve", "withdraw", "request changes",
             "remove"]))
        def change_listing(self, index, action, days):
            listing, poster = self.listing(index), cast.posters[index]
            if action == "withdraw":
                self.attempt(lambda: listing_service.withdraw_listing(poster, listing),
                             listing.status in listing_service.WITHDRAWABLE)
            elif action == "relist":
                self.attempt(lambda: listing_service.relist_listing(
                    poster, listing, TODAY + timedelta(days=days)),
                    listing.status in listing_service.RELISTABLE
                    and listing.quantity_available >= 1 and 1 <= days <= 90)
            elif action == "approve":
                self.attempt(lambda: moderation.approve_listing(cast.admin, listing),
                             listing.status is ListingStatus.PENDING_REVIEW)
            elif action == "request changes":
                self.attempt(lambda: moderation.request_changes(cast.admin, listing, "Foto mist"),
                             listing.status in moderation.CHANGEABLE)
            else:
                self.attempt(lambda: moderation.remove_listing(cast.admin, listing, "Verboden"),
                             listing.status in moderation.REMOVABLE)

        # --- time passes -------------------------------------------------------------------

        @rule(days=st.sampled_from([1, 1, 8, 20, 45]))
        def time_passes(self, days):
            """Housekeeping some days from now: unanswered claims and no-shows expire (the
            reserved quantity comes back), listings past their date expire."""
            now = utcnow() + timedelta(days=days)
            today = TODAY + timedelta(days=days)
            housekeeping.expire_listings(today)
            housekeeping.expire_unanswered_claims(now)
            housekeeping.expire_uncollected_claims(today, now)
            db.session.commit()

        # --- after every step --------------------------------------------------------------

        @invariant()
        def quantities_add_up_and_claims_move_only_forward(self):
            state = snapshot(self.listing_ids)
            for listing_id, row in state.listings.items():
                reserved = state.reserved(listing_id, ClaimStatus.ACCEPTED)
                collected = state.reserved(listing_id, ClaimStatus.COLLECTED)
                assert 0 <= row.available <= row.quantity, row
                assert collected <= row.quantity, (row, collected)
                assert row.available + reserved + collected == row.quantity, \
                    (row, reserved, collected)
                waiting = [claim for claim in state.claims.values()
                           if claim[0] == listing_id and claim[3] is ClaimStatus.REQUESTED]
                if row.status in GONE:
                    assert not waiting, (row, waiting)
            open_claims = set()
            for claim_id, (listing_id, _quantity, who, status) in state.claims.items():
                previous = self.seen.get(claim_id, ClaimStatus.REQUESTED)
                assert status is previous or status in ALLOWED.get(previous, set()), \
                    (claim_id, previous, status)
                self.seen[claim_id] = status
                if status.is_open:
                    assert (listing_id, who) not in open_claims, "two open claims of one member"
                    open_claims.add((listing_id, who))

    run_state_machine_as_test(ClaimMachine, settings=MACHINE_SETTINGS)


def test_the_machine_reaches_every_kind_of_claim_state(cast, make_listing):
    """The services the machine drives work as the machine assumes when called in a sensible
    order, so its runs go past refusals: collected, a no-show given back, withdrawn and
    re-listed, and an edit below what was handed over refused."""
    listing = make_listing(organisation=cast.givers[0], created_by=cast.posters[0], quantity=2)
    listing.photos.append(ListingPhoto(photo_id=cast.photo_id, position=0))
    db.session.commit()
    first = claim_service.claim_listing(cast.claimants[0], listing, 1)
    claim_service.accept_claim(cast.posters[0], first)
    claim_service.mark_collected(cast.claimants[0], first)
    second = claim_service.claim_listing(cast.claimants[2], listing, 1)
    claim_service.accept_claim(cast.colleague, second)
    housekeeping.expire_uncollected_claims(TODAY + timedelta(days=45),
                                           utcnow() + timedelta(days=45))
    db.session.refresh(listing)
    assert (listing.quantity_available, db.session.get(Claim, second.id).status) == \
        (1, ClaimStatus.EXPIRED)
    listing_service.withdraw_listing(cast.posters[0], listing)
    listing_service.relist_listing(cast.posters[0], listing, TODAY + timedelta(days=10))
    assert listing.status is ListingStatus.PUBLISHED
    with pytest.raises(DomainError):  # one has been handed over: 0 cannot be the quantity
        listing_service.update_listing(cast.posters[0], listing, details_of(listing, 0),
                                       listing_service.PhotoChanges(), submit=False)
