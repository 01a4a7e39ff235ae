"""How long create_app takes with and without the tests' shared url_for builders.

tests/conftest.py makes the many applications of a test run share the Python functions werkzeug
compiles per URL rule (`Rule._compile_builder`, a private method). This prints what that saves
per application, so the reason to keep a private API in the tests stays checkable:

    .venv/bin/python bench/app_startup.py [--rounds N]     # N defaults to 5 (of 10 each)
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

MEASURE = """
import os, sys, timeit
sys.path[:0] = [{tests!r}, {root!r}]
if {shared}:
    import conftest  # noqa: F401  (installs the shared builders)
from marketplace import create_app
config = {{"TESTING": True, "SECRET_KEY": "x", "SQLALCHEMY_DATABASE_URI": "sqlite://"}}
create_app(config)  # imports, templates' first compile
rounds = [timeit.timeit(lambda: create_app(config), number=10) / 10 for _ in range({rounds})]
app = create_app(config)
middle = sorted(rounds)[len(rounds) // 2]
print(len(list(app.url_map.iter_rules())), min(rounds) * 1000, middle * 1000)
"""


def measure(shared: bool, rounds: int) -> tuple[int, float, float]:
    """Each way in a fresh interpreter: the patch, once made, lasts for the process."""
    code = MEASURE.format(tests=str(ROOT / "tests"), root=str(ROOT), shared=shared, rounds=rounds)
    with tempfile.TemporaryDirectory() as instance:
        output = subprocess.run(  # noqa: S603  (our own code, run with our own interpreter)
            [sys.executable, "-c", code], check=True, capture_output=True, text=True,
            env={**os.environ, "INSTANCE_PATH": instance}, cwd=ROOT).stdout.split()
    return int(output[-3]), float(output[-2]), float(output[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    rounds = parser.parse_args().rounds
    for label, shared in (("compiled per app", False), ("shared (conftest)", True)):
        rules, best, median = measure(shared, rounds)
        print(f"{label:18} create_app: best {best:6.1f} ms, median {median:6.1f} ms "
              f"({rules} URL rules)")


if __name__ == "__main__":
    main()
