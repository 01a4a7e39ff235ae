"""The application as a whole: health, headers, cookies, error pages."""

from __future__ import annotations

import pytest
from flask import Flask


def test_healthz_answers_ok_with_the_database_reachable(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.get_json() == {"status": "ok", "database": "ok", "storage": "ok"}


def test_healthz_answers_503_when_the_database_is_unreachable(make_app, tmp_path):
    app = make_app(SQLALCHEMY_DATABASE_URI="postgresql+psycopg://nobody@127.0.0.1:1/none")
    response = app.test_client().get("/healthz")
    assert response.status_code == 503
    assert response.get_json()["database"] == "unreachable"


def test_every_response_carries_the_security_headers(client):
    for path in ["/", "/auth/login", "/does-not-exist", "/static/css/app.css"]:
        with client.get(path) as response:
            headers = response.headers
        policy = headers["Content-Security-Policy"]
        assert "script-src 'self'" in policy
        assert "'unsafe-inline'" not in policy
        assert "object-src 'none'" in policy
        assert "base-uri 'none'" in policy
        assert "frame-ancestors 'none'" in policy
        assert headers["X-Content-Type-Options"] == "nosniff"
        assert headers["Referrer-Policy"] == "strict-origin-when-cross-origin"
        assert headers["Strict-Transport-Security"].startswith("max-age=")


def test_hsts_is_left_out_in_debug_mode(make_app):
    app = make_app(DEBUG=True)
    assert "Strict-Transport-Security" not in app.test_client().get("/").headers


def test_pages_have_no_inline_scripts_or_styles(client):
    for path in ["/", "/auth/login", "/auth/signup", "/auth/forgot-password"]:
        html = client.get(path).get_data(as_text=True)
        assert "<script>" not in html and "<script >" not in html
        assert "<style" not in html and "style=" not in html


def test_session_cookie_is_httponly_lax_and_secure_outside_debug(make_app, make_user):
    from helpers import PASSWORD

    app = make_app(SESSION_COOKIE_SECURE=True)  # the production default, see config
    with app.app_context():
        email = make_user().email
    client = app.test_client()
    response = client.post("/auth/login", data={"email": email, "password": PASSWORD})
    cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie
    assert "SameSite=Lax" in cookie
    assert "Secure" in cookie


def test_cookies_are_secure_by_default_outside_debug(monkeypatch, tmp_path):
    from marketplace.config import settings_from_environment

    monkeypatch.delenv("FLASK_DEBUG", raising=False)
    monkeypatch.delenv("SESSION_COOKIE_SECURE", raising=False)
    settings = settings_from_environment(tmp_path)
    assert settings["SESSION_COOKIE_SECURE"] is True
    assert settings["REMEMBER_COOKIE_SECURE"] is True
    assert settings["MAX_CONTENT_LENGTH"] > 0


def test_unknown_page_gets_a_friendly_404(client):
    response = client.get("/no/such/page")
    assert response.status_code == 404
    assert "Page not found" in response.get_data(as_text=True)
    assert 'href="/"' in response.get_data(as_text=True)


def test_api_clients_get_json_errors(client):
    response = client.get("/no/such/page", headers={"Accept": "application/json"})
    assert response.status_code == 404
    assert response.get_json()["status"] == 404


def test_unexpected_errors_get_a_friendly_500_page(make_app):
    app: Flask = make_app()

    @app.route("/boom")
    def boom():
        raise RuntimeError("kaboom")

    response = app.test_client().get("/boom")
    assert response.status_code == 500
    body = response.get_data(as_text=True)
    assert "Something went wrong on our side" in body
    assert "kaboom" not in body


def test_too_large_requests_are_refused_with_413(make_app):
    app = make_app(MAX_CONTENT_LENGTH=1024)
    response = app.test_client().post("/auth/login",
                                      data={"email": "a@b.nl", "password": "x" * 5000})
    assert response.status_code == 413
    assert "Too large" in response.get_data(as_text=True)


@pytest.mark.parametrize("path", ["/account/", "/account/password", "/organisations/1/members",
                                  "/organisations/1/sites", "/admin/", "/admin/organisations"])
def test_pages_that_need_an_account_send_anonymous_visitors_to_login(client, path):
    response = client.get(path)
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/auth/login?next=")


def test_static_files_are_served_from_the_static_folder(client):
    with client.get("/static/css/app.css") as response:
        assert response.status_code == 200
        assert response.mimetype == "text/css"


def test_the_listing_builder_makes_a_published_listing(app, make_listing):
    listing = make_listing("Rolstoel")
    assert listing.id and listing.site.organisation_id == listing.organisation_id
    assert listing.category.slug == "furniture"


def test_an_id_beyond_what_a_database_holds_is_simply_not_found(client):
    assert client.get("/listings/99999999999999999999").status_code == 404
    assert client.get("/wanted/2147483648").status_code == 404
