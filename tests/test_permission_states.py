"""security.can is who AND when: an action is offered (a button shows) only in the states it
applies to, while security.permitted, what services check before their own state checks,
answers who whatever the state."""

from __future__ import annotations

import pytest

from marketplace.extensions import db
from marketplace.models import Claim, ClaimStatus, ListingStatus, Role
from marketplace.security import Action, can, permitted

pytestmark = pytest.mark.usefixtures("app")

# A claim that waited for, or was refused by, the claimant's medical technology never reached
# the giver: nobody there may act on it, and the claimant writes to nobody.
UNSEEN_BY_GIVER = {ClaimStatus.AWAITING_SIGN_OFF, ClaimStatus.NOT_SIGNED_OFF}
GIVER_ACTIONS = {Action.DECIDE_CLAIM, Action.CONFIRM_COLLECTION}
CLAIM_ACTIONS = {
    Action.DECIDE_CLAIM: {ClaimStatus.REQUESTED},
    Action.CANCEL_CLAIM: {ClaimStatus.AWAITING_SIGN_OFF, ClaimStatus.REQUESTED,
                          ClaimStatus.ACCEPTED},
    Action.CONFIRM_COLLECTION: {ClaimStatus.ACCEPTED},
    Action.MESSAGE_CLAIM: set(ClaimStatus) - UNSEEN_BY_GIVER,
    Action.SIGN_OFF_CLAIM: {ClaimStatus.AWAITING_SIGN_OFF},
}


@pytest.mark.parametrize("status", list(ClaimStatus))
def test_claim_actions_are_offered_in_their_states_only(make_user, make_org, make_listing,
                                                        status):
    giver_org = make_org()
    giver = make_user(organisation=giver_org)
    claimant = make_user()
    listing = make_listing(organisation=giver_org)
    approver = make_user(organisation=claimant.organisation)
    approver.medical_technology = True
    claim = Claim(listing=listing, claimant=claimant, quantity=1, status=status,
                  claimant_organisation_id=claimant.organisation_id,
                  needs_sign_off=status in UNSEEN_BY_GIVER)
    db.session.add(claim)
    db.session.commit()
    who = {Action.DECIDE_CLAIM: giver, Action.CANCEL_CLAIM: claimant,
           Action.CONFIRM_COLLECTION: giver, Action.MESSAGE_CLAIM: claimant,
           Action.SIGN_OFF_CLAIM: approver}
    for action, states in CLAIM_ACTIONS.items():
        if action in GIVER_ACTIONS and status in UNSEEN_BY_GIVER:
            assert not permitted(who[action], action, claim), action
            continue
        assert permitted(who[action], action, claim), action
        assert can(who[action], action, claim) is (status in states), action
    outsider = make_user()
    assert not any(can(outsider, action, claim) for action in CLAIM_ACTIONS)


LISTING_ACTIONS = {
    Action.EDIT_LISTING: {ListingStatus.DRAFT, ListingStatus.PENDING_REVIEW,
                          ListingStatus.PUBLISHED, ListingStatus.REJECTED},
    Action.WITHDRAW_LISTING: {ListingStatus.DRAFT, ListingStatus.PENDING_REVIEW,
                              ListingStatus.PUBLISHED},
    Action.RELIST_LISTING: {ListingStatus.EXPIRED, ListingStatus.WITHDRAWN},
}


@pytest.mark.parametrize("status", list(ListingStatus))
def test_listing_actions_are_offered_in_their_states_only(make_user, make_listing, status):
    poster = make_user()
    listing = make_listing(organisation=poster.organisation, status=status,
                           created_by_id=poster.id)
    admin = make_user(role=Role.PLATFORM_ADMIN)
    for action, states in LISTING_ACTIONS.items():
        assert permitted(poster, action, listing)
        assert can(poster, action, listing) is (status in states), action
    assert can(admin, Action.REVIEW_LISTING, listing) is (status is ListingStatus.PENDING_REVIEW)
    assert not can(poster, Action.REVIEW_LISTING, listing)
