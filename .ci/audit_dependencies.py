"""Run pip-audit on the installed packages and fail on any known vulnerability not explained.

An explained finding is a vulnerability id in .ci/pip-audit-allow.txt with the reason it does not
apply (one per line: `ID  reason`). When the vulnerability service cannot be reached (no network,
or a package mirror without PyPI's JSON API), nothing can be audited: that is said loudly, and the
run does not fail, because it says nothing about the code.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ALLOW_FILE = Path(__file__).with_name("pip-audit-allow.txt")


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


def main() -> int:
    pip_audit = Path(sys.executable).with_name("pip-audit")
    completed = subprocess.run(  # noqa: S603 - our own venv's pip-audit, fixed arguments
        [str(pip_audit), "--skip-editable", "--format", "json", "--progress-spinner", "off"],
        capture_output=True, text=True, timeout=600, check=False)
    try:
        report = json.loads(completed.stdout)
    except json.JSONDecodeError:
        print(completed.stderr.strip()[-2000:], file=sys.stderr)
        print("pip-audit: NOT AUDITED, the vulnerability service could not be reached.")
        return 0
    dependencies = report["dependencies"]
    audited = [d for d in dependencies if "skip_reason" not in d]
    if not audited:
        print(f"pip-audit: NOT AUDITED, none of {len(dependencies)} packages could be looked up "
              "(no access to the vulnerability service from this machine).")
        return 0
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
