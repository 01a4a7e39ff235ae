"""Following listings: colleagues who hear of a listing's claims besides its poster.

A member follows one listing of their organisation (ListingFollower), or all of them
(User.follows_organisation_listings); claims.giving_side_recipients reads both.
"""

from __future__ import annotations

import enum
from collections.abc import Callable
from dataclasses import dataclass

from flask_babel import LazyString
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError

from ..extensions import db
from ..models import Listing, ListingFollower, User
from ..security import Action, require
from ..unit_of_work import atomic, savepoint


def is_following(user: User, listing: Listing) -> bool:
    """Whether `user` follows `listing` itself (following all listings aside)."""
    if not getattr(user, "is_authenticated", False):
        return False
    return db.session.scalar(select(ListingFollower.id).where(
        ListingFollower.listing_id == listing.id, ListingFollower.user_id == user.id)
    ) is not None


@atomic
def follow_listing(actor: User, listing: Listing) -> None:
    """`actor` hears of the listing's claims from now on; following twice changes nothing."""
    require(actor, Action.FOLLOW_LISTING, listing,
            _("Only colleagues of the giving organisation can follow this listing."))
    if is_following(actor, listing):
        return
    try:
        with savepoint():
            db.session.add(ListingFollower(listing_id=listing.id, user_id=actor.id))
            db.session.flush()
    except IntegrityError:  # the same member, a moment ago (a double-click)
        pass


@atomic
def unfollow_listing(actor: User, listing: Listing) -> None:
    """`actor` no longer hears of the listing's claims (as poster or decider they still do)."""
    db.session.execute(delete(ListingFollower).where(
        ListingFollower.listing_id == listing.id, ListingFollower.user_id == actor.id))


def followers_of(listing: Listing) -> list[tuple[User, GivingReason]]:
    """Who follows the listing itself (FOLLOWER), then who follows every listing of its
    organisation (FOLLOWS_ALL), each once; their standing is the caller's to weigh."""
    own = db.session.scalars(
        select(User).join(ListingFollower, ListingFollower.user_id == User.id)
        .where(ListingFollower.listing_id == listing.id)
        .order_by(ListingFollower.created_at, ListingFollower.id)).all()
    everything = db.session.scalars(
        select(User).where(User.organisation_id == listing.organisation_id,
                           User.follows_organisation_listings.is_(True))
        .order_by(User.id)).all()
    return [*((user, GivingReason.FOLLOWER) for user in own),
            *((user, GivingReason.FOLLOWS_ALL) for user in everything if user not in own)]


def followed_by(user: User) -> list[Listing]:
    """The listings `user` follows, newest follow first (for their personal data)."""
    return list(db.session.scalars(
        select(Listing).join(ListingFollower, ListingFollower.listing_id == Listing.id)
        .where(ListingFollower.user_id == user.id)
        .order_by(ListingFollower.created_at.desc(), ListingFollower.id.desc())))


class GivingReason(enum.StrEnum):
    """Why someone of the giving organisation hears of a claim (said at the email's foot)."""

    POSTER = "poster"
    DECIDER = "decider"
    FOLLOWER = "follower"
    FOLLOWS_ALL = "follows_all"
    NOTIFICATION_ADDRESS = "notification_address"
    ADMIN = "admin"

    def sentence(self, organisation: str) -> LazyString:
        """The line for the email, rendered in the recipient's language when it is written."""
        return _GIVING_REASON_SENTENCES[self](organisation)


_GIVING_REASON_SENTENCES: dict[GivingReason, Callable[[str], LazyString]] = {
    GivingReason.POSTER: lambda _org: _l("You receive this email because you posted this "
                                         "listing."),
    GivingReason.DECIDER: lambda _org: _l("You receive this email because you answered this "
                                          "claim."),
    GivingReason.FOLLOWER: lambda _org: _l("You receive this email because you follow this "
                                           "listing."),
    GivingReason.FOLLOWS_ALL: lambda org: _l(
        "You receive this email because you follow all listings of %(organisation)s.",
        organisation=org),
    GivingReason.NOTIFICATION_ADDRESS: lambda org: _l(
        "You receive this email because this is the notification address of "
        "%(organisation)s.", organisation=org),
    GivingReason.ADMIN: lambda org: _l(
        "You receive this email because you are an admin of %(organisation)s and nobody "
        "else there hears of this listing's claims.", organisation=org),
}


@dataclass(frozen=True)
class GivingRecipient:
    """One who hears of a claim on the giving side: a member, or a bare address."""

    to: User | str
    why: GivingReason

    @property
    def address(self) -> str:
        return (self.to.email if isinstance(self.to, User) else self.to).strip().lower()
