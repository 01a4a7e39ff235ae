"""Operations: request ids and structured logs, the health check, the systemd units and cron."""

from __future__ import annotations

import configparser
import io
import json
import logging
import os
import re
import shlex
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from flask import Flask
from gunicorn.config import Config as GunicornConfig

from marketplace import logs
from marketplace.extensions import db
from marketplace.models import OutboxMessage

PROJECT_ROOT = Path(__file__).resolve().parent.parent
SYSTEMD = PROJECT_ROOT / "docs" / "systemd"
GENERATED_ID = re.compile(r"[0-9a-f]{32}")


# --- request ids -------------------------------------------------------------------------------

def test_every_response_carries_a_new_request_id(client):
    first = client.get("/").headers["X-Request-ID"]
    second = client.get("/no/such/page").headers["X-Request-ID"]
    assert GENERATED_ID.fullmatch(first) and GENERATED_ID.fullmatch(second)
    assert first != second


def test_the_request_id_of_the_proxy_is_kept(client):
    response = client.get("/", headers={"X-Request-ID": "nginx-7f3a.9:abc"})
    assert response.headers["X-Request-ID"] == "nginx-7f3a.9:abc"


@pytest.mark.parametrize("hostile", [
    "abc\nINFO forged log line", "abc\r\nSet-Cookie: session=stolen", "x" * 500, "",
    "<script>alert(1)</script>", "id with spaces", "ünïcode",
])
def test_a_hostile_request_id_is_replaced_by_a_new_one(client, hostile):
    response = client.get("/", environ_overrides={"HTTP_X_REQUEST_ID": hostile})
    assert GENERATED_ID.fullmatch(response.headers["X-Request-ID"])
    assert "Set-Cookie" not in response.headers or "stolen" not in response.headers["Set-Cookie"]


# --- log lines ---------------------------------------------------------------------------------

@pytest.fixture
def log_output() -> Iterator[Callable[[str], io.StringIO]]:
    """Lines written by the handler the app installs on the root logger, in a LOG_FORMAT.

    Under pytest the root logger already has handlers, so the app leaves it be (as it would a
    host's own logging configuration); the test adds ours, made the same way, and removes it.
    """
    root = logging.getLogger()
    added: list[logging.Handler] = []

    def attach(log_format: str) -> io.StringIO:
        stream = io.StringIO()
        handler = logs.make_handler(log_format, stream)
        root.addHandler(handler)
        added.append(handler)
        return stream

    yield attach
    for handler in added:
        root.removeHandler(handler)


def json_lines(stream: io.StringIO) -> list[dict[str, object]]:
    return [json.loads(line) for line in stream.getvalue().splitlines()]


def test_json_log_lines_carry_the_request_id_of_a_log_call_in_a_view(make_app, log_output):
    app = make_app(LOG_FORMAT="json")

    @app.route("/test-only/logs")
    def logs_something():
        logging.getLogger("marketplace.test").warning("Stock counted: %s boxes", 12)
        return "counted"

    output = log_output(app.config["LOG_FORMAT"])
    response = app.test_client().get("/test-only/logs?q=1",
                                     headers={"X-Request-ID": "lb-4711"})
    assert response.headers["X-Request-ID"] == "lb-4711"
    entries = json_lines(output)
    [view_line] = [entry for entry in entries if entry["logger"] == "marketplace.test"]
    assert view_line["message"] == "Stock counted: 12 boxes"
    assert view_line["level"] == "WARNING"
    assert view_line["request_id"] == "lb-4711"
    assert view_line["method"] == "GET" and view_line["path"] == "/test-only/logs"
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}\+00:00", view_line["time"])
    [access] = [entry for entry in entries if entry["logger"] == "marketplace.access"]
    assert access["request_id"] == "lb-4711"
    assert access["status"] == 200 and access["method"] == "GET"
    assert access["path"] == "/test-only/logs"  # without the query string
    assert isinstance(access["duration_ms"], float) and access["duration_ms"] >= 0
    assert access["user_id"] is None and access["remote_addr"] == "127.0.0.1"


def test_an_unexpected_error_is_one_json_line_with_its_traceback_and_request_id(
        make_app, log_output):
    app = make_app(LOG_FORMAT="json")

    @app.route("/test-only/boom")
    def boom():
        raise RuntimeError("the shelf collapsed")

    output = log_output(app.config["LOG_FORMAT"])
    response = app.test_client().get("/test-only/boom")
    assert response.status_code == 500
    request_id = response.headers["X-Request-ID"]
    entries = json_lines(output)
    [error] = [entry for entry in entries if entry["level"] == "ERROR"]
    assert error["logger"] == "marketplace.errors"
    assert error["request_id"] == request_id
    assert "Traceback" in error["exc_info"]
    assert "RuntimeError: the shelf collapsed" in error["exc_info"]
    [access] = [entry for entry in entries if entry["logger"] == "marketplace.access"]
    assert access["status"] == 500 and access["request_id"] == request_id


def test_the_access_line_names_the_logged_in_user_and_hides_link_tokens(
        make_user, login_as, log_output):
    user = make_user()
    client = login_as(user)
    output = log_output("json")
    client.get("/account/")
    client.get("/auth/reset/eyJ1IjoxMn0.secret-reset-token?next=/private-query")
    entries = [entry for entry in json_lines(output) if entry["logger"] == "marketplace.access"]
    assert [entry["path"] for entry in entries] == ["/account/", "/auth/reset/[token]"]
    assert entries[0]["user_id"] == user.id and entries[0]["status"] == 200
    assert "secret-reset-token" not in output.getvalue()
    assert "private-query" not in output.getvalue()


def test_text_log_lines_are_the_default_and_name_the_request_id(make_app, log_output):
    app = make_app()
    assert app.config["LOG_FORMAT"] == "text"
    output = log_output(app.config["LOG_FORMAT"])
    request_id = app.test_client().get("/privacy").headers["X-Request-ID"]
    logging.getLogger("marketplace.test").warning("Outside any request")
    lines = output.getvalue().splitlines()
    [access] = [line for line in lines if " marketplace.access " in line]
    assert re.fullmatch(
        rf"\S+ \S+ INFO marketplace\.access \[{request_id}\] GET /privacy 200 [\d.]+ms "
        r"user=- addr=127\.0\.0\.1", access)
    assert lines[-1].endswith("WARNING marketplace.test [-] Outside any request")


def test_records_of_libraries_carry_the_request_id_too(client, caplog):
    with caplog.at_level(logging.INFO, logger="sqlalchemy.engine"):
        request_id = client.get("/").headers["X-Request-ID"]
    queries = [record for record in caplog.records if record.name.startswith("sqlalchemy")]
    assert queries
    assert {record.request_id for record in queries} == {request_id}


def test_an_unknown_log_format_stops_the_app_at_start_up(make_app):
    with pytest.raises(RuntimeError, match="LOG_FORMAT"):
        make_app(LOG_FORMAT="xml")


def test_commands_log_json_lines_too(app, tmp_path):
    db.session.add(OutboxMessage(template="confirm_email", recipient="ops@example.org",
                                 subject="Welkom", body_text="Hallo", body_html="<p>Hallo</p>"))
    db.session.commit()
    environment = {name: value for name, value in os.environ.items()
                   if not name.startswith(("MAIL_", "FLASK_", "UPLOAD_", "LOG_"))}
    environment.update(DATABASE_URL=app.config["SQLALCHEMY_DATABASE_URI"],
                       INSTANCE_PATH=str(tmp_path / "cli-instance"), SECRET_KEY="cli-secret",
                       MAIL_FOLDER=str(tmp_path / "cli-mail"), LOG_FORMAT="json")
    result = subprocess.run(
        [sys.executable, "-m", "flask", "--app", "wsgi", "send-mail"], cwd=PROJECT_ROOT,
        env=environment, capture_output=True, text=True, timeout=120, check=False)
    assert result.returncode == 0, result.stderr
    assert "sent 1" in result.stdout
    entries = json_lines(io.StringIO(result.stderr))  # every line on stderr is a JSON object
    [sent] = [entry for entry in entries if entry["logger"] == "marketplace.services.mail"]
    assert sent["level"] == "INFO" and sent["request_id"] is None
    assert sent["message"].startswith("Mail to ops@example.org")


# --- /healthz ----------------------------------------------------------------------------------

def test_healthz_reports_each_check_and_is_never_cached(client, app):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.get_json() == {"status": "ok", "database": "ok", "storage": "ok"}
    assert response.headers["Cache-Control"] == "no-store"
    uploads = Path(app.config["UPLOAD_FOLDER"])
    assert uploads.is_dir() and list(uploads.iterdir()) == []  # the probe file is gone


@pytest.mark.parametrize("url", [
    "postgresql+psycopg://nobody:db-password-1@127.0.0.1:1/none",
    "sqlite:///{tmp}/a-file/no.sqlite",
])
def test_healthz_answers_503_naming_the_database_when_it_is_unreachable(make_app, tmp_path, url):
    (tmp_path / "a-file").write_text("not a folder")
    app = make_app(SQLALCHEMY_DATABASE_URI=url.format(tmp=tmp_path))
    response = app.test_client().get("/healthz")
    assert response.status_code == 503
    assert response.get_json() == {"status": "error", "database": "unreachable", "storage": "ok"}
    assert "db-password-1" not in response.get_data(as_text=True)
    assert response.headers["Cache-Control"] == "no-store"


def test_healthz_answers_503_naming_the_storage_when_uploads_cannot_be_written(
        make_app, tmp_path):
    # A folder under a regular file can be neither made nor written, even by root
    # (for whom a folder without write permission is no obstacle).
    (tmp_path / "a-file").write_text("not a folder")
    app = make_app(UPLOAD_FOLDER=str(tmp_path / "a-file" / "uploads"))
    response = app.test_client().get("/healthz")
    assert response.status_code == 503
    assert response.get_json() == {"status": "error", "database": "ok",
                                   "storage": "unavailable"}
    assert "a-file" not in response.get_data(as_text=True)


class RemoteStorage:
    """A backend that is not a local folder, with a check of its own."""

    def __init__(self, error: Exception | None) -> None:
        self.error, self.checked = error, 0

    def check(self) -> None:
        self.checked += 1
        if self.error:
            raise self.error


def test_healthz_asks_another_storage_backend_to_check_itself(client, monkeypatch):
    healthy = RemoteStorage(None)
    monkeypatch.setattr("marketplace.health.get_storage", lambda: healthy)
    assert client.get("/healthz").get_json()["storage"] == "ok"
    assert healthy.checked == 1

    broken = RemoteStorage(OSError("bucket photos-prod: access key AKIA-SECRET refused"))
    monkeypatch.setattr("marketplace.health.get_storage", lambda: broken)
    response = client.get("/healthz")
    assert response.status_code == 503
    assert response.get_json()["storage"] == "unavailable"
    assert "AKIA" not in response.get_data(as_text=True)


def test_healthz_skips_a_storage_backend_that_cannot_be_checked(client, monkeypatch):
    monkeypatch.setattr("marketplace.health.get_storage", lambda: object())
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.get_json() == {"status": "ok", "database": "ok", "storage": "skipped"}


def test_healthz_is_never_rate_limited(make_app):
    from marketplace.extensions import limiter

    app = make_app(RATELIMIT_ENABLED=True, RATELIMIT_DEFAULT="2 per minute")
    client = app.test_client()
    try:
        assert [client.get("/privacy").status_code for _ in range(3)] == [200, 200, 429]
        assert {client.get("/healthz").status_code for _ in range(5)} == {200}
    finally:
        # The limiter is one object and keeps a default once given: apps made later in this
        # process (test_login's) must not inherit it.
        limiter.limit_manager.set_default_limits([])


# --- systemd units and cron --------------------------------------------------------------------

def read_unit(name: str) -> configparser.ConfigParser:
    parser = configparser.ConfigParser(strict=False, interpolation=None)
    parser.optionxform = str  # type: ignore[assignment,method-assign]  (keys are case-sensitive)
    assert parser.read(SYSTEMD / name, encoding="utf-8"), f"{name} is missing"
    return parser


def assert_is_a_registered_command(app: Flask, argv: list[str]) -> None:
    """`…/flask --app wsgi NAME ARGS`: NAME is one of our commands and accepts ARGS."""
    import click

    assert Path(argv[0]).name == "flask" and argv[1:3] == ["--app", "wsgi"], argv
    name, arguments = argv[3], argv[4:]
    with click.Context(app.cli) as context:
        command = app.cli.get_command(context, name)
    assert command is not None, f"flask has no command {name!r}"
    command.make_context(name, list(arguments))  # raises on an unknown option


@pytest.mark.parametrize("unit, command", [
    ("surplus-mail.service", ["send-mail", "--loop"]),
    ("surplus-housekeeping.service", ["housekeeping"]),
])
def test_the_worker_units_run_registered_commands(app, unit, command):
    service = read_unit(unit)["Service"]
    argv = shlex.split(service["ExecStart"])
    assert argv[3:] == command
    assert_is_a_registered_command(app, argv)
    assert argv[0].startswith(service["WorkingDirectory"] + "/")
    assert service["EnvironmentFile"]


def test_the_mail_sender_is_always_restarted():
    assert read_unit("surplus-mail.service")["Service"]["Restart"] == "always"


def test_systemd_gives_the_stopping_mail_sender_time_to_finish_the_message_in_hand():
    from marketplace.services.mail import SMTP_TIMEOUT_SECONDS

    # On SIGTERM it finishes the message in hand: connecting and sending, a time-out each.
    stop_timeout = int(read_unit("surplus-mail.service")["Service"]["TimeoutStopSec"])
    assert stop_timeout > 2 * SMTP_TIMEOUT_SECONDS


def test_housekeeping_runs_every_five_minutes_from_its_timer():
    timer = read_unit("surplus-housekeeping.timer")
    assert timer["Timer"]["OnCalendar"] == "*:0/5"
    assert timer["Timer"]["Unit"] == "surplus-housekeeping.service"
    assert timer["Install"]["WantedBy"] == "timers.target"
    assert read_unit("surplus-housekeeping.service")["Service"]["Type"] == "oneshot"


def test_the_web_unit_runs_gunicorn_on_the_wsgi_app():
    service = read_unit("surplus-web.service")["Service"]
    argv = shlex.split(service["ExecStart"])
    assert Path(argv[0]).name == "gunicorn"
    options = GunicornConfig().parser().parse_args(argv[1:])  # exits on an unknown option
    assert options.args == ["wsgi:app"]
    assert re.search(r"^app = create_app\(\)$", (PROJECT_ROOT / "wsgi.py").read_text(), re.M)
    assert options.workers >= 2 and options.timeout >= 30
    assert options.bind == ["127.0.0.1:8000"]  # only nginx, on this machine, reaches it


def test_the_documented_cron_line_runs_housekeeping_every_five_minutes(app):
    operations = (PROJECT_ROOT / "docs" / "operations.md").read_text(encoding="utf-8")
    [cron] = re.findall(r"^\*/5 \* \* \* \* .*$", operations, re.M)
    flask_call = re.search(r"(\S*/flask --app wsgi [\w-]+)", cron)
    assert flask_call, cron
    assert_is_a_registered_command(app, shlex.split(flask_call[1]))
    assert flask_call[1].endswith(" housekeeping")


@pytest.mark.parametrize("logged_in", [False, True])
def test_a_database_that_does_not_answer_gives_a_page_that_says_so_not_a_500(
        make_app, make_user, tmp_path, logged_in):
    """PostgreSQL restarted or unreachable (SQLite: its file cannot be opened): every page
    answers 503 with Retry-After and words for the member, a logged-in one included (whose
    session cannot be looked up either), and the log says why."""
    from helpers import AuthActions, on_postgres

    working = make_app()
    cookie = None
    if logged_in:
        client = working.test_client()
        with working.app_context():
            assert AuthActions(client).login(make_user()).status_code == 302
        cookie = client.get_cookie("session").value
    unreachable = "postgresql://postgres@127.0.0.1:1/test" if on_postgres() \
        else f"sqlite:///{tmp_path / 'no-such-folder' / 'marketplace.sqlite'}"
    broken = make_app(SQLALCHEMY_DATABASE_URI=unreachable)
    client = broken.test_client()
    if cookie:
        client.set_cookie("session", cookie)
    pages = [("GET", "/"), ("GET", "/listings/?q=bed"), ("POST", "/auth/login")]
    if logged_in:
        pages += [("GET", "/account/"), ("POST", "/listings/new")]
    for method, path in pages:
        answer = client.open(path, method=method, data={"email": "a@example.org",
                                                        "password": "x"})
        assert answer.status_code == 503, (path, answer.status_code)
        assert answer.headers["Retry-After"] == "30"
        assert "cannot reach its database" in answer.get_data(as_text=True), path
