"""Whether a member's organisation has somewhere to collect from, and who can add it: a listing
needs an active pick-up site to be published (a draft does without)."""

from __future__ import annotations

from flask_babel import gettext as _

from ..models import Organisation, User
from ..security import Action, permitted
from .organisations import organisation_admins


def has_pick_up_site(organisation: Organisation | None) -> bool:
    return organisation is not None and any(site.active for site in organisation.sites)


def missing_site_reason(actor: User, organisation: Organisation | None) -> str | None:
    """Why a listing of `organisation` cannot be published for want of a pick-up site, and
    who adds one, in words for `actor`; None when it has one."""
    if organisation is None or has_pick_up_site(organisation):
        return None
    if permitted(actor, Action.MANAGE_ORGANISATION, organisation):
        return _("Your organisation has no pick-up site yet, and a listing needs one: takers "
                 "must know where to collect. Add a site first; you can save this listing as "
                 "a draft in the meantime.")
    names = [admin.name for admin in organisation_admins(organisation) if admin.id != actor.id]
    if names:
        return _("Your organisation has no pick-up site yet, and a listing needs one. Your "
                 "organisation admins add sites: ask %(names)s. You can save this listing as "
                 "a draft in the meantime.", names=", ".join(names))
    return _("Your organisation has no pick-up site yet, and a listing needs one. Ask the "
             "platform administrators to add it. You can save this listing as a draft in the "
             "meantime.")
