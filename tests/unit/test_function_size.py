"""No function in inventory/ is longer than MAX_LINES or more complex than MAX_COMPLEXITY (radon's
cyclomatic complexity): a newcomer changing one rule reads one small function."""

from __future__ import annotations

import ast
from pathlib import Path

from radon.complexity import cc_visit

INVENTORY = Path(__file__).resolve().parents[2] / "inventory"
MAX_LINES = 60
MAX_COMPLEXITY = 15


def _sources() -> list[Path]:
    return sorted(p for p in INVENTORY.rglob("*.py") if "migrations" not in p.parts)


def test_sources_are_found():
    assert len(_sources()) > 20


def test_no_function_is_too_complex():
    too_complex = [
        f"{path.relative_to(INVENTORY.parent)}:{block.lineno} {block.fullname} {block.complexity}"
        for path in _sources()
        for block in cc_visit(path.read_text())
        if block.complexity > MAX_COMPLEXITY
    ]
    assert too_complex == []


def test_no_function_is_too_long():
    too_long = []
    for path in _sources():
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                lines = node.end_lineno - node.lineno + 1
                if lines > MAX_LINES:
                    too_long.append(f"{path.relative_to(INVENTORY.parent)}:{node.lineno} {lines}")
    assert too_long == []
