"""Audit the locked dependencies for known vulnerabilities, and say what could not be audited.

Usage: audit_dependencies.py LOCK [OTHER_LOCK ...]

LOCK (requirements-test.lock) is audited; every pin of each OTHER_LOCK (requirements.lock) must
be in it at the same version, so auditing LOCK audits them too. The run fails on:
- a known vulnerability not explained in .ci/pip-audit-allow.txt (`ID  reason`);
- a package that could not be audited, unless that file names it (`package:NAME  reason`);
- an OTHER_LOCK pin that LOCK does not hold.

pip-audit reads the pins as written (--disable-pip: nothing is resolved) and asks PyPI about each
release (/pypi/NAME/VERSION/json). Where that is not served (some mirrors and proxies, as on our
CI machines), a package's project page (/pypi/NAME/json) lists the known vulnerabilities of its
latest release, so a package pinned at its latest release is audited there. `make lock` moves
the pins to the latest releases and records what it audited then (--record, in
.ci/pip-audit-locked.txt): a release published since does not fail the next run, but a package
whose audit is older than RECORD_DAYS does (run `make lock`). What stays behind its latest release
when locking has to be named in the allow file.
"""

from __future__ import annotations

import argparse
import json
import re
import subprocess
import sys
import tempfile
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from datetime import date, timedelta
from pathlib import Path

from packaging.version import InvalidVersion, Version

ALLOW_FILE = Path(__file__).with_name("pip-audit-allow.txt")
RECORD_FILE = Path(__file__).with_name("pip-audit-locked.txt")
RECORD_DAYS = 30  # how long an audit made when locking stands in for one made now
PYPI = "https://pypi.org/pypi"
PACKAGE_PREFIX = "package:"
PIN = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)(?:\[[^\]]*\])?==([^\s;\\]+)")


def canonical(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def read_pins(lock: Path) -> dict[str, str]:
    """Canonical name -> pinned version, for every `name==version` line of a lock file."""
    pins = {}
    for line in lock.read_text(encoding="utf-8").splitlines():
        match = PIN.match(line)
        if match:
            pins[canonical(match[1])] = match[2]
    return pins


def read_allowed(path: Path) -> tuple[dict[str, str], dict[str, str]]:
    """The explained vulnerability ids and the packages accepted as not audited, with reasons."""
    vulnerabilities: dict[str, str] = {}
    packages: dict[str, str] = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        key, _, reason = line.partition(" ")
        if not reason.strip():
            sys.exit(f"{path}: {key} needs a reason")
        if key.startswith(PACKAGE_PREFIX):
            packages[canonical(key.removeprefix(PACKAGE_PREFIX))] = reason.strip()
        else:
            vulnerabilities[key] = reason.strip()
    return vulnerabilities, packages


def read_record(path: Path) -> dict[str, tuple[str, date]]:
    """Canonical name -> (version, day) of the packages audited clean when the lock was made."""
    record: dict[str, tuple[str, date]] = {}
    if path.exists():
        for line in path.read_text(encoding="utf-8").splitlines():
            match = PIN.match(line)
            if match and len(line.split()) == 2:
                record[canonical(match[1])] = (match[2], date.fromisoformat(line.split()[1]))
    return record


def write_record(path: Path, pins: dict[str, str], audited_clean: set[str]) -> None:
    today = date.today().isoformat()
    lines = [f"{name}=={pins[name]} {today}" for name in sorted(audited_clean)]
    path.write_text("# Written by `make lock` (.ci/audit_dependencies.py --record): the pins\n"
                    "# audited clean when the lock was made, and the day.\n"
                    + "\n".join(lines) + "\n", encoding="utf-8")


def run_pip_audit(lock: Path, pins: dict[str, str], osv_url: str | None) -> list[dict]:
    """pip-audit's dependencies (its JSON shape); all of them skipped when it failed."""
    command = [str(Path(sys.executable).with_name("pip-audit")), "--requirement", str(lock),
               "--disable-pip", "--require-hashes", "--format", "json",
               "--progress-spinner", "off"]
    with tempfile.TemporaryDirectory() as cache:
        if osv_url:
            command += ["--vulnerability-service", "osv", "--osv-url", osv_url,
                        "--cache-dir", cache]
        completed = subprocess.run(  # noqa: S603 - our own venv's pip-audit, fixed arguments
            command, capture_output=True, text=True, timeout=600, check=False)
    try:
        return json.loads(completed.stdout)["dependencies"]
    except (json.JSONDecodeError, KeyError):
        print(f"pip-audit failed: {completed.stderr.strip()[-1000:]}", file=sys.stderr)
        return [{"name": name, "version": version, "skip_reason": "pip-audit failed"}
                for name, version in pins.items()]


def audit_on_project_pages(pins: dict[str, str], pypi: str) -> dict[str, list[dict]]:
    """The known vulnerabilities (pip-audit's shape) of each package pinned at its latest
    release, by PyPI's project page; packages at another release, or not found, are left out."""

    def look_up(name: str) -> list[dict] | None:
        try:
            with urllib.request.urlopen(f"{pypi}/{name}/json", timeout=15) as response:  # noqa: S310 - https, or loopback in tests
                project = json.load(response)
            if Version(project["info"]["version"]) != Version(pins[name]):
                return None
        except (OSError, ValueError, KeyError, InvalidVersion):
            return None
        return [{"id": vulnerability["id"], "aliases": vulnerability.get("aliases") or [],
                 "fix_versions": vulnerability.get("fixed_in") or []}
                for vulnerability in project.get("vulnerabilities") or []
                if not vulnerability.get("withdrawn")]

    with ThreadPoolExecutor(max_workers=16) as pool:
        found = dict(zip(pins, pool.map(look_up, pins), strict=True))
    return {name: vulnerabilities for name, vulnerabilities in found.items()
            if vulnerabilities is not None}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("lock", type=Path)
    parser.add_argument("others", type=Path, nargs="*")
    parser.add_argument("--allow", type=Path, default=ALLOW_FILE)
    parser.add_argument("--pypi-url", default=PYPI, help="PyPI's JSON API (tests: loopback)")
    parser.add_argument("--osv-url", help="ask this OSV API instead of PyPI (tests: loopback)")
    parser.add_argument("--record-file", type=Path, default=RECORD_FILE)
    parser.add_argument("--record", action="store_true",
                        help="after a clean run, record what was audited (make lock)")
    arguments = parser.parse_args(argv)

    pins = read_pins(arguments.lock)
    problems = []
    for other in arguments.others:
        for name, version in read_pins(other).items():
            if pins.get(name) != version:
                problems.append(f"{other.name} pins {name}=={version}, {arguments.lock.name} "
                                f"{pins.get(name, 'does not hold it')}: "
                                "run `make lock`")
    allowed_ids, allowed_packages = read_allowed(arguments.allow)

    vulnerabilities: dict[str, list[dict]] = {}
    for dependency in run_pip_audit(arguments.lock, pins, arguments.osv_url):
        if "skip_reason" not in dependency:
            vulnerabilities[canonical(dependency["name"])] = dependency.get("vulns", [])
    by_pypi_audit = len(vulnerabilities)
    skipped = {name: version for name, version in pins.items() if name not in vulnerabilities}
    if skipped:
        vulnerabilities |= audit_on_project_pages(skipped, arguments.pypi_url)
    by_project_page = len(vulnerabilities) - by_pypi_audit

    for name, found in sorted(vulnerabilities.items()):
        for vulnerability in found:
            if not {vulnerability["id"], *vulnerability.get("aliases", [])} & allowed_ids.keys():
                problems.append(f"{name} {pins[name]}: {vulnerability['id']} (fixed in "
                                f"{', '.join(vulnerability.get('fix_versions') or []) or '-'})")
    record = {} if arguments.record else read_record(arguments.record_file)
    oldest = date.today() - timedelta(days=RECORD_DAYS)
    audited_when_locked = {name: record[name][1] for name in set(pins) - vulnerabilities.keys()
                           if name in record and record[name][0] == pins[name]
                           and record[name][1] >= oldest}
    not_audited = sorted(set(pins) - vulnerabilities.keys() - audited_when_locked.keys())
    accepted = [name for name in not_audited if name in allowed_packages]
    problems += [f"{name} {pins[name]}: not audited (pinned below its latest release, or not "
                 f"found): run `make lock`, or name it in {arguments.allow.name} with the reason"
                 for name in not_audited if name not in allowed_packages]

    print(f"Dependency audit of {arguments.lock.name}: {len(pins)} packages, "
          f"{by_pypi_audit} audited by pip-audit, {by_project_page} on PyPI's project pages at "
          f"their latest release, {len(audited_when_locked)} when the lock was made "
          f"(on {arguments.record_file.name}; newer releases since), "
          f"{len(not_audited)} not audited "
          f"({len(accepted)} of them accepted in {arguments.allow.name}).")
    for name in accepted:
        print(f"  not audited: {name} {pins[name]} ({allowed_packages[name]})")
    for name in sorted(allowed_packages.keys() - set(not_audited)):
        print(f"  note: {arguments.allow.name} names {PACKAGE_PREFIX}{name}, which was audited "
              "or is not in the lock: the line can go")
    for problem in problems:
        print(f"  FAILED: {problem}")
    if arguments.record and not problems:
        flagged = {name for name, found in vulnerabilities.items() if found}
        write_record(arguments.record_file, pins, vulnerabilities.keys() - flagged)
        print(f"  recorded in {arguments.record_file.name}")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
