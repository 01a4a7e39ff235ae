"""Two app servers on one PostgreSQL and one Redis serve one site (docs/scale-out.md).

Two gunicorn processes on different ports share only what docs/scale-out.md says they must:
DATABASE_URL, the Redis of the rate limits, SECRET_KEY and the photo folder. Each has an
instance folder (and mail folder) of its own. A visitor's requests go to either, as behind a
load balancer; cookies for 127.0.0.1 reach both ports.
"""

from __future__ import annotations

import os
import re
import uuid

import pytest
from builders import listing_form
from helpers import PASSWORD, SHARED_TESTDATA, on_postgres
from servers import (
    TEST_REDIS_URL,
    AppServer,
    Browser,
    app_settings,
    forget_redis_keys,
    redis_available,
)

from marketplace.extensions import db
from marketplace.models import Role

pytestmark = [
    pytest.mark.skipif(not on_postgres(), reason="several servers need PostgreSQL "
                       "(TEST_DATABASE_URL)"),
    pytest.mark.skipif(not redis_available() and not os.environ.get("CI"),
                       reason="no Redis at TEST_REDIS_URL (CI always has one)"),
]
RESET_LIMIT = 4


@pytest.fixture
def two_servers(app, tmp_path):
    prefix = f"test-{uuid.uuid4().hex}"
    shared = {"RATELIMIT_STORAGE_URI": TEST_REDIS_URL, "RATELIMIT_KEY_PREFIX": prefix,
              "RESET_RATE_LIMIT": f"{RESET_LIMIT} per hour"}
    db.session.commit()
    servers = []
    try:
        for name in ("a", "b"):
            servers.append(AppServer.start(
                app_settings(app, tmp_path / f"instance-{name}", **shared),
                tmp_path / f"server-{name}"))
        yield servers
    finally:
        for server in servers:
            server.stop()
        forget_redis_keys(prefix)


def test_two_app_servers_share_sessions_listings_photos_claims_and_rate_limits(
    two_servers, make_org, make_user
):
    a, b = two_servers
    givers = make_org(name="Zorggroep Oost")
    givers.trusted = True  # published at once, no review
    giver = make_user(organisation=givers, role=Role.ORG_ADMIN, name="Gerda Gever")
    claimant = make_user(name="Karim Krijger")
    form = listing_form(giver, title="Douchestoelen met armleuningen", quantity="6",
                        description="Zes douchestoelen, gereinigd en gecontroleerd.")
    db.session.commit()

    # Logged in on A is logged in on B.
    giving = Browser(a.url)
    giving.log_in(giver.email, PASSWORD)
    assert "Gerda Gever" in giving.open(f"{b.url}/account/").text

    # A listing posted with a photo on A is on B, photo and all.
    giving.open(f"{a.url}/listings/new")
    photo = (SHARED_TESTDATA / "images" / "good" / "hopper.jpg").read_bytes()
    posted = giving.post(f"{a.url}/listings/new", form,
                         files={"photos": ("douchestoel.jpg", photo, "image/jpeg")})
    assert posted.status_code == 302, posted.text
    listing_path = posted.headers["Location"]
    claiming = Browser(b.url)
    claiming.log_in(claimant.email, PASSWORD)
    page = claiming.open(f"{b.url}{listing_path}").text
    assert "Douchestoelen met armleuningen" in page
    photo_paths = re.findall(r'src="(/photos/[^"]+)"', page)
    assert photo_paths
    from_b = claiming.get(f"{b.url}{photo_paths[0]}")
    assert from_b.status_code == 200
    assert from_b.headers["Content-Type"].startswith("image/")
    assert from_b.content == claiming.get(f"{a.url}{photo_paths[0]}").content

    # A claim made on B is seen by the giver on A.
    claimed = claiming.post(f"{b.url}{listing_path}/claim", {"quantity": "2"})
    assert claimed.status_code == 302, claimed.text
    claim_path = claimed.headers["Location"]
    seen_by_giver = giving.get(f"{a.url}{claim_path}")
    assert seen_by_giver.status_code == 200
    assert "Karim Krijger" in seen_by_giver.text

    # Logging out on B ends the session on A too.
    giving.open(f"{b.url}/account/")
    assert giving.post(f"{b.url}/auth/logout", {}).status_code == 302
    assert giving.get(f"{a.url}/account/").status_code == 302  # to the login page

    # The rate limit counts the requests to both servers together.
    stranger = Browser(a.url)
    stranger.open(f"{a.url}/auth/forgot-password")
    alternating = [a, b] * (RESET_LIMIT // 2 + 1)  # A, B, A, B: the limit; then A and B refuse
    statuses = [stranger.post(f"{server.url}/auth/forgot-password",
                              {"email": f"iemand{n}@example.org"}).status_code
                for n, server in enumerate(alternating)]
    assert statuses == [302] * RESET_LIMIT + [429, 429]
