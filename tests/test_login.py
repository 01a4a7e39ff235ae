"""Logging in and out, sessions that can be ended, safe redirects, CSRF and rate limits."""

from __future__ import annotations

import os
import uuid

import pytest
from helpers import PASSWORD, AuthActions, csrf_token, reload

from marketplace.models import UserStatus


def test_a_member_logs_in_and_lands_on_the_home_page(client, auth, make_user):
    user = make_user(name="Noor Peters")
    response = auth.login(user)
    assert response.status_code == 302
    assert response.headers["Location"] == "/"
    assert "Welcome, Noor Peters." in client.get("/").get_data(as_text=True)
    assert reload(user).last_login_at is not None


def test_the_email_address_is_matched_ignoring_case_and_spaces(auth, make_user):
    user = make_user("noor@example.org")
    assert auth.login("  NOOR@Example.org ").status_code == 302
    assert user.id


@pytest.mark.parametrize("email, password", [
    ("noor@example.org", "wrong-password-here"),
    ("nobody@example.org", PASSWORD),
])
def test_a_wrong_password_or_unknown_address_gets_the_same_message(auth, make_user, email,
                                                                   password):
    make_user("noor@example.org")
    response = auth.login(email, password)
    body = response.get_data(as_text=True)
    assert response.status_code == 401
    assert "The email address or password is incorrect." in body
    assert f'value="{email}"' in body  # what was typed stays, except the password
    assert password not in body


def test_a_deactivated_account_cannot_log_in(auth, make_user):
    user = make_user(status=UserStatus.DEACTIVATED)
    response = auth.login(user)
    assert response.status_code == 403
    assert "deactivated" in response.get_data(as_text=True)


def test_login_follows_next_within_the_site(auth, make_user):
    response = auth.login(make_user(), next="/account/password")
    assert response.headers["Location"] == "/account/password"


@pytest.mark.parametrize("target", [
    "https://evil.example/steal",
    "//evil.example/steal",
    "/\\evil.example",
    "\\\\evil.example",
    "javascript:alert(1)",
    "http:/evil.example",
    "/%0d%0aLocation: https://evil.example",
    " //evil.example",
])
def test_login_never_redirects_off_site(auth, make_user, target):
    response = auth.login(make_user(), next=target)
    assert response.status_code == 302
    location = response.headers["Location"]
    assert location.startswith("/") and not location.startswith("//")
    assert "evil.example" not in location or location.startswith("/%")


def test_the_login_form_carries_next_from_the_query(client):
    body = client.get("/auth/login?next=/account/").get_data(as_text=True)
    assert 'value="/account/"' in body


def test_logging_in_starts_a_fresh_session(client, auth, make_user):
    with client.session_transaction() as session:
        session["planted"] = "by an attacker"
    auth.login(make_user())
    with client.session_transaction() as session:
        assert "planted" not in session
        assert "_user_id" in session


def test_logging_out_ends_the_sessions_on_other_devices_too(make_user, login_as):
    user = make_user()
    laptop, phone = login_as(user), login_as(user)
    assert phone.get("/account/").status_code == 200

    response = laptop.post("/auth/logout")
    assert response.status_code == 302
    assert laptop.get("/account/").status_code == 302
    assert phone.get("/account/").headers["Location"].startswith("/auth/login")


def test_logout_needs_a_post(make_user, login_as):
    client = login_as(make_user())
    assert client.get("/auth/logout").status_code == 405
    assert client.get("/account/").status_code == 200


def test_remember_me_keeps_a_login_after_the_session_cookie_is_gone(client, auth, make_user):
    user = make_user()
    auth.login(user, remember=True)
    assert client.get_cookie("remember_token") is not None
    client.delete_cookie("session")
    assert client.get("/account/").status_code == 200


def test_a_remember_me_cookie_stops_working_after_logging_out_elsewhere(app, make_user):
    user = make_user()
    remembered = app.test_client()
    AuthActions(remembered).login(user, remember=True)
    other = app.test_client()
    AuthActions(other).login(user)
    other.post("/auth/logout")

    remembered.delete_cookie("session")
    assert remembered.get("/account/").status_code == 302


def test_deactivation_ends_the_sessions_of_that_user(make_user, login_as):
    from marketplace.extensions import db

    user = make_user()
    client = login_as(user)
    user.status = UserStatus.DEACTIVATED
    user.session_version += 1
    db.session.commit()
    assert client.get("/account/").status_code == 302


class TestCsrf:
    @pytest.fixture
    def app(self, make_app):
        application = make_app(WTF_CSRF_ENABLED=True)
        with application.app_context():
            yield application

    def test_a_form_without_its_token_is_refused(self, client, make_user):
        user = make_user()
        response = client.post("/auth/login", data={"email": user.email, "password": PASSWORD})
        assert response.status_code == 400
        assert "This form had expired" in response.get_data(as_text=True)

    def test_a_form_with_its_token_is_accepted(self, client, make_user):
        user = make_user()
        page = client.get("/auth/login").get_data(as_text=True)
        token = csrf_token(page)
        response = client.post("/auth/login", data={"email": user.email, "password": PASSWORD,
                                                    "csrf_token": token})
        assert response.status_code == 302

    def test_logout_without_a_token_does_not_log_out(self, client, make_user):
        user = make_user()
        page = client.get("/auth/login").get_data(as_text=True)
        token = csrf_token(page)
        client.post("/auth/login", data={"email": user.email, "password": PASSWORD,
                                         "csrf_token": token})
        assert client.post("/auth/logout").status_code == 400
        assert client.get("/account/").status_code == 200


def _rate_limited_app(make_app, storage: str, **settings: object):
    return make_app(RATELIMIT_ENABLED=True, RATELIMIT_STORAGE_URI=storage,
                    LOGIN_RATE_LIMIT="3 per minute", SIGNUP_RATE_LIMIT="2 per minute",
                    RESET_RATE_LIMIT="2 per minute", **settings)


@pytest.mark.parametrize("path, limit", [
    ("/auth/login", 3), ("/auth/signup", 2), ("/auth/forgot-password", 2),
])
def test_login_signup_and_reset_are_rate_limited(make_app, path, limit):
    app = _rate_limited_app(make_app, "memory://")
    client = app.test_client()
    data = {"email": "someone@example.org", "password": "guess-number-1"}
    statuses = [client.post(path, data=data).status_code for _ in range(limit + 1)]
    assert 429 not in statuses[:limit]
    assert statuses[limit] == 429
    assert "Try again in" in client.post(path, data=data).get_data(as_text=True)
    # Reading the page stays possible.
    assert client.get(path).status_code == 200


REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/15")


def _redis_available() -> bool:
    try:
        import redis

        redis.Redis.from_url(REDIS_URL, socket_connect_timeout=1).ping()
    except Exception:
        return False
    return True


@pytest.mark.skipif(not _redis_available() and not os.environ.get("CI"),
                    reason="no Redis on 127.0.0.1:6379 (CI always has one)")
def test_rate_limits_are_counted_in_redis_when_configured(make_app):
    import redis

    # Keys of its own, which the limiter's reset after the test deletes: never flush, other
    # tests (tests/test_shared_rate_limits.py) may be counting in this Redis at the same time.
    prefix = f"test-login-{uuid.uuid4().hex}"
    app = _rate_limited_app(make_app, REDIS_URL,
                            RATELIMIT_STORAGE_OPTIONS={"key_prefix": prefix})
    client = app.test_client()
    data = {"email": "someone@example.org", "password": "guess-number-1"}
    statuses = [client.post("/auth/login", data=data).status_code for _ in range(4)]
    assert statuses[-1] == 429
    assert redis.Redis.from_url(REDIS_URL).keys(f"{prefix}:*")
