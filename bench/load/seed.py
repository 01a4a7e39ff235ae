"""The load test's data: 100,000 listings and 5,000 users over 300 organisations, fast.

    .venv/bin/python bench/load/seed.py DATABASE_URL UPLOAD_FOLDER [--listings N] [--users N]

The schema comes from the migrations (`flask db upgrade`, as in production: the categories are
seeded by them, the full-text index too: FTS5 triggers on SQLite, a generated tsvector column on
PostgreSQL, so the bulk inserts below fill it as the app's own inserts do). Rows are written with
SQLAlchemy Core `executemany` in batches. The titles and descriptions come from the word lists
of bench/search.py. Photos are content-addressed, so a handful of real ones (processed by the
app's photo pipeline into UPLOAD_FOLDER) are shared by every listing that has one.

Every user's password is PASSWORD, hashed once with a cheap PBKDF2 (the login's cost is not
what the load test measures; Werkzeug checks any method it knows). The first GIVER_ORGANISATIONS
organisations are the givers of the load test: their listings have large quantities, so the
claims made during a run can be accepted again and again.

`seed_key()` changes whenever this file, bench/search.py or the migrations change: run.py keeps
seeded databases keyed by it and seeds again only then.
"""

from __future__ import annotations

import argparse
import hashlib
import importlib.util
import io
import os
import random
import sys
import time
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

from PIL import Image, ImageDraw
from sqlalchemy import insert, select, text
from werkzeug.security import generate_password_hash

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from marketplace import create_app  # noqa: E402
from marketplace.extensions import db  # noqa: E402
from marketplace.models import (  # noqa: E402
    Category,
    Condition,
    Language,
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
from marketplace.models.organisation import organisation_name_key  # noqa: E402
from marketplace.services.photos import prepare_photo, save_prepared  # noqa: E402

SEED_VERSION = "1"
PASSWORD = "load-test-password-2026"  # noqa: S105 - test data
CHEAP_HASH = "pbkdf2:sha256:1000"
ORGANISATIONS = 300
GIVER_ORGANISATIONS = 20
GIVER_QUANTITY = 100_000
PHOTOS = 6
BATCH = 5_000


def _bench_search_module() -> Any:
    """bench/search.py's word lists and description maker (bench/ is not a package)."""
    spec = importlib.util.spec_from_file_location("bench_search", ROOT / "bench" / "search.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules["bench_search"] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


def seed_key() -> str:
    """Changes when the seeded data would: this file, bench/search.py, the migrations."""
    digest = hashlib.sha256(SEED_VERSION.encode())
    sources = [Path(__file__), ROOT / "bench" / "search.py",
               *sorted((ROOT / "migrations" / "versions").glob("*.py"))]
    for path in sources:
        digest.update(path.name.encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()[:12]


def email_of(number: int) -> str:
    return f"user{number}@load.example.org"


def seed_app(url: str, upload_folder: str, instance: str):
    os.environ["INSTANCE_PATH"] = instance
    return create_app({
        "SECRET_KEY": "bench-load", "SQLALCHEMY_DATABASE_URI": url,
        "UPLOAD_FOLDER": upload_folder, "RATELIMIT_ENABLED": False,
        "MAIL_FOLDER": str(Path(instance) / "mail"), "MAIL_DELIVER_AFTER_REQUEST": False,
    })


def seed(url: str, upload_folder: str, instance: str, listings: int = 100_000,
         users: int = 5_000) -> None:
    """Migrate an empty database at `url` and fill it (see the module's docstring)."""
    from flask_migrate import upgrade

    started = time.perf_counter()
    app = seed_app(url, upload_folder, instance)
    with app.app_context():
        upgrade()
        print(f"  migrated in {time.perf_counter() - started:.1f} s", flush=True)
        _fill(listings, users)
        if db.engine.dialect.name == "postgresql":
            db.session.commit()
            # What autovacuum does soon after so many inserts: statistics, and the visibility
            # map without which an index-only scan reads the table too.
            with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as vacuum:
                vacuum.exec_driver_sql("VACUUM (ANALYZE)")
        db.session.remove()
        db.engine.dispose()
    print(f"  seeded in {time.perf_counter() - started:.1f} s", flush=True)


def _insert(model: Any, rows: list[dict[str, Any]]) -> None:
    for start in range(0, len(rows), BATCH):
        db.session.execute(insert(model.__table__), rows[start:start + BATCH])


def _photos(rng: random.Random) -> list[int]:
    """PHOTOS real photos through the app's pipeline (files and rows); their ids."""
    ids = []
    for number in range(PHOTOS):
        image = Image.new("RGB", (1200, 900), tuple(rng.randrange(256) for _ in range(3)))
        draw = ImageDraw.Draw(image)
        for _ in range(40):
            x, y = rng.randrange(1200), rng.randrange(900)
            draw.ellipse((x, y, x + rng.randrange(40, 300), y + rng.randrange(40, 300)),
                         fill=tuple(rng.randrange(256) for _ in range(3)))
        buffer = io.BytesIO()
        image.save(buffer, "JPEG", quality=85)
        ids.append(save_prepared(prepare_photo(buffer.getvalue(), f"seed-{number}.jpg")).id)
    db.session.commit()
    return ids


def _fill(listing_count: int, user_count: int) -> None:
    words = _bench_search_module()
    rng = random.Random(20261207)  # noqa: S311 - the same data on every run
    now = datetime.now(UTC)
    today = date.today()
    categories = {slug: id_ for id_, slug in db.session.execute(select(Category.id,
                                                                        Category.slug))}
    t0 = time.perf_counter()
    if db.engine.dialect.name == "sqlite":
        # Seeding only (this connection): with SQLite's 2 MB page cache the FTS index spills
        # pages to the WAL all the time and 100,000 listings take two minutes instead of 30 s.
        db.session.execute(text("PRAGMA cache_size=-500000"))
        db.session.execute(text("PRAGMA synchronous=OFF"))

    organisations, sites = [], []
    site_id = 0
    sites_of: dict[int, list[int]] = {}
    for number in range(1, ORGANISATIONS + 1):
        # Every 20th suspended (but never a giver); all trusted, so posts publish at once.
        suspended = number > GIVER_ORGANISATIONS and number % 20 == 0
        name = f"Zorggroep Load {number}"
        organisations.append({
            "id": number, "name": name, "name_key": organisation_name_key(name),
            "kind": rng.choice(list(OrganisationKind)), "kvk_number": f"{number:08d}",
            "status": OrganisationStatus.SUSPENDED if suspended else OrganisationStatus.ACTIVE,
            "trusted": True, "created_at": now - timedelta(days=400), "approved_at": now,
        })
        for site_number in range(rng.choice([1, 1, 2, 3])):
            site_id += 1
            province = rng.choice(list(Province))
            sites.append({
                "id": site_id, "organisation_id": number, "name": f"Locatie {site_number + 1}",
                "street": f"Zorgweg {number}", "postcode": "1234 AB",
                "city": words.CITIES[province], "province": province, "active": True,
                "created_at": now - timedelta(days=400),
            })
            sites_of.setdefault(number, []).append(site_id)
    _insert(Organisation, organisations)
    _insert(Site, sites)

    password_hash = generate_password_hash(PASSWORD, method=CHEAP_HASH)
    user_rows = []
    members_of: dict[int, list[int]] = {}
    for number in range(1, user_count + 1):
        organisation_id = (number - 1) % ORGANISATIONS + 1
        first = number <= ORGANISATIONS  # the first user of each organisation is its admin
        user_rows.append({
            "id": number, "email": email_of(number), "name": f"Gebruiker {number}",
            "password_hash": password_hash, "organisation_id": organisation_id,
            "role": Role.ORG_ADMIN if first else Role.MEMBER, "status": UserStatus.ACTIVE,
            "language": Language.EN if number % 4 == 0 else Language.NL,
            "email_confirmed_at": now - timedelta(days=300), "session_version": 1,
            "created_at": now - timedelta(days=300), "muted_email_kinds": "",
        })
        members_of.setdefault(organisation_id, []).append(number)
    _insert(User, user_rows)
    if db.engine.dialect.name == "postgresql":  # explicit ids: move the sequences past them
        for table_name in ("organisation", "site", "user_account"):
            db.session.execute(text(
                f"SELECT setval(pg_get_serial_sequence('{table_name}', 'id'), "  # noqa: S608 - our table names
                f"(SELECT max(id) FROM {table_name}))"))
    db.session.commit()
    photo_ids = _photos(rng)
    print(f"  organisations, sites, users, photos in {time.perf_counter() - t0:.1f} s",
          flush=True)

    statuses = ([ListingStatus.PUBLISHED] * 85 + [ListingStatus.DRAFT] * 3
                + [ListingStatus.PENDING_REVIEW] * 2 + [ListingStatus.CLOSED] * 4
                + [ListingStatus.WITHDRAWN] * 2 + [ListingStatus.EXPIRED] * 4)
    conditions, units = list(Condition), list(Unit)
    moments = sorted(now - timedelta(minutes=rng.randrange(0, 180 * 24 * 60))
                     for _ in range(listing_count))
    rows: list[dict[str, Any]] = []
    photos: list[dict[str, Any]] = []
    for listing_id, published_at in enumerate(moments, start=1):
        english = rng.random() < 0.3
        items, adjectives = ((words.ENGLISH_ITEMS, words.ENGLISH_ADJECTIVES) if english
                             else (words.DUTCH_ITEMS, words.DUTCH_ADJECTIVES))
        item, slug = rng.choice(items)
        title = f"{rng.choice(adjectives)} {item}".capitalize()
        if rng.random() < 0.3:
            title += f" {rng.choice(words.BRANDS)}"
        if rng.random() < 0.003:
            title += " en zuurstofconcentrator" if not english else " and oxygen concentrator"
        organisation_id = rng.randrange(1, ORGANISATIONS + 1)
        giver = organisation_id <= GIVER_ORGANISATIONS
        status = ListingStatus.PUBLISHED if giver else rng.choice(statuses)
        quantity = GIVER_QUANTITY if giver else rng.choice([1, 1, 2, 4, 10, 25, 100])
        rows.append({
            "id": listing_id, "organisation_id": organisation_id,
            "created_by_id": rng.choice(members_of[organisation_id]),
            "site_id": rng.choice(sites_of[organisation_id]),
            "category_id": categories[slug],
            "title": title[:120], "description": words._description(rng, english, item),
            "condition": rng.choice(conditions), "quantity": quantity,
            "quantity_available": quantity, "unit": rng.choice(units),
            "value_per_unit": Decimal(rng.randrange(100, 100_000)) / 100,
            "weight_per_unit_kg": None,
            "available_until": today + timedelta(days=rng.randrange(-3, 90) if not giver
                                                 else 80),
            "delivery_possible": rng.random() < 0.3, "internal_days": 0,
            "internal_until": (now + timedelta(days=rng.randrange(1, 10))
                               if not giver and rng.random() < 0.05 else None),
            "status": status,
            "published_at": published_at if status is not ListingStatus.DRAFT else None,
            "created_at": published_at - timedelta(hours=1), "updated_at": published_at,
        })
        if rng.random() < 0.8:
            photos.append({"listing_id": listing_id, "photo_id": rng.choice(photo_ids),
                           "position": 1, "alt_text": ""})
    print(f"  {listing_count:,} listings generated in {time.perf_counter() - t0:.1f} s",
          flush=True)
    _insert(Listing, rows)
    _insert(ListingPhoto, photos)
    if db.engine.dialect.name == "postgresql":
        for table_name in ("listing", "listing_photo"):
            db.session.execute(text(
                f"SELECT setval(pg_get_serial_sequence('{table_name}', 'id'), "  # noqa: S608 - our table names
                f"(SELECT max(id) FROM {table_name}))"))
    db.session.commit()
    print(f"  listings and their photos inserted in {time.perf_counter() - t0:.1f} s",
          flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("url")
    parser.add_argument("upload_folder")
    parser.add_argument("--instance", default=None)
    parser.add_argument("--listings", type=int, default=100_000)
    parser.add_argument("--users", type=int, default=5_000)
    options = parser.parse_args()
    instance = options.instance or str(Path(options.upload_folder).parent / "instance")
    seed(options.url, options.upload_folder, instance, options.listings, options.users)


if __name__ == "__main__":
    main()
