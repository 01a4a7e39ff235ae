"""Fixtures: a fresh application and database per test, builders, and a logged-in client.

The suite runs on SQLite (a file per test), and on PostgreSQL when TEST_DATABASE_URL is set
(schema made once, every table emptied before each test).
"""

from __future__ import annotations

import contextvars
import os
from collections.abc import Callable, Iterator
from datetime import date, timedelta
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from helpers import PASSWORD, TEST_DATABASE_URL, AuthActions, on_postgres
from hypothesis import settings as hypothesis_settings
from sqlalchemy import select, text

from marketplace import create_app
from marketplace.config import normalise_database_url
from marketplace.extensions import db, limiter
from marketplace.models import (
    Category,
    Condition,
    Language,
    Listing,
    ListingStatus,
    Organisation,
    OrganisationKind,
    OrganisationStatus,
    Province,
    Role,
    Site,
    Unit,
    User,
    UserStatus,
)
from marketplace.models.base import utcnow
from marketplace.services.defaults import ensure_defaults
from marketplace.services.passwords import hash_password

_postgres_schema_ready = False

# The fuzz tests (test_fuzz_*.py). On CI each test draws the same examples every run (derived
# from the test itself), so a red build means a regression, never an unlucky new draw; locally
# the draws are random, to keep finding new bugs, and a failing example is saved in .hypothesis/
# and tried first next time. HYPOTHESIS_PROFILE=ci reproduces a CI run.
hypothesis_settings.register_profile("ci", derandomize=True, database=None, print_blob=True)
hypothesis_settings.register_profile("dev", print_blob=True)
hypothesis_settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE")
                                 or ("ci" if os.environ.get("CI") else "dev"))


def test_config(tmp_path: Path, **overrides: object) -> dict[str, object]:
    url = normalise_database_url(TEST_DATABASE_URL) if TEST_DATABASE_URL \
        else f"sqlite:///{tmp_path / 'test.sqlite'}"
    config: dict[str, object] = {
        "TESTING": True,
        "SECRET_KEY": "test-secret-key",
        "SQLALCHEMY_DATABASE_URI": url,
        "WTF_CSRF_ENABLED": False,
        "RATELIMIT_ENABLED": False,
        "RATELIMIT_STORAGE_URI": "memory://",
        "MAIL_SERVER": None,
        "MAIL_SUPPRESS_SEND": False,
        "MAIL_DELIVER_AFTER_REQUEST": False,
        "MAIL_FOLDER": str(tmp_path / "mail"),
        "UPLOAD_FOLDER": str(tmp_path / "uploads"),
        "BASE_URL": "http://localhost",
        # Fast hashing in tests; production uses scrypt (see test_passwords).
        "PASSWORD_HASH_METHOD": "pbkdf2:sha256:1000",
        "SESSION_COOKIE_SECURE": False,
        "REMEMBER_COOKIE_SECURE": False,
    }
    config.update(overrides)
    return config


def _reset_database() -> None:
    _empty_schema()
    ensure_defaults()  # the migrations seed them in real databases


def _empty_schema() -> None:
    global _postgres_schema_ready
    if not on_postgres():
        db.create_all()
        return
    if not _postgres_schema_ready:
        db.drop_all()
        db.session.execute(text("DROP TABLE IF EXISTS alembic_version"))
        db.session.commit()
        db.create_all()
        _postgres_schema_ready = True
        return
    tables = ", ".join(f'"{table.name}"' for table in db.metadata.sorted_tables)
    db.session.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
    db.session.commit()


class EnglishClient(FlaskClient):
    """A browser asking for English (Dutch is the default), one request context each.

    Each request runs in an empty context, so it gets its own application context, `g` and
    database session as in production, instead of sharing the test's (where Flask-Login's
    cached user in `g` would hide a session that ought to have ended).
    """

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)
        self.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"

    def open(self, *args: object, **kwargs: object):
        return contextvars.Context().run(super().open, *args, **kwargs)


@pytest.fixture
def make_app(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Callable[..., Flask]]:
    """Build an application with extra settings; its database is fresh."""
    monkeypatch.setenv("INSTANCE_PATH", str(tmp_path / "instance"))
    for name in ("DATABASE_URL", "MAIL_SERVER", "SECRET_KEY", "FLASK_DEBUG", "BASE_URL"):
        monkeypatch.delenv(name, raising=False)
    built: list[Flask] = []

    def build(**overrides: object) -> Flask:
        application = create_app(test_config(tmp_path, **overrides))
        application.test_client_class = EnglishClient
        with application.app_context():
            if not built and "SQLALCHEMY_DATABASE_URI" not in overrides:
                _reset_database()
        built.append(application)
        return application

    yield build
    for application in built:
        with application.app_context():
            db.session.remove()
            db.engine.dispose()
            if application.config["RATELIMIT_ENABLED"]:
                limiter.reset()  # the limiter is one object: counts must not leak into other tests


@pytest.fixture
def app(make_app: Callable[..., Flask]) -> Iterator[Flask]:
    application = make_app()
    with application.app_context():
        yield application


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


@pytest.fixture
def runner(app: Flask):
    return app.test_cli_runner()


@pytest.fixture
def make_org() -> Callable[..., Organisation]:
    counter = iter(range(1, 10_000))

    def build(name: str | None = None, status: OrganisationStatus = OrganisationStatus.ACTIVE,
              kind: OrganisationKind = OrganisationKind.HOSPITAL) -> Organisation:
        number = next(counter)
        organisation = Organisation(name=name or f"Zorginstelling {number}", kind=kind,
                                    status=status)
        organisation.sites.append(Site(name="Hoofdlocatie", street=f"Zorgweg {number}",
                                       postcode="3511 AB", city="Utrecht",
                                       province=Province.UTRECHT))
        db.session.add(organisation)
        db.session.commit()
        return organisation

    return build


@pytest.fixture
def make_listing(make_org: Callable[..., Organisation]) -> Callable[..., Listing]:
    """A listing straight in the database (published by default), for tests of what follows."""
    counter = iter(range(1, 100_000))

    def build(title: str | None = None, *, organisation: Organisation | None = None,
              status: ListingStatus = ListingStatus.PUBLISHED, category: str = "furniture",
              **fields: object) -> Listing:
        number = next(counter)
        organisation = organisation or make_org()
        values: dict[str, object] = {
            "title": title or f"Bureaustoel {number}",
            "description": "Verstelbare bureaustoel, goed onderhouden.",
            "condition": Condition.GOOD,
            "quantity": 4,
            "unit": Unit.PIECE,
            "available_until": date.today() + timedelta(days=30),
        }
        values.update(fields)
        values.setdefault("quantity_available", values["quantity"])
        listing = Listing(
            organisation=organisation,
            site=organisation.sites[0],
            category=db.session.scalar(select(Category).where(Category.slug == category)),
            status=status,
            published_at=utcnow() if status is ListingStatus.PUBLISHED else None,
            **values,
        )
        db.session.add(listing)
        db.session.commit()
        return listing

    return build


@pytest.fixture
def make_user(make_org: Callable[..., Organisation]) -> Callable[..., User]:
    counter = iter(range(1, 10_000))

    def build(email: str | None = None, *, organisation: Organisation | None = None,
              role: Role = Role.MEMBER, status: UserStatus = UserStatus.ACTIVE,
              confirmed: bool = True, language: Language = Language.EN,
              name: str | None = None, password: str = PASSWORD) -> User:
        number = next(counter)
        if organisation is None and role is not Role.PLATFORM_ADMIN:
            organisation = make_org()
        user = User(
            email=email or f"user{number}@example.org",
            name=name or f"Test User {number}",
            password_hash=hash_password(password),
            organisation=organisation,
            role=role,
            status=status,
            language=language,
            email_confirmed_at=utcnow() if confirmed else None,
        )
        db.session.add(user)
        db.session.commit()
        return user

    return build


@pytest.fixture
def auth(client: FlaskClient) -> AuthActions:
    return AuthActions(client)


@pytest.fixture
def login_as(app: Flask) -> Callable[[User], FlaskClient]:
    """A new client, logged in as `user` (several may be logged in at once)."""

    def build(user: User) -> FlaskClient:
        new_client = app.test_client()
        response = AuthActions(new_client).login(user)
        assert response.status_code == 302, response.get_data(as_text=True)
        return new_client

    return build
