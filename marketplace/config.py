"""Every setting, read from the environment in one place.

Each setting is documented in README.md ("Settings"). `create_app(config)` applies a mapping on top
of these, which is how the tests and the CLI override them.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

SECONDS_PER_DAY = 24 * 60 * 60


def _bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def _int(name: str, default: int) -> int:
    value = os.environ.get(name)
    return int(value) if value else default


def _float(name: str, default: float) -> float:
    value = os.environ.get(name)
    return float(value) if value else default


def _database_url(instance_path: Path) -> str:
    url = os.environ.get("DATABASE_URL")
    if not url:
        return f"sqlite:///{instance_path / 'marketplace.sqlite'}"
    return normalise_database_url(url)


def normalise_database_url(url: str) -> str:
    """Accept the usual PostgreSQL URL spellings and use the psycopg 3 driver for them."""
    # Hosting platforms still hand out the deprecated "postgres://" scheme; psycopg 3 is our driver.
    if url.startswith("postgres://"):
        url = "postgresql://" + url[len("postgres://") :]
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url[len("postgresql://") :]
    return url


REDIS_TIMEOUT_SECONDS = 0.25  # a Redis slower than this is as good as down


def settings_from_environment(instance_path: Path) -> dict[str, Any]:
    """Return the configuration built from environment variables and safe defaults."""
    return {**_site_settings(instance_path), **_mail_settings(instance_path),
            **_reply_settings(), **_rate_limit_settings(), **_photo_settings(),
            **_session_settings(), **_language_and_log_settings()}


PHOTOS_PER_LISTING = 8  # services.listings.MAX_PHOTOS, which the form states
FORM_TEXT_BYTES = 1024 * 1024  # room for a form's text and multipart overhead


def form_bytes_promised(photo_max_bytes: int, ifu_max_bytes: int = 0) -> int:
    """The largest posting form the form's stated limits allow: 8 photos at their limit (and a
    device passport's instructions for use)."""
    return PHOTOS_PER_LISTING * photo_max_bytes + ifu_max_bytes + FORM_TEXT_BYTES


def _site_settings(instance_path: Path) -> dict[str, Any]:
    """Where the site lives and keeps its data, and its general rules."""
    return {
        "SECRET_KEY": os.environ.get("SECRET_KEY"),
        "SQLALCHEMY_DATABASE_URI": _database_url(instance_path),
        # A pooled connection is checked before use only after sitting idle this long
        # (connections.py: _ping_idle_connections), not on every checkout.
        "DATABASE_PING_AFTER_IDLE_SECONDS": _float("DATABASE_PING_AFTER_IDLE_SECONDS", 1.0),
        # PostgreSQL: prepare the small statements of every member's page (extensions.prepared);
        # off behind a pooler that cannot keep prepared statements (PgBouncer before 1.21).
        "DATABASE_PREPARED_STATEMENTS": _bool("DATABASE_PREPARED_STATEMENTS", True),
        "UPLOAD_FOLDER": os.environ.get("UPLOAD_FOLDER") or str(instance_path / "uploads"),
        "BASE_URL": (os.environ.get("BASE_URL") or "http://127.0.0.1:5000").rstrip("/"),
        # Requests larger than this are refused with 413 before Flask reads them; never less
        # than the posting form promises (8 photos of PHOTO_MAX_BYTES, an IFU_MAX_BYTES PDF and
        # its text).
        "MAX_CONTENT_LENGTH": max(_int("MAX_CONTENT_LENGTH", 0), form_bytes_promised(
            _int("PHOTO_MAX_BYTES", 15 * 1024 * 1024), _int("IFU_MAX_BYTES", 10 * 1024 * 1024))),
        "DIGEST_HOUR": _int("DIGEST_HOUR", 7),
        "LISTING_DEFAULT_DAYS": _int("LISTING_DEFAULT_DAYS", 30),
        "LISTING_MAX_DAYS": _int("LISTING_MAX_DAYS", 90),
        # Where members send questions about their personal data (shown on the privacy page).
        "PRIVACY_CONTACT": os.environ.get("PRIVACY_CONTACT") or None,
        "EMAIL_TOKEN_MAX_AGE": _int("EMAIL_TOKEN_MAX_AGE", 3 * SECONDS_PER_DAY),
        "RESET_TOKEN_MAX_AGE": _int("RESET_TOKEN_MAX_AGE", 2 * 60 * 60),
        "PASSWORD_HASH_METHOD": os.environ.get("PASSWORD_HASH_METHOD") or "scrypt",
    }


def _mail_settings(instance_path: Path) -> dict[str, Any]:
    """Outgoing mail."""
    mail_server = os.environ.get("MAIL_SERVER") or None
    return {
        # Mail: with no MAIL_SERVER, mail is written to the log and to MAIL_FOLDER as .eml files.
        "MAIL_SERVER": mail_server,
        "MAIL_PORT": _int("MAIL_PORT", 25),
        "MAIL_USE_TLS": _bool("MAIL_USE_TLS", False),
        "MAIL_USE_SSL": _bool("MAIL_USE_SSL", False),
        "MAIL_USERNAME": os.environ.get("MAIL_USERNAME") or None,
        "MAIL_PASSWORD": os.environ.get("MAIL_PASSWORD") or None,
        "MAIL_DEFAULT_SENDER": os.environ.get("MAIL_DEFAULT_SENDER")
        or "Surplus Marketplace <no-reply@localhost>",
        "MAIL_FOLDER": os.environ.get("MAIL_FOLDER") or str(instance_path / "mail"),
        # Without an SMTP server there is no mail worker to wait for, so deliver right away.
        "MAIL_DELIVER_AFTER_REQUEST": _bool("MAIL_DELIVER_AFTER_REQUEST", mail_server is None),
        "MAIL_MAX_ATTEMPTS": _int("MAIL_MAX_ATTEMPTS", 8),
    }


def _reply_settings() -> dict[str, Any]:
    """Replies by email (`flask receive-mail`, docs/operations.md)."""
    return {
        # The domain whose mail the organisation's mail server forwards to receive-mail; claim
        # mail gets a Reply-To there. Empty: replies by email are off (no Reply-To).
        "REPLY_DOMAIN": (os.environ.get("REPLY_DOMAIN") or "").strip().lower(),
        # Where `flask receive-mail` listens (SMTP, behind the organisation's mail server).
        "RECEIVE_MAIL_HOST": os.environ.get("RECEIVE_MAIL_HOST") or "127.0.0.1",
        "RECEIVE_MAIL_PORT": _int("RECEIVE_MAIL_PORT", 2525),
        # Larger replies are refused during the SMTP conversation (552); attachments are not
        # kept anyway, so this only needs room for a reply with a few photos.
        "RECEIVE_MAIL_MAX_BYTES": _int("RECEIVE_MAIL_MAX_BYTES", 10 * 1024 * 1024),
        # A claim's reply addresses stop working this many days after it closed or was collected.
        "REPLY_ADDRESS_DAYS": _int("REPLY_ADDRESS_DAYS", 30),
    }


def _rate_limit_settings() -> dict[str, Any]:
    """Rate limits and the page cache (both may share one Redis)."""
    return {
        "RATELIMIT_STORAGE_URI": os.environ.get("RATELIMIT_STORAGE_URI") or "memory://",
        # Keeps the counters of several sites (or test runs) apart in one Redis.
        "RATELIMIT_KEY_PREFIX": os.environ.get("RATELIMIT_KEY_PREFIX") or "",
        "RATELIMIT_ENABLED": _bool("RATELIMIT_ENABLED", True),
        # A Redis that does not answer: each process counts for itself (one warning in the log)
        # and goes back to Redis once it answers, instead of failing the request.
        "RATELIMIT_IN_MEMORY_FALLBACK_ENABLED": True,
        # Without timeouts a Redis that stopped answering would hold every login for minutes
        # (memory:// ignores them).
        "RATELIMIT_STORAGE_OPTIONS": {"socket_timeout": REDIS_TIMEOUT_SECONDS,
                                      "socket_connect_timeout": REDIS_TIMEOUT_SECONDS},
        # Rendered parts of the browse and search pages (marketplace/page_cache.py): memory://
        # per process, redis://… shared (by default the rate limits' Redis, when they use one),
        # or none; kept at most SEARCH_CACHE_SECONDS (unset: 600 in Redis, 30 in memory).
        "SEARCH_CACHE_URL": os.environ.get("SEARCH_CACHE_URL") or "",
        "SEARCH_CACHE_SECONDS": _int("SEARCH_CACHE_SECONDS", 0) or None,
        "SEARCH_CACHE_KEY_PREFIX": os.environ.get("SEARCH_CACHE_KEY_PREFIX")
        or os.environ.get("RATELIMIT_KEY_PREFIX") or "",
        "RATELIMIT_HEADERS_ENABLED": True,
        # Failed logins only (rate_limits.py): per client address, and per account tried.
        "LOGIN_RATE_LIMIT": os.environ.get("LOGIN_RATE_LIMIT") or "10 per minute;50 per hour",
        "LOGIN_ACCOUNT_RATE_LIMIT": os.environ.get("LOGIN_ACCOUNT_RATE_LIMIT")
        or "5 per minute;20 per hour",
        # Wrong current passwords (change password, delete account) per member.
        "PASSWORD_CHECK_RATE_LIMIT": os.environ.get("PASSWORD_CHECK_RATE_LIMIT")
        or "5 per 15 minutes;20 per day",
        # Forgot-password and resend-confirmation answer no sooner than this after the request
        # began, whether or not the address has an account: the time taken tells nothing.
        "EMAIL_LOOKUP_FLOOR_MS": _int("EMAIL_LOOKUP_FLOOR_MS", 250),
        "SIGNUP_RATE_LIMIT": os.environ.get("SIGNUP_RATE_LIMIT") or "5 per minute;20 per hour",
        "RESET_RATE_LIMIT": os.environ.get("RESET_RATE_LIMIT") or "5 per minute;20 per hour",
        "REPORT_RATE_LIMIT": os.environ.get("REPORT_RATE_LIMIT") or "10 per hour",
        "CLAIM_RATE_LIMIT": os.environ.get("CLAIM_RATE_LIMIT") or "30 per hour",
        # Photos a member may upload (staged, one request each) before waiting.
        "PHOTO_STAGE_RATE_LIMIT": os.environ.get("PHOTO_STAGE_RATE_LIMIT")
        or "20 per minute;200 per hour",
    }


def _photo_settings() -> dict[str, Any]:
    """Photos: sizes, decoding and where they are stored."""
    return {
        "PHOTO_MAX_BYTES": _int("PHOTO_MAX_BYTES", 15 * 1024 * 1024),
        # A device passport's instructions for use (a PDF), stored with the photos.
        "IFU_MAX_BYTES": _int("IFU_MAX_BYTES", 10 * 1024 * 1024),
        "PHOTO_MAX_PIXELS": _int("PHOTO_MAX_PIXELS", 50_000_000),
        # What decoding the photos of one form may take (MiB at the peak, costed from their
        # headers; services/photos/budget.py), and how many decodes of PHOTO_LARGE_DECODE_MB or more
        # a process runs at once, each waiting at most PHOTO_DECODE_WAIT_SECONDS for its turn.
        "PHOTO_DECODE_BUDGET_MB": _int("PHOTO_DECODE_BUDGET_MB", 192),
        "PHOTO_LARGE_DECODE_MB": _int("PHOTO_LARGE_DECODE_MB", 64),
        "PHOTO_LARGE_DECODES": _int("PHOTO_LARGE_DECODES", 2),
        "PHOTO_DECODE_WAIT_SECONDS": _int("PHOTO_DECODE_WAIT_SECONDS", 10),
        # /healthz reports "low_space" when the upload folder's file system has less free.
        "HEALTH_MIN_FREE_MB": _int("HEALTH_MIN_FREE_MB", 1024),
        "PHOTO_STORAGE": os.environ.get("PHOTO_STORAGE") or "local",
        # PHOTO_STORAGE=s3 (see docs/storage.md). Without S3_ACCESS_KEY_ID/S3_SECRET_ACCESS_KEY,
        # boto3 finds credentials itself (AWS_ACCESS_KEY_ID…, ~/.aws, an instance role).
        "S3_BUCKET": os.environ.get("S3_BUCKET") or None,
        "S3_ENDPOINT_URL": os.environ.get("S3_ENDPOINT_URL") or None,
        "S3_REGION": os.environ.get("S3_REGION") or None,
        "S3_PREFIX": os.environ.get("S3_PREFIX") or "",
        "S3_ADDRESSING_STYLE": os.environ.get("S3_ADDRESSING_STYLE") or None,
        "S3_ACCESS_KEY_ID": os.environ.get("S3_ACCESS_KEY_ID") or None,
        "S3_SECRET_ACCESS_KEY": os.environ.get("S3_SECRET_ACCESS_KEY") or None,
        # Photos of rejected and removed listings are deleted this many days after the decision.
        "PHOTO_GRACE_DAYS": _int("PHOTO_GRACE_DAYS", 30),
    }


def _session_settings() -> dict[str, Any]:
    """Cookies and sessions."""
    debug = _bool("FLASK_DEBUG", False)
    return {
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "SESSION_COOKIE_SECURE": _bool("SESSION_COOKIE_SECURE", not debug),
        "REMEMBER_COOKIE_HTTPONLY": True,
        "REMEMBER_COOKIE_SAMESITE": "Lax",
        "REMEMBER_COOKIE_SECURE": _bool("SESSION_COOKIE_SECURE", not debug),
        "REMEMBER_COOKIE_DURATION": _int("REMEMBER_COOKIE_DAYS", 30) * SECONDS_PER_DAY,
        "PERMANENT_SESSION_LIFETIME": _int("SESSION_LIFETIME_HOURS", 12) * 60 * 60,
        # Behind reverse proxies that set X-Forwarded-For/-Proto: how many there are.
        "PROXY_FIX_HOPS": _int("PROXY_FIX_HOPS", 0),
    }


def _language_and_log_settings() -> dict[str, Any]:
    """Languages, the time zone, CSRF, HSTS and logging."""
    return {
        "BABEL_DEFAULT_LOCALE": "nl",
        # Times are stored in UTC and shown in this zone (an IANA name), on pages and in emails;
        # "today" (expiry, pick-up dates, the digest hour) is this zone's date too.
        "TIMEZONE": os.environ.get("TIMEZONE") or "Europe/Amsterdam",
        "LANGUAGES": ("nl", "en"),
        "WTF_CSRF_TIME_LIMIT": None,  # the token lives as long as the session, not an hour
        "HSTS_MAX_AGE": _int("HSTS_MAX_AGE", 365 * SECONDS_PER_DAY),
        "LOG_LEVEL": os.environ.get("LOG_LEVEL") or "INFO",
        # "text" (readable) or "json" (one object a line, for journald and log collectors).
        "LOG_FORMAT": (os.environ.get("LOG_FORMAT") or "text").strip().lower(),
    }
