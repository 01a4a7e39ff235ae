"""How long the sender waits and how much it claims. Read as `limits.NAME` when used, so that
tests can change them here once for the whole package (set on `services.mail` they would
change nothing)."""

from datetime import timedelta

SMTP_TIMEOUT_SECONDS = 30
# Seconds to wait after the n-th failed attempt (the last value repeats).
RETRY_BACKOFF = (60, 5 * 60, 30 * 60, 2 * 60 * 60, 6 * 60 * 60)
# A claim its sender has not confirmed for this long belongs to a process that died (a live one
# confirms its claims after a message when CLAIM_HEARTBEAT has passed, and one message takes at
# most about one SMTP time-out). Such a message may or may not have gone out: it is sent again
# (never lost), with a warning about a possible duplicate.
STALE_CLAIM = timedelta(seconds=45)
CLAIM_HEARTBEAT = timedelta(seconds=5)
# Messages claimed at once.
CLAIM_CHUNK = 20
