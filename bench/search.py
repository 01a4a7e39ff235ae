"""Benchmark of the listing search at 100,000 listings, on SQLite and on PostgreSQL.

    .venv/bin/python bench/search.py [--listings N] [--sqlite-only | --postgres-only]

Builds a database with realistic listings (Dutch and English titles and descriptions from word
lists, spread over organisations, sites, provinces, categories, conditions and dates) in a
temporary SQLite file and in a fresh PostgreSQL database (`bench_search` on BENCH_POSTGRES_URL,
default postgresql://postgres@127.0.0.1:5432, dropped afterwards), then times the service call
`search_listings` (server time without HTTP and templates) for the searches the pages make, and,
if the app has a `/listings/` route, the same requests through the Flask test client. Prints the
median and 95th percentile of each.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
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
    Condition,
    Language,
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
    search_index,
)
from marketplace.services.defaults import ensure_defaults
from marketplace.services.places import locate
from marketplace.services.search import (
    SearchQuery,
    Sort,
    did_you_mean,
    refresh_vocabulary,
    results_visibility,
    search_listings,
    with_origin,
)

POSTGRES_SERVER = os.environ.get("BENCH_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432")
# Its own name per run where several people (or agents) bench on one server at once.
POSTGRES_DATABASE = os.environ.get("BENCH_POSTGRES_DATABASE", "bench_search")
MAX_REPETITIONS = 200
SECONDS_PER_CASE = 4.0
COMMON_WORD = "contact"  # in 85 % of the descriptions, in both languages
TYPO = "typo suggestion"
CASE_FILTER = [""]  # --cases
HTTP_CASES = {"home: newest, page 1", "words + 2 filters", f"common word '{COMMON_WORD}', newest",
              "page 200, no words"}

DUTCH_ITEMS = [
    ("rolstoel", "mobility"), ("rollator", "mobility"), ("looprek", "mobility"),
    ("rolstoelkussen", "mobility"), ("elleboogkrukken", "mobility"),
    ("tillift", "lifting"), ("transferplank", "lifting"), ("douchestoel", "medical-aids"),
    ("bloeddrukmeter", "monitoring"), ("saturatiemeter", "monitoring"),
    ("thermometer", "monitoring"), ("infuuspaal", "medical-aids"),
    ("hoog-laag bed", "care-beds"), ("anti-decubitusmatras", "care-beds"),
    ("bedhekken", "care-beds"), ("bureaustoel", "office-furniture"),
    ("vergadertafel", "office-furniture"), ("archiefkast", "office-furniture"),
    ("nachtkastje", "residential-furniture"), ("fauteuil", "residential-furniture"),
    ("eettafel", "residential-furniture"), ("wondverband", "wound-care"),
    ("pleisters", "wound-care"), ("incontinentiemateriaal", "incontinence"),
    ("onderleggers", "incontinence"), ("handschoenen", "ppe"), ("mondkapjes", "ppe"),
    ("isolatieschorten", "ppe"), ("laptop", "office-it"), ("beeldscherm", "office-it"),
    ("printer", "office-it"), ("koffiezetapparaat", "kitchen"), ("koelkast", "kitchen"),
    ("serviesgoed", "kitchen"), ("beddengoed", "linen-textiles"),
    ("handdoeken", "linen-textiles"), ("schoonmaakmiddel", "cleaning"),
    ("dweilen", "cleaning"), ("gezelschapsspellen", "activities"), ("puzzels", "activities"),
    ("gordijnen", "other"),
]
ENGLISH_ITEMS = [
    ("wheelchair", "mobility"), ("walker", "mobility"), ("crutches", "mobility"),
    ("patient hoist", "lifting"), ("transfer board", "lifting"),
    ("shower chair", "medical-aids"), ("blood pressure monitor", "monitoring"),
    ("pulse oximeter", "monitoring"), ("IV pole", "medical-aids"), ("care bed", "care-beds"),
    ("pressure relief mattress", "care-beds"), ("office chair", "office-furniture"),
    ("meeting table", "office-furniture"), ("filing cabinet", "office-furniture"),
    ("bedside table", "residential-furniture"), ("armchair", "residential-furniture"),
    ("dressings", "wound-care"), ("incontinence pads", "incontinence"), ("gloves", "ppe"),
    ("face masks", "ppe"), ("laptop", "office-it"), ("monitor", "office-it"),
    ("coffee machine", "kitchen"), ("fridge", "kitchen"), ("bed linen", "linen-textiles"),
    ("towels", "linen-textiles"), ("cleaning supplies", "cleaning"),
    ("board games", "activities"), ("curtains", "other"),
]
DUTCH_ADJECTIVES = ["nieuwe", "gebruikte", "verstelbare", "elektrische", "opvouwbare",
                    "lichtgewicht", "grote", "kleine", "zwarte", "witte", "complete"]
ENGLISH_ADJECTIVES = ["new", "used", "adjustable", "electric", "foldable", "lightweight",
                      "large", "small", "black", "white", "complete"]
DUTCH_SENTENCES = [
    "In {state} staat, {count} stuks beschikbaar.",
    "Afmetingen ongeveer {width} bij {depth} cm.",
    "Vrijgekomen door {reason}.",
    "Ophalen bij de receptie tussen {start} en {end} uur.",
    "Gereinigd en gecontroleerd door de technische dienst.",
    "Merk {brand}, bouwjaar {year}.",
    "Graag in één keer ophalen, een bus of aanhanger is handig.",
]
DUTCH_STATES = ["goede", "nette", "redelijke", "uitstekende", "nieuwe"]
DUTCH_REASONS = ["een verbouwing", "de verhuizing van een afdeling", "vervanging",
                 "een overschot", "het sluiten van een locatie"]
ENGLISH_SENTENCES = [
    "In {state} condition, {count} available.",
    "About {width} by {depth} cm.",
    "Freed up by {reason}.",
    "Pick up at reception between {start} and {end}.",
    "Cleaned and checked by our technical staff.",
    "Brand {brand}, built in {year}.",
    "Please collect everything at once; a van helps.",
]
ENGLISH_STATES = ["good", "fine", "fair", "excellent", "new"]
ENGLISH_REASONS = ["a renovation", "a ward moving", "replacement", "overstock",
                   "a site closing"]
BRANDS = ["Invacare", "Vermeiren", "Arjo", "Hill-Rom", "Philips", "Ahrend", "HP", "Dell",
          "Tena", "Hartmann", "Bosch", "Miele"]
CITIES = {
    Province.GRONINGEN: "Groningen", Province.FRIESLAND: "Leeuwarden",
    Province.DRENTHE: "Assen", Province.OVERIJSSEL: "Zwolle", Province.FLEVOLAND: "Almere",
    Province.GELDERLAND: "Arnhem", Province.UTRECHT: "Utrecht",
    Province.NOORD_HOLLAND: "Haarlem", Province.ZUID_HOLLAND: "Rotterdam",
    Province.ZEELAND: "Middelburg", Province.NOORD_BRABANT: "Eindhoven",
    Province.LIMBURG: "Maastricht",
}


@dataclass
class Case:
    name: str
    query: SearchQuery
    viewer: str = "anonymous"  # or "member"
    kind: str = "search"  # or "typo suggestion": the search, then "Did you mean …?" under it


def cases(category_ids: dict[str, int]) -> list[Case]:
    medical = category_ids["medical-aids"]
    return [
        Case("home: newest, page 1", SearchQuery()),
        Case("home: newest, page 1 (member)", SearchQuery(), viewer="member"),
        Case("words + 2 filters", SearchQuery(text="rolstoel", province=Province.ZUID_HOLLAND,
                                              condition=Condition.GOOD)),
        Case(f"'{COMMON_WORD}' + 2 narrow filters",
             SearchQuery(text=COMMON_WORD, province=Province.ZEELAND,
                         condition=Condition.FOR_PARTS)),
        Case("category tree + province", SearchQuery(category_id=medical,
                                                     province=Province.NOORD_BRABANT)),
        Case("rare word", SearchQuery(text="zuurstofconcentrator")),
        Case("word in ~3 %, relevance", SearchQuery(text="rolstoel", sort=Sort.RELEVANCE)),
        Case(f"common word '{COMMON_WORD}', newest", SearchQuery(text=COMMON_WORD)),
        Case(f"common word '{COMMON_WORD}', relevance",
             SearchQuery(text=COMMON_WORD, sort=Sort.RELEVANCE)),
        Case(f"common word '{COMMON_WORD}', expiring",
             SearchQuery(text=COMMON_WORD, sort=Sort.EXPIRING)),
        Case("page 200, no words", SearchQuery(page=200)),
        Case(f"page 200, '{COMMON_WORD}', newest", SearchQuery(text=COMMON_WORD, page=200)),
        Case(f"page 200, '{COMMON_WORD}', relevance",
             SearchQuery(text=COMMON_WORD, sort=Sort.RELEVANCE, page=200)),
        # Dutch words (issue 18): a stem, part of a word, a synonym, a category's name.
        Case("stem 'stoelen'", SearchQuery(text="stoelen")),
        Case("part of a word 'stoel' (douchestoel, bureaustoel)", SearchQuery(text="stoel")),
        Case("part of a word 'stoel', relevance",
             SearchQuery(text="stoel", sort=Sort.RELEVANCE)),
        Case("part of a word 'kast' + province",
             SearchQuery(text="kast", province=Province.UTRECHT)),
        Case("synonym 'gloves' (handschoenen)", SearchQuery(text="gloves")),
        Case("category name 'hulpmiddelen'", SearchQuery(text="hulpmiddelen")),
        Case("two words, one by part 'stoel elektrische'",
             SearchQuery(text="stoel elektrische", sort=Sort.RELEVANCE)),
        # `new`, three letters, is matched by its words alone, `stoel` beyond them too.
        Case("two words, one by its words alone 'stoel new'",
             SearchQuery(text="stoel new", sort=Sort.RELEVANCE)),
        # From the member's first site, as the search page does (search.with_origin).
        Case("within 25 km", SearchQuery(within_km=25), viewer="member"),
        Case("within 25 km + word", SearchQuery(text="rolstoel", within_km=25), viewer="member"),
        Case("within 5 km", SearchQuery(within_km=5), viewer="member"),
        Case("nearest first", SearchQuery(sort=Sort.NEAREST), viewer="member"),
        Case("nearest first + word", SearchQuery(text="rolstoel", sort=Sort.NEAREST),
             viewer="member"),
        Case("nearest first + rare word",
             SearchQuery(text="zuurstofconcentrator", sort=Sort.NEAREST), viewer="member"),
        Case("nearest first within 25 km, page 20",
             SearchQuery(sort=Sort.NEAREST, within_km=25, page=20), viewer="member"),
        # Typos (issue 18): what the results page does when a search finds 0-2 listings.
        Case("typo 'rolator' (rollator)", SearchQuery(text="rolator"), kind=TYPO),
        Case("typo 'handschoenem' + province",
             SearchQuery(text="handschoenem", province=Province.UTRECHT), kind=TYPO),
        Case("typo 'wheelchiar' (member)", SearchQuery(text="wheelchiar"), viewer="member",
             kind=TYPO),
        Case("two typos 'elektrishe rolstol'", SearchQuery(text="elektrishe rolstol"),
             kind=TYPO),
        Case("typo, nothing close 'xylofoonstandaard'",
             SearchQuery(text="xylofoonstandaard"), kind=TYPO),
    ]


# --- building the data -----------------------------------------------------------------------

def build(count: int) -> None:
    """Organisations, sites, a member and `count` listings, in the app's database."""
    db.create_all()
    ensure_defaults()  # categories and synonyms, as a new platform has them
    rng = random.Random(20261126)  # noqa: S311 - the same test data on every run
    now = datetime.now(UTC)
    today = date.today()
    categories = {slug: id_ for id_, slug in db.session.execute(select(Category.id,
                                                                        Category.slug))}
    organisations = []
    # Sites spread around each province's city (about 30 by 30 km), from their own generator
    # so that the listings stay the same as without coordinates.
    spread = random.Random(20261205)  # noqa: S311 - the same test data on every run
    for number in range(1, 301):
        status = OrganisationStatus.ACTIVE if number % 20 else OrganisationStatus.SUSPENDED
        organisation = Organisation(name=f"Zorggroep {number}", status=status,
                                    kind=rng.choice(list(OrganisationKind)))
        for site_number in range(rng.choice([1, 1, 2, 3])):
            province = rng.choice(list(Province))
            latitude, longitude = locate("1234 AB", CITIES[province], province) or (52.1, 5.1)
            organisation.sites.append(Site(
                name=f"Locatie {site_number + 1}", street=f"Zorgweg {number}",
                postcode="1234 AB", city=CITIES[province], province=province,
                latitude=latitude + spread.uniform(-0.14, 0.14),
                longitude=longitude + spread.uniform(-0.22, 0.22)))
        organisations.append(organisation)
    db.session.add_all(organisations)
    db.session.flush()
    member = User(email="member@example.org", name="Member", password_hash="-",  # noqa: S106 - nobody logs in
                  organisation=organisations[0], role=Role.MEMBER, status=UserStatus.ACTIVE,
                  language=Language.NL, email_confirmed_at=now)
    db.session.add(member)
    db.session.commit()
    sites = [(site.organisation_id, site.id) for organisation in organisations
             for site in organisation.sites]

    statuses = ([ListingStatus.PUBLISHED] * 85 + [ListingStatus.DRAFT] * 3
                + [ListingStatus.PENDING_REVIEW] * 2 + [ListingStatus.CLOSED] * 4
                + [ListingStatus.WITHDRAWN] * 2 + [ListingStatus.EXPIRED] * 4)
    conditions = list(Condition)
    units = list(Unit)
    batch: list[dict[str, Any]] = []
    rebuild_search_indexes = _without_search_indexes()
    # Ids grow with time, as they do when listings are posted one after the other.
    moments = sorted(now - timedelta(minutes=rng.randrange(0, 180 * 24 * 60))
                     for _ in range(count))
    for published_at in moments:
        english = rng.random() < 0.3
        items, adjectives = ((ENGLISH_ITEMS, ENGLISH_ADJECTIVES) if english
                             else (DUTCH_ITEMS, DUTCH_ADJECTIVES))
        item, slug = rng.choice(items)
        title = f"{rng.choice(adjectives)} {item}".capitalize()
        if rng.random() < 0.3:
            title += f" {rng.choice(BRANDS)}"
        if rng.random() < 0.003:
            title += " en zuurstofconcentrator" if not english else " and oxygen concentrator"
        description = _description(rng, english, item)
        organisation_id, site_id = rng.choice(sites)
        status = rng.choice(statuses)
        quantity = rng.choice([1, 1, 2, 4, 10, 25, 100])
        batch.append({
            "organisation_id": organisation_id, "site_id": site_id,
            "category_id": categories[slug], "title": title[:120], "description": description,
            "condition": rng.choice(conditions), "quantity": quantity,
            "quantity_available": quantity, "unit": rng.choice(units),
            "value_per_unit": Decimal(rng.randrange(100, 100_000)) / 100,
            "weight_per_unit_kg": None,
            # Mostly still available; a few past their date but not yet expired by housekeeping.
            "available_until": today + timedelta(days=rng.randrange(-3, 90)),
            "delivery_possible": rng.random() < 0.3,
            "internal_until": (now + timedelta(days=rng.randrange(1, 10))
                               if rng.random() < 0.05 else None),
            "status": status,
            "published_at": published_at if status is not ListingStatus.DRAFT else None,
            "created_at": published_at - timedelta(hours=1),
            "updated_at": published_at,
        })
        if len(batch) == 10_000:
            db.session.execute(insert(Listing), batch)
            batch.clear()
    if batch:
        db.session.execute(insert(Listing), batch)
    db.session.commit()
    rebuild_search_indexes()
    refresh_vocabulary()  # PostgreSQL's words of titles, as housekeeping keeps them


def _without_search_indexes() -> Callable[[], None]:
    """Drop the full-text indexes for the bulk insert and return what builds them once after it:
    one build instead of an update per row (PostgreSQL's GIN indexes, SQLite's triggers that
    feed FTS5). The same indexes the app makes (models/search_index.py)."""
    if db.engine.dialect.name == "postgresql":
        definitions = db.session.scalars(text(
            "SELECT indexdef FROM pg_indexes WHERE tablename = 'listing' "
            "AND indexdef LIKE '%USING gin%'")).all()
        for definition in definitions:
            db.session.execute(text("DROP INDEX " + definition.split()[2]))
        db.session.commit()

        def rebuild() -> None:
            for definition in definitions:
                db.session.execute(text(definition))
            db.session.commit()
        return rebuild
    triggers = [statement for statement in search_index.SQLITE_CREATE
                if statement.startswith("CREATE TRIGGER")]
    for statement in search_index.SQLITE_DROP:
        if statement.startswith("DROP TRIGGER"):
            db.session.execute(text(statement))
    db.session.commit()

    def rebuild_sqlite() -> None:
        db.session.execute(text("INSERT INTO listing_fts(listing_fts) VALUES ('rebuild')"))
        db.session.execute(text("INSERT INTO listing_parts(listing_parts) VALUES ('rebuild')"))
        for statement in triggers:
            db.session.execute(text(statement))
        db.session.commit()
    return rebuild_sqlite


def _description(rng: random.Random, english: bool, item: str) -> str:
    sentences, states, reasons = ((ENGLISH_SENTENCES, ENGLISH_STATES, ENGLISH_REASONS)
                                  if english else (DUTCH_SENTENCES, DUTCH_STATES, DUTCH_REASONS))
    chosen = rng.sample(sentences, rng.randint(2, 5))
    text_ = " ".join(sentence.format(
        state=rng.choice(states), count=rng.randint(1, 40), width=rng.randint(30, 220),
        depth=rng.randint(30, 120), reason=rng.choice(reasons), start=rng.randint(8, 10),
        end=rng.randint(15, 18), brand=rng.choice(BRANDS), year=rng.randint(2008, 2025),
    ) for sentence in chosen)
    opening = f"{item.capitalize()} {'available' if english else 'beschikbaar'}. "
    if rng.random() < 0.85:
        text_ += (" Contact via the platform." if english else " Contact via het platform.")
    return opening + text_


# --- measuring -------------------------------------------------------------------------------

@dataclass
class Timing:
    name: str
    median_ms: float
    p95_ms: float
    repetitions: int
    total: str


def measure(call: Callable[[], Any]) -> tuple[list[float], Any]:
    for _ in range(3):  # warm the caches and the connection pool
        result = call()
        db.session.remove()
    timings: list[float] = []
    started = time.perf_counter()
    while len(timings) < MAX_REPETITIONS and time.perf_counter() - started < SECONDS_PER_CASE:
        begin = time.perf_counter()
        result = call()
        timings.append((time.perf_counter() - begin) * 1000)
        db.session.remove()  # every request starts with an empty session
    return timings, result


def summarise(name: str, timings: list[float], total: str) -> Timing:
    timings = sorted(timings)
    p95 = timings[min(len(timings) - 1, round(0.95 * (len(timings) - 1)))]
    return Timing(name, statistics.median(timings), p95, len(timings), total)


def run_cases(app, label: str) -> list[Timing]:
    results: list[Timing] = []
    with app.app_context():
        category_ids = {slug: id_ for id_, slug in db.session.execute(
            select(Category.id, Category.slug))}
        member_id = db.session.scalar(select(User.id).where(User.email == "member@example.org"))
        for case in cases(category_ids):
            if CASE_FILTER[0] not in case.name:
                continue

            def call(case: Case = case):
                viewer = db.session.get(User, member_id) if case.viewer == "member" else None
                query = with_origin(viewer, case.query)
                found = search_listings(viewer, query)
                if case.kind == TYPO:
                    return found, did_you_mean(results_visibility(viewer), query, found.total)
                return found, None

            timings, (last, suggestion) = measure(call)
            total = f"{last.total}{'' if last.total_is_exact else '+'}"
            if case.kind == TYPO:
                total += f", suggests {suggestion!r}"
            if last.sorted_by is not case.query.sort:
                total += f" (sorted {last.sorted_by})"
            results.append(summarise(f"{label} service: {case.name}", timings, total))
        if any(rule.rule == "/listings/" for rule in app.url_map.iter_rules()):
            client = app.test_client()
            for case in cases(category_ids):
                if case.name not in HTTP_CASES:
                    continue
                args = case.query.to_args()
                response = client.get("/listings/", query_string=args)
                if response.status_code != 200:
                    print(f"  (/listings/ answered {response.status_code}; not measured)")
                    break
                timings, _ = measure(lambda args=args: client.get("/listings/", query_string=args))
                results.append(summarise(f"{label} GET /listings/: {case.name}", timings, ""))
        else:
            print("  (no /listings/ route in this app: measured the service only)")
    return results


def bench_app(url: str, instance: Path):
    os.environ["INSTANCE_PATH"] = str(instance)
    return create_app({
        "SECRET_KEY": "bench", "SQLALCHEMY_DATABASE_URI": url, "RATELIMIT_ENABLED": False,
        "MAIL_FOLDER": str(instance / "mail"), "UPLOAD_FOLDER": str(instance / "uploads"),
        "WTF_CSRF_ENABLED": False,
        # The page rendered each time, as for a search asked for the first time: with the
        # page cache the same request would measure a kept page (about 1 ms).
        "SEARCH_CACHE_URL": "none",
    })


def run_sqlite(count: int, workdir: Path, kept: Path | None = None) -> list[Timing]:
    if kept:
        kept.mkdir(parents=True, exist_ok=True)
    path = kept / f"bench-{count}.sqlite" if kept else workdir / "bench.sqlite"
    app = bench_app(f"sqlite:///{path}", workdir / "instance-sqlite")
    if path.exists():
        print(f"SQLite {path}: kept from an earlier run (--keep)", flush=True)
        return run_cases(app, "SQLite")
    print(f"SQLite {path}: building {count:,} listings …", flush=True)
    started = time.perf_counter()
    with app.app_context():
        build(count)
        db.engine.dispose()
    size = path.stat().st_size / 1e6
    print(f"  built in {time.perf_counter() - started:.1f} s, {size:.0f} MB (no ANALYZE)",
          flush=True)
    return run_cases(app, "SQLite")


def run_postgres(count: int, workdir: Path, keep: bool = False) -> list[Timing]:
    """On a fresh database, dropped afterwards; with --keep on `bench_search_<count>`, built
    once and used again."""
    name = f"{POSTGRES_DATABASE}_{count}" if keep else POSTGRES_DATABASE
    server = make_url(normalise_database_url(POSTGRES_SERVER))
    admin = create_engine(server.set(database="postgres"), isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as connection:
            kept = keep and connection.scalar(
                text("SELECT 1 FROM pg_database WHERE datname = :name"), {"name": name})
            if not kept:
                connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
                connection.execute(text(f'CREATE DATABASE "{name}"'))
    except Exception as error:  # no server: say so and go on
        print(f"PostgreSQL at {POSTGRES_SERVER} not usable ({error}); skipped")
        return []
    url = server.set(database=name).render_as_string(hide_password=False)
    app = bench_app(url, workdir / "instance-postgres")
    try:
        if kept:
            print(f"PostgreSQL {name}: kept from an earlier run (--keep)", flush=True)
        else:
            print(f"PostgreSQL {name}: building {count:,} listings …", flush=True)
            started = time.perf_counter()
            with app.app_context():
                build(count)
                db.session.commit()
                # What autovacuum does soon after so many inserts: statistics, and the
                # visibility map without which an index-only scan reads the table too
                # ("within 25 km" at 1,000,000 listings: 212 ms without, 24 ms with).
                with db.engine.connect().execution_options(
                        isolation_level="AUTOCOMMIT") as vacuum:
                    vacuum.exec_driver_sql("VACUUM (ANALYZE)")
            print(f"  built in {time.perf_counter() - started:.1f} s (VACUUM ANALYZE run)",
                  flush=True)
        return run_cases(app, "PostgreSQL")
    finally:
        with app.app_context():
            db.session.remove()
            db.engine.dispose()
        if not keep:
            with admin.connect() as connection:
                connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def print_table(timings: list[Timing]) -> None:
    width = max(len(timing.name) for timing in timings)
    print(f"\n{'case':<{width}}  {'median ms':>9}  {'p95 ms':>7}  {'runs':>4}  matches")
    for timing in timings:
        print(f"{timing.name:<{width}}  {timing.median_ms:>9.1f}  {timing.p95_ms:>7.1f}  "
              f"{timing.repetitions:>4}  {timing.total}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--listings", type=int, default=100_000)
    only = parser.add_mutually_exclusive_group()
    only.add_argument("--sqlite-only", action="store_true")
    only.add_argument("--postgres-only", action="store_true")
    parser.add_argument("--keep", type=Path, metavar="DIR",
                        help="keep the SQLite database in DIR (and PostgreSQL's as "
                             "bench_search_<listings>) and use them again when there (delete "
                             "them after changing the schema or the data)")
    parser.add_argument("--cases", metavar="TEXT", default="",
                        help="run only the cases whose name holds TEXT")
    options = parser.parse_args()
    CASE_FILTER[0] = options.cases
    timings: list[Timing] = []
    with tempfile.TemporaryDirectory(prefix="bench-search-") as workdir:
        if not options.postgres_only:
            timings += run_sqlite(options.listings, Path(workdir), options.keep)
        if not options.sqlite_only:
            timings += run_postgres(options.listings, Path(workdir), options.keep is not None)
    if timings:
        print_table(timings)


if __name__ == "__main__":
    main()
