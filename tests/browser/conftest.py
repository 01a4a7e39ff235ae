"""Fixtures of the browser tests: a real SMTP server, a live server, Debian's Chromium."""

from __future__ import annotations

import gc
import threading
from collections.abc import Iterator

import pytest
from browser_helpers import CHROMIUM, Mailbox, free_port
from werkzeug.serving import make_server


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
