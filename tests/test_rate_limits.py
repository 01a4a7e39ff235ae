"""Rate limits that stop guessing without locking out: failed logins per address and per
account, failed password re-entries per member, refusals that say when to try again, and a
site that keeps working when the limits' Redis does not answer."""

from __future__ import annotations

import logging
import os
import re
import uuid

import pytest
from flask import Flask
from helpers import PASSWORD, AuthActions
from servers import TEST_REDIS_URL, forget_redis_keys, free_port, redis_available

from marketplace import page_cache
from marketplace.extensions import limiter

NEW_PASSWORD = "zomer-strand-schelp-87"
needs_redis = pytest.mark.skipif(not redis_available() and not os.environ.get("CI"),
                                 reason="no Redis at TEST_REDIS_URL (CI always has one)")


@pytest.fixture
def limited(make_app):
    """An app with its rate limits on (small ones), in an application context."""

    def build(**settings: object):
        settings = {"RATELIMIT_ENABLED": True, "LOGIN_RATE_LIMIT": "3 per hour",
                    "LOGIN_ACCOUNT_RATE_LIMIT": "3 per hour",
                    "PASSWORD_CHECK_RATE_LIMIT": "2 per hour", **settings}
        application = make_app(**settings)
        context = application.app_context()
        context.push()
        contexts.append(context)
        return application

    contexts: list = []
    yield build
    for context in reversed(contexts):
        context.pop()


def client_at(app, address: str, language: str = "en"):
    client = app.test_client()
    client.environ_base["REMOTE_ADDR"] = address
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = language
    return client


def login(client, email: str, password: str) -> int:
    return AuthActions(client).login(email, password).status_code


# --- logging in: failed attempts count, per address and per account --------------------------

def test_correct_logins_from_one_shared_address_never_use_up_the_limit(limited, make_user):
    app = limited()
    staff = [make_user() for _ in range(5)]
    hospital = client_at(app, "192.0.2.10")

    statuses = [login(hospital, member.email, PASSWORD) for member in staff for _ in range(2)]

    assert statuses == [302] * 10  # ten logins from one address, the limit being 3 failures


def test_failed_logins_from_one_address_are_stopped_whatever_the_account(limited, make_user):
    app = limited(LOGIN_ACCOUNT_RATE_LIMIT="100 per hour")
    members = [make_user() for _ in range(4)]
    guesser = client_at(app, "192.0.2.20")
    assert login(guesser, members[3].email, PASSWORD) == 302  # not counted

    statuses = [login(guesser, member.email, "not-the-password") for member in members[:3]]
    assert statuses == [401, 401, 401]
    # Used up: every login from this address is refused for the rest of the window, the right
    # password too (else the answer would tell a guesser which guess was right).
    assert login(guesser, members[3].email, "not-the-password") == 429
    assert login(guesser, members[3].email, PASSWORD) == 429
    # Other addresses are not concerned.
    assert login(client_at(app, "192.0.2.21"), members[3].email, PASSWORD) == 302


def test_failed_logins_on_one_account_are_stopped_from_any_address(limited, make_user):
    app = limited(LOGIN_RATE_LIMIT="100 per hour")
    target, colleague = make_user(), make_user()

    statuses = [login(client_at(app, f"198.51.100.{n}"), target.email.upper(), f"guess-{n}")
                for n in range(1, 4)]
    assert statuses == [401, 401, 401]
    assert login(client_at(app, "198.51.100.9"), target.email, "guess-9") == 429
    assert login(client_at(app, "198.51.100.9"), target.email, PASSWORD) == 429
    # Counted per account: another account from the same addresses logs in.
    assert login(client_at(app, "198.51.100.1"), colleague.email, PASSWORD) == 302


def test_a_refusal_says_in_dutch_when_to_try_again_with_retry_after(limited, make_user):
    app = limited(LOGIN_RATE_LIMIT="1 per hour")
    member = make_user()
    visitor = client_at(app, "192.0.2.30", language="nl")
    assert login(visitor, member.email, "not-the-password") == 401

    response = AuthActions(visitor).login(member.email, "not-the-password")

    assert response.status_code == 429
    seconds = int(response.headers["Retry-After"])
    assert 3300 < seconds <= 3601  # the hour's window, not a fixed minute
    minutes = re.search(r"Probeer het over (\d+) minuten opnieuw", response.get_data(as_text=True))
    assert minutes, response.get_data(as_text=True)
    # The same wait in words, rounded up to whole minutes (Retry-After may be a second more).
    assert (int(minutes[1]) - 1) * 60 < seconds <= int(minutes[1]) * 60 + 1
    english = AuthActions(client_at(app, "192.0.2.30")).login(member.email, PASSWORD)
    assert english.status_code == 429
    page = english.get_data(as_text=True)
    assert "Try again in" in page
    assert f'value="{member.email}"' in page and PASSWORD not in page  # the form, as typed


# --- sign-up: a refused form keeps what was typed -------------------------------------------

def test_a_refused_sign_up_shows_the_form_again_with_what_was_typed(limited, make_org):
    app = limited(SIGNUP_RATE_LIMIT="1 per hour")
    organisation = make_org()
    visitor = client_at(app, "192.0.2.40", language="nl")

    def sign_up(number: int):
        return visitor.post("/auth/signup", data={
            "name": f"Nieuw Lid {number}", "email": f"nieuw{number}@example.org",
            "password": f"{PASSWORD}-{number}", "language": "nl",
            "organisation_choice": "existing", "organisation": str(organisation.id)})

    assert sign_up(1).status_code == 302
    refused = sign_up(2)

    assert refused.status_code == 429
    assert refused.headers["Retry-After"]
    page = refused.get_data(as_text=True)
    assert 'value="Nieuw Lid 2"' in page and 'value="nieuw2@example.org"' in page
    assert f"{PASSWORD}-2" not in page  # never the password
    assert re.search(r"Probeer het over \d+ minuten opnieuw", page)
    assert '<form method="post"' in page


# --- re-entering the current password: failures per member ----------------------------------

def test_wrong_current_passwords_are_limited_per_member_on_both_pages(limited, make_user):
    app = limited()
    member, colleague = make_user(), make_user()

    def logged_in(user):
        client = client_at(app, "192.0.2.70")
        assert login(client, user.email, PASSWORD) == 302
        return client

    thief = logged_in(member)

    def change(client, current: str, new: str = NEW_PASSWORD) -> int:
        return client.post("/account/password", data={
            "current_password": current, "new_password": new,
            "confirm_password": new}).status_code

    # A refusal for the new password (the current one being right) is no guess.
    assert change(thief, PASSWORD, new="short") == 422
    assert change(thief, "guess-1") == 422
    assert thief.post("/account/delete", data={"password": "guess-2",
                                               "understood": "y"}).status_code == 422
    # Two failed re-entries, on either page: then refused, the right password too.
    assert change(thief, PASSWORD) == 429
    assert thief.post("/account/delete", data={"password": PASSWORD,
                                               "understood": "y"}).status_code == 429
    # Per member: a colleague behind the same address is not concerned.
    assert change(logged_in(colleague), PASSWORD) == 302


# --- Redis unreachable: the site keeps working ----------------------------------------------

@pytest.fixture
def forget_dead_storage():
    """flask-limiter's one Limiter remembers that its storage failed, and the next app would
    start on it: this test's unreachable Redis is no other test's."""
    yield
    limiter._storage_dead = False
    counting_in_memory = Flask(__name__)
    counting_in_memory.config["RATELIMIT_STORAGE_URI"] = "memory://"
    limiter.init_app(counting_in_memory)  # so that the reset after the test can work


def test_with_redis_unreachable_the_forms_work_and_limits_count_per_process(
        limited, make_user, make_listing, caplog, monkeypatch, forget_dead_storage):
    monkeypatch.setattr(page_cache, "REDIS_PAUSE", 0)  # the kept pages try Redis every time
    closed = f"redis://127.0.0.1:{free_port()}/0"  # a port nothing listens on
    app = limited(RATELIMIT_STORAGE_URI=closed, LOGIN_RATE_LIMIT="2 per hour")
    member = make_user()
    make_listing("Rolstoel")
    visitor = client_at(app, "192.0.2.50")

    with caplog.at_level(logging.WARNING):
        assert visitor.get("/").status_code == 200
        assert visitor.get("/listings/?q=rolstoel").status_code == 200
        assert login(visitor, member.email, PASSWORD) == 302
        visitor = client_at(app, "192.0.2.50")
        assert visitor.post("/auth/forgot-password",
                            data={"email": member.email}).status_code == 302
        assert visitor.post("/auth/confirm", data={"email": member.email}).status_code == 302
        assert visitor.post("/auth/signup", data={
            "name": "Nieuw Lid", "email": "nieuw@example.org", "password": PASSWORD,
            "language": "en", "organisation_choice": "existing",
            "organisation": str(member.organisation_id)}).status_code == 302
        # The limits still hold, counted in this process.
        statuses = [login(visitor, member.email, "not-the-password") for _ in range(3)]
        assert visitor.get("/").status_code == 200
        health = visitor.get("/healthz")

    assert statuses == [401, 401, 429]
    warnings = [record for record in caplog.records if record.levelno >= logging.WARNING]
    # One warning each for the limits, the kept pages and the health check: not one a request.
    assert sorted(record.name for record in warnings) == [
        "flask-limiter", "marketplace.health", "marketplace.page_cache"], [
        (record.name, record.getMessage()) for record in warnings]
    assert health.status_code == 200  # the site works: degraded, not down
    assert health.get_json() == {"status": "degraded", "database": "ok", "storage": "ok",
                                 "redis": "unreachable"}


@needs_redis
def test_with_redis_answering_healthz_says_so_and_limits_count_there(limited, make_user):
    import redis

    prefix = f"test-ratelimits-{uuid.uuid4().hex}"
    app = limited(RATELIMIT_STORAGE_URI=TEST_REDIS_URL, RATELIMIT_KEY_PREFIX=prefix,
                  SEARCH_CACHE_KEY_PREFIX=prefix)
    member = make_user()
    visitor = client_at(app, "192.0.2.60")
    try:
        assert login(visitor, member.email, "not-the-password") == 401
        with redis.Redis.from_url(TEST_REDIS_URL) as client:
            assert client.keys(f"*{prefix}*")
        health = visitor.get("/healthz")
        assert health.status_code == 200
        assert health.get_json() == {"status": "ok", "database": "ok", "storage": "ok",
                                     "redis": "ok"}
    finally:
        forget_redis_keys(prefix)
