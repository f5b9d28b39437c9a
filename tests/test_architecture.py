"""The layers of docs/architecture.rst, checked on the source: every module's imports.

Each module of ``sk_riskscore`` is parsed with :mod:`ast` (nothing is
imported), relative imports are resolved, and three rules are enforced:

1. no import cycle among ``sk_riskscore`` modules, counting the imports
   inside functions too (the old ``_cli`` <-> ``_demo`` cycle was two of
   those). One edge is exempt: reading the literal
   ``sk_riskscore.__version__`` (packaging reads it from ``__init__.py``);
2. ``sk_riskscore`` never imports ``mlflow`` or ``sk_riskscore_mlflow`` at
   module level (the MLflow plugin sits above the core);
3. ``sk_riskscore._solver`` imports neither scikit-learn nor any other
   ``sk_riskscore`` module, not even inside a function.

The checking functions are also fed small synthetic packages, so a rule
that could never fail would show.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = "sk_riskscore"
SOLVER = "sk_riskscore._solver"
PLUGIN_ROOTS = ("mlflow", "sk_riskscore_mlflow")


@dataclass(frozen=True)
class Import:
    importer: str
    target: str
    module_level: bool
    line: int
    names: tuple = ()


def module_files(root: Path, package: str) -> dict[str, Path]:
    """Dotted module name -> file, for every .py file of ``package`` under ``root``."""
    files = {}
    for path in sorted((root / package.replace(".", "/")).rglob("*.py")):
        parts = list(path.relative_to(root).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        files[".".join(parts)] = path
    return files


def _function_nodes(tree: ast.AST) -> set[int]:
    """ids of import nodes that sit inside a function body (run on call)."""
    inside = set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)):
            for child in ast.walk(node):
                if isinstance(child, (ast.Import, ast.ImportFrom)):
                    inside.add(id(child))
    return inside


def imports_of(source: str, module: str, is_package: bool, known: set[str]) -> list[Import]:
    """The imports of one module, relative ones resolved to absolute names.

    ``from package import name`` targets ``package.name`` when that is a
    module in ``known`` (a submodule), else ``package``.
    """
    tree = ast.parse(source)
    in_function = _function_nodes(tree)
    base = module.split(".") if is_package else module.split(".")[:-1]
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            targets = {alias.name: () for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                anchor = base[: len(base) - (node.level - 1)]
                source_module = ".".join(anchor + ([node.module] if node.module else []))
            else:
                source_module = node.module
            targets = {}
            for alias in node.names:
                submodule = f"{source_module}.{alias.name}"
                target = submodule if submodule in known else source_module
                targets.setdefault(target, []).append(alias.name)
        else:
            continue
        for target, names in targets.items():
            found.append(
                Import(module, target, id(node) not in in_function, node.lineno, tuple(names))
            )
    return found


def package_imports(root: Path, package: str) -> list[Import]:
    files = module_files(root, package)
    known = set(files)
    found = []
    for module, path in files.items():
        source = path.read_text(encoding="utf-8")
        found += imports_of(source, module, path.name == "__init__.py", known)
    return found


def find_cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Every strongly connected group of two or more modules (or a self-import)."""
    index, low, stack, on_stack, cycles = {}, {}, [], set(), []
    counter = [0]

    def visit(node):
        index[node] = low[node] = counter[0]
        counter[0] += 1
        stack.append(node)
        on_stack.add(node)
        for nxt in sorted(graph.get(node, ())):
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in on_stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            group = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                group.append(member)
                if member == node:
                    break
            if len(group) > 1 or node in graph.get(node, ()):
                cycles.append(sorted(group))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return cycles


def import_graph(imports: list[Import], package: str) -> dict[str, set[str]]:
    """Module -> the package modules it imports (at load time or on call)."""
    graph: dict[str, set[str]] = {}
    for imp in imports:
        if not _within(imp.target, package) or imp.target == imp.importer:
            continue
        if imp.target == package and imp.names == ("__version__",):
            continue  # the version literal, read from the package's __init__
        graph.setdefault(imp.importer, set()).add(imp.target)
    return graph


def plugin_imports(imports: list[Import]) -> list[Import]:
    return [
        imp
        for imp in imports
        if imp.module_level and any(_within(imp.target, root) for root in PLUGIN_ROOTS)
    ]


def solver_violations(imports: list[Import], package: str, solver: str) -> list[Import]:
    return [
        imp
        for imp in imports
        if _within(imp.importer, solver)
        and (
            _within(imp.target, "sklearn")
            or (_within(imp.target, package) and not _within(imp.target, solver))
        )
    ]


def _within(name: str, root: str) -> bool:
    return name == root or name.startswith(root + ".")


def _describe(imports: list[Import]) -> str:
    return "; ".join(f"{i.importer} (line {i.line}) imports {i.target}" for i in imports)


# ------------------------------------------------------------- the real package


@pytest.fixture(scope="module")
def imports():
    found = package_imports(ROOT, PACKAGE)
    assert len({i.importer for i in found}) >= 30, "the walk missed most of the package"
    return found


def test_no_import_cycle(imports):
    cycles = find_cycles(import_graph(imports, PACKAGE))
    assert cycles == [], f"import cycles among sk_riskscore modules: {cycles}"


def test_core_never_imports_mlflow_at_module_level(imports):
    bad = plugin_imports(imports)
    assert bad == [], f"the core imports MLflow at module level: {_describe(bad)}"


def test_solver_imports_neither_sklearn_nor_the_estimators(imports):
    bad = solver_violations(imports, PACKAGE, SOLVER)
    assert bad == [], f"the solver reaches up a layer: {_describe(bad)}"


def test_the_walk_sees_relative_and_lazy_imports(imports):
    edges = {(i.importer, i.target, i.module_level) for i in imports}
    # relative, resolved to a submodule of a package
    assert ("sk_riskscore", "sk_riskscore._classifier", True) in edges
    assert ("sk_riskscore._io._binarizer", "sk_riskscore._binning", True) in edges
    # inside a function: seen, marked as not at module level
    assert ("sk_riskscore.spark", "sk_riskscore_mlflow.spark", False) in edges


# ---------------------------------------------- the checks can fail (synthetic)


def _synthetic(tmp_path, files: dict[str, str]) -> list[Import]:
    for name, text in files.items():
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return package_imports(tmp_path, "pkg")


CYCLES = {
    "at load time, across a subpackage": (
        {
            "pkg/__init__.py": "from .a import f\n",
            "pkg/a.py": "from .sub.b import g\n",
            "pkg/sub/__init__.py": "",
            "pkg/sub/b.py": "from ..a import f\n",
            "pkg/c.py": "def lazy():\n    from . import a\n",
        },
        [["pkg.a", "pkg.sub.b"]],
    ),
    "through an import inside a function; the version read is exempt": (
        {
            "pkg/__init__.py": "__version__ = '1'\nfrom . import d\n",
            "pkg/a.py": "from . import b\n",
            "pkg/b.py": "def later():\n    from . import a\n",
            "pkg/c.py": "from . import __version__\n",
            "pkg/d.py": "import pkg.c\n",
        },
        [["pkg.a", "pkg.b"]],
    ),
}


@pytest.mark.parametrize("case", list(CYCLES))
def test_a_cycle_is_found(tmp_path, case):
    files, expected = CYCLES[case]
    imports = _synthetic(tmp_path, files)
    assert find_cycles(import_graph(imports, "pkg")) == expected


def test_module_level_mlflow_is_found_and_a_lazy_one_allowed(tmp_path):
    imports = _synthetic(
        tmp_path,
        {
            "pkg/__init__.py": "",
            "pkg/bad.py": "try:\n    import mlflow.pyfunc\nexcept ImportError:\n    pass\n",
            "pkg/worse.py": "from sk_riskscore_mlflow.spark import score_on_spark\n",
            "pkg/fine.py": "def f():\n    import sk_riskscore_mlflow\n",
        },
    )
    assert sorted(i.importer for i in plugin_imports(imports)) == ["pkg.bad", "pkg.worse"]


def test_solver_reaching_up_is_found(tmp_path):
    imports = _synthetic(
        tmp_path,
        {
            "pkg/__init__.py": "",
            "pkg/model.py": "",
            "pkg/_solver/__init__.py": "from .core import solve\n",
            "pkg/_solver/core.py": "import numpy\ndef solve():\n    from ..model import x\n",
            "pkg/_solver/fit.py": "from sklearn.linear_model import LogisticRegression\n",
        },
    )
    bad = solver_violations(imports, "pkg", "pkg._solver")
    assert sorted((i.importer, i.target) for i in bad) == [
        ("pkg._solver.core", "pkg.model"),
        ("pkg._solver.fit", "sklearn.linear_model"),
    ]
