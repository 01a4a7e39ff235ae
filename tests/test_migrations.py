"""The checked-in migrations build exactly the schema the models describe, on both databases."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask_migrate import downgrade, upgrade
from helpers import TEST_DATABASE_URL
from sqlalchemy import create_engine, inspect, text
from sqlalchemy.engine import make_url

from marketplace.config import normalise_database_url
from marketplace.extensions import db
from marketplace.migration_support import include_object, render_item


@pytest.fixture
def empty_database_url(tmp_path: Path) -> Iterator[str]:
    """A database with nothing in it: a new SQLite file, or a new PostgreSQL database."""
    if not TEST_DATABASE_URL:
        yield f"sqlite:///{tmp_path / 'migrated.sqlite'}"
        return
    server_url = make_url(normalise_database_url(TEST_DATABASE_URL))
    name = f"migrations_{uuid.uuid4().hex[:12]}"
    admin = create_engine(server_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield server_url.set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def test_upgrade_builds_the_schema_of_the_models(make_app, empty_database_url):
    app = make_app(SQLALCHEMY_DATABASE_URI=empty_database_url)
    with app.app_context():
        upgrade()
        with db.engine.connect() as connection:
            context = MigrationContext.configure(
                connection, opts={"compare_type": True, "render_item": render_item,
                                  "include_object": include_object})
            differences = compare_metadata(context, db.metadata)
        assert differences == []
        tables = set(inspect(db.engine).get_table_names())
        assert {"organisation", "site", "user_account", "outbox_message",
                "audit_event"} <= tables
        db.engine.dispose()


def test_downgrade_removes_every_table(make_app, empty_database_url):
    app = make_app(SQLALCHEMY_DATABASE_URI=empty_database_url)
    with app.app_context():
        upgrade()
        downgrade(revision="base")
        assert set(inspect(db.engine).get_table_names()) <= {"alembic_version"}
        db.engine.dispose()


def test_the_seeded_dutch_moderation_reason_is_rewritten_to_je(make_app, empty_database_url):
    app = make_app(SQLALCHEMY_DATABASE_URI=empty_database_url)
    formal = "De foto's laten niet duidelijk zien wat u aanbiedt."
    own = "Uw foto is onscherp."  # a platform admin's own words stay as they are
    select_texts = text("SELECT text_nl FROM moderation_reason ORDER BY position")
    with app.app_context():
        upgrade(revision="0013")
        with db.engine.begin() as connection:
            assert formal in connection.execute(select_texts).scalars().all()  # as seeded
            connection.execute(text(
                "INSERT INTO moderation_reason (text_nl, text_en, position, active) "
                "VALUES (:text_nl, 'x', 99, :active)"), {"text_nl": own, "active": True})
        upgrade()
        with db.engine.connect() as connection:
            texts = connection.execute(select_texts).scalars().all()
        assert formal not in texts and own in texts
        assert "De foto's laten niet duidelijk zien wat je aanbiedt." in texts
        db.engine.dispose()
