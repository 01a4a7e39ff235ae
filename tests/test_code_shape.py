"""Code short enough to read in one sitting (issue 15): no module in marketplace/ over 500 lines,
no function over 60. A module that grows past it is split by concern, as services/search/ and
services/mail/ were; a function, into named steps."""

from __future__ import annotations

import ast
from pathlib import Path

MARKETPLACE = Path(__file__).resolve().parents[1] / "marketplace"
MAX_LINES = 500
MAX_FUNCTION_LINES = 60


def test_no_module_is_over_500_lines():
    long = {str(path.relative_to(MARKETPLACE)): lines
            for path in MARKETPLACE.rglob("*.py")
            if (lines := len(path.read_text(encoding="utf-8").splitlines())) > MAX_LINES}
    assert long == {}


def test_no_function_is_over_60_lines():
    long = {}
    for path in MARKETPLACE.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                lines = (node.end_lineno or node.lineno) - node.lineno + 1
                if lines > MAX_FUNCTION_LINES:
                    long[f"{path.relative_to(MARKETPLACE)}:{node.name}"] = lines
    assert long == {}
