"""Helpers the tests share (fixtures live in conftest.py)."""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from pathlib import Path

from flask.testing import FlaskClient
from sqlalchemy import event, select

from marketplace.extensions import db
from marketplace.models import OutboxMessage, User
from marketplace.services.impact import Period

PASSWORD = "tulpen-fiets-regen-42"

# The impact tests' period: the year 2025, as a Period and as the dashboard's query string.
YEAR = Period(date(2025, 1, 1), date(2025, 12, 31))
YEAR_ARGS = "period=custom&from=2025-01-01&to=2025-12-31"


def _database_of_this_worker(url: str | None) -> str | None:
    """With pytest-xdist, each worker empties and fills a PostgreSQL database of its own."""
    worker = os.environ.get("PYTEST_XDIST_WORKER")
    if not url or not worker:
        return url
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    from marketplace.config import normalise_database_url

    server_url = make_url(normalise_database_url(url))
    name = f"{server_url.database}_{worker}"
    engine = create_engine(server_url, isolation_level="AUTOCOMMIT")
    with engine.connect() as connection:
        if connection.scalar(text("SELECT 1 FROM pg_database WHERE datname = :name"),
                             {"name": name}) is None:
            connection.execute(text(f'CREATE DATABASE "{name}"'))
    engine.dispose()
    return server_url.set(database=name).render_as_string(hide_password=False)


# The suite runs on SQLite, and again on PostgreSQL when this is set.
TEST_DATABASE_URL = _database_of_this_worker(os.environ.get("TEST_DATABASE_URL"))


def on_postgres() -> bool:
    return bool(TEST_DATABASE_URL)


# A copy of the project's shared upload corpus (shared/testdata), so the suite runs anywhere.
SHARED_TESTDATA = Path(__file__).resolve().parent / "data"


class AuthActions:
    def __init__(self, client: FlaskClient) -> None:
        self.client = client

    def login(self, user_or_email: User | str, password: str = PASSWORD,
              remember: bool = False, **extra: str):
        email = user_or_email.email if isinstance(user_or_email, User) else user_or_email
        data = {"email": email, "password": password, **extra}
        if remember:
            data["remember"] = "y"
        return self.client.post("/auth/login", data=data)

    def logout(self):
        return self.client.post("/auth/logout")


def outbox(template: str | None = None, to: str | None = None) -> list[OutboxMessage]:
    """Mail written to the outbox, oldest first, optionally of one kind or to one address."""
    statement = select(OutboxMessage).order_by(OutboxMessage.id)
    if template:
        statement = statement.where(OutboxMessage.template == template)
    if to:
        statement = statement.where(OutboxMessage.recipient == to)
    return list(db.session.scalars(statement))


def link_in(message: OutboxMessage, path_fragment: str) -> str:
    """The path of the first link in the mail's text containing `path_fragment`."""
    for url in re.findall(r"https?://\S+", message.body_text):
        if path_fragment in url:
            return url.removeprefix("http://localhost")
    raise AssertionError(f"no link with {path_fragment!r} in:\n{message.body_text}")


def reload(instance):
    """The row as the database has it now (requests use their own session)."""
    db.session.refresh(instance)
    return instance


def csrf_token(page: str) -> str:
    """The CSRF token of the (first) form on a page."""
    field = re.search(r'<input[^>]*\bname="csrf_token"[^>]*>', page)
    value = re.search(r'\bvalue="([^"]+)"', field.group(0)) if field else None
    if value is None:
        raise AssertionError(f"no CSRF token on the page:\n{page[:2000]}")
    return value.group(1)


@contextmanager
def recorded_statements() -> Iterator[list[str]]:
    """The SQL statements sent to the database inside the block, in order."""
    statements: list[str] = []

    def record(_connection, _cursor, statement, *_args) -> None:
        statements.append(statement)

    event.listen(db.engine, "before_cursor_execute", record)
    try:
        yield statements
    finally:
        event.remove(db.engine, "before_cursor_execute", record)


def statements_of(client: FlaskClient, url: str, **request: object) -> list[str]:
    """The SQL statements a GET of `url` sends (the page must answer 200)."""
    with recorded_statements() as statements:
        assert client.get(url, **request).status_code == 200
    return statements
