"""Benchmark: do forgot-password and resend-confirmation take longer for a known address?

    .venv/bin/python bench/email_lookup_timing.py [--pairs N] [--floor-ms MS]

On SQLite through the test client (every query, the email rendered and queued, the template,
the redirect), N pairs of POSTs, a known address then an unknown one, to each of the two
forms, the known address first in every other pair; once with no floor
(EMAIL_LOOKUP_FLOOR_MS=0, as before the fix) and once with the floor. Prints, per form and
floor, the median time of each, the median of the pairs' differences (known minus unknown),
and in how many pairs the known address was the slower.
Mail is queued for a separate sender, as in production (MAIL_DELIVER_AFTER_REQUEST off).
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

from marketplace import create_app
from marketplace.extensions import db
from marketplace.models import Organisation, OrganisationKind, OrganisationStatus, User, UserStatus
from marketplace.models.base import utcnow
from marketplace.services.defaults import ensure_defaults
from marketplace.services.passwords import hash_password

PASSWORD = "bench-password-long-enough"  # noqa: S105 - a throwaway benchmark account
FORMS = {"/auth/forgot-password": "known@example.org", "/auth/confirm": "waiting@example.org"}


def build() -> None:
    db.create_all()
    ensure_defaults()
    organisation = Organisation(name="Zorggroep", kind=OrganisationKind.HOSPITAL,
                                status=OrganisationStatus.ACTIVE)
    organisation.users.append(User(email="known@example.org", name="Bekend",
                                   status=UserStatus.ACTIVE, email_confirmed_at=utcnow(),
                                   password_hash=hash_password(PASSWORD)))
    organisation.users.append(User(email="waiting@example.org", name="Wachtend",
                                   status=UserStatus.PENDING,
                                   password_hash=hash_password(PASSWORD)))
    db.session.add(organisation)
    db.session.commit()


def timed(client, path: str, email: str) -> float:
    start = time.perf_counter()
    response = client.post(path, data={"email": email})
    elapsed = (time.perf_counter() - start) * 1000
    assert response.status_code == 302, response.status_code
    return elapsed


def pair(client, path: str, known: str, known_first: bool) -> tuple[float, float]:
    """The times of a known and an unknown address, sent in either order (the second of two
    requests in a row is not the same as the first)."""
    if known_first:
        known_time = timed(client, path, known)
        return known_time, timed(client, path, "nobody@example.org")
    unknown_time = timed(client, path, "nobody@example.org")
    return timed(client, path, known), unknown_time


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pairs", type=int, default=30)
    parser.add_argument("--floor-ms", type=int, default=250)
    arguments = parser.parse_args()
    print("form | floor | known median | unknown median | median difference | known slower")
    for floor in (0, arguments.floor_ms):
        with tempfile.TemporaryDirectory() as folder:
            app = create_app({
                "SQLALCHEMY_DATABASE_URI": f"sqlite:///{Path(folder) / 'bench.sqlite'}",
                "UPLOAD_FOLDER": str(Path(folder) / "uploads"), "SECRET_KEY": "bench",
                "WTF_CSRF_ENABLED": False, "RATELIMIT_ENABLED": False, "TESTING": True,
                "SESSION_COOKIE_SECURE": False, "MAIL_DELIVER_AFTER_REQUEST": False,
                "EMAIL_LOOKUP_FLOOR_MS": floor, "LOG_LEVEL": "WARNING"})
            with app.app_context():
                build()
            client = app.test_client()
            for path, known in FORMS.items():
                for _ in range(3):  # warm up: templates compiled, connections open
                    timed(client, path, known)
                    timed(client, path, "nobody@example.org")
                pairs = [pair(client, path, known, known_first=number % 2 == 0)
                         for number in range(arguments.pairs)]
                known_times = [pair[0] for pair in pairs]
                unknown_times = [pair[1] for pair in pairs]
                difference = statistics.median(k - u for k, u in pairs)
                slower = sum(k > u for k, u in pairs)
                print(f"{path} | {floor} ms | {statistics.median(known_times):.1f} ms | "
                      f"{statistics.median(unknown_times):.1f} ms | {difference:+.1f} ms | "
                      f"{slower}/{len(pairs)}")
            with app.app_context():
                db.engine.dispose()


if __name__ == "__main__":
    main()
