"""The signed-in user of a request, read with what every one of their pages asks, in one statement.

Every page of a member shows the navigation's counts ("Claims (2)"); every search page measures
distances from the organisation's first active site and asks whether the organisation has
listings in their internal phase. Read in separate statements, these cost a member's search page
three round trips and three times the ORM's and the driver's work per statement, more than the
rest of the page (issue 18's load test). Read here with the user and its organisation, they are
as fresh as before: the statement runs for every request, nothing is kept between requests.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Integer, bindparam, func, select
from sqlalchemy.orm import aliased, joinedload

from ..extensions import db, prepared
from ..models import Site, User
from . import todo
from .search import Origin, internal_listings_of


@dataclass(frozen=True)
class SessionUser:
    """The user and what their pages ask, as read at the start of the request."""

    user: User
    # The navigation's counts before what the user may see of them (todo.counts_for decides).
    counts: todo.Counts
    # The organisation's first active site (the search's default origin), None without one.
    first_site: Origin | None
    # Whether the organisation has listings in their internal phase (search.searching_as).
    internal_listings: bool

    @property
    def search_facts(self) -> tuple[Origin | None, bool]:
        """What search.searching_as may take as `read`."""
        return self.first_site, self.internal_listings


def _statement() -> Any:
    # Every subquery names its own tables (correlate(None)): the colleagues' count reads users
    # too, and must not be tied to the signed-in user's row.
    organisation_id = (select(User.organisation_id).where(User.id == bindparam("user_id"))
                       .scalar_subquery().correlate(None))
    first_site = aliased(Site)
    first_site_id = (select(func.min(Site.id))
                     .where(Site.organisation_id == organisation_id, Site.active.is_(True))
                     .scalar_subquery().correlate(None))
    internal = internal_listings_of(organisation_id).exists()
    counts = todo.count_columns(organisation_id)
    return prepared(
        select(User, first_site.id, first_site.name, first_site.latitude, first_site.longitude,
               internal.correlate(None).label("internal"),
               *(column.correlate(None).label(name) for name, column in counts.items()))
        .outerjoin(first_site, first_site.id == first_site_id)
        .options(joinedload(User.organisation))
        .where(User.id == bindparam("user_id", type_=Integer)))


# Built once: on a member's page, building the statement cost as much as running it.
_USER_AND_PAGE = _statement()


def read(user_id: int, now: datetime) -> SessionUser | None:
    """User `user_id` (with its organisation) and what their pages ask as of `now`; None for an
    unknown id. Whether the session may go on is the caller's to decide."""
    row = db.session.execute(_USER_AND_PAGE, {"user_id": user_id, "now": now}).first()
    if row is None:
        return None
    user, site_id, site_name, latitude, longitude, internal, *counts = row
    return SessionUser(
        user=user,
        # The counts are the last columns, labelled by todo.count_columns' names.
        counts=todo.Counts(**{name: int(count or 0)
                              for name, count in zip(row._fields[6:], counts, strict=True)}),
        first_site=Origin(site_id, site_name, latitude, longitude) if site_id is not None
        else None,
        internal_listings=bool(internal))
