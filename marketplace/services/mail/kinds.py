"""Optional email, by kind: which a user may switch off on the preferences page, and whether
a user wants a given template."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l

from ...models import NotificationPreference, User

# Each kind can be switched off on the preferences page. Everything else (account, security,
# approvals of one's own account or organisation) always arrives.
EMAIL_KINDS = {
    "claims": ("claim_received", "claim_accepted", "claim_declined", "claim_cancelled",
               "claim_quantity_freed", "claim_quantity_freed_giver", "claim_collected",
               "claim_reminder", "claim_expired", "claim_not_collected", "claim_listing_gone",
               "claim_pickup_tomorrow", "claim_pickup_proposed", "claim_pickup_answered",
               "claim_withdrawn", "claim_sign_off_waiting", "claim_signed_off",
               "claim_not_signed_off", "claim_sign_off_expired"),
    "messages": ("claim_message",),
    "matches": ("alert_match", "alert_digest", "wanted_answered", "wanted_likely_match"),
    "listings": ("listing_published", "listing_expiring", "listing_expired"),
    "approvals": ("member_to_approve", "organisation_to_approve", "claim_sign_off_requested"),
    "moderation": ("moderation_summary", "report_received"),
}
# Work for admins: "off" (the notification setting) does not silence these, muting the kind does.
ALWAYS_UNLESS_MUTED = frozenset({"approvals", "moderation"})
KIND_OF_TEMPLATE = {template: kind for kind, templates in EMAIL_KINDS.items()
                    for template in templates}
KIND_LABELS = {
    "claims": _l("Claims: new claims, answers, hand-overs and reminders"),
    "messages": _l("Messages on claims"),
    "matches": _l("Listings that match my alerts and requests"),
    "listings": _l("My listings: published, about to expire, expired"),
    "approvals": _l("Colleagues and organisations waiting for my approval"),
    "moderation": _l("Moderation (platform admins): new reports and the daily summary"),
}


def email_kinds_for(user: User) -> list[str]:
    """The kinds of optional email `user` can get (moderation mail is for platform admins)."""
    from ...models import Role

    return [kind for kind in EMAIL_KINDS
            if kind != "moderation" or user.role is Role.PLATFORM_ADMIN]


def wants_email(user: User, template: str) -> bool:
    """Whether `user` receives this kind of email (account and security email always)."""
    kind = KIND_OF_TEMPLATE.get(template)
    if kind is None:
        return True
    if user.notifications is NotificationPreference.OFF and kind not in ALWAYS_UNLESS_MUTED:
        return False
    return kind not in user.muted_kinds
