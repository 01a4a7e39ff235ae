"""Benchmark of the impact dashboard's queries at 100,000 listings, on SQLite and PostgreSQL.

    .venv/bin/python bench/impact.py [--listings N] [--claims N] [--sqlite-only | --postgres-only]
                                     [--postgres URL]

Builds listings (spread over 300 organisations, every category, published over the last two
years, 80 % with a weight, 90 % with a value) and claims (N collected, dated after their
listing's publication, plus half as many requested, accepted, declined and cancelled ones) in
a temporary SQLite file and, when a PostgreSQL server is given (--postgres, else
TEST_DATABASE_URL or BENCH_POSTGRES_URL), in a fresh database `bench_impact` on that server
(dropped afterwards). Times `impact_figures` (every query of the dashboard, without the
template) for the platform and one organisation over several periods, each query alone, the
alternative of bucketing months in Python (fetch one row per collected claim), and reading the
collected claims for the CSV export. Then the whole dashboard page and its PDF through the test
client, for the platform and for the busiest organisation (as its admin), over the last 12
months: time, and the peak of memory Python allocated during one request (tracemalloc). Prints
the median and 95th percentile of each, and the process's peak resident memory at the end.
"""

from __future__ import annotations

import argparse
import os
import random
import resource
import statistics
import tempfile
import time
import tracemalloc
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, insert, select, text
from sqlalchemy.engine import make_url

from marketplace import create_app
from marketplace.config import normalise_database_url
from marketplace.extensions import db
from marketplace.models import (
    Category,
    Claim,
    ClaimStatus,
    Condition,
    Listing,
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
from marketplace.services import impact
from marketplace.services.defaults import ensure_defaults
from marketplace.services.impact import Period, Preset, queries
from marketplace.services.passwords import hash_password

POSTGRES_DATABASE = "bench_impact"
PASSWORD = "bench-impact-password"  # noqa: S105 - a throwaway database
MAX_REPETITIONS = 100
SECONDS_PER_CASE = 4.0


# --- building the data -----------------------------------------------------------------------

def build(listings: int, collected: int) -> None:
    db.create_all()
    ensure_defaults()
    rng = random.Random(20261127)  # noqa: S311 - the same data on every run
    now = datetime.now(UTC)
    category_ids = list(db.session.scalars(select(Category.id)))
    organisations = []
    for number in range(1, 301):
        organisation = Organisation(name=f"Zorggroep {number}", status=OrganisationStatus.ACTIVE,
                                    kind=rng.choice(list(OrganisationKind)))
        organisation.sites.append(Site(name="Hoofdlocatie", street=f"Zorgweg {number}",
                                       postcode="1234 AB", city="Utrecht",
                                       province=rng.choice(list(Province))))
        organisations.append(organisation)
    db.session.add_all(organisations)
    db.session.commit()
    sites = [(organisation.id, organisation.sites[0].id) for organisation in organisations]
    organisation_ids = [organisation.id for organisation in organisations]

    moments = sorted(now - timedelta(minutes=rng.randrange(0, 730 * 24 * 60))
                     for _ in range(listings))
    batch: list[dict[str, Any]] = []
    published: list[datetime] = []
    for published_at in moments:
        organisation_id, site_id = rng.choice(sites)
        quantity = rng.choice([1, 1, 2, 4, 10, 25])
        batch.append({
            "organisation_id": organisation_id, "site_id": site_id,
            "category_id": rng.choice(category_ids), "title": "Bureaustoel",
            "description": "Te geef.", "condition": Condition.GOOD, "quantity": quantity,
            "quantity_available": quantity, "unit": Unit.PIECE,
            "value_per_unit": (Decimal(rng.randrange(100, 50_000)) / 100
                               if rng.random() < 0.9 else None),
            "weight_per_unit_kg": (Decimal(rng.randrange(100, 80_000)) / 1000
                                   if rng.random() < 0.8 else None),
            "available_until": date.today() + timedelta(days=30),
            "status": ListingStatus.PUBLISHED, "published_at": published_at,
            "created_at": published_at, "updated_at": published_at,
        })
        published.append(published_at)
        if len(batch) == 10_000:
            db.session.execute(insert(Listing), batch)
            batch.clear()
    if batch:
        db.session.execute(insert(Listing), batch)
    db.session.commit()
    listing_rows = db.session.execute(select(Listing.id, Listing.organisation_id,
                                             Listing.published_at)).all()

    others = [ClaimStatus.REQUESTED, ClaimStatus.ACCEPTED, ClaimStatus.DECLINED,
              ClaimStatus.CANCELLED]
    claims: list[dict[str, Any]] = []
    for number in range(collected + collected // 2):
        listing_id, giver, published_at = rng.choice(listing_rows)
        published_at = published_at if published_at.tzinfo else published_at.replace(tzinfo=UTC)
        created = published_at + timedelta(minutes=rng.randrange(5, 14 * 24 * 60))
        status = ClaimStatus.COLLECTED if number < collected else rng.choice(others)
        collected_at = (min(created + timedelta(days=rng.randrange(1, 10)), now)
                        if status is ClaimStatus.COLLECTED else None)
        claimant = rng.choice(organisation_ids)
        while claimant == giver:
            claimant = rng.choice(organisation_ids)
        claims.append({
            "listing_id": listing_id, "claimant_organisation_id": claimant,
            "quantity": rng.choice([1, 1, 2, 3]), "status": status,
            "created_at": min(created, now), "collected_at": collected_at,
        })
        if len(claims) == 10_000:
            db.session.execute(insert(Claim), claims)
            claims.clear()
    if claims:
        db.session.execute(insert(Claim), claims)
    db.session.commit()


# --- measuring -------------------------------------------------------------------------------

def measure(call: Callable[[], Any]) -> list[float]:
    for _ in range(2):
        call()
        db.session.remove()
    timings: list[float] = []
    started = time.perf_counter()
    while len(timings) < MAX_REPETITIONS and time.perf_counter() - started < SECONDS_PER_CASE:
        begin = time.perf_counter()
        call()
        timings.append((time.perf_counter() - begin) * 1000)
        db.session.remove()  # every request starts with an empty session
    return timings


def summarise(name: str, timings: list[float], note: str = "") -> tuple[str, float, float,
                                                                        int, str]:
    timings = sorted(timings)
    p95 = timings[min(len(timings) - 1, round(0.95 * (len(timings) - 1)))]
    return name, statistics.median(timings), p95, len(timings), note


def python_months(period: Period) -> int:
    """The alternative to grouping by month in SQL: one row per collected claim, bucketed
    here (what a dialect-free version would do)."""
    book = impact.FactorBook()
    months: dict[tuple[int, int], list[Decimal]] = {}
    rows = db.session.execute(
        select(Claim.collected_at, Listing.category_id, Claim.quantity,
               Listing.weight_per_unit_kg, Listing.value_per_unit)
        .join(Listing, Claim.listing_id == Listing.id)
        .where(Claim.status == ClaimStatus.COLLECTED, Claim.collected_at >= period.starts_at,
               Claim.collected_at < period.ends_before))
    for collected_at, category_id, quantity, weight, value in rows:
        bucket = months.setdefault((collected_at.year, collected_at.month),
                                   [Decimal(0)] * 4)
        kilograms = (weight or 0) * quantity
        bucket[0] += quantity
        bucket[1] += kilograms
        bucket[2] += kilograms * book.for_category(category_id).value
        bucket[3] += (value or 0) * quantity
    return len(months)


def run_cases(app, label: str) -> list[tuple]:
    results = []
    with app.app_context():
        busiest = db.session.execute(text(
            "SELECT organisation_id, count(*) FROM listing GROUP BY organisation_id "
            "ORDER BY count(*) DESC LIMIT 1")).one()[0]
        periods = {
            "last 12 months": Period.from_preset(Preset.LAST_12_MONTHS),
            "this month": Period.from_preset(Preset.THIS_MONTH),
            "all time": Period.from_preset(Preset.ALL_TIME),
        }
        last_year = periods["last 12 months"]
        report = impact.impact_figures(last_year)
        print(f"  last 12 months: {report.total.claims:,} collected claims, "
              f"{report.listings_posted:,} listings posted, "
              f"{report.total.claims_without_weight:,} without weight", flush=True)
        for name, period in periods.items():
            timings = measure(lambda period=period: impact.impact_figures(period))
            results.append(summarise(f"{label} platform, {name}", timings))
        timings = measure(lambda: impact.impact_figures(last_year, busiest))
        results.append(summarise(f"{label} one organisation, last 12 months", timings))
        # The parts of the board report beside the figures (issue 21), each on its own.
        organisation = db.session.get(Organisation, busiest)
        assert organisation is not None
        board = {
            "  how well it works, platform": lambda: impact.uptake(last_year),
            "  how well it works, one organisation": lambda: impact.uptake(last_year, busiest),
            "  Green Deal terms, platform": lambda: impact.green_deal_figures(last_year),
            "  Green Deal terms, one organisation":
                lambda: impact.green_deal_figures(last_year, busiest),
            "  compared with its kind, one organisation":
                lambda: impact.compare(organisation, last_year),
        }
        for name, call in board.items():
            results.append(summarise(f"{label} {name}, last 12 months", measure(call)))

        scope = queries.collected_in(last_year, None)
        month = queries.month_expression().label("month")
        parts = {
            "  query: by category": lambda: db.session.execute(
                queries.sums(select(Listing.category_id)).where(*scope)
                .group_by(Listing.category_id)).all(),
            "  query: by month and category (SQL)": lambda: db.session.execute(
                queries.sums(select(month, Listing.category_id)).where(*scope)
                .group_by(month, Listing.category_id)).all(),
            "  query: organisations": lambda: queries.organisations(scope, None),
            "  query: listings posted": lambda: queries.listings_posted(last_year, None),
            "  query: first claim": lambda: queries.first_claim(last_year, None),
            "  alternative: months in Python": lambda: python_months(last_year),
        }
        for name, call in parts.items():
            results.append(summarise(f"{label} {name}", measure(call)))
        count = sum(1 for _ in impact.collected_claims(last_year))
        timings = measure(lambda: sum(1 for _ in impact.collected_claims(last_year)))
        results.append(summarise(f"{label} claims export rows, last 12 months", timings,
                                 f"{count:,} rows"))
        results += page_cases(app, label, busiest)
    return results


def page_cases(app, label: str, busiest: int) -> list[tuple]:
    """The dashboard page and its PDF through the test client (templates, charts, the
    comparison and xhtml2pdf included), last 12 months; the note is the peak of memory Python
    allocated during one request."""
    viewers = {"platform": "platform-admin@example.org", "organisation": "org-admin@example.org"}
    db.session.add_all([
        User(email=viewers["platform"], name="Platform admin", role=Role.PLATFORM_ADMIN,
             status=UserStatus.ACTIVE, password_hash=hash_password(PASSWORD),
             email_confirmed_at=datetime.now(UTC)),
        User(email=viewers["organisation"], name="Organisation admin", role=Role.ORG_ADMIN,
             organisation_id=busiest, status=UserStatus.ACTIVE,
             password_hash=hash_password(PASSWORD), email_confirmed_at=datetime.now(UTC))])
    db.session.commit()
    pages = {
        "platform": ("/admin/impact", "/admin/impact.pdf"),
        "organisation": (f"/organisations/{busiest}/impact",
                         f"/organisations/{busiest}/impact.pdf"),
    }
    results = []
    for who, paths in pages.items():
        client = app.test_client()
        client.post("/auth/login", data={"email": viewers[who], "password": PASSWORD})
        for kind, path in zip(("page", "PDF"), paths, strict=True):
            def get(path: str = path, client: Any = client) -> int:
                response = client.get(path)
                assert response.status_code == 200, (path, response.status_code)
                return len(response.data)

            size = get()
            tracemalloc.start()
            get()
            peak = tracemalloc.get_traced_memory()[1]
            tracemalloc.stop()
            results.append(summarise(f"{label} {kind}, {who}, last 12 months", measure(get),
                                     f"{size / 1024:,.0f} KiB, peak {peak / 2**20:,.1f} MiB"))
    return results


def bench_app(url: str, instance: Path):
    os.environ["INSTANCE_PATH"] = str(instance)
    return create_app({
        "SECRET_KEY": "bench", "SQLALCHEMY_DATABASE_URI": url, "RATELIMIT_ENABLED": False,
        "MAIL_FOLDER": str(instance / "mail"), "UPLOAD_FOLDER": str(instance / "uploads"),
        # The pages are fetched through the test client, logged in with a form.
        "TESTING": True, "WTF_CSRF_ENABLED": False, "SESSION_COOKIE_SECURE": False,
    })


def run_sqlite(listings: int, collected: int, workdir: Path) -> list[tuple]:
    path = workdir / "bench.sqlite"
    app = bench_app(f"sqlite:///{path}", workdir / "instance-sqlite")
    print(f"SQLite: building {listings:,} listings, {collected:,} collected claims …",
          flush=True)
    started = time.perf_counter()
    with app.app_context():
        build(listings, collected)
        db.engine.dispose()
    print(f"  built in {time.perf_counter() - started:.1f} s (no ANALYZE)", flush=True)
    return run_cases(app, "SQLite")


def run_postgres(server_url: str, listings: int, collected: int, workdir: Path) -> list[tuple]:
    server = make_url(normalise_database_url(server_url))
    admin = create_engine(server.set(database="postgres"), isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{POSTGRES_DATABASE}" WITH (FORCE)'))
            connection.execute(text(f'CREATE DATABASE "{POSTGRES_DATABASE}"'))
    except Exception as error:  # no server: say so and go on
        print(f"PostgreSQL at {server_url} not usable ({error}); skipped")
        return []
    url = server.set(database=POSTGRES_DATABASE).render_as_string(hide_password=False)
    app = bench_app(url, workdir / "instance-postgres")
    try:
        print(f"PostgreSQL {POSTGRES_DATABASE}: building …", flush=True)
        started = time.perf_counter()
        with app.app_context():
            build(listings, collected)
            db.session.execute(text("ANALYZE"))
            db.session.commit()
        print(f"  built in {time.perf_counter() - started:.1f} s (ANALYZE run)", flush=True)
        return run_cases(app, "PostgreSQL")
    finally:
        with app.app_context():
            db.session.remove()
            db.engine.dispose()
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{POSTGRES_DATABASE}" WITH (FORCE)'))
        admin.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--listings", type=int, default=100_000)
    parser.add_argument("--claims", type=int, default=30_000, help="collected claims")
    parser.add_argument("--postgres", default=os.environ.get("TEST_DATABASE_URL")
                        or os.environ.get("BENCH_POSTGRES_URL"),
                        help="a PostgreSQL URL (its server gets a database bench_impact)")
    only = parser.add_mutually_exclusive_group()
    only.add_argument("--sqlite-only", action="store_true")
    only.add_argument("--postgres-only", action="store_true")
    options = parser.parse_args()
    results: list[tuple] = []
    with tempfile.TemporaryDirectory(prefix="bench-impact-") as workdir:
        if not options.postgres_only:
            results += run_sqlite(options.listings, options.claims, Path(workdir))
        if not options.sqlite_only and options.postgres:
            results += run_postgres(options.postgres, options.listings, options.claims,
                                    Path(workdir))
    if results:
        width = max(len(row[0]) for row in results)
        print(f"\n{'case':<{width}}  {'median ms':>9}  {'p95 ms':>7}  {'runs':>4}")
        for name, median, p95, runs, note in results:
            print(f"{name:<{width}}  {median:>9.1f}  {p95:>7.1f}  {runs:>4}  {note}")
    # ru_maxrss is in kilobytes on Linux.
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"\npeak resident memory of this process: {peak:,.0f} MiB")


if __name__ == "__main__":
    main()
