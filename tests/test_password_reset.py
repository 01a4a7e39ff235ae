"""Forgotten passwords: an emailed, single-use link; the same answer for unknown addresses."""

from __future__ import annotations

from helpers import PASSWORD, AuthActions, link_in, outbox, reload

from marketplace.models import UserStatus

NEW_PASSWORD = "zomer-strand-schelp-87"


def request_reset(client, email: str):
    return client.post("/auth/forgot-password", data={"email": email}, follow_redirects=True)


def test_a_reset_link_is_emailed_and_sets_a_new_password(client, auth, make_user):
    user = make_user()
    response = request_reset(client, user.email)
    assert "If that address has an account" in response.get_data(as_text=True)
    [mail] = outbox("reset_password", to=user.email)
    path = link_in(mail, "/auth/reset/")

    assert client.get(path).status_code == 200
    response = client.post(path, data={"password": NEW_PASSWORD})
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/auth/login")
    assert auth.login(user, PASSWORD).status_code == 401
    assert auth.login(user, NEW_PASSWORD).status_code == 302
    assert outbox("password_changed", to=user.email)


def test_an_unknown_address_gets_the_same_answer_and_no_email(client, make_user):
    make_user("known@example.org")
    known = request_reset(client, "known@example.org").get_data(as_text=True)
    unknown = request_reset(client, "unknown@example.org").get_data(as_text=True)
    assert "If that address has an account" in unknown
    assert known.count("If that address has an account") == \
        unknown.count("If that address has an account")
    assert outbox(to="unknown@example.org") == []


def test_a_deactivated_account_gets_no_reset_link(client, make_user):
    user = make_user(status=UserStatus.DEACTIVATED)
    request_reset(client, user.email)
    assert outbox("reset_password") == []


def test_a_reset_link_works_only_once(client, make_user):
    user = make_user()
    request_reset(client, user.email)
    path = link_in(outbox("reset_password")[0], "/auth/reset/")
    client.post(path, data={"password": NEW_PASSWORD})
    response = client.get(path)
    assert response.status_code == 400
    assert "used already" in response.get_data(as_text=True)
    assert client.post(path, data={"password": "another-strong-pass-99"}).status_code == 400


def test_a_tampered_reset_link_is_refused(client, make_user):
    user = make_user()
    request_reset(client, user.email)
    path = link_in(outbox("reset_password")[0], "/auth/reset/")
    response = client.get(path + "x")
    assert response.status_code == 400
    assert "not valid" in response.get_data(as_text=True)


def test_an_expired_reset_link_is_refused(make_app, make_user):
    app = make_app(RESET_TOKEN_MAX_AGE=-1)
    with app.app_context():
        client = app.test_client()
        user = make_user()
        request_reset(client, user.email)
        response = client.get(link_in(outbox("reset_password")[0], "/auth/reset/"))
        assert response.status_code == 400
        assert "expired" in response.get_data(as_text=True)


def test_a_weak_new_password_is_refused_and_the_link_stays_usable(client, make_user):
    user = make_user()
    request_reset(client, user.email)
    path = link_in(outbox("reset_password")[0], "/auth/reset/")
    response = client.post(path, data={"password": "12345678"})
    assert response.status_code == 422
    assert "too common" in response.get_data(as_text=True)
    assert client.post(path, data={"password": NEW_PASSWORD}).status_code == 302


def test_resetting_the_password_logs_out_every_other_session(app, make_user, login_as):
    user = make_user()
    elsewhere = login_as(user)
    client = app.test_client()
    request_reset(client, user.email)
    client.post(link_in(outbox("reset_password")[0], "/auth/reset/"),
                data={"password": NEW_PASSWORD})
    assert elsewhere.get("/account/").status_code == 302


def test_resetting_confirms_an_unconfirmed_address(client, make_user):
    user = make_user(confirmed=False)
    request_reset(client, user.email)
    client.post(link_in(outbox("reset_password")[0], "/auth/reset/"),
                data={"password": NEW_PASSWORD})
    assert reload(user).email_confirmed
    assert AuthActions(client).login(user, NEW_PASSWORD).status_code == 302


def test_known_and_unknown_addresses_are_answered_at_the_same_moment(make_app, make_user,
                                                                     monkeypatch):
    """Not a stopwatch: both answers wait for the same deadline, counted from the start of the
    request, and only after the email for a known address has been queued."""
    from marketplace import answer_time

    app = make_app(EMAIL_LOOKUP_FLOOR_MS=250)
    waits: list[tuple[float, int]] = []

    def wait_until(deadline: float) -> None:  # what was waited for, and the mail queued by then
        waits.append((round(deadline - answer_time.request_started(), 6), len(outbox())))

    monkeypatch.setattr(answer_time, "wait_until", wait_until)
    with app.app_context():
        make_user("known@example.org")
        make_user("waiting@example.org", confirmed=False)
    client = app.test_client()

    for path, known in [("/auth/forgot-password", "known@example.org"),
                        ("/auth/confirm", "waiting@example.org")]:
        waits.clear()
        with app.app_context():
            queued_before = len(outbox())
        assert client.post(path, data={"email": known}).status_code == 302
        assert client.post(path, data={"email": "nobody@example.org"}).status_code == 302
        assert waits == [(0.25, queued_before + 1), (0.25, queued_before + 1)], path
