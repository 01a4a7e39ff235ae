"""Rate limits hold across processes when they count in Redis (and do not in memory).

Two app servers under gunicorn, one worker each, on the same database and Redis, as two workers
or two machines in production; the requests go to one server and the other in turn, so every
test has both processes count, whatever the kernel would have chosen. With Redis exactly the
limit gets through across both; with in-memory counters each process counts for itself.
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
    """POST all at once; the statuses, a refusal saying when to try again."""
    responses = visitor.burst(posts)
    for response in responses:
        if response.status_code == 429:
            assert "Try again in" in response.text and response.headers["Retry-After"]
    return [response.status_code for response in responses]


@pytest.fixture
def servers_with(app, tmp_path) -> Iterator:
    """Start two app servers (gunicorn, one worker each) with these settings, counting in
    `storage` with one key prefix (stopped after)."""
    started: list[AppServer] = []
    prefixes: list[str] = []

    def start(storage: str = TEST_REDIS_URL, **settings: object) -> tuple[AppServer, AppServer]:
        db.session.commit()  # what the test seeded is there for the servers
        prefix = f"test-{uuid.uuid4().hex}"
        prefixes.append(prefix)
        for number in range(2):
            started.append(AppServer.start(
                app_settings(app, tmp_path / f"live-instance-{number}",
                             RATELIMIT_STORAGE_URI=storage, RATELIMIT_KEY_PREFIX=prefix,
                             **settings),
                tmp_path / f"server-{len(started)}"))
        return started[-2], started[-1]

    yield start
    for server in started:
        server.stop()
    if redis_available():
        for prefix in prefixes:
            forget_redis_keys(prefix)


def in_turn(servers: tuple[AppServer, AppServer], path: str, forms: list[dict[str, str]]
            ) -> list[tuple[str, dict[str, str]]]:
    """POSTs of `forms` to `path`, to one server and the other in turn."""
    return [(servers[number % 2].url + path, form) for number, form in enumerate(forms)]


def allowed(statuses: list[int]) -> int:
    return sum(status != 429 for status in statuses)


@needs_redis
def test_login_signup_and_reset_limits_hold_across_two_workers(servers_with, make_user,
                                                               make_org):
    member = make_user()
    organisation = make_org()
    servers = servers_with(LOGIN_RATE_LIMIT=f"{LIMIT} per hour",
                           SIGNUP_RATE_LIMIT=f"{LIMIT} per hour",
                           RESET_RATE_LIMIT=f"{LIMIT} per hour")
    visitor = Browser(servers[0].url)
    visitor.open("/auth/login")
    attempts = 2 * LIMIT

    # Failed logins are counted once answered: one after the other, so each sees the last.
    logins = [visitor.post(url, form).status_code for url, form in in_turn(
        servers, "/auth/login",
        [{"email": member.email, "password": f"guess-{n}"} for n in range(attempts)])]
    signups = burst(visitor, in_turn(servers, "/auth/signup", [{
        "name": f"Nieuw Lid {n}", "email": f"nieuw{n}@example.org", "password": PASSWORD,
        "language": "en", "organisation_choice": "existing", "organisation": str(organisation.id),
    } for n in range(attempts)]))
    resets = burst(visitor, in_turn(servers, "/auth/forgot-password",
                                    [{"email": f"iemand{n}@example.org"}
                                     for n in range(attempts)]))

    assert logins == [401] * LIMIT + [429] * LIMIT  # wrong passwords, then refused on both
    assert sorted(signups) == [302] * LIMIT + [429] * LIMIT  # signed up, then refused
    assert sorted(resets) == [302] * LIMIT + [429] * LIMIT
    # Guessing stopped: the right password too is refused on either server, for now; the
    # pages can still be read.
    for server in servers:
        assert visitor.post(server.url + "/auth/login",
                            {"email": member.email, "password": PASSWORD}).status_code == 429
        assert visitor.get(server.url + "/auth/login").status_code == 200


@needs_redis
def test_the_claim_limit_counts_per_member_across_two_workers(servers_with, make_user, make_org,
                                                               make_listing):
    giver_organisation = make_org()
    listings = [make_listing(organisation=giver_organisation) for _ in range(2 * LIMIT + 1)]
    claimant = make_user()
    colleague = make_user(organisation=claimant.organisation)
    servers = servers_with(CLAIM_RATE_LIMIT=f"{LIMIT} per hour")
    visitor = Browser(servers[0].url)
    visitor.log_in(claimant.email, PASSWORD)

    statuses = burst(visitor, [
        (servers[number % 2].url + f"/listings/{listing.id}/claim", {"quantity": "1"})
        for number, listing in enumerate(listings[:2 * LIMIT])])

    assert sorted(statuses) == [302] * LIMIT + [429] * LIMIT
    # Counted per member: a colleague at the same address still claims.
    other = Browser(servers[1].url)
    other.log_in(colleague.email, PASSWORD)
    assert other.post(f"/listings/{listings[-1].id}/claim", {"quantity": "1"}).status_code == 302
    assert db.session.scalar(select(func.count()).select_from(Claim)) == LIMIT + 1


def test_with_in_memory_counters_two_workers_let_more_than_the_limit_through(servers_with,
                                                                            make_user):
    """Why RATELIMIT_STORAGE_URI must point at Redis with several workers: each process counts
    for itself, so each lets the whole limit through."""
    member = make_user()
    servers = servers_with(storage="memory://", LOGIN_RATE_LIMIT=f"{LIMIT} per hour",
                           LOGIN_ACCOUNT_RATE_LIMIT=f"{4 * LIMIT} per hour")
    visitor = Browser(servers[0].url)
    visitor.open("/auth/login")

    statuses = [visitor.post(url, form).status_code for url, form in in_turn(
        servers, "/auth/login",
        [{"email": member.email, "password": f"guess-{n}"} for n in range(2 * LIMIT)])]

    assert statuses == [401] * (2 * LIMIT)  # the limit, in each of the two processes
