"""Claims under real races: threads, each with its own application context, session and
database connection, released at the same moment by a barrier. Runs on SQLite (a file in WAL
mode, shared by the threads) and on PostgreSQL (TEST_DATABASE_URL)."""

from __future__ import annotations

import contextlib
import threading
import traceback
from collections.abc import Callable
from dataclasses import dataclass

import pytest
from helpers import outbox
from sqlalchemy import event, func, select

from marketplace.extensions import db
from marketplace.models import Claim, ClaimStatus, Listing, ListingStatus, User
from marketplace.services import claims
from marketplace.services.errors import DomainError

ROUNDS = 10
OK = "ok"
# An action runs inside its thread's application context; it loads what it needs, calls
# ready() (the barrier) and then does the one thing that races.
Action = Callable[[Callable[[], object]], None]


def run_together(app, *actions: Action) -> list[object]:
    """Run the actions in threads at once; OK or the exception each one raised."""
    barrier = threading.Barrier(len(actions), timeout=30)
    outcomes: list[object] = [None] * len(actions)

    def work(index: int, action: Action) -> None:
        try:
            with app.app_context():
                action(barrier.wait)
            outcomes[index] = OK
        except BaseException as error:  # every failure is judged in the main thread
            outcomes[index] = error

    db.session.commit()  # the test's own session holds nothing while the threads run
    threads = [threading.Thread(target=work, args=(index, action), daemon=True)
               for index, action in enumerate(actions)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not any(thread.is_alive() for thread in threads), "a racing thread hangs"
    db.session.expire_all()  # read what the threads wrote
    return outcomes


def judge(outcomes: list[object]) -> tuple[int, list[DomainError]]:
    """The number of successes and the refusals; anything else fails the test with its trace."""
    unexpected = [outcome for outcome in outcomes
                  if outcome is not OK and not isinstance(outcome, DomainError)]
    assert not unexpected, "\n".join(
        "".join(traceback.format_exception(error)) for error in unexpected)  # type: ignore[arg-type]
    refusals = [outcome for outcome in outcomes if isinstance(outcome, DomainError)]
    return outcomes.count(OK), refusals


def accepting(giver_id: int, claim_id: int) -> Action:
    def action(ready: Callable[[], object]) -> None:
        giver = db.session.get(User, giver_id)
        claim = db.session.get(Claim, claim_id)
        assert claim.listing.site is not None and claim.claimant is not None
        ready()
        claims.accept_claim(giver, claim)

    return action


def declining(giver_id: int, claim_id: int) -> Action:
    def action(ready: Callable[[], object]) -> None:
        giver = db.session.get(User, giver_id)
        claim = db.session.get(Claim, claim_id)
        assert claim.listing is not None
        ready()
        claims.decline_claim(giver, claim, note="Sorry")

    return action


def claiming(member_id: int, listing_id: int, quantity: int) -> Action:
    def action(ready: Callable[[], object]) -> None:
        member = db.session.get(User, member_id)
        listing = db.session.get(Listing, listing_id)
        assert member.organisation is not None and listing.organisation is not None
        ready()
        claims.claim_listing(member, listing, quantity)

    return action


def collecting(actor_id: int, claim_id: int) -> Action:
    def action(ready: Callable[[], object]) -> None:
        actor = db.session.get(User, actor_id)
        claim = db.session.get(Claim, claim_id)
        assert claim.listing is not None and claim.claimant is not None
        ready()
        claims.mark_collected(actor, claim)

    return action


@dataclass
class Round:
    listing_id: int
    giver_id: int
    colleague_id: int
    claim_ids: list[int]


@pytest.fixture
def fresh_round(app, make_org, make_user, make_listing) -> Callable[..., Round]:
    """A new giving organisation, listing and claims (one member of a new organisation each)."""

    def build(quantity: int, wanted: list[int]) -> Round:
        organisation = make_org()
        giver = make_user(organisation=organisation)
        colleague = make_user(organisation=organisation)
        listing = make_listing(organisation=organisation, quantity=quantity, created_by=giver)
        claim_ids = [claims.claim_listing(make_user(), listing, number).id for number in wanted]
        return Round(listing.id, giver.id, colleague.id, claim_ids)

    return build


def quantity_sums(listing_id: int) -> dict[ClaimStatus, int]:
    return dict(db.session.execute(
        select(Claim.status, func.sum(Claim.quantity))
        .where(Claim.listing_id == listing_id).group_by(Claim.status)).all())


def assert_quantities_add_up(listing_id: int) -> Listing:
    listing = db.session.get(Listing, listing_id)
    sums = quantity_sums(listing_id)
    given = sums.get(ClaimStatus.ACCEPTED, 0) + sums.get(ClaimStatus.COLLECTED, 0)
    assert 0 <= listing.quantity_available <= listing.quantity
    assert listing.quantity_available == listing.quantity - given
    return listing


@pytest.mark.parametrize(("quantity", "wanted", "winners"), [
    (1, [1, 1], 1),
    (3, [2, 2], 1),
    (2, [1, 1, 1], 2),
    (5, [2, 2, 2, 2], 2),
], ids=["1-of-1+1", "3-of-2+2", "2-of-1+1+1", "5-of-2+2+2+2"])
def test_accepts_racing_for_the_last_units_never_oversell(app, fresh_round, quantity, wanted,
                                                          winners):
    for _ in range(ROUNDS):
        scene = fresh_round(quantity, wanted)
        # Giver and colleague click at the same moment, each on another claim.
        deciders = [scene.giver_id, scene.colleague_id]
        outcomes = run_together(app, *(
            accepting(deciders[index % 2], claim_id)
            for index, claim_id in enumerate(scene.claim_ids)))

        succeeded, refusals = judge(outcomes)
        assert succeeded == winners, outcomes
        assert all("left" in refusal.message for refusal in refusals), outcomes
        listing = assert_quantities_add_up(scene.listing_id)
        assert listing.quantity_available == quantity - winners * wanted[0]
        statuses = [db.session.get(Claim, claim_id).status for claim_id in scene.claim_ids]
        assert statuses.count(ClaimStatus.ACCEPTED) == winners
        assert statuses.count(ClaimStatus.REQUESTED) == len(wanted) - winners  # still in line
        claimants = {db.session.get(Claim, claim_id).claimant.email
                     for claim_id in scene.claim_ids}
        assert len([mail for mail in outbox(template="claim_accepted")
                    if mail.recipient in claimants]) == winners


def test_a_double_click_on_accept_reserves_once(app, fresh_round):
    for _ in range(ROUNDS):
        scene = fresh_round(4, [2])
        [claim_id] = scene.claim_ids
        mails_before = len(outbox(template="claim_accepted"))
        outcomes = run_together(app, accepting(scene.giver_id, claim_id),
                                accepting(scene.colleague_id, claim_id))

        succeeded, refusals = judge(outcomes)
        assert succeeded == 1, outcomes
        assert "answered already" in refusals[0].message
        listing = assert_quantities_add_up(scene.listing_id)
        assert listing.quantity_available == 2
        assert db.session.get(Claim, claim_id).status is ClaimStatus.ACCEPTED
        assert len(outbox(template="claim_accepted")) == mails_before + 1


def test_an_accept_racing_a_decline_of_the_same_claim_has_one_winner(app, fresh_round):
    for _ in range(ROUNDS):
        scene = fresh_round(4, [3])
        [claim_id] = scene.claim_ids
        outcomes = run_together(app, accepting(scene.giver_id, claim_id),
                                declining(scene.colleague_id, claim_id))

        succeeded, refusals = judge(outcomes)
        assert succeeded == 1, outcomes
        assert "answered already" in refusals[0].message
        listing = assert_quantities_add_up(scene.listing_id)
        status = db.session.get(Claim, claim_id).status
        if outcomes[0] is OK:
            assert status is ClaimStatus.ACCEPTED
            assert listing.quantity_available == 1
        else:
            assert status is ClaimStatus.DECLINED
            assert listing.quantity_available == 4  # the reservation was undone


def test_a_double_click_on_claim_creates_one_claim(app, fresh_round, make_user):
    for _ in range(ROUNDS):
        scene = fresh_round(4, [])
        member = make_user()
        received_before = len(outbox(template="claim_received"))
        outcomes = run_together(app, claiming(member.id, scene.listing_id, 2),
                                claiming(member.id, scene.listing_id, 2))

        succeeded, refusals = judge(outcomes)
        assert succeeded == 1, outcomes
        assert "claimed this listing already" in refusals[0].message
        [claim] = db.session.scalars(select(Claim).where(Claim.listing_id == scene.listing_id))
        assert claim.claimant_id == member.id
        assert claim.status is ClaimStatus.REQUESTED
        assert len(outbox(template="claim_received")) == received_before + 1


def test_members_claiming_at_once_each_get_their_claim(app, fresh_round, make_user):
    scene = fresh_round(4, [])
    members = [make_user() for _ in range(4)]
    outcomes = run_together(app, *(claiming(member.id, scene.listing_id, 1)
                                   for member in members))
    assert judge(outcomes) == (4, [])
    assert db.session.scalar(select(func.count()).select_from(Claim)) == 4


def test_a_cancel_racing_an_accept_gives_the_quantity_back(app, fresh_round):
    """One possible order of a real race, played step by step: the claimant opens the cancel
    (claim loaded: requested), the giver's accept commits, then the cancel's UPDATE runs."""
    scene = fresh_round(4, [3])
    [claim_id] = scene.claim_ids
    db.session.commit()
    claim = db.session.get(Claim, claim_id)
    claimant = claim.claimant
    assert claim.status is ClaimStatus.REQUESTED  # the cancel request has loaded the claim

    with app.app_context():  # the giver's request, in its own session, commits meanwhile
        claims.accept_claim(db.session.get(User, scene.giver_id), db.session.get(Claim, claim_id))

    claims.cancel_claim(claimant, claim)

    db.session.expire_all()
    assert db.session.get(Claim, claim_id).status is ClaimStatus.CANCELLED
    listing = assert_quantities_add_up(scene.listing_id)
    assert listing.quantity_available == 4


def test_collecting_the_last_claims_at_once_closes_the_listing(app, fresh_round):
    """Both hand-overs have marked their claim before either adds up the collected quantity
    (made certain by holding each thread at that query until the other arrives there)."""
    if db.engine.dialect.name == "sqlite":
        pytest.skip("SQLite has one writer at a time: the second sum sees the first")
    scene = fresh_round(4, [2, 2, 1])
    first, second, waiting = scene.claim_ids
    for claim_id in (first, second):
        claims.accept_claim(db.session.get(User, scene.giver_id), db.session.get(Claim, claim_id))
    # With the listing locked, the second hand-over cannot reach its sum before the first has
    # committed, so the barrier breaks after a moment and both go on, one after the other.
    both_summing = threading.Barrier(2, timeout=2)

    def hold_at_the_sum(conn, cursor, statement, parameters, context, executemany):
        if "sum(claim.quantity)" in statement.lower():
            with contextlib.suppress(threading.BrokenBarrierError):
                both_summing.wait()

    event.listen(db.engine, "before_cursor_execute", hold_at_the_sum)
    try:
        outcomes = run_together(app, collecting(scene.giver_id, first),
                                collecting(scene.giver_id, second))
    finally:
        event.remove(db.engine, "before_cursor_execute", hold_at_the_sum)

    assert judge(outcomes) == (2, [])
    assert_quantities_add_up(scene.listing_id)
    assert quantity_sums(scene.listing_id)[ClaimStatus.COLLECTED] == 4
    assert db.session.get(Listing, scene.listing_id).status is ListingStatus.CLOSED
    assert db.session.get(Claim, waiting).status is ClaimStatus.EXPIRED
