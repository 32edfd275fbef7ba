"""The house rules the import graph keeps: the service room speaks no HTTP, neither the API nor
the Studio reaches up to the application that composes them, and the runtime never loads the
training package (``rostro_training``: head fitting, our labels)."""

from __future__ import annotations

import ast
import functools
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[1] / "src" / "rostro"


@functools.cache
def parsed(path: Path) -> ast.Module:
    """The syntax tree of ``path`` (parsed once per test session)."""
    return ast.parse(path.read_text(encoding="utf-8"))


def imported_modules(path: Path) -> set[str]:
    """Every module ``path`` imports (absolute names), at any depth of the file."""
    names: set[str] = set()
    for node in ast.walk(parsed(path)):
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



def _imports_training(path: Path) -> bool:
    return any(name.split(".")[0] == "rostro_training" for name in imported_modules(path))


def test_runtime_rooms_do_not_import_training():
    """Only the evaluation room (``rostro eval attributes`` refits the heads' recipes by
    cross-validation and reads our labels) may import the training package."""
    offenders = sorted(str(path.relative_to(SRC)) for path in SRC.rglob("*.py")
                       if path.relative_to(SRC).parts[0] != "evaluation"
                       and _imports_training(path))
    assert not offenders


def load_time_imports(path: Path) -> set[str]:
    """The modules ``path`` imports when it is loaded: outside function bodies and
    ``if TYPE_CHECKING:`` blocks."""
    names: set[str] = set()

    def visit(node: ast.AST) -> None:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)):
            return
        if isinstance(node, ast.If) and ast.unparse(node.test).endswith("TYPE_CHECKING"):
            return
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            names.add(node.module)
            names.update(f"{node.module}.{alias.name}" for alias in node.names)
        for child in ast.iter_child_nodes(node):
            visit(child)

    visit(parsed(path))
    return names


def _module_file(name: str) -> Path | None:
    """The source file of module ``name`` of this tree (None: not ours, or not a module)."""
    parts = name.split(".")
    base = SRC.parent.joinpath(*parts)
    for path in (base.with_suffix(".py"), base / "__init__.py"):
        if path.is_file():
            return path
    return None


@pytest.mark.parametrize("entry", ["rostro.cli", "rostro.server"])
def test_the_runtime_loads_no_training_code(entry):
    """What loading the ``rostro`` command (every command's parser, the evaluation modules
    included) or the served application imports, followed module by module, never reaches
    ``rostro_training``: the evaluation room imports it inside the functions that use it."""
    seen, todo, reached = set(), [entry], []
    while todo:
        name = todo.pop()
        if name in seen:
            continue
        seen.add(name)
        path = _module_file(name)
        if path is None:
            continue
        for imported in load_time_imports(path):
            parts = imported.split(".")
            if parts[0] == "rostro_training":
                reached.append(f"{name} -> {imported}")
            elif parts[0] == "rostro":
                todo += [".".join(parts[:k]) for k in range(1, len(parts) + 1)]
    assert not reached
    if entry == "rostro.cli":  # the walk does reach the evaluation modules
        assert "rostro.evaluation.attribute_accuracy" in seen


#: Names every room may have: package files, and each room's own small exception hierarchy.
SHARED_NAMES = frozenset({"__init__", "__main__", "errors"})
#: Alembic's revision folder: its files are loaded by path, never imported by name.
LOADED_BY_PATH = Path("store/migrations/versions")


def test_module_names_are_unique_across_rooms():
    """One name, one module: ``from rostro.x import groups`` never needs an alias to tell two
    rooms' ``groups`` apart. Packages count too (``vision/attributes/`` vs ``attributes.py``)."""
    where: dict[str, list[str]] = {}
    for path in SRC.rglob("*"):
        relative = path.relative_to(SRC)
        if "__pycache__" in path.parts or relative.is_relative_to(LOADED_BY_PATH):
            continue
        if path.suffix == ".py":
            name = path.stem
        elif path.is_dir() and (path / "__init__.py").exists():
            name = path.name
        else:
            continue
        where.setdefault(name, []).append(str(relative))
    collisions = {name: sorted(paths) for name, paths in where.items()
                  if len(paths) > 1 and name not in SHARED_NAMES}
    assert not collisions
