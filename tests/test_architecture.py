"""The house's shape, checked on the source: layers that only point down, no import cycle
between packages, no private name used across packages, no module over 400 lines.

Every import counts, including those inside functions (they hide cycles as well as they
defer costs). A "unit" is a subpackage of ``rag`` (``rag.answering``...), a top-level module
of ``rag`` (``rag.service``...), or one of the top-level packages (``ingest``, ``ui``, ``eval``).
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
PACKAGES = ("rag", "ingest", "ui", "eval")
MAX_LINES = 400

# What each unit may import, besides itself: the layers, bottom first. A unit may use any unit
# of a lower layer; nothing may use a unit of its own layer or above unless listed here.
LAYERS = [
    {"rag.types", "rag.errors"},
    {"rag.settings_sources", "rag.hardware"},
    {"rag.settings", "rag.text", "rag.serialize"},
    {"rag.index", "rag.embedders", "rag.llm"},
    {"rag.retrieval", "rag.testing", "ingest"},
    {"rag.answering"},
    {"rag.service"},
    {"rag.uploads"},
    {"rag.server"},
    {"rag.cli", "rag.langchain", "rag"},
    {"ui", "eval"},
]


def _unit(module: str) -> str:
    parts = module.split(".")
    if parts[0] != "rag" or len(parts) == 1:
        return parts[0]
    return ".".join(parts[:2])


def _modules() -> dict[str, Path]:
    found = {}
    for package in PACKAGES:
        for path in sorted((REPO / package).rglob("*.py")):
            parts = list(path.relative_to(REPO).with_suffix("").parts)
            if parts[-1] == "__init__":
                parts = parts[:-1]
            found[".".join(parts)] = path
    return found


def _imports(module: str, path: Path) -> list[tuple[str, list[str]]]:
    """(imported module, names taken from it) for every import in the file."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found += [(alias.name, []) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = module.split(".")[: -node.level + (1 if path.name == "__init__.py" else 0) or None]
                base = ".".join([*anchor, base] if base else anchor)
            found.append((base, [alias.name for alias in node.names]))
    return [(m, names) for m, names in found if m.split(".")[0] in PACKAGES]


MODULES = _modules()
EDGES = {
    (module, imported, tuple(names)) for module, path in MODULES.items() for imported, names in _imports(module, path)
}


def _layer(unit: str) -> int:
    return next(i for i, layer in enumerate(LAYERS) if unit in layer)


def test_every_unit_has_a_layer():
    units = {_unit(m) for m in MODULES}
    assert all(any(u in layer for layer in LAYERS) for u in units), sorted(units)


def test_imports_only_point_down():
    upward = sorted(
        f"{module} imports {imported}"
        for module, imported, _ in EDGES
        if _unit(module) != _unit(imported) and _layer(_unit(imported)) >= _layer(_unit(module))
    )
    assert not upward, "\n".join(upward)


def test_nothing_in_rag_below_the_facade_imports_ingest():
    below = {u for layer in LAYERS[: _layer("rag.service")] for u in layer if u.startswith("rag.")}
    offenders = sorted(f"{m} imports {i}" for m, i, _ in EDGES if _unit(m) in below and _unit(i) == "ingest")
    assert not offenders, "\n".join(offenders)


def test_no_import_cycle_between_units():
    graph: dict[str, set[str]] = {}
    for module, imported, _ in EDGES:
        if _unit(module) != _unit(imported):
            graph.setdefault(_unit(module), set()).add(_unit(imported))
    state: dict[str, int] = {}

    def visit(unit: str, path: list[str]) -> list[str] | None:
        state[unit] = 1
        for nxt in sorted(graph.get(unit, ())):
            if state.get(nxt) == 1:
                return [*path, unit, nxt]
            if nxt not in state and (cycle := visit(nxt, [*path, unit])):
                return cycle
        state[unit] = 2
        return None

    for unit in sorted(graph):
        if unit not in state:
            cycle = visit(unit, [])
            assert cycle is None, " -> ".join(cycle)


def test_no_private_name_is_used_across_units():
    private = sorted(
        f"{module} takes {name} from {imported}"
        for module, imported, names in EDGES
        for name in names
        if name.startswith("_") and _unit(module) != _unit(imported)
    )
    assert not private, "\n".join(private)


@pytest.mark.parametrize("root", [*PACKAGES, "tests"])
def test_no_module_over_400_lines(root):
    long = sorted(
        f"{path.relative_to(REPO)}: {n} lines"
        for path in (REPO / root).rglob("*.py")
        if (n := len(path.read_text(encoding="utf-8").splitlines())) > MAX_LINES
    )
    assert not long, "\n".join(long)


def test_the_check_sees_a_planted_upward_import():
    """The walker itself: an import of the façade from the text layer would be caught."""
    tree = _imports("rag.text.fake", _write_fake())
    assert ("rag.service", ["RagService"]) in tree and _layer(_unit("rag.service")) > _layer(_unit("rag.text.fake"))


def _write_fake() -> Path:
    import tempfile

    path = Path(tempfile.mkdtemp()) / "fake.py"
    path.write_text("def f():\n    from rag.service import RagService\n", encoding="utf-8")
    return path
