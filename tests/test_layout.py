"""The house rules the import graph keeps: the service room speaks no HTTP, and neither the
API nor the Studio reaches up to the application that composes them."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[1] / "src" / "rostro"


def imported_modules(path: Path) -> set[str]:
    """Every module ``path`` imports (absolute names), at any depth of the file."""
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            names.add(node.module)
            names.update(f"{node.module}.{alias.name}" for alias in node.names)
    return names


@pytest.mark.parametrize("path", sorted((SRC / "service").glob("*.py")), ids=lambda p: p.name)
def test_service_room_has_no_http_types(path):
    web = {name for name in imported_modules(path)
           if name.split(".")[0] in ("fastapi", "starlette") or name.startswith("rostro.api")}
    assert not web, f"{path.name} imports {sorted(web)}"


@pytest.mark.parametrize("room", ["api", "studio", "service"])
def test_rooms_below_the_server_do_not_import_it(room):
    offenders = sorted(str(path.relative_to(SRC)) for path in (SRC / room).rglob("*.py")
                       if "rostro.server" in imported_modules(path))
    assert not offenders


#: Names every room may have: package files, and each room's own small exception hierarchy.
SHARED_NAMES = frozenset({"__init__", "__main__", "errors"})


def test_module_names_are_unique_across_rooms():
    """One name, one module: ``from rostro.x import groups`` never needs an alias to tell two
    rooms' ``groups`` apart. Packages count too (``vision/attributes/`` vs ``attributes.py``)."""
    where: dict[str, list[str]] = {}
    for path in SRC.rglob("*"):
        if "__pycache__" in path.parts:
            continue
        if path.suffix == ".py":
            name = path.stem
        elif path.is_dir() and (path / "__init__.py").exists():
            name = path.name
        else:
            continue
        where.setdefault(name, []).append(str(path.relative_to(SRC)))
    collisions = {name: sorted(paths) for name, paths in where.items()
                  if len(paths) > 1 and name not in SHARED_NAMES}
    assert not collisions
