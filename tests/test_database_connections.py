"""Pooled database connections: checked before use only after sitting idle, so a member's page
pays no extra round trip while the site is busy, and a connection cut while idle (the database
restarted) is replaced before a request meets it."""

from __future__ import annotations

import pytest
from helpers import TEST_DATABASE_URL, AuthActions, on_postgres
from sqlalchemy import create_engine, text

from marketplace.extensions import db

SEARCH_PAGE = "/listings/?q=bed"


def logged_in_client(app, make_user):
    client = app.test_client()
    with app.app_context():
        assert AuthActions(client).login(make_user()).status_code == 302
    return client


def count_pings(app, monkeypatch) -> list[int]:
    pings = [0]
    with app.app_context():
        dialect = db.engine.dialect
    real_ping = dialect.do_ping

    def counted(dbapi_connection):
        pings[0] += 1
        return real_ping(dbapi_connection)

    monkeypatch.setattr(dialect, "do_ping", counted)
    return pings


def test_a_connection_in_steady_use_is_not_pinged_before_each_page(
        make_app, make_user, monkeypatch):
    app = make_app(DATABASE_PING_AFTER_IDLE_SECONDS=3600)
    client = logged_in_client(app, make_user)
    pings = count_pings(app, monkeypatch)
    for _ in range(5):
        assert client.get(SEARCH_PAGE).status_code == 200
    assert pings[0] == 0


def test_a_connection_that_sat_idle_is_pinged_before_use(make_app, make_user, monkeypatch):
    app = make_app(DATABASE_PING_AFTER_IDLE_SECONDS=0)  # every pooled connection counts as idle
    client = logged_in_client(app, make_user)
    pings = count_pings(app, monkeypatch)
    for _ in range(3):
        assert client.get(SEARCH_PAGE).status_code == 200
    assert pings[0] >= 3


def cut_the_app_s_connections() -> int:
    """What a restarted PostgreSQL does to the pooled connections: ends their backends (every
    connection to this test worker's own database but the one asking)."""
    outside = create_engine(TEST_DATABASE_URL.replace("postgresql://", "postgresql+psycopg://"))
    try:
        with outside.begin() as connection:
            return connection.scalar(text(
                "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                "WHERE datname = current_database() AND pid <> pg_backend_pid()"))
    finally:
        outside.dispose()


def member_s_pages_around_a_cut(make_app, make_user, idle_seconds: float):
    """A member's client after a page served and every connection of the app cut."""
    app = make_app(DATABASE_PING_AFTER_IDLE_SECONDS=idle_seconds)
    client = logged_in_client(app, make_user)
    assert client.get(SEARCH_PAGE).status_code == 200
    assert cut_the_app_s_connections() >= 1
    return client


@pytest.mark.skipif(not on_postgres(), reason="cuts PostgreSQL connections")
def test_a_connection_cut_while_idle_is_replaced_before_the_member_s_page_uses_it(
        make_app, make_user):
    client = member_s_pages_around_a_cut(make_app, make_user, idle_seconds=0)
    page = client.get(SEARCH_PAGE)
    assert page.status_code == 200
    assert "cannot reach its database" not in page.get_data(as_text=True)


@pytest.mark.skipif(not on_postgres(), reason="cuts PostgreSQL connections")
def test_a_connection_cut_within_the_idle_time_costs_one_503_then_the_site_recovers(
        make_app, make_user):
    """The price of not pinging busy connections (docs/operations.md): a connection cut
    between two requests less than DATABASE_PING_AFTER_IDLE_SECONDS apart fails the second
    with the database page, and the pool is renewed for the next."""
    client = member_s_pages_around_a_cut(make_app, make_user, idle_seconds=3600)
    failed = client.get(SEARCH_PAGE)
    assert failed.status_code == 503
    assert "cannot reach its database" in failed.get_data(as_text=True)
    assert client.get(SEARCH_PAGE).status_code == 200


@pytest.mark.skipif(not on_postgres(), reason="psycopg's prepared statements")
def test_a_member_s_page_statements_are_planned_once_per_connection_not_per_request(
        make_app, make_user):
    """PostgreSQL plans the statements every member's page asks once per connection; psycopg
    would forget them at each request's rollback, so a transaction that only read commits.
    PostgreSQL plans a prepared statement for its values five times, then once for any values
    where that plan costs no more. At 100,000 listings it did not while the statuses compared
    with were parameters, and every request was planned afresh: extensions.prepared writes them
    into the statement's text (too few rows here for the costs to differ)."""
    app = make_app()
    client = logged_in_client(app, make_user)
    for _ in range(30):
        assert client.get(SEARCH_PAGE).status_code == 200
    with app.app_context():
        plans = db.session.execute(text(
            "SELECT statement, generic_plans, custom_plans FROM pg_prepared_statements")).all()
    user_statements = [plan for plan in plans if "FROM user_account" in plan.statement]
    # The pool hands its few connections out in turn: each served several of the pages.
    assert user_statements and max(plan.generic_plans for plan in user_statements) >= 2
    assert all(plan.custom_plans <= 5 for plan in plans), plans
    assert "claim.status = 'requested'" in user_statements[0].statement


@pytest.mark.skipif(not on_postgres(), reason="the read-only commit is PostgreSQL's")
def test_a_transaction_that_wrote_is_still_rolled_back(app, make_org):
    organisation = make_org()
    db.session.commit()
    organisation.name = "Renamed but never saved"
    db.session.flush()
    db.session.rollback()
    db.session.expire_all()
    assert db.session.get(type(organisation), organisation.id).name != \
        "Renamed but never saved"


@pytest.mark.skipif(not on_postgres(), reason="psycopg's prepared statements")
def test_behind_a_pooler_that_cannot_keep_them_nothing_is_prepared(make_app, make_user):
    app = make_app(DATABASE_PREPARED_STATEMENTS=False)
    client = logged_in_client(app, make_user)
    for _ in range(6):
        assert client.get(SEARCH_PAGE).status_code == 200
    with app.app_context():
        assert db.session.scalar(text("SELECT count(*) FROM pg_prepared_statements")) == 0


@pytest.mark.skipif(not on_postgres(), reason="psycopg's transactions")
def test_a_member_s_kept_search_page_is_one_round_trip_without_begin_or_commit(
        make_app, make_user, monkeypatch):
    """A request's first statement, its user (services/session_user.py), reads outside a
    transaction: a member's kept search page sends that one statement, no BEGIN and no COMMIT
    (connections._prepare_when_asked). A statement after it begins a transaction as before."""
    from psycopg import Connection

    app = make_app()
    client = logged_in_client(app, make_user)
    assert client.get(SEARCH_PAGE).status_code == 200  # the page is kept from here on
    commands: list[bytes] = []
    real_exec_command = Connection._exec_command

    def recorded(self, command, *args, **kwargs):
        commands.append(command if isinstance(command, bytes) else b"composed")
        return real_exec_command(self, command, *args, **kwargs)

    monkeypatch.setattr(Connection, "_exec_command", recorded)
    assert client.get(SEARCH_PAGE).status_code == 200
    assert commands == []
    assert client.get("/claims/").status_code == 200  # reads more than the user
    assert b"BEGIN" in commands and b"COMMIT" in commands
