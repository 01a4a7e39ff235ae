"""The load test: the app under gunicorn on SQLite and on PostgreSQL, driven by Locust headless.

    .venv/bin/python bench/load/run.py [--sqlite-only | --postgres-only] [options]

For each database:
1. a seeded database (100,000 listings, 5,000 users, 300 organisations: bench/load/seed.py) is
   made once and kept, keyed by seed.seed_key(): SQLite as a file under --cache
   (instance/bench-load/), PostgreSQL as a template database `<--postgres-db>_seed` whose
   comment holds the key. Each run works on a copy (file copy, CREATE DATABASE … TEMPLATE), so
   every run starts from the same data;
2. gunicorn serves the app with --workers sync workers on 127.0.0.1 and a free port (SQLite in
   WAL mode with a busy timeout, as marketplace/__init__.py configures every connection);
3. Locust (bench/load/locustfile.py, headless, loopback only) runs these phases:
   - `/livez` alone, then the search pages alone asked by visitors, then the same pages asked
     by logged-in members (--ratio-users of them, each of another organisation), each for
     --ratio-time seconds with --ratio-users users and no think time, in --ratio-rounds
     alternating rounds: the ratio of each search's throughput to `/livez`'s is the search
     page's share of the framework's ceiling, measured by the same gunicorn in the same run;
   - the mix (visitors, members who claim and post with photos, givers who accept) for
     --mixed-time seconds with --mixed-users users and --wait think time;
4. prints requests per second, p50 and p95 per page, failures (5xx per route), the ratio, and
   how often the server's log says "database is locked". The figures are also written as JSON
   to --cache/results-<database>.json.

Settings of the app under test (environment): RATELIMIT_ENABLED=0 (every simulated user comes
from 127.0.0.1), SESSION_COOKIE_SECURE=0 (plain HTTP on loopback), MAIL_DELIVER_AFTER_REQUEST=0
(mail waits in the outbox for `send-mail`, as in production), LOG_LEVEL=WARNING, no access log,
SEARCH_CACHE_URL from --search-cache (Redis shared by the workers, as production with several
workers runs; `--search-cache none` measures every page rendered afresh).
"""

from __future__ import annotations

import argparse
import csv
import http.cookiejar
import json
import os
import re
import shutil
import socket
import statistics
import subprocess
import sys
import time
import urllib.parse
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from datetime import date
from pathlib import Path

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(ROOT))

import seed as seeding  # noqa: E402
from searches import search_cycle  # noqa: E402

from marketplace.config import normalise_database_url  # noqa: E402

BIN = Path(sys.executable).parent
POSTGRES_SERVER = os.environ.get("BENCH_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


# --- seeded databases, kept between runs --------------------------------------------------------

def sqlite_database(cache: Path, work: Path, options: argparse.Namespace) -> tuple[str, Path]:
    """A fresh copy of the seeded SQLite file (seeding it first when missing): URL, uploads."""
    key = f"{seeding.seed_key()}-{options.listings}-{options.users}"
    seeded, uploads = cache / f"sqlite-{key}.sqlite", cache / f"uploads-sqlite-{key}"
    if not seeded.exists():
        print(f"SQLite: seeding {options.listings:,} listings into {seeded} …", flush=True)
        for stale in (*cache.glob("sqlite-*.sqlite"), *cache.glob("uploads-sqlite-*")):
            shutil.rmtree(stale) if stale.is_dir() else stale.unlink()  # an older seed
        partial = seeded.with_suffix(".partial")
        partial.unlink(missing_ok=True)
        shutil.rmtree(uploads, ignore_errors=True)
        seeding.seed(f"sqlite:///{partial}", str(uploads), str(work / "seed-instance"),
                     options.listings, options.users)
        partial.rename(seeded)
    else:
        print(f"SQLite: reusing {seeded} (seed {key})", flush=True)
    copy = work / "load.sqlite"
    shutil.copyfile(seeded, copy)
    return f"sqlite:///{copy}", uploads


def postgres_database(cache: Path, work: Path, options: argparse.Namespace) -> tuple[str, Path]:
    """A fresh copy (CREATE DATABASE … TEMPLATE) of the seeded template database."""
    key = f"{seeding.seed_key()}-{options.listings}-{options.users}"
    server = make_url(normalise_database_url(POSTGRES_SERVER))
    name, template = options.postgres_db, f"{options.postgres_db}_seed"
    uploads = cache / f"uploads-postgres-{key}"
    admin = create_engine(server.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        comment = connection.scalar(text(
            "SELECT shobj_description(oid, 'pg_database') FROM pg_database "
            "WHERE datname = :name"), {"name": template})
        if comment != key:
            print(f"PostgreSQL: seeding {options.listings:,} listings into {template} …",
                  flush=True)
            connection.execute(text(f'DROP DATABASE IF EXISTS "{template}" WITH (FORCE)'))
            connection.execute(text(f'CREATE DATABASE "{template}"'))
            shutil.rmtree(uploads, ignore_errors=True)
            seeding.seed(server.set(database=template).render_as_string(hide_password=False),
                         str(uploads), str(work / "seed-instance"), options.listings,
                         options.users)
            connection.execute(text(f"COMMENT ON DATABASE \"{template}\" IS '{key}'"))
        else:
            print(f"PostgreSQL: reusing {template} (seed {key})", flush=True)
        connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        connection.execute(text(f'CREATE DATABASE "{name}" TEMPLATE "{template}"'))
    admin.dispose()
    return server.set(database=name).render_as_string(hide_password=False), uploads


def write_plan(url: str, path: Path, ratio_members: int) -> None:
    """What the simulated users need from the data: logins and listing ids; for the members'
    ratio, `ratio_members` members of as many organisations, spread over them."""
    engine = create_engine(normalise_database_url(url))
    givers = seeding.GIVER_ORGANISATIONS
    with engine.connect() as connection:
        visible = list(connection.scalars(text(
            "SELECT listing.id FROM listing JOIN organisation ON organisation.id = "
            "listing.organisation_id WHERE listing.status = 'published' AND "
            "organisation.status = 'active' AND listing.internal_until IS NULL AND "
            "listing.available_until >= :today ORDER BY listing.id"), {"today": date.today()}))
        giver_listings = list(connection.scalars(text(
            "SELECT id FROM listing WHERE organisation_id <= :givers AND status = 'published' "
            "ORDER BY id"), {"givers": givers}))
        members = list(connection.scalars(text(
            "SELECT email FROM user_account JOIN organisation ON organisation.id = "
            "user_account.organisation_id WHERE organisation.status = 'active' AND "
            "organisation.id > :givers ORDER BY user_account.id"), {"givers": givers}))
        giver_users = list(connection.scalars(text(
            "SELECT email FROM user_account WHERE organisation_id <= :givers ORDER BY id"),
            {"givers": givers}))
        categories = list(connection.scalars(text("SELECT id FROM category ORDER BY id")))
        # The first member of each organisation whose members are in `members`.
        firsts = list(connection.scalars(text(
            "SELECT min(user_account.email) FROM user_account JOIN organisation ON "
            "organisation.id = user_account.organisation_id WHERE organisation.status = "
            "'active' AND organisation.id > :givers GROUP BY organisation.id "
            "ORDER BY organisation.id"), {"givers": givers}))
    engine.dispose()
    step = max(len(firsts) // max(ratio_members, 1), 1)
    path.write_text(json.dumps({
        "password": seeding.PASSWORD, "listings": visible[::10], "giver_listings":
        giver_listings, "members": members, "givers": giver_users, "categories": categories,
        "ratio_members": firsts[::step][:ratio_members],
    }))


# --- the server and the load -------------------------------------------------------------------

def start_gunicorn(url: str, uploads: Path, work: Path, port: int, workers: int,
                   log: Path, search_cache: str) -> subprocess.Popen:
    run_uploads = work / "uploads"
    shutil.rmtree(run_uploads, ignore_errors=True)
    shutil.copytree(uploads, run_uploads)
    env = {**os.environ, "DATABASE_URL": url, "INSTANCE_PATH": str(work / "instance"),
           "UPLOAD_FOLDER": str(run_uploads), "SECRET_KEY": "bench-load-secret",
           "SESSION_COOKIE_SECURE": "0", "RATELIMIT_ENABLED": "0",
           "MAIL_DELIVER_AFTER_REQUEST": "0", "LOG_LEVEL": "WARNING",
           # A prefix of its own: nothing kept by an earlier run (on other data) is read.
           "SEARCH_CACHE_URL": search_cache,
           "SEARCH_CACHE_KEY_PREFIX": f"bench-{time.time_ns()}:"}
    env.pop("MAIL_SERVER", None)
    server = subprocess.Popen(  # noqa: S603 - our own executables and arguments
        [str(BIN / "gunicorn"), "--workers", str(workers), "--bind", f"127.0.0.1:{port}",
         "--worker-class", "sync", "--timeout", "60", "wsgi:app"],
        cwd=ROOT, env=env, stdout=log.open("w"), stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise RuntimeError(f"gunicorn exited; see {log}")
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/livez", timeout=2):
                break
        except OSError:
            time.sleep(0.2)
    else:
        raise RuntimeError(f"gunicorn did not answer; see {log}")
    # Warm every worker: templates compiled, connection pools open, caches filled.
    for _ in range(workers * 8):
        for path in ("/", "/listings/", "/listings/?q=rolstoel"):
            with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=30):
                pass
    return server


def locust(host: str, plan: Path, prefix: Path, users: int, seconds: int, wait: str,
           classes: list[str]) -> dict[str, dict[str, float]]:
    """Run Locust headless; its statistics per request name."""
    env = {**os.environ, "BENCH_LOAD_PLAN": str(plan), "BENCH_LOAD_WAIT": wait}
    subprocess.run(  # noqa: S603 - our own executables and arguments
        [str(BIN / "locust"), "-f", str(HERE / "locustfile.py"), "--headless", "--host", host,
         "--users", str(users), "--spawn-rate", str(users), "--run-time", f"{seconds}s",
         "--csv", str(prefix), "--only-summary", "--loglevel", "WARNING",
         "--exit-code-on-error", "0", "--stop-timeout", "5", *classes],
        cwd=ROOT, env=env, check=True, stdout=subprocess.DEVNULL)
    stats: dict[str, dict[str, float]] = {}
    with open(f"{prefix}_stats.csv", newline="") as handle:
        for row in csv.DictReader(handle):
            name = row["Name"] if row["Type"] else "all"
            stats[name] = {
                "requests": int(row["Request Count"]), "failures": int(row["Failure Count"]),
                "rps": float(row["Requests/s"]), "p50": float(row["50%"]),
                "p95": float(row["95%"]), "p99": float(row["99%"]),
            }
    with open(f"{prefix}_failures.csv", newline="") as handle:
        for row in csv.DictReader(handle):
            stats.setdefault(row["Name"], {}).setdefault("errors", []).append(  # type: ignore[attr-defined]
                f"{row['Error']} x{row['Occurrences']}")
    return stats


def combine(rounds: list[dict[str, dict]]) -> dict[str, dict]:
    """Rounds of the same phase as one: requests and failures added up, the mean of the
    throughputs, the median of the rounds' percentiles."""
    combined: dict[str, dict] = {}
    for name in rounds[0]:
        rows = [found[name] for found in rounds if name in found and "rps" in found[name]]
        if not rows:
            continue
        combined[name] = {
            "requests": sum(row["requests"] for row in rows),
            "failures": sum(row["failures"] for row in rows),
            "rps": sum(row["rps"] for row in rows) / len(rounds),
            **{key: statistics.median(row[key] for row in rows)
               for key in ("p50", "p95", "p99")},
            "errors": [error for row in rows for error in row.get("errors", [])],
        }
    return combined


def print_stats(title: str, stats: dict[str, dict]) -> None:
    print(f"\n{title}")
    print(f"  {'page':<26} {'req/s':>8} {'p50 ms':>7} {'p95 ms':>7} {'requests':>9} "
          f"{'failures':>8}")
    for name in sorted(stats, key=lambda key: (key == "all", key)):
        row = stats[name]
        if "rps" not in row:
            continue
        print(f"  {name:<26} {row['rps']:>8.1f} {row['p50']:>7.0f} {row['p95']:>7.0f} "
              f"{row['requests']:>9} {row['failures']:>8}")
        for error in row.get("errors", []):
            print(f"      {error}")


def logged_in(host: str, email: str, password: str) -> urllib.request.OpenerDirector:
    """An opener holding the session of `email`, logged in through the login form."""
    opener = urllib.request.build_opener(
        urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()))
    with opener.open(f"{host}/auth/login", timeout=60) as response:
        page = response.read().decode()
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page)
    form = urllib.parse.urlencode({"csrf_token": token.group(1) if token else "",
                                   "email": email, "password": password}).encode()
    with opener.open(f"{host}/auth/login", data=form, timeout=60) as response:
        if urllib.parse.urlsplit(response.url).path.startswith("/auth/login"):
            raise RuntimeError(f"could not log in as {email}")
    return opener


def warm(host: str, plan: dict) -> float:
    """Ask each page of the search cycle once, as a visitor and as each of the members of the
    members' ratio (one thread each): the ratios are measured in the steady state of a running
    site, where the popular searches have been asked before, so the cache holds them (a member
    of an organisation with listings in their internal phase has pages of its own)."""
    started = time.monotonic()
    cycle = search_cycle(plan["categories"])

    def ask_all(email: str | None) -> None:
        opener = logged_in(host, email, plan["password"]) if email \
            else urllib.request.build_opener()
        for path in cycle:
            with opener.open(f"{host}{path}", timeout=60):
                pass

    with ThreadPoolExecutor(max_workers=len(plan["ratio_members"]) + 1) as pool:
        for done in [pool.submit(ask_all, email)
                     for email in [None, *plan["ratio_members"]]]:
            done.result()
    return time.monotonic() - started


# Each phase of the ratio: its Locust user class and the request name its throughput is read
# from (the members' logins at their start are not counted).
RATIO_PHASES = {"livez": ("LivezUser", "/livez"),
                "search": ("SearchUser", "search (all kinds)"),
                "member search": ("MemberSearchUser", "search (member)")}


def ratio_rounds(label: str, host: str, plan: Path, work: Path,
                 options: argparse.Namespace) -> dict[str, list[dict[str, dict]]]:
    """--ratio-rounds rounds of each phase in turn: a change in the machine's other load hits
    every phase alike."""
    rounds: dict[str, list[dict[str, dict]]] = {phase: [] for phase in RATIO_PHASES}
    for number in range(options.ratio_rounds):
        for phase, (user_class, _name) in RATIO_PHASES.items():
            rounds[phase].append(locust(
                host, plan, work / f"{label}-{phase.replace(' ', '-')}-{number}",
                options.ratio_users, options.ratio_time, "0,0", [user_class]))
    return rounds


def ratios(rounds: dict[str, list[dict[str, dict]]]) -> dict[str, dict]:
    """Each search phase's throughput over /livez's: the mean over the rounds, and each
    round's."""
    def rps(found: dict[str, dict], phase: str) -> float:
        return found.get(RATIO_PHASES[phase][1], {}).get("rps", 0.0)

    ceiling = [rps(found, "livez") for found in rounds["livez"]]
    results: dict[str, dict] = {}
    for phase in RATIO_PHASES:
        if phase == "livez":
            continue
        searched = [rps(found, phase) for found in rounds[phase]]
        results[phase] = {
            "rps": statistics.mean(searched), "livez_rps": statistics.mean(ceiling),
            "ratio": sum(searched) / sum(ceiling) if sum(ceiling) else 0.0,
            "rounds": [one / livez if livez else 0.0
                       for one, livez in zip(searched, ceiling, strict=True)]}
    return results


def run_database(label: str, url: str, uploads: Path, work: Path,
                 options: argparse.Namespace) -> dict:
    plan = work / "plan.json"
    write_plan(url, plan, options.ratio_users)
    port = free_port()
    log = work / f"gunicorn-{label}.log"
    server = start_gunicorn(url, uploads, work, port, options.workers, log,
                            options.search_cache)
    host = f"http://127.0.0.1:{port}"
    results: dict = {"database": label, "workers": options.workers,
                     "search_cache": options.search_cache}
    mixed: dict[str, dict] = {}
    try:
        results["warm_seconds"] = warm(host, json.loads(plan.read_text()))
        rounds = ratio_rounds(label, host, plan, work, options)
        if options.mixed_time:
            mixed = locust(host, plan, work / f"{label}-mixed", options.mixed_users,
                           options.mixed_time, options.wait, ["Visitor", "Member", "Giver"])
    finally:
        server.terminate()
        server.wait(timeout=30)
    server_log = log.read_text(errors="replace")
    phases = {phase: combine(found) for phase, found in rounds.items()}
    found = ratios(rounds)
    results.update(phases=phases, livez=phases["livez"], search=phases["search"], mixed=mixed,
                   ratios=found, ratio=found["search"]["ratio"],
                   round_ratios=found["search"]["rounds"],
                   database_locked=server_log.count("database is locked"),
                   exceptions=server_log.count("Traceback"), load=os.getloadavg())
    for phase, stats in phases.items():
        print_stats(f"{label}: {phase} alone, {options.ratio_users} users, no think time",
                    stats)
    if mixed:
        print_stats(f"{label}: the mix, {options.mixed_users} users, think time "
                    f"{options.wait} s", mixed)
    print()
    for phase, ratio in found.items():
        print(f"{label}: {phase} / livez = {ratio['rps']:.1f} / {ratio['livez_rps']:.1f} "
              f"req/s = {ratio['ratio']:.1%} (rounds: "
              f"{', '.join(f'{value:.1%}' for value in ratio['rounds'])})")
    print(f"{label}: server log: {results['database_locked']} x 'database is locked', "
          f"{results['exceptions']} tracebacks ({log})")
    print(f"{label}: load average at the end: {' '.join(f'{x:.2f}' for x in results['load'])}")
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    only = parser.add_mutually_exclusive_group()
    only.add_argument("--sqlite-only", action="store_true")
    only.add_argument("--postgres-only", action="store_true")
    parser.add_argument("--listings", type=int, default=100_000)
    parser.add_argument("--users", type=int, default=5_000)
    parser.add_argument("--workers", type=int, default=(os.cpu_count() or 1) * 2 + 1)
    parser.add_argument("--ratio-users", type=int, default=8)
    parser.add_argument("--ratio-time", type=int, default=10,
                        help="seconds of each ratio phase in each round")
    parser.add_argument("--ratio-rounds", type=int, default=3,
                        help="rounds of /livez alone, then search alone")
    parser.add_argument("--mixed-users", type=int, default=12)
    parser.add_argument("--mixed-time", type=int, default=60,
                        help="seconds of the mix (0: no mix, the ratios only)")
    parser.add_argument("--wait", default="0.5,2", help="think time of the mix: min,max s")
    parser.add_argument("--cache", type=Path, default=ROOT / "instance" / "bench-load")
    parser.add_argument("--search-cache", default=os.environ.get("BENCH_SEARCH_CACHE",
                                                                "redis://127.0.0.1:6379/14"),
                        help="SEARCH_CACHE_URL of the app: redis://… (shared by the workers, "
                             "as in production), memory:// or none (every page rendered afresh)")
    parser.add_argument("--postgres-db", default="bench_load",
                        help="database name on BENCH_POSTGRES_URL (and <name>_seed)")
    options = parser.parse_args()
    options.cache.mkdir(parents=True, exist_ok=True)
    started = time.monotonic()
    summary = []
    for label in ("sqlite", "postgres"):
        if (label == "sqlite" and options.postgres_only) or (
                label == "postgres" and options.sqlite_only):
            continue
        work = options.cache / f"run-{label}"
        shutil.rmtree(work, ignore_errors=True)
        work.mkdir(parents=True)
        make = sqlite_database if label == "sqlite" else postgres_database
        url, uploads = make(options.cache, work, options)
        results = run_database(label, url, uploads, work, options)
        (options.cache / f"results-{label}.json").write_text(json.dumps(results, indent=1))
        summary.append(results)
    print(f"\nDone in {time.monotonic() - started:.0f} s.")
    for results in summary:
        failures = sum(stats["all"]["failures"] for stats in
                       (*results["phases"].values(), results["mixed"]) if "all" in stats)
        print(f"  {results['database']}: ratio {results['ratio']:.1%} (members "
              f"{results['ratios']['member search']['ratio']:.1%}), {failures} failed "
              f"requests, {results['database_locked']} x database is locked")


if __name__ == "__main__":
    main()
