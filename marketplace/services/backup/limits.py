"""How long a backup or a restore waits for others. Read as `limits.NAME` when used, so that
tests can change them here once for the whole package."""

SQLITE_TIMEOUT = 30  # seconds to wait for a writer's lock
# How long pg_dump and pg_restore wait for a table lock before giving up, instead of hanging
# behind a migration (dump) or a still-running app (restore).
POSTGRES_LOCK_TIMEOUT = "30s"
