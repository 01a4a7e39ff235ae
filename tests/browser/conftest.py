"""Fixtures of the browser tests: a real SMTP server, a live server, Debian's Chromium."""

from __future__ import annotations

import gc
import os
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from browser_helpers import CHROMIUM, Mailbox, free_port
from helpers import on_postgres
from werkzeug.serving import make_server

HERE = Path(__file__).resolve().parent


@pytest.hookimpl(tryfirst=True)  # before -m "not browser" deselects by marker
def pytest_collection_modifyitems(items) -> None:
    """Every test in this folder is a browser test, with the same marks."""
    for item in items:
        if HERE not in Path(str(item.path)).resolve().parents:
            continue
        item.add_marker(pytest.mark.browser)
        # When the browser leaves a page while a photo is still streaming, Werkzeug's
        # development server can drop the response without closing its file: a ResourceWarning
        # raised in the server's thread, about the test server, not the application.
        item.add_marker(pytest.mark.filterwarnings(
            "ignore::pytest.PytestUnraisableExceptionWarning"))
        item.add_marker(pytest.mark.filterwarnings("ignore::ResourceWarning"))
        item.add_marker(pytest.mark.skipif(
            not os.path.exists(CHROMIUM) and not os.environ.get("CI"),
            reason="Debian's chromium is not installed (make test installs it)"))
        # The phone size changes the layout, not what the database does: the journeys run at
        # both sizes on SQLite and at desktop size on PostgreSQL (a minute less of CI).
        viewport = getattr(item, "callspec", None) and item.callspec.params.get("viewport")
        if viewport == "phone" and on_postgres():
            item.add_marker(pytest.mark.skip(
                reason="the phone layout is checked on SQLite; the database is the same"))


@pytest.fixture
def mailbox() -> Iterator[Mailbox]:
    from aiosmtpd.controller import Controller

    box = Mailbox(port=free_port())
    controller = Controller(box, hostname="127.0.0.1", port=box.port)
    controller.start()
    yield box
    controller.stop()


@pytest.fixture
def live_server(make_app, mailbox) -> Iterator[tuple[str, object]]:
    port = free_port()
    base_url = f"http://127.0.0.1:{port}"
    app = make_app(BASE_URL=base_url, WTF_CSRF_ENABLED=True, MAIL_SERVER="127.0.0.1",
                   MAIL_PORT=mailbox.port, MAIL_DELIVER_AFTER_REQUEST=True)
    server = make_server("127.0.0.1", port, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield base_url, app
    server.shutdown()
    thread.join(5)
    gc.collect()  # collect what the server dropped now, inside this test (see pytestmark)


@pytest.fixture
def browser() -> Iterator[object]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        instance = playwright.chromium.launch(
            executable_path=CHROMIUM, headless=True,
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                  "--disable-component-update", "--disable-sync", "--no-first-run"])
        yield instance
        instance.close()


@pytest.fixture
def poster(live_server, make_user, make_org) -> str:
    """The address of a Dutch-speaking member of a trusted organisation (published at once)."""
    from marketplace.extensions import db
    from marketplace.models import Language

    _base_url, app = live_server
    with app.app_context():
        organisation = make_org(name="Zorggroep West")
        organisation.trusted = True
        address = make_user("fatima@west.example.org", organisation=organisation,
                            name="Fatima Foto", language=Language.NL).email
        db.session.commit()
    return address
