"""Where a page's time goes: cProfile over the Flask test client, one process, no network.

    .venv/bin/python bench/load/profile_pages.py DATABASE_URL [PATH ...] [--runs N] [--login EMAIL]
                                           [--sort cumulative|tottime] [--top N]

Use it on a database seeded by bench/load/seed.py (run.py keeps a copy under
instance/bench-load/). Prints the median time per path, the number of SQL statements per
request, and the top functions of the profile over all paths.
"""

from __future__ import annotations

import argparse
import cProfile
import logging
import os
import pstats
import statistics
import sys
import tempfile
import time
from pathlib import Path

from sqlalchemy import event

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from seed import PASSWORD  # noqa: E402

from marketplace import create_app  # noqa: E402
from marketplace.config import normalise_database_url  # noqa: E402
from marketplace.extensions import db  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("url")
    parser.add_argument("paths", nargs="*", default=["/", "/listings/",
                                                     "/listings/?q=rolstoel",
                                                     "/listings/?province=utrecht&condition=good",
                                                     "/listings/?page=100"])
    parser.add_argument("--runs", type=int, default=50)
    parser.add_argument("--login", help="email of a seeded user to log in as")
    parser.add_argument("--sort", default="tottime")
    parser.add_argument("--top", type=int, default=30)
    parser.add_argument("--filter", action="append", default=[],
                        help="only functions whose file matches this regular expression")
    options = parser.parse_args()
    instance = tempfile.mkdtemp(prefix="bench-profile-")
    os.environ["INSTANCE_PATH"] = instance
    logging.getLogger("marketplace").setLevel(logging.WARNING)  # no access log lines
    app = create_app({"LOG_LEVEL": "WARNING", "SECRET_KEY": "profile", "RATELIMIT_ENABLED": False,
                      "SQLALCHEMY_DATABASE_URI": normalise_database_url(options.url),
                      "WTF_CSRF_ENABLED": False, "MAIL_DELIVER_AFTER_REQUEST": False,
                      "SESSION_COOKIE_SECURE": False})
    statements = [0]
    with app.app_context():
        event.listen(db.engine, "before_cursor_execute",
                     lambda *args: statements.__setitem__(0, statements[0] + 1))
    client = app.test_client()
    if options.login:
        response = client.post("/auth/login", data={"email": options.login,
                                                    "password": PASSWORD})
        assert response.status_code == 302, response.status_code
    for path in options.paths:  # warm: templates, caches, connections
        for _ in range(3):
            assert client.get(path).status_code == 200, path
    profiler = cProfile.Profile()
    for path in options.paths:
        timings, cpu = [], []
        statements[0] = 0
        for _ in range(options.runs):
            started, cpu_started = time.perf_counter(), time.process_time()
            profiler.enable()
            client.get(path)
            profiler.disable()
            timings.append((time.perf_counter() - started) * 1000)
            cpu.append((time.process_time() - cpu_started) * 1000)
        # CPU time says more than wall time on a machine shared with other jobs.
        print(f"{path:<50} median {statistics.median(timings):6.1f} ms wall, "
              f"{statistics.median(cpu):6.1f} ms CPU (profiled), "
              f"{statements[0] / options.runs:.1f} SQL statements", flush=True)
    pstats.Stats(profiler).sort_stats(options.sort).print_stats(*options.filter, options.top)


if __name__ == "__main__":
    main()
