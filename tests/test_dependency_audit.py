"""`make security`'s dependency audit (.ci/audit_dependencies.py) says what it audited and fails
when it could not audit a locked package that .ci/pip-audit-allow.txt does not name.

The script runs as a subprocess with the real pip-audit; the vulnerability service (OSV's API)
and PyPI's project pages are a small server on loopback, so the outcome does not depend on the
network. The audit does not touch the database: it runs once, not again on PostgreSQL.
"""

from __future__ import annotations

import json
import subprocess
import sys
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from helpers import on_postgres

pytestmark = pytest.mark.skipif(on_postgres(), reason="the audit does not use the database")

PROJECT_ROOT = Path(__file__).resolve().parent.parent
SCRIPT = PROJECT_ROOT / ".ci" / "audit_dependencies.py"
LOCK = f"""\
flask==3.1.3 \\
    --hash=sha256:{"a" * 64}
    # via surplus-marketplace (pyproject.toml)
itsdangerous==2.2.0 \\
    --hash=sha256:{"b" * 64}
    # via flask
"""


@dataclass
class FakeIndex:
    """What OSV says about each release and what each PyPI project page shows."""

    osv: dict[str, list[dict]] | None = field(default_factory=dict)  # None: OSV fails
    latest: dict[str, str] = field(default_factory=dict)  # name -> latest release
    latest_vulnerabilities: dict[str, list[dict]] = field(default_factory=dict)


def osv_vulnerability(vulnerability_id: str, package: str, fixed: str) -> dict:
    return {"id": vulnerability_id, "summary": "test", "aliases": [],
            "affected": [{"package": {"name": package, "ecosystem": "PyPI"},
                          "ranges": [{"type": "ECOSYSTEM",
                                      "events": [{"introduced": "0"}, {"fixed": fixed}]}]}]}


@pytest.fixture
def index() -> Iterator[tuple[FakeIndex, str]]:
    fake = FakeIndex()

    class Handler(BaseHTTPRequestHandler):
        def _answer(self, status: int, body: object) -> None:
            data = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def do_POST(self) -> None:  # OSV's /v1/query
            query = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
            if fake.osv is None:
                self._answer(500, {"message": "unavailable"})
            else:
                self._answer(200, {"vulns": fake.osv.get(query["package"]["name"], [])})

        def do_GET(self) -> None:  # PyPI's /pypi/NAME/json
            name = self.path.split("/")[2]
            if name not in fake.latest:
                self._answer(404, {"message": "Not Found"})
            else:
                self._answer(200, {"info": {"name": name, "version": fake.latest[name]},
                                   "vulnerabilities": fake.latest_vulnerabilities.get(name, [])})

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield fake, f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


def audit(tmp_path: Path, url: str, allow: str = "", runtime_lock: str | None = None,
          *options: str) -> subprocess.CompletedProcess:
    (tmp_path / "requirements-test.lock").write_text(LOCK)
    (tmp_path / "pip-audit-allow.txt").write_text(allow)
    locks = [str(tmp_path / "requirements-test.lock")]
    if runtime_lock is not None:
        (tmp_path / "requirements.lock").write_text(runtime_lock)
        locks.append(str(tmp_path / "requirements.lock"))
    return subprocess.run(  # noqa: S603 - our own script
        [sys.executable, str(SCRIPT), *locks, "--allow", str(tmp_path / "pip-audit-allow.txt"),
         "--osv-url", f"{url}/v1/query", "--pypi-url", f"{url}/pypi",
         "--record-file", str(tmp_path / "pip-audit-locked.txt"), *options],
        capture_output=True, text=True, timeout=120, check=False)


def test_every_locked_package_audited_and_clean_passes(index, tmp_path):
    _fake, url = index
    result = audit(tmp_path, url)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "2 packages, 2 audited by pip-audit" in result.stdout


def test_a_known_vulnerability_fails_unless_the_allow_file_explains_it(index, tmp_path):
    fake, url = index
    fake.osv = {"flask": [osv_vulnerability("GHSA-test-0001", "flask", "3.1.4")]}
    refused = audit(tmp_path, url)
    assert refused.returncode == 1
    assert "flask 3.1.3: GHSA-test-0001 (fixed in 3.1.4)" in refused.stdout
    explained = audit(tmp_path, url, allow="GHSA-test-0001  we never call the affected code\n")
    assert explained.returncode == 0, explained.stdout


def test_packages_that_could_not_be_audited_fail_unless_named_with_a_reason(index, tmp_path):
    """The vulnerability service fails; PyPI's project pages audit the package pinned at its
    latest release, not the one pinned below it."""
    fake, url = index
    fake.osv = None
    fake.latest = {"flask": "3.1.3", "itsdangerous": "2.3.0"}
    refused = audit(tmp_path, url)
    assert refused.returncode == 1
    assert "1 on PyPI's project pages at their latest release, 0 when the lock was made" \
        in refused.stdout and "1 not audited" in refused.stdout
    assert "FAILED: itsdangerous 2.2.0: not audited" in refused.stdout
    named = audit(tmp_path, url, allow="package:ItsDangerous  held back by a test\n")
    assert named.returncode == 0, named.stdout
    assert "not audited: itsdangerous 2.2.0 (held back by a test)" in named.stdout


def test_nothing_reachable_audits_nothing_and_fails(index, tmp_path):
    fake, url = index
    fake.osv = None
    result = audit(tmp_path, url)
    assert result.returncode == 1
    assert "0 audited by pip-audit, 0 on PyPI's project pages" in result.stdout
    assert "2 not audited" in result.stdout


def test_a_vulnerability_on_the_latest_release_page_fails(index, tmp_path):
    fake, url = index
    fake.osv = None
    fake.latest = {"flask": "3.1.3", "itsdangerous": "2.2.0"}
    fake.latest_vulnerabilities = {"itsdangerous": [
        {"id": "PYSEC-test-2", "aliases": ["CVE-test-2"], "fixed_in": []}]}
    refused = audit(tmp_path, url)
    assert refused.returncode == 1
    assert "itsdangerous 2.2.0: PYSEC-test-2 (fixed in -)" in refused.stdout
    assert audit(tmp_path, url, allow="CVE-test-2  not reachable from our code\n").returncode == 0


def test_a_runtime_pin_the_audited_lock_does_not_hold_fails(index, tmp_path):
    _fake, url = index
    result = audit(tmp_path, url, runtime_lock=LOCK.replace("flask==3.1.3", "flask==3.1.2"))
    assert result.returncode == 1
    assert "requirements.lock pins flask==3.1.2, requirements-test.lock 3.1.3" in result.stdout
    assert audit(tmp_path, url, runtime_lock=LOCK).returncode == 0


def test_an_audit_made_when_locking_stands_for_a_month(index, tmp_path):
    """`make lock` records what it audited; a release published since (so the pin is no
    longer the latest) does not fail the next run, for RECORD_DAYS; after that it does."""
    from datetime import date, timedelta

    fake, url = index
    fake.osv = None
    fake.latest = {"flask": "3.1.3", "itsdangerous": "2.2.0"}
    locked = audit(tmp_path, url, "", None, "--record")
    assert locked.returncode == 0, locked.stdout
    record = tmp_path / "pip-audit-locked.txt"
    assert "itsdangerous==2.2.0 " + date.today().isoformat() in record.read_text()

    fake.latest = {"flask": "3.1.3", "itsdangerous": "2.3.0"}  # a release since the lock
    later = audit(tmp_path, url)
    assert later.returncode == 0, later.stdout
    assert "1 on PyPI's project pages at their latest release, 1 when the lock was made" \
        in later.stdout

    stale = (date.today() - timedelta(days=31)).isoformat()
    record.write_text(record.read_text().replace(date.today().isoformat(), stale))
    refused = audit(tmp_path, url)
    assert refused.returncode == 1
    assert "FAILED: itsdangerous 2.2.0: not audited" in refused.stdout
