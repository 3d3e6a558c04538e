"""Imports run one way: service -> schema -> (domain, projections) -> events.

Every module of each package is read (imports inside functions too) and checked against
the packages it may use, so an upward import fails here rather than in review.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
OURS = {"events", "domain", "projections", "schema", "service"}
MAY_USE = {
    "events": {"events"},
    "domain": {"domain", "events"},
    "projections": {"projections", "domain", "events"},
    "schema": {"schema", "domain", "projections", "events"},
    "service": OURS,
}


def imported(path: Path) -> set[str]:
    """The top-level packages of ours a module imports."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            found |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module.split(".")[0])
    return found & OURS


@pytest.mark.parametrize("package", sorted(MAY_USE))
def test_no_package_imports_upward(package: str) -> None:
    wrong = {
        str(path.relative_to(ROOT)): sorted(imported(path) - MAY_USE[package])
        for path in sorted((ROOT / package).rglob("*.py"))
        if imported(path) - MAY_USE[package]
    }
    assert wrong == {}, f"{package} may use only {sorted(MAY_USE[package])}"


def test_the_check_sees_an_upward_import(tmp_path: Path) -> None:
    module = tmp_path / "bad.py"
    module.write_text("def later():\n    from schema.root import build_schema\n")
    assert imported(module) == {"schema"}
