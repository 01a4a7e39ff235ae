"""Run pip-audit on the installed packages and fail on any known vulnerability not explained.

An explained finding is a vulnerability id in .ci/pip-audit-allow.txt with the reason it does not
apply (one per line: `ID  reason`).

When pip-audit cannot look the packages up (it asks PyPI for each installed version,
/pypi/NAME/VERSION/json, which some mirrors and proxies do not serve), the packages are looked up
on their project page instead (/pypi/NAME/json): it lists the known vulnerabilities of the latest
release, so a package installed at its latest release is audited that way; the others are named
as not audited. When neither can be reached (no network), nothing can be audited: that is said
loudly, and the run does not fail, because it says nothing about the code.
"""

from __future__ import annotations

import json
import subprocess
import sys
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from importlib import metadata
from pathlib import Path

ALLOW_FILE = Path(__file__).with_name("pip-audit-allow.txt")
PYPI = "https://pypi.org/pypi"
OWN_PACKAGE = "surplus-marketplace"


def allowed_ids() -> dict[str, str]:
    allowed = {}
    for line in ALLOW_FILE.read_text(encoding="utf-8").splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            vulnerability_id, _, reason = line.partition(" ")
            if not reason.strip():
                sys.exit(f"{ALLOW_FILE}: {vulnerability_id} needs a reason")
            allowed[vulnerability_id] = reason.strip()
    return allowed


def audit_on_project_pages(dependencies: list[dict]) -> tuple[list[dict], list[str]]:
    """The dependencies installed at their latest release, with that release's known
    vulnerabilities from PyPI's project page (pip-audit's shape); the others, by name."""

    def look_up(dependency: dict) -> dict | None:
        url = f"{PYPI}/{dependency['name']}/json"
        try:
            with urllib.request.urlopen(url, timeout=15) as response:  # noqa: S310 - https only
                project = json.load(response)
        except (OSError, ValueError):
            return None
        if project.get("info", {}).get("version") != dependency["version"]:
            return None
        return {"name": dependency["name"], "version": dependency["version"], "vulns": [
            {"id": vulnerability["id"], "aliases": vulnerability.get("aliases") or [],
             "fix_versions": vulnerability.get("fixed_in") or []}
            for vulnerability in project.get("vulnerabilities") or []
            if not vulnerability.get("withdrawn")]}

    with ThreadPoolExecutor(max_workers=16) as pool:
        found = list(pool.map(look_up, dependencies))
    audited = [result for result in found if result is not None]
    unknown = [f"{dependency['name']} {dependency['version']}"
               for dependency, result in zip(dependencies, found, strict=True) if result is None]
    return audited, unknown


def main() -> int:
    pip_audit = Path(sys.executable).with_name("pip-audit")
    completed = subprocess.run(  # noqa: S603 - our own venv's pip-audit, fixed arguments
        [str(pip_audit), "--skip-editable", "--format", "json", "--progress-spinner", "off"],
        capture_output=True, text=True, timeout=600, check=False)
    try:
        dependencies = json.loads(completed.stdout)["dependencies"]
    except (json.JSONDecodeError, KeyError):
        print(completed.stderr.strip()[-2000:], file=sys.stderr)
        dependencies = [{"name": distribution.metadata["Name"], "version": distribution.version,
                         "skip_reason": "not looked up"}
                        for distribution in metadata.distributions()
                        if distribution.metadata["Name"] != OWN_PACKAGE]
    audited = [d for d in dependencies if "skip_reason" not in d]
    if not audited:
        # pip-audit names what it skipped without its version.
        audited, unknown = audit_on_project_pages([
            {"name": d["name"], "version": d.get("version") or metadata.version(d["name"])}
            for d in dependencies if d["name"] != OWN_PACKAGE])
        if not audited:
            print(f"pip-audit: NOT AUDITED, none of {len(dependencies)} packages could be looked "
                  "up (no access to a vulnerability service from this machine).")
            return 0
        print(f"pip-audit could not look the packages up; PyPI's project pages audited "
              f"{len(audited)} at their latest release. Not audited ({len(unknown)}): "
              f"{', '.join(unknown) or '-'}.")
        dependencies = audited + [{"skip_reason": "not audited"}] * len(unknown)
    allowed = allowed_ids()
    unexplained = []
    for dependency in audited:
        for vulnerability in dependency.get("vulns", []):
            ids = {vulnerability["id"], *vulnerability.get("aliases", [])}
            if not ids & allowed.keys():
                unexplained.append(f"{dependency['name']} {dependency['version']}: "
                                   f"{vulnerability['id']} (fixed in "
                                   f"{', '.join(vulnerability.get('fix_versions', [])) or '-'})")
    skipped = len(dependencies) - len(audited)
    print(f"pip-audit: {len(audited)} packages audited, {skipped} skipped, "
          f"{len(unexplained)} unexplained vulnerabilities.")
    for line in unexplained:
        print(f"  {line}")
    return 1 if unexplained else 0


if __name__ == "__main__":
    sys.exit(main())
