"""Rate limits hold across gunicorn workers when they count in Redis (and do not in memory).

The app runs under gunicorn with two workers, as in production; each test sends a burst of
concurrent requests, and gunicorn's access log shows both workers served some of them. With
Redis exactly the limit gets through; with in-memory counters each worker counts for itself.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator

import pytest
from helpers import PASSWORD
from servers import (
    TEST_REDIS_URL,
    AppServer,
    Browser,
    app_settings,
    forget_redis_keys,
    redis_available,
)
from sqlalchemy import func, select

from marketplace.extensions import db
from marketplace.models import Claim

LIMIT = 4
needs_redis = pytest.mark.skipif(not redis_available() and not os.environ.get("CI"),
                                 reason="no Redis at TEST_REDIS_URL (CI always has one)")


def burst(visitor: Browser, posts: list[tuple[str, dict[str, str]]]) -> list[int]:
    """POST all at once; the statuses, a refusal being the friendly page."""
    responses = visitor.burst(posts)
    for response in responses:
        if response.status_code == 429:
            assert "Too many attempts" in response.text
    return [response.status_code for response in responses]


@pytest.fixture
def server_with(app, tmp_path) -> Iterator:
    """Start the app under gunicorn with two workers and these settings (stopped after)."""
    started: list[AppServer] = []
    prefixes: list[str] = []

    def start(storage: str = TEST_REDIS_URL, **settings: object) -> AppServer:
        db.session.commit()  # what the test seeded is there for the server
        prefix = f"test-{uuid.uuid4().hex}"
        prefixes.append(prefix)
        server = AppServer.start(
            app_settings(app, tmp_path / "live-instance", RATELIMIT_STORAGE_URI=storage,
                         RATELIMIT_KEY_PREFIX=prefix, **settings),
            tmp_path / f"server-{len(started)}", workers=2)
        started.append(server)
        return server

    yield start
    for server in started:
        server.stop()
    if redis_available():
        for prefix in prefixes:
            forget_redis_keys(prefix)


def allowed(statuses: list[int]) -> int:
    return sum(status != 429 for status in statuses)


@needs_redis
def test_login_signup_and_reset_limits_hold_across_two_workers(server_with, make_user, make_org):
    member = make_user()
    organisation = make_org()
    server = server_with(LOGIN_RATE_LIMIT=f"{LIMIT} per hour",
                         SIGNUP_RATE_LIMIT=f"{LIMIT} per hour",
                         RESET_RATE_LIMIT=f"{LIMIT} per hour")
    visitor = Browser(server.url)
    visitor.open("/auth/login")
    attempts = 2 * LIMIT

    logins = burst(visitor, [("/auth/login", {"email": member.email, "password": f"guess-{n}"})
                            for n in range(attempts)])
    signups = burst(visitor, [("/auth/signup", {
        "name": f"Nieuw Lid {n}", "email": f"nieuw{n}@example.org", "password": PASSWORD,
        "language": "en", "organisation_choice": "existing", "organisation": str(organisation.id),
    }) for n in range(attempts)])
    resets = burst(visitor, [("/auth/forgot-password", {"email": f"iemand{n}@example.org"})
                            for n in range(attempts)])

    assert sorted(logins) == [401] * LIMIT + [429] * LIMIT  # wrong passwords, then refused
    assert sorted(signups) == [302] * LIMIT + [429] * LIMIT  # signed up, then refused
    assert sorted(resets) == [302] * LIMIT + [429] * LIMIT
    # The next one is refused too, whichever worker gets it; the pages can still be read.
    assert visitor.post("/auth/login", {"email": member.email, "password": PASSWORD}) \
        .status_code == 429
    assert visitor.get("/auth/login").status_code == 200
    for path in ("/auth/login", "/auth/signup", "/auth/forgot-password"):
        server.wait_for_requests("POST", path, attempts)
        assert len(server.pids_that_served("POST", path)) == 2, server.access_log()


@needs_redis
def test_the_claim_limit_counts_per_member_across_two_workers(server_with, make_user, make_org,
                                                               make_listing):
    giver_organisation = make_org()
    listings = [make_listing(organisation=giver_organisation) for _ in range(2 * LIMIT + 1)]
    claimant = make_user()
    colleague = make_user(organisation=claimant.organisation)
    server = server_with(CLAIM_RATE_LIMIT=f"{LIMIT} per hour")
    visitor = Browser(server.url)
    visitor.log_in(claimant.email, PASSWORD)

    statuses = burst(visitor, [(f"/listings/{listing.id}/claim", {"quantity": "1"})
                              for listing in listings[:2 * LIMIT]])

    assert sorted(statuses) == [302] * LIMIT + [429] * LIMIT
    server.wait_for_requests("POST", "/listings/", 2 * LIMIT)
    assert len(server.pids_that_served("POST", "/listings/")) == 2, server.access_log()
    # Counted per member: a colleague at the same address still claims.
    other = Browser(server.url)
    other.log_in(colleague.email, PASSWORD)
    assert other.post(f"/listings/{listings[-1].id}/claim", {"quantity": "1"}).status_code == 302
    assert db.session.scalar(select(func.count()).select_from(Claim)) == LIMIT + 1


def test_with_in_memory_counters_two_workers_let_more_than_the_limit_through(server_with,
                                                                            make_user):
    """Why RATELIMIT_STORAGE_URI must point at Redis with several workers: each worker counts
    for itself, so every worker that served some of the burst let up to the limit through."""
    member = make_user()
    server = server_with(storage="memory://", LOGIN_RATE_LIMIT=f"{LIMIT} per hour")
    visitor = Browser(server.url)
    visitor.open("/auth/login")

    statuses = burst(visitor, [("/auth/login", {"email": member.email, "password": f"guess-{n}"})
                              for n in range(2 * LIMIT)])

    server.wait_for_requests("POST", "/auth/login", 2 * LIMIT)
    assert len(server.pids_that_served("POST", "/auth/login")) == 2, server.access_log()
    assert allowed(statuses) > LIMIT
