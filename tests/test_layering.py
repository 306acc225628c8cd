"""The package's layering rules, checked on the source with :mod:`ast` (no import is run).

Three rules from ``docs/architecture.md``:

1. No module imports another module's ``_private`` names: ``from m import _x``,
   ``m._x`` on an imported module, or a ``_private`` module from outside the package that
   holds it (``harmscope.cli._common`` is for ``harmscope.cli.*`` only).
2. Nothing under ``src/harmscope`` imports ``harmscope.cli`` or ``harmscope.report`` except
   ``cli/`` and ``report/`` themselves: the faces sit on top, nothing below calls them.
3. No import cycles between modules: each strongly connected component of the module import
   graph with more than one module is a cycle.

Every import counts, wherever it is written: at the top, inside a function, or under
``if TYPE_CHECKING:`` (a type-only import still ties the two modules together). An import
names one module: ``from harmscope.a import b`` is an edge to ``harmscope.a.b`` when that is
a module, else to ``harmscope.a``; the parent packages Python also runs are not edges
(otherwise every package ``__init__`` that re-exports its modules would be a cycle).

The allow-lists below hold today's offenders outside ``simulate/``, each with the package
that owns the fix; merged branches burn them down. An allow-listed entry that no longer
occurs fails :func:`test_allow_lists_hold_no_stale_entries`, so each fix also shrinks the
list.
"""

from __future__ import annotations

import ast
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import pytest

PACKAGE = "harmscope"
SRC = Path(__file__).resolve().parents[1] / "src" / PACKAGE

# (importing module, imported module, private name) -- owner of the fix in the comment.
ALLOWED_PRIVATE: frozenset[tuple[str, str, str]] = frozenset({})

# Modules outside cli/ and report/ that import a face -- owner of the fix in the comment.
ALLOWED_FACE_IMPORTS: frozenset[tuple[str, str]] = frozenset()

# Packages with known cycles: a cycle whose modules all lie inside one of them passes (so
# fixing part of it, or adding a command module, never breaks the test); one that reaches
# outside fails.
ALLOWED_CYCLE_PACKAGES: frozenset[str] = frozenset()

# Names every namedtuple has; reading them on another module's object is public API.
NAMEDTUPLE_API = frozenset({"_replace", "_asdict", "_fields", "_make", "_field_defaults"})


# ---------------------------------------------------------------------------- the graph ---
def _module_name(path: Path) -> str:
    rel = path.relative_to(SRC.parent).with_suffix("")
    parts = rel.parts[:-1] if rel.name == "__init__" else rel.parts
    return ".".join(parts)


def _modules() -> dict[str, Path]:
    return {_module_name(p): p for p in sorted(SRC.rglob("*.py"))}


MODULES = _modules()


@dataclass(frozen=True)
class Import:
    """One imported name (or module) as written in a module."""

    importer: str
    target: str  # the module the import names (resolved to a module of the package)
    name: str | None  # the name taken from it (``from target import name``), if any
    line: int


def _is_private(name: str) -> bool:
    return name.startswith("_") and not (name.startswith("__") and name.endswith("__"))


def _resolve_from(module: str, node: ast.ImportFrom) -> str:
    """The absolute module of ``from ... import``, resolving relative imports."""
    if node.level == 0:
        return node.module or ""
    is_pkg = MODULES[module].name == "__init__.py"
    base = module.split(".")
    base = base if is_pkg else base[:-1]
    base = base[: len(base) - (node.level - 1)]
    return ".".join([*base, node.module] if node.module else base)


def _nearest_module(name: str) -> str | None:
    """``name`` or its longest prefix that is a module of the package."""
    parts = name.split(".")
    while parts:
        cand = ".".join(parts)
        if cand in MODULES:
            return cand
        parts.pop()
    return None


@cache
def _tree(module: str) -> ast.Module:
    return ast.parse(MODULES[module].read_text(encoding="utf-8"))


def imports_of(module: str) -> Iterator[Import]:
    """Every import of a package module written in ``module`` (anywhere in the file)."""
    tree = _tree(module)
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                target = _nearest_module(alias.name)
                if target is not None:
                    yield Import(module, target, None, node.lineno)
        elif isinstance(node, ast.ImportFrom):
            src = _resolve_from(module, node)
            if not src.startswith(PACKAGE):
                continue
            for alias in node.names:
                sub = f"{src}.{alias.name}"
                if sub in MODULES:
                    yield Import(module, sub, None, node.lineno)
                else:
                    target = _nearest_module(src)
                    if target is not None:
                        yield Import(module, target, alias.name, node.lineno)


def _module_aliases(tree: ast.Module, module: str) -> dict[str, str]:
    """Local names bound to package modules (``import a.b as m``, ``from a import b``)."""
    out: dict[str, str] = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name in MODULES:
                    out[alias.asname or alias.name] = alias.name
        elif isinstance(node, ast.ImportFrom):
            src = _resolve_from(module, node)
            for alias in node.names:
                if f"{src}.{alias.name}" in MODULES:
                    out[alias.asname or alias.name] = f"{src}.{alias.name}"
    return out


def _dotted(node: ast.expr) -> str | None:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        head = _dotted(node.value)
        return None if head is None else f"{head}.{node.attr}"
    return None


def private_uses() -> list[Import]:
    """Every use of another module's private name, private module or private attribute."""
    found: list[Import] = []
    for module in MODULES:
        for imp in imports_of(module):
            if imp.name is not None and _is_private(imp.name):
                found.append(imp)
            # A private module is private to the package that holds it.
            parts = imp.target.split(".")
            for i, part in enumerate(parts):
                if _is_private(part):
                    owner = ".".join(parts[:i])
                    if not (module == owner or module.startswith(owner + ".")):
                        found.append(Import(module, imp.target, part, imp.line))
                    break
        tree = _tree(module)
        aliases = _module_aliases(tree, module)
        for node in ast.walk(tree):
            if not (isinstance(node, ast.Attribute) and _is_private(node.attr)):
                continue
            dotted = _dotted(node.value)
            if dotted is None:
                continue
            head, _, rest = dotted.partition(".")
            target = aliases.get(head)
            if target is None and head == PACKAGE:
                target = PACKAGE
            if target is None:
                continue
            full = f"{target}.{rest}" if rest else target
            if full in MODULES and full != module and f"{full}.{node.attr}" not in MODULES:
                found.append(Import(module, full, node.attr, node.lineno))
    return found


def _own_private_names(tree: ast.Module) -> set[str]:
    """``_names`` a module defines: functions, classes, assignments, ``self._x`` attributes."""
    own: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            own.add(node.name)
        elif isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
            own.add(node.id)
        elif (isinstance(node, ast.Attribute) and isinstance(node.ctx, ast.Store | ast.Del)) or (
            isinstance(node, ast.Attribute) and _dotted(node.value) in ("self", "cls")
        ):
            own.add(node.attr)
    return {n for n in own if _is_private(n)}


def private_attribute_reads() -> list[Import]:
    """``obj._x`` where ``_x`` is not defined in the reading module: state of another
    module's object read from outside (``sim._buffer`` in a module that is not the
    simulation's). Module attributes are :func:`private_uses`' job."""
    found: list[Import] = []
    for module in MODULES:
        tree = _tree(module)
        own = _own_private_names(tree) | NAMEDTUPLE_API
        aliases = _module_aliases(tree, module)
        for node in ast.walk(tree):
            if not (isinstance(node, ast.Attribute) and _is_private(node.attr)):
                continue
            if node.attr in own or isinstance(node.ctx, ast.Store | ast.Del):
                continue
            head = (_dotted(node.value) or "").partition(".")[0]
            if head in ("self", "cls") or head in aliases or head == PACKAGE:
                continue
            found.append(Import(module, "(object)", node.attr, node.lineno))
        for node in ast.walk(tree):
            # getattr(obj, "_x") / hasattr / setattr: the same read, spelled as a string.
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Name)
                and node.func.id in ("getattr", "hasattr", "setattr")
                and len(node.args) > 1
                and isinstance(node.args[1], ast.Constant)
                and isinstance(node.args[1].value, str)
                and _is_private(node.args[1].value)
                and node.args[1].value not in own
            ):
                found.append(Import(module, "(object)", node.args[1].value, node.lineno))
    return found


def face_imports() -> list[Import]:
    """Imports of ``harmscope.cli`` / ``harmscope.report`` from below the faces."""
    faces = (f"{PACKAGE}.cli", f"{PACKAGE}.report")

    def in_face(m: str) -> bool:
        return any(m == f or m.startswith(f + ".") for f in faces)

    return [
        imp
        for module in MODULES
        if not in_face(module)
        for imp in imports_of(module)
        if in_face(imp.target)
    ]


def import_graph() -> dict[str, set[str]]:
    """Module -> the package modules it imports."""
    graph: dict[str, set[str]] = {m: set() for m in MODULES}
    for module in MODULES:
        for imp in imports_of(module):
            if imp.target != module:
                graph[module].add(imp.target)
    return graph


def cycles(graph: dict[str, set[str]]) -> list[frozenset[str]]:
    """Strongly connected components with more than one module (Tarjan, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    on_stack: set[str] = set()
    stack: list[str] = []
    out: list[frozenset[str]] = []
    counter = 0
    for root in sorted(graph):
        if root in index:
            continue
        work = [(root, iter(sorted(graph[root])))]
        index[root] = low[root] = counter
        counter += 1
        stack.append(root)
        on_stack.add(root)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = counter
                    counter += 1
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph[child]))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                parent = work[-1][0]
                low[parent] = min(low[parent], low[node])
            if low[node] == index[node]:
                comp = set()
                while True:
                    m = stack.pop()
                    on_stack.discard(m)
                    comp.add(m)
                    if m == node:
                        break
                if len(comp) > 1:
                    out.append(frozenset(comp))
    return sorted(out, key=sorted)


def cycle_path(graph: dict[str, set[str]], comp: frozenset[str]) -> list[str]:
    """One concrete loop through a component, for the failure message."""
    start = min(comp)
    prev: dict[str, str] = {}
    frontier = [start]
    while frontier:
        nxt = []
        for node in frontier:
            for child in sorted(graph[node] & comp):
                if child == start:
                    path = [start]
                    cur = node
                    while cur != start:
                        path.append(cur)
                        cur = prev[cur]
                    return [start, *reversed(path[1:]), start]
                if child not in prev:
                    prev[child] = node
                    nxt.append(child)
        frontier = nxt
    return sorted(comp)


def _where(imp: Import) -> str:
    path = MODULES[imp.importer].relative_to(SRC.parents[1])
    what = f"{imp.target}.{imp.name}" if imp.name else imp.target
    return f"{path}:{imp.line}: {imp.importer} uses {what}"


# ---------------------------------------------------------------------------- the tests ---
def test_no_private_names_across_modules() -> None:
    bad = [i for i in private_uses() if (i.importer, i.target, i.name) not in ALLOWED_PRIVATE]
    assert not bad, "private names used across modules:\n" + "\n".join(map(_where, bad))


def test_no_private_attributes_of_other_modules_objects() -> None:
    bad = private_attribute_reads()
    assert not bad, "private attributes read from outside their module:\n" + "\n".join(
        map(_where, bad)
    )


def test_nothing_below_the_faces_imports_them() -> None:
    bad = [i for i in face_imports() if (i.importer, i.target) not in ALLOWED_FACE_IMPORTS]
    assert not bad, "cli/ or report/ imported from below:\n" + "\n".join(map(_where, bad))


def _inside(module: str, package: str) -> bool:
    return module == package or module.startswith(package + ".")


def _allowed_cycle(comp: frozenset[str]) -> bool:
    return any(all(_inside(m, pkg) for m in comp) for pkg in ALLOWED_CYCLE_PACKAGES)


def test_no_import_cycles() -> None:
    graph = import_graph()
    bad = [c for c in cycles(graph) if not _allowed_cycle(c)]
    assert not bad, "import cycles:\n" + "\n".join(
        " -> ".join(cycle_path(graph, c)) + f"  ({len(c)} modules: {', '.join(sorted(c))})"
        for c in bad
    )


def test_allow_lists_hold_no_stale_entries() -> None:
    private = {(i.importer, i.target, i.name) for i in private_uses()}
    faces = {(i.importer, i.target) for i in face_imports()}
    found = cycles(import_graph())
    stale = [
        *(f"private {e}" for e in sorted(ALLOWED_PRIVATE - private)),
        *(f"face import {e}" for e in sorted(ALLOWED_FACE_IMPORTS - faces)),
        *(
            f"cycles inside {pkg}"
            for pkg in sorted(ALLOWED_CYCLE_PACKAGES)
            if not any(all(_inside(m, pkg) for m in c) for c in found)
        ),
    ]
    assert not stale, "fixed: remove from the allow-lists in tests/test_layering.py:\n" + (
        "\n".join(stale)
    )


def test_the_checker_sees_what_it_looks_for() -> None:
    """The checks themselves can fail: known shapes are found on a planted graph and code."""
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [frozenset("abc")]
    assert cycles({"a": {"b"}, "b": set()}) == []
    assert cycle_path({"a": {"b"}, "b": {"a"}}, frozenset("ab")) == ["a", "b", "a"]
    assert _is_private("_x") and not _is_private("__all__") and not _is_private("x")
    # The package's own known edges are seen (a broken walk would find no imports at all).
    graph = import_graph()
    assert f"{PACKAGE}.simulate.engine" in graph[f"{PACKAGE}.simulate"]
    assert f"{PACKAGE}.errors" in graph[f"{PACKAGE}.simulate.engine"]


def test_the_checker_finds_planted_offences(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Each rule fires on a small planted package (so an empty allow-list proves something)."""
    files = {
        "harmscope/__init__.py": "",
        "harmscope/cli/__init__.py": "app = 1\n",
        "harmscope/cli/_common.py": "x = 1\n",
        "harmscope/a.py": "from harmscope.b import _hidden\nfrom harmscope.cli import app\n",
        "harmscope/b.py": (
            "from typing import TYPE_CHECKING\n"
            "import harmscope.c as c\n"
            "_hidden = 1\n"
            "if TYPE_CHECKING:\n    from harmscope.a import x\n"
            "def f(sim):\n    return c._y + sim._state + getattr(sim, '_other')\n"
        ),
        "harmscope/c.py": "from harmscope.cli._common import x\n_y = 2\n",
    }
    for rel, text in files.items():
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / rel).write_text(text)
    this = sys.modules[__name__]
    monkeypatch.setattr(this, "SRC", tmp_path / "harmscope")
    monkeypatch.setattr(this, "MODULES", _modules())
    _tree.cache_clear()
    try:
        private = {(i.importer, i.target, i.name) for i in private_uses()}
        attrs = {(i.importer, i.name) for i in private_attribute_reads()}
        faces = {(i.importer, i.target) for i in face_imports()}
        found = cycles(import_graph())
    finally:
        _tree.cache_clear()
    assert private == {
        ("harmscope.a", "harmscope.b", "_hidden"),
        ("harmscope.b", "harmscope.c", "_y"),
        ("harmscope.c", "harmscope.cli._common", "_common"),
    }
    assert attrs == {("harmscope.b", "_state"), ("harmscope.b", "_other")}
    assert faces == {
        ("harmscope.a", "harmscope.cli"),
        ("harmscope.c", "harmscope.cli._common"),
    }
    assert found == [frozenset({"harmscope.a", "harmscope.b"})]


# ------------------------------------------------------------------- who runs the simulator
# The simulator makes test data with known truth; only the checks that score methods on it
# (checks/), the faces that run them (cli/, report/) and simulate/ itself may import it, so
# no analysis result ever depends on simulator code.
SIMULATOR_USERS = ("simulate", "checks", "cli", "report")


def simulator_imports() -> list[Import]:
    """Imports of ``harmscope.simulate`` from outside :data:`SIMULATOR_USERS`."""
    sim = f"{PACKAGE}.simulate"
    users = tuple(f"{PACKAGE}.{p}" for p in SIMULATOR_USERS)
    return [
        imp
        for module in MODULES
        if not any(_inside(module, u) for u in users)
        for imp in imports_of(module)
        if _inside(imp.target, sim)
    ]


def test_only_checks_and_faces_import_the_simulator() -> None:
    bad = simulator_imports()
    assert not bad, "harmscope.simulate imported by domain code:\n" + "\n".join(map(_where, bad))
    # The rule bites: the checks do import it (an empty walk would pass vacuously).
    assert any(
        _inside(t, f"{PACKAGE}.simulate") for t in import_graph()[f"{PACKAGE}.checks.evaluation"]
    )


# ------------------------------------------------------------------------ package layers ---
# Bottom to top, as drawn in docs/architecture.md ("Layers"; the test below keeps the two
# equal). A package may import any package of a lower layer. Within a layer only the pairs in
# SIDEWAYS may import each other; nothing imports upwards. "__init__" is harmscope/__init__.py
# (the version); root modules (errors, periods, geo, export) count as packages of their own.
LAYERS: tuple[tuple[str, frozenset[str]], ...] = (
    ("kernel", frozenset({"errors", "periods", "geo", "__init__"})),
    ("harm model", frozenset({"harm"})),
    ("sources", frozenset({"sources"})),
    ("data", frozenset({"warehouse", "export"})),
    ("places", frozenset({"places", "simulate"})),
    ("units", frozenset({"markets", "people"})),
    ("methods", frozenset({"evaluate", "priorities"})),
    ("checks", frozenset({"checks"})),
    ("application", frozenset({"app"})),
    ("faces", frozenset({"cli", "report"})),
)
SIDEWAYS: frozenset[tuple[str, str]] = frozenset(
    {
        ("export", "warehouse"),  # export reads warehouse tables
        ("cli", "report"),  # `harmscope report` renders a report
    }
)
# Modules kept only so old import paths work; they re-export a higher package unchanged and
# nothing of ours imports them.
COMPAT_SHIMS: frozenset[str] = frozenset({f"{PACKAGE}.places.markets"})


def package_of(module: str) -> str:
    """The layer key of a module: its top-level package or root module below harmscope."""
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else "__init__"


def layer_index() -> dict[str, int]:
    return {pkg: i for i, (_, pkgs) in enumerate(LAYERS) for pkg in pkgs}


def package_edges() -> dict[tuple[str, str], list[Import]]:
    """(importer package, imported package) -> the imports behind that edge."""
    out: dict[tuple[str, str], list[Import]] = {}
    for module in MODULES:
        if module in COMPAT_SHIMS:
            continue
        for imp in imports_of(module):
            a, b = package_of(module), package_of(imp.target)
            if a != b:
                out.setdefault((a, b), []).append(imp)
    return out


def layering_offences() -> list[Import]:
    layer = layer_index()
    bad = []
    for (a, b), imps in sorted(package_edges().items()):
        if a in layer and b in layer and (layer[b] < layer[a] or (a, b) in SIDEWAYS):
            continue
        bad.extend(imps)
    return bad


def test_every_package_has_a_layer() -> None:
    missing = sorted({package_of(m) for m in MODULES} - set(layer_index()))
    assert not missing, f"packages without a layer in LAYERS (and docs/architecture.md): {missing}"


def test_packages_import_only_downwards() -> None:
    bad = layering_offences()
    assert not bad, "imports against the layering of docs/architecture.md:\n" + "\n".join(
        f"{_where(i)} ({package_of(i.importer)} may not import {package_of(i.target)})" for i in bad
    )


def test_sideways_pairs_and_shims_are_used() -> None:
    edges = package_edges()
    stale = sorted(p for p in SIDEWAYS if p not in edges)
    assert not stale, f"sideways imports no longer made, remove from SIDEWAYS: {stale}"
    for shim in COMPAT_SHIMS:
        assert shim in MODULES, f"{shim} is gone: remove it from COMPAT_SHIMS"
        users = [m for m in MODULES if shim in {i.target for i in imports_of(m)}]
        assert not users, f"{shim} is a compatibility shim; import the real package: {users}"


def test_docs_draw_the_same_layers() -> None:
    """The layer block of docs/architecture.md lists LAYERS top to bottom, one per line:
    ``label │ pkg, pkg   comment`` (two spaces end the package list)."""
    doc = (SRC.parents[1] / "docs" / "architecture.md").read_text(encoding="utf-8")
    block = doc.split("<!-- layers -->")[1]
    drawn = [
        (label.strip(), frozenset(p.strip() for p in pkgs.strip().split("  ")[0].split(",")))
        for label, pkgs in (line.split("│", 1) for line in block.splitlines() if "│" in line)
    ]
    assert drawn == list(reversed(LAYERS))


def test_the_layering_check_fires(monkeypatch: pytest.MonkeyPatch) -> None:
    """An upward import and a sideways one outside SIDEWAYS are both reported."""
    this = sys.modules[__name__]
    fake = {
        ("harm", "places"): [Import("harmscope.harm.x", "harmscope.places.y", None, 1)],
        ("places", "simulate"): [Import("harmscope.places.y", "harmscope.simulate", None, 2)],
        ("places", "harm"): [Import("harmscope.places.y", "harmscope.harm.x", None, 3)],
    }
    monkeypatch.setattr(this, "package_edges", lambda: fake)
    assert [i.line for i in layering_offences()] == [1, 2]


MAX_LINES = 700


def test_no_module_is_longer_than_700_lines() -> None:
    """One concept per module: past 700 lines a module usually holds two (issue 9)."""
    long = {
        str(path.relative_to(SRC.parents[1])): n
        for path in MODULES.values()
        if (n := len(path.read_text(encoding="utf-8").splitlines())) > MAX_LINES
    }
    assert not long, f"modules over {MAX_LINES} lines (split them): {long}"
