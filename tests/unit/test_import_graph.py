"""The packages of coach/ stand in layers and import only downward, with no cycles.

The graph is built from the source with ``ast``: every ``import`` and ``from ...
import`` (inside functions and under ``TYPE_CHECKING`` too, relative ones resolved),
and every string that names a coach module exactly (the composition root looks
some adapters up by name). A lower layer that must reach up takes a port or a
callback instead; see ARCHITECTURE.md's Layout section.
"""

from __future__ import annotations

import ast
from collections.abc import Iterable, Mapping
from pathlib import Path

import pytest

COACH = Path(__file__).resolve().parents[2] / "coach"

# Lowest first. A unit may import only units of a lower rank (and itself); two
# units of the same rank may not import each other. ``coach`` is the root package
# (its version and location).
LAYERS: tuple[tuple[str, ...], ...] = (
    ("coach", "coach.errors", "coach.clock"),
    ("coach.audio",),
    ("coach.content", "coach.store"),
    ("coach.script",),
    ("coach.speak",),
    ("coach.listen",),
    ("coach.session",),
    ("coach.triage",),
    ("coach.report",),
    ("coach.plan",),
    ("coach.cli",),
    ("coach.__main__",),  # python -m coach
    ("coach.testing",),   # test support: may use anything; nothing in the product may use it
)
RANK = {unit: rank for rank, units in enumerate(LAYERS) for unit in units}

Graph = dict[str, set[str]]


def module_files(root: Path) -> dict[str, Path]:
    """Dotted module name -> file, for every .py under ``root`` (a package's name is its __init__)."""
    found = {}
    for path in sorted(root.rglob("*.py")):
        parts = (root.name,) + path.relative_to(root).with_suffix("").parts
        found[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = path
    return found


def _known(name: str, modules: Iterable[str]) -> str | None:
    """The longest module that ``name`` (a module or a name inside one) lives in."""
    known = set(modules)
    while name and name not in known:
        name = name.rpartition(".")[0]
    return name or None


def imports_of(name: str, path: Path, modules: Mapping[str, Path]) -> set[str]:
    """The coach modules that the module ``name`` in ``path`` imports or names."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    targets: set[str | None] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            targets.update(_known(alias.name, modules) for alias in node.names if alias.name.split(".")[0] == "coach")
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join(anchor + ([node.module] if node.module else []))
            if base.split(".")[0] != "coach":
                continue
            for alias in node.names:
                inner = f"{base}.{alias.name}"
                targets.add(inner if inner in modules else _known(base, modules))
        elif isinstance(node, ast.Constant) and isinstance(node.value, str) and node.value in modules:
            targets.add(node.value)
    return {target for target in targets if target is not None and target != name}


def build_graph(root: Path) -> Graph:
    modules = module_files(root)
    return {name: imports_of(name, path, modules) for name, path in modules.items()}


def unit_of(module: str) -> str:
    """The layer unit a module belongs to: its top package under coach, or the top module."""
    parts = module.split(".")
    return ".".join(parts[:2])


def cycles(graph: Graph) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    for start in sorted(graph):
        if start in index:
            continue
        work = [(start, iter(sorted(graph[start])))]
        index[start] = low[start] = len(index)
        stack.append(start)
        on_stack.add(start)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in graph:
                    continue
                if child not in index:
                    index[child] = low[child] = len(index)
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph[child]))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                if len(component) > 1:
                    found.append(sorted(component))
    return found


def upward(graph: Graph) -> list[str]:
    """Every import that does not run strictly down the layers, as 'a -> b' lines."""
    wrong = []
    for source, targets in sorted(graph.items()):
        for target in sorted(targets):
            mine, theirs = unit_of(source), unit_of(target)
            if mine != theirs and RANK[theirs] >= RANK[mine]:
                wrong.append(f"{source} -> {target}")
    return wrong


@pytest.fixture(scope="module")
def graph() -> Graph:
    return build_graph(COACH)


def test_every_unit_has_a_layer(graph: Graph) -> None:
    assert sorted({unit_of(name) for name in graph} - set(RANK)) == []


def test_no_import_cycles(graph: Graph) -> None:
    assert cycles(graph) == []


def test_imports_run_only_down_the_layers(graph: Graph) -> None:
    assert upward(graph) == []


def test_every_package_says_what_it_owns(graph: Graph) -> None:
    modules = module_files(COACH)
    silent = [name for name, path in modules.items()
              if path.name == "__init__.py" and not ast.get_docstring(ast.parse(path.read_text(encoding="utf-8")))]
    assert silent == []


def test_modules_stay_short() -> None:
    long = {name: len(path.read_text(encoding="utf-8").splitlines())
            for name, path in module_files(COACH).items()}
    assert {name: lines for name, lines in long.items() if lines > 300} == {}


# -- the checks themselves, on a small package written for the purpose --------------

def _package(root: Path, files: Mapping[str, str]) -> Path:
    for relative, text in files.items():
        path = root / "coach" / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return root / "coach"


def test_a_cycle_through_a_function_import_is_found(tmp_path: Path) -> None:
    root = _package(tmp_path, {
        "__init__.py": "",
        "content/__init__.py": "",
        "content/a.py": "def f():\n    from .b import g\n",
        "content/b.py": "from coach.content import a\n",
    })
    assert cycles(build_graph(root)) == [["coach.content.a", "coach.content.b"]]


def test_an_upward_import_and_a_named_module_are_found(tmp_path: Path) -> None:
    root = _package(tmp_path, {
        "__init__.py": "",
        "script/__init__.py": "",
        "script/engine.py": "import coach.session.runner\n",
        "session/__init__.py": "",
        "session/runner.py": "",
        "audio/__init__.py": "LOOKUP = 'coach.script.engine'\n",
        "store/__init__.py": "from coach.content import model\n",
        "content/__init__.py": "",
        "content/model.py": "",
    })
    assert upward(build_graph(root)) == [
        "coach.audio -> coach.script.engine",
        "coach.script.engine -> coach.session.runner",
        "coach.store -> coach.content.model",
    ]


def test_nothing_in_the_product_may_use_the_test_support(tmp_path: Path) -> None:
    root = _package(tmp_path, {
        "__init__.py": "",
        "cli/__init__.py": "from coach.testing import fakes\n",
        "testing/__init__.py": "",
        "testing/fakes.py": "from coach.cli import main\n",
    })
    assert upward(build_graph(root)) == ["coach.cli -> coach.testing.fakes"]
