"""PostgreSQL: a snapshot dumped by `pg_dump --format=custom` in the snapshot of a transaction
that also counts what it holds, and that dump brought back by `pg_restore` in one transaction.
The password goes to the client programs through the environment, never their arguments."""

from __future__ import annotations

import os
import shutil

# pg_dump and pg_restore, run with argument lists, never through a shell.
import subprocess  # nosec B404
from pathlib import Path

from sqlalchemy import URL, text
from sqlalchemy.exc import OperationalError

from ...extensions import db
from . import limits
from .contents import BackupError, Snapshot, read_snapshot

TABLES = "SELECT tablename FROM pg_tables WHERE schemaname = current_schema()"


def snapshot_postgres(target: Path) -> Snapshot:
    """Dump the configured PostgreSQL database to `target`; raises BackupError."""
    pg_dump = client_tool("pg_dump")
    dsn, environment = libpq_target()
    with db.engine.connect() as connection:
        connection.execution_options(isolation_level="REPEATABLE READ")
        with connection.begin():
            # pg_dump works in this transaction's snapshot, so the figures below describe
            # exactly what it dumps.
            snapshot_id = connection.scalar(text("SELECT pg_export_snapshot()"))
            tables = set(connection.scalars(text(TABLES)))
            snapshot = read_snapshot(lambda sql: connection.execute(text(sql)).all(), tables)
            run_client([pg_dump, "--format=custom", "--no-password", f"--snapshot={snapshot_id}",
                        f"--lock-wait-timeout={limits.POSTGRES_LOCK_TIMEOUT}", f"--file={target}",
                        f"--dbname={dsn}"], environment)
    return snapshot


def restore_postgres(dump: Path) -> Snapshot:
    """Replace the configured PostgreSQL database's tables with the dump's; raises BackupError
    (nothing restored)."""
    pg_restore = client_tool("pg_restore")
    dsn, environment = libpq_target()
    check_tables_can_be_replaced()
    # One transaction: a failing restore leaves the database as it was.
    run_client([pg_restore, "--clean", "--if-exists", "--no-owner", "--no-privileges",
                "--single-transaction", "--no-password", f"--dbname={dsn}", str(dump)],
               environment)
    with db.engine.connect() as connection:
        tables = set(connection.scalars(text(TABLES)))
        return read_snapshot(lambda sql: connection.execute(text(sql)).all(), tables)


def check_tables_can_be_replaced() -> None:
    """Raise BackupError when another connection holds a table for longer than
    POSTGRES_LOCK_TIMEOUT (pg_restore would wait for ever: its script sets lock_timeout to 0)."""
    with db.engine.connect() as connection, connection.begin():
        connection.execute(text("SELECT set_config('lock_timeout', :timeout, true)"),
                           {"timeout": limits.POSTGRES_LOCK_TIMEOUT})
        tables = connection.scalars(text(
            "SELECT quote_ident(tablename) FROM pg_tables WHERE schemaname = current_schema()"
        )).all()
        if not tables:
            return
        try:
            # Names quoted by PostgreSQL itself, from its catalogue; released at the commit.
            connection.execute(text(f"LOCK TABLE {', '.join(tables)} IN ACCESS EXCLUSIVE MODE"))
        except OperationalError as error:
            raise BackupError(
                "Other connections hold the tables: stop the app and its workers (gunicorn, "
                "send-mail, housekeeping) first. Nothing was restored.") from error


def client_tool(name: str) -> str:
    """The path of a PostgreSQL client program; raises BackupError when it is not installed."""
    path = shutil.which(name)
    if path is None:
        raise BackupError(f"{name} was not found on PATH: install the PostgreSQL client "
                          "programs of the server's major version (Debian: postgresql-client).")
    return path


def libpq_target() -> tuple[str, dict[str, str]]:
    """A libpq URL without the password (program arguments are visible to every user in ps)
    and an environment with the password in PGPASSWORD."""
    url = db.engine.url
    environment = dict(os.environ)
    if url.password is not None:
        environment["PGPASSWORD"] = str(url.password)
    # URL.set(password=None) would keep the password: None means "unchanged" there.
    without_password = URL.create("postgresql", username=url.username, host=url.host,
                                  port=url.port, database=url.database, query=url.query)
    dsn = without_password.render_as_string(hide_password=False)
    return dsn, environment


def run_client(arguments: list[str], environment: dict[str, str]) -> None:
    """Run pg_dump or pg_restore; raises BackupError with its own words when it fails."""
    result = subprocess.run(arguments, env=environment, capture_output=True, text=True,  # noqa: S603  # nosec B603
                            check=False)
    if result.returncode != 0:
        program = Path(arguments[0]).name
        detail = result.stderr.strip()[-2000:] or f"exit status {result.returncode}"
        message = f"{program} failed: {detail}"
        if "lock timeout" in detail:
            message += ("\nOther connections hold the tables: stop the app and its workers "
                        "(gunicorn, send-mail, housekeeping) first.")
        if program == "pg_restore":
            message += "\nNothing was restored (pg_restore runs in one transaction)."
        raise BackupError(message)
