"""The load test's searches, with its changes in between, in one process: the application's own
time per search kind, without gunicorn, Locust or a machine waking from idle.

    .venv/bin/python bench/load/mix_in_process.py DATABASE_URL [--steps 800] [--code DIR]

DATABASE_URL is a seeded database (bench/load/seed.py; run.py keeps one under
instance/bench-load/); work on a copy, as this adds listings. Before it starts, every page of
SearchUser's fixed cycle is asked once (as run.py does). Then, for --steps steps: now and then a
new published listing (4 %, as members post in the mix) or a quantity claimed with an UPDATE
statement (3 %, as givers accept), and each step one page as the mix asks (the home page a
quarter of the time, else a search of the mix's kinds), through the Flask test client with the
page cache on the local Redis (db 13, a prefix of its own). Prints CPU and wall time per kind:
mean and 95th percentile.

--code DIR imports the application from another checkout (a `git worktree` of an older
commit), to compare code on the same data.
"""

from __future__ import annotations

import argparse
import logging
import os
import random
import statistics
import sys
import tempfile
import time
import uuid
from collections import defaultdict
from pathlib import Path

HERE = Path(__file__).resolve().parent


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("url")
    parser.add_argument("--steps", type=int, default=800)
    parser.add_argument("--code", default=str(HERE.parents[1]))
    parser.add_argument("--redis", default="redis://127.0.0.1:6379/13")
    options = parser.parse_args()
    sys.path.insert(0, str(HERE))
    sys.path.insert(0, options.code)
    from searches import WORDS, search_cycle, search_request
    from sqlalchemy import func, select, update

    from marketplace import create_app
    from marketplace.config import normalise_database_url
    from marketplace.extensions import db
    from marketplace.models import Category, Listing, ListingStatus
    from marketplace.models.base import utcnow

    os.environ["INSTANCE_PATH"] = tempfile.mkdtemp(prefix="bench-mix-")
    logging.getLogger("marketplace").setLevel(logging.WARNING)
    app = create_app({"LOG_LEVEL": "WARNING", "SECRET_KEY": "bench-mix", "RATELIMIT_ENABLED": False,
                      "SQLALCHEMY_DATABASE_URI": normalise_database_url(options.url),
                      "SEARCH_CACHE_URL": options.redis,
                      "SEARCH_CACHE_KEY_PREFIX": f"bench-mix-{uuid.uuid4().hex}:",
                      "MAIL_DELIVER_AFTER_REQUEST": False})
    with app.app_context():
        categories = list(db.session.scalars(select(Category.id)))
        highest = db.session.scalar(select(func.max(Listing.id)))
        giver_listings = list(db.session.scalars(
            select(Listing.id).where(Listing.status == ListingStatus.PUBLISHED)
            .order_by(Listing.id.desc()).limit(300)))
    client = app.test_client()
    for url in search_cycle(categories):
        client.get(url)
    rng = random.Random(5)  # noqa: S311 - the same steps every run
    times: dict[str, list[tuple[float, float]]] = defaultdict(list)
    for _ in range(options.steps):
        chance = rng.random()
        if chance < 0.04:
            with app.app_context():
                model = db.session.get(Listing, rng.randrange(1, highest))
                db.session.add(Listing(
                    organisation_id=model.organisation_id, site_id=model.site_id,
                    category_id=model.category_id, description=model.description,
                    title=f"Load test {rng.choice(WORDS)} {rng.randrange(10**6)}",
                    condition=model.condition, quantity=3, quantity_available=3, unit=model.unit,
                    available_until=model.available_until, status=ListingStatus.PUBLISHED,
                    published_at=utcnow()))
                db.session.commit()
        elif chance < 0.07:
            with app.app_context():
                db.session.execute(
                    update(Listing).where(Listing.id == rng.choice(giver_listings))
                    .values(quantity_available=Listing.quantity_available - 1)
                    .execution_options(synchronize_session=False))
                db.session.commit()
        url, name = search_request(rng, categories)
        if rng.random() < 0.25:
            url, name = "/", "home"
        cpu, wall = time.process_time(), time.perf_counter()
        response = client.get(url)
        assert response.status_code == 200, (url, response.status_code)
        times[name].append(((time.process_time() - cpu) * 1000,
                            (time.perf_counter() - wall) * 1000))
    print(f"{'page':22} {'n':>4}  CPU mean / p95 ms   wall mean / p95 ms")
    for name in sorted(times):
        cpu_times = sorted(cpu for cpu, _wall in times[name])
        wall_times = sorted(wall for _cpu, wall in times[name])
        p95 = int(len(cpu_times) * 0.95)
        print(f"{name:22} {len(cpu_times):4}  {statistics.mean(cpu_times):6.1f} / "
              f"{cpu_times[p95]:5.1f}       {statistics.mean(wall_times):6.1f} / "
              f"{wall_times[p95]:5.1f}")
    everything = [cpu for kind in times.values() for cpu, _wall in kind]
    print(f"all: CPU mean {statistics.mean(everything):.2f} ms")


if __name__ == "__main__":
    main()
