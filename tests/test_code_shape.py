"""Modules short enough to read in one sitting (issue 15): none in marketplace/ over 500 lines.
A module that grows past it is split by concern, as services/search/ and services/mail/ were."""

from __future__ import annotations

from pathlib import Path

MARKETPLACE = Path(__file__).resolve().parents[1] / "marketplace"
MAX_LINES = 500


def test_no_module_is_over_500_lines():
    long = {str(path.relative_to(MARKETPLACE)): lines
            for path in MARKETPLACE.rglob("*.py")
            if (lines := len(path.read_text(encoding="utf-8").splitlines())) > MAX_LINES}
    assert long == {}
