"""Imports go one way (README, "Layout for developers"): no layer reaches up.

Read from the source with ``ast`` (every import, also those inside functions), so a lazy import
that reaches up is caught as well as a top-level one.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "python" / "oncosecours"
SHELLS = ("commands", "excel", "documents", "ops", "demo", "cli", "kit")

# folder (or module) -> the top-level parts of oncosecours it must never import
FORBIDDEN = {
    "domain": (
        "store",
        "services",
        "refresh",
        "texts",
        *SHELLS,
        "settings",
        "resources",
        "qualification",
    ),  # fmt: skip
    "texts": ("store", "services", "refresh", *SHELLS, "qualification"),
    "store": ("services", "refresh", "texts", *SHELLS, "qualification"),
    "services": ("texts", *SHELLS, "qualification"),
    "refresh": ("services", "texts", *SHELLS, "qualification"),
    "qualification": ("commands", "cli", "demo"),
    "documents": ("commands", "excel", "ops", "demo", "cli"),
    "excel": ("commands", "ops", "demo", "cli"),
    "demo": ("commands", "ops", "cli"),
}


def _imports(path: Path) -> list[tuple[int, str]]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found.append((node.lineno, node.module))
            # ``from oncosecours import services`` names the part in the alias
            if node.module == "oncosecours":
                found += [(node.lineno, f"oncosecours.{alias.name}") for alias in node.names]
    return [(line, name) for line, name in found if name.split(".")[0] == "oncosecours"]


def _part(module: str) -> str:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else ""


def _sources(folder: str) -> list[Path]:
    return sorted((PACKAGE / folder).rglob("*.py"))


@pytest.mark.parametrize("folder", sorted(FORBIDDEN))
def test_no_layer_imports_upwards(folder):
    wrong = [
        f"{path.relative_to(PACKAGE)}:{line} importe {name}"
        for path in _sources(folder)
        for line, name in _imports(path)
        if _part(name) in FORBIDDEN[folder]
    ]
    assert wrong == []


def test_the_mapping_of_documents_never_reads_the_store():
    wrong = [
        f"{path.relative_to(PACKAGE)}:{line} importe {name}"
        for path in _sources("documents/context")
        for line, name in _imports(path)
        if _part(name) not in ("domain", "documents")
    ]
    assert wrong == []


def test_the_store_does_not_import_its_second_copy():
    # db.py holds the hook list only; services/__init__.py registers the copy in plain sight
    names = [name for _, name in _imports(PACKAGE / "store" / "db.py")]
    assert not [name for name in names if name.startswith("oncosecours.store.replica")]
    registration = (PACKAGE / "services" / "__init__.py").read_text(encoding="utf-8")
    assert "db.AFTER_COMMIT.append(replica.after_commit)" in registration


def test_the_second_copy_is_hooked_once_when_services_are_imported():
    import oncosecours.services  # noqa: F401 - the registration under test
    from oncosecours.store import db, replica

    assert db.AFTER_COMMIT.count(replica.after_commit) == 1
