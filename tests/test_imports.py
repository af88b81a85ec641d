"""No import cycles inside cnnlib: every module's imports, read with ast, form a graph without cycles.

Function-level imports count too (a lazy import that dodges a cycle at load time is still a
cycle in the design). Edges follow what Python executes:

- ``import a.b.c`` and ``from a.b.c import name`` run the ``__init__`` of every package on the
  way (a, a.b) and then a.b.c; ``name`` is a module too when a/b/c/name.py exists.
- a package an importing module sits in is already being initialised, so the way down through
  it adds no edge: a package ``__init__`` importing its submodules is not a cycle by itself.
- but ``from <package> import name`` where ``name`` is not a submodule reads the package's
  ``__init__``: a submodule doing that to a package whose ``__init__`` imports it is a cycle.
"""

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def module_files(package_dir: Path) -> dict[str, Path]:
    """Dotted module name -> file, for every .py file of the package (packages by their __init__)."""
    base = package_dir.parent
    names = {}
    for path in sorted(package_dir.rglob("*.py")):
        parts = path.relative_to(base).with_suffix("").parts
        names[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = path
    return names


def _ancestors(module: str) -> list[str]:
    parts = module.split(".")
    return [".".join(parts[:i]) for i in range(1, len(parts))]


def import_edges(module: str, path: Path, modules: dict[str, Path]) -> set[str]:
    """The modules of ``modules`` that importing ``module`` (the file ``path``) executes."""
    own_package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    initialising = set(_ancestors(module)) | {module}
    edges = set()

    def reach(target: str) -> None:
        """Importing ``target`` runs the packages on the way down that are not initialising already."""
        for name in [*_ancestors(target), target]:
            if name in modules and name not in initialising:
                edges.add(name)

    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            for alias in node.names:
                reach(alias.name)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = own_package.split(".")
                base = base[: len(base) - (node.level - 1)]
                source = ".".join(base + ([node.module] if node.module else []))
            else:
                source = node.module
            reach(source)
            for alias in node.names:
                if f"{source}.{alias.name}" in modules:
                    reach(f"{source}.{alias.name}")  # a submodule
                elif source in modules and source != module:
                    edges.add(source)  # a name defined in source's body, even if it is initialising
    return edges


def import_graph(package_dir: Path) -> dict[str, set[str]]:
    modules = module_files(package_dir)
    return {name: import_edges(name, path, modules) for name, path in modules.items()}


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components with more than one module (or a module importing itself)."""
    index, low, stack, on_stack, found = {}, {}, [], set(), []

    def visit(v):  # Tarjan's algorithm
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in sorted(graph[v]):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1 or v in graph[v]:
                found.append(sorted(component))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return found


def test_cnnlib_has_no_import_cycle():
    graph = import_graph(ROOT / "cnnlib")
    assert len(graph) > 20 and "cnnlib.nn" in graph["cnnlib.models.vgg"]  # the graph was read
    assert cycles(graph) == []


def _package(tmp_path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        path = tmp_path / "pkg" / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return tmp_path / "pkg"


@pytest.mark.parametrize(
    "files, expected",
    [
        # a lazy, function-level import still closes a cycle
        ({"__init__.py": "", "a.py": "from . import b\n", "b.py": "def f():\n    from .a import g\n"},
         [["pkg.a", "pkg.b"]]),
        # absolute imports and `import x.y` resolve the same way
        ({"__init__.py": "", "a.py": "import pkg.b\n", "b.py": "from pkg.a import g\n"}, [["pkg.a", "pkg.b"]]),
        # an __init__ importing its submodules, which import each other one way: no cycle
        ({"__init__.py": "from .a import f\nfrom .sub import g\n", "a.py": "from .sub.c import h\n",
          "sub/__init__.py": "from .c import h\n", "sub/c.py": "from ..b import k\n", "b.py": ""}, []),
        # a submodule reading a name from the __init__ that imports it: a cycle
        ({"__init__.py": "", "sub/__init__.py": "from .c import h\nK = 1\n", "sub/c.py": "from . import K\n"},
         [["pkg.sub", "pkg.sub.c"]]),
        # ... also from two levels up, through the package's own __init__
        ({"__init__.py": "from .sub.c import h\nK = 1\n", "sub/__init__.py": "", "sub/c.py": "from .. import K\n"},
         [["pkg", "pkg.sub.c"]]),
        # going down into a sibling package runs that package's __init__
        ({"__init__.py": "", "a.py": "from .sub.c import h\n", "sub/__init__.py": "from ..a import f\n",
          "sub/c.py": ""}, [["pkg.a", "pkg.sub"]]),
    ],
)
def test_cycle_finder_on_small_packages(tmp_path, files, expected):
    assert cycles(import_graph(_package(tmp_path, files))) == expected
