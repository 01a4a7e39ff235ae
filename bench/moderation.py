"""Benchmark of moderation: the review queue page and the watch-word check, on SQLite.

    .venv/bin/python bench/moderation.py [--pending N ...]

Builds N listings waiting for review (spread over 50 organisations, each with two photos and a
watch-word in every fifth), a platform admin, and times GET /admin/listings through the test
client (every query and the template), and `find_watch_words` on a listing's text with the
default list of watch-words. Prints the median and 95th percentile of each.
"""

from __future__ import annotations

import argparse
import io
import statistics
import tempfile
import time
from collections.abc import Callable
from datetime import date, timedelta
from pathlib import Path

from PIL import Image
from sqlalchemy import select

from marketplace import create_app
from marketplace.extensions import db
from marketplace.models import (
    Category,
    Condition,
    Listing,
    ListingPhoto,
    ListingStatus,
    Organisation,
    OrganisationKind,
    OrganisationStatus,
    Province,
    Role,
    Site,
    Unit,
    User,
    UserStatus,
)
from marketplace.models.base import utcnow
from marketplace.services import watch_words
from marketplace.services.defaults import ensure_defaults
from marketplace.services.passwords import hash_password
from marketplace.services.photos import prepare_photo, save_prepared

PASSWORD = "bench-password-long-enough"  # noqa: S105 - a throwaway benchmark account
TEXT = ("Twaalf inklapbare rollators met mandje en zitje, remmen nagekeken, uit de opslag van "
        "de afdeling geriatrie. Ophalen aan de achterkant van het hoofdgebouw.")


def photo(colour: tuple[int, int, int]):
    buffer = io.BytesIO()
    Image.new("RGB", (800, 600), colour).save(buffer, "JPEG")
    return save_prepared(prepare_photo(buffer.getvalue(), "bench.jpg"))


def build(pending: int) -> None:
    db.create_all()
    ensure_defaults()
    category = db.session.scalar(select(Category).where(Category.slug == "mobility"))
    organisations = []
    for number in range(50):
        organisation = Organisation(name=f"Zorggroep {number}", kind=OrganisationKind.HOSPITAL,
                                    status=OrganisationStatus.ACTIVE)
        organisation.sites.append(Site(name="Hoofdlocatie", street="Zorgweg 1",
                                       postcode="1234 AB", city="Utrecht",
                                       province=Province.UTRECHT))
        organisation.users.append(User(email=f"poster{number}@example.org", name="Poster",
                                       password_hash="!", status=UserStatus.ACTIVE,  # noqa: S106
                                       email_confirmed_at=utcnow()))
        organisations.append(organisation)
    db.session.add_all(organisations)
    db.session.add(User(email="admin@example.org", name="Admin", role=Role.PLATFORM_ADMIN,
                        status=UserStatus.ACTIVE, password_hash=hash_password(PASSWORD),
                        email_confirmed_at=utcnow()))
    photos = [photo((40, 90, 160)), photo((160, 90, 40))]
    for number in range(pending):
        organisation = organisations[number % len(organisations)]
        held = number % 5 == 0
        listing = Listing(
            organisation=organisation, created_by=organisation.users[0],
            site=organisation.sites[0], category=category,
            title=f"Rollators {number}" + (" en tabletten" if held else ""),
            description=TEXT, condition=Condition.GOOD, quantity=12, quantity_available=12,
            unit=Unit.PIECE, available_until=date.today() + timedelta(days=30),
            status=ListingStatus.PENDING_REVIEW, submitted_at=utcnow(),
            held_words="tabletten" if held else None)
        listing.photos.extend(ListingPhoto(photo=item, position=index)
                              for index, item in enumerate(photos))
        db.session.add(listing)
    db.session.commit()


def measure(action: Callable[[], object], repetitions: int) -> tuple[float, float]:
    timings = []
    for _ in range(repetitions):
        start = time.perf_counter()
        action()
        timings.append((time.perf_counter() - start) * 1000)
    timings.sort()
    return statistics.median(timings), timings[int(len(timings) * 0.95) - 1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pending", type=int, nargs="+", default=[20, 200])
    arguments = parser.parse_args()
    print("case | median | p95")
    for pending in arguments.pending:
        with tempfile.TemporaryDirectory() as folder:
            app = create_app({
                "SQLALCHEMY_DATABASE_URI": f"sqlite:///{Path(folder) / 'bench.sqlite'}",
                "UPLOAD_FOLDER": str(Path(folder) / "uploads"), "SECRET_KEY": "bench",
                "WTF_CSRF_ENABLED": False, "RATELIMIT_ENABLED": False, "TESTING": True,
                "SESSION_COOKIE_SECURE": False})
            with app.app_context():
                build(pending)
                client = app.test_client()
                client.post("/auth/login", data={"email": "admin@example.org",
                                                 "password": PASSWORD})

                def queue_page(client=client) -> None:
                    assert client.get("/admin/listings").status_code == 200

                median, p95 = measure(queue_page, 20)
                print(f"GET /admin/listings, {pending} waiting | {median:.0f} ms | {p95:.0f} ms")
                if pending == arguments.pending[-1]:
                    median, p95 = measure(
                        lambda: watch_words.find_watch_words("Rollators", TEXT, None, None), 500)
                    print(f"find_watch_words on one listing | {median:.2f} ms | {p95:.2f} ms")
                db.engine.dispose()


if __name__ == "__main__":
    main()
