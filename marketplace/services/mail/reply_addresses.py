"""Reply addresses: `reply+<claim>-<user>-<signature>@REPLY_DOMAIN`, one per claim and recipient.

The signature is an HMAC of the claim's and the member's ids under SECRET_KEY, so an address
can be neither guessed nor altered to another claim or member. It is written in lower-case
base32 and compared without regard to case: mail servers may lower-case a local part (and
itsdangerous' base64 would then no longer verify). 80 bits of signature keep the local part
well under the 64 characters SMTP allows. Whether the claim and member still take replies is
for `services/replies` to decide, with the database.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
from dataclasses import dataclass

from flask import current_app

PREFIX = "reply+"
_SALT = b"claim-reply-address"
_SIGNATURE_BYTES = 10  # 80 bits: 16 base32 characters
_LOCAL_PART = re.compile(r"^reply\+(?P<claim>[1-9][0-9]{0,17})-(?P<user>[1-9][0-9]{0,17})-"
                         r"(?P<signature>[a-z2-7]{16})$")


class NotAReplyAddress(ValueError):
    """Not one of our reply addresses: another domain, another form, or a wrong signature."""


@dataclass(frozen=True)
class ReplyAddress:
    claim_id: int
    user_id: int


def reply_domain() -> str:
    """The domain replies go to; empty when replies by email are off."""
    return str(current_app.config.get("REPLY_DOMAIN") or "")


def _signature(claim_id: int, user_id: int) -> str:
    key = hashlib.sha256(_SALT + str(current_app.config["SECRET_KEY"]).encode()).digest()
    digest = hmac.new(key, f"{claim_id}-{user_id}".encode(), hashlib.sha256).digest()
    return base64.b32encode(digest[:_SIGNATURE_BYTES]).decode().lower()


def make_reply_address(claim_id: int, user_id: int) -> str | None:
    """The address a reply of user `user_id` about claim `claim_id` goes to (None when replies
    by email are off)."""
    domain = reply_domain()
    if not domain:
        return None
    return f"{PREFIX}{claim_id}-{user_id}-{_signature(claim_id, user_id)}@{domain}"


def read_reply_address(address: str) -> ReplyAddress:
    """The claim and member an address was made for; raises NotAReplyAddress for anything else
    (another domain, a malformed or a forged address)."""
    local, _, domain = address.strip().strip("<>").lower().rpartition("@")
    if not reply_domain() or domain != reply_domain():
        raise NotAReplyAddress("not our domain")
    found = _LOCAL_PART.match(local)
    if found is None:
        raise NotAReplyAddress("not a reply address")
    claim_id, user_id = int(found["claim"]), int(found["user"])
    if not hmac.compare_digest(found["signature"], _signature(claim_id, user_id)):
        raise NotAReplyAddress("wrong signature")
    return ReplyAddress(claim_id=claim_id, user_id=user_id)
