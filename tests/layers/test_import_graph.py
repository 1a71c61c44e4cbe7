"""``layers.functional``'s modules import each other at the top only, without cycles.

The single-layer builders every family shares live in ``_common``, which imports no sibling:
no module needs an import inside a function to dodge a circle. (Importing any one module
runs the package's ``__init__`` first, so an acyclic top-level graph is what makes every import
order safe.)
"""

import ast
import pathlib

ROOT = pathlib.Path(__file__).resolve().parents[2]
FUNCTIONAL = ROOT / "layers" / "functional"


def _siblings(node):
    """Sibling modules a ``from . import`` / ``from .x import`` statement reads."""
    if not isinstance(node, ast.ImportFrom) or node.level != 1:
        return []
    if node.module:
        return [node.module.split(".")[0]]
    return [alias.name for alias in node.names]


def _modules():
    return {path.stem: ast.parse(path.read_text()) for path in sorted(FUNCTIONAL.glob("*.py"))}


def test_no_module_imports_a_sibling_inside_a_function():
    late = []
    for name, tree in _modules().items():
        for function in ast.walk(tree):
            if isinstance(function, (ast.FunctionDef, ast.AsyncFunctionDef)):
                for node in ast.walk(function):
                    late += [f"{name}.{function.name} imports .{s}" for s in _siblings(node)]
    assert not late, late


def test_common_is_the_bottom():
    tree = _modules()["_common"]
    assert [s for node in ast.walk(tree) for s in _siblings(node)] == []


def test_the_top_level_imports_have_no_cycle():
    modules = _modules()
    edges = {
        name: {s for node in tree.body for s in _siblings(node) if s in modules}
        for name, tree in modules.items()
        if name != "__init__"
    }
    done, path = set(), []

    def visit(name):
        if name in path:
            raise AssertionError("import cycle: " + " -> ".join(path[path.index(name) :] + [name]))
        if name in done:
            return
        path.append(name)
        for sibling in sorted(edges.get(name, ())):
            visit(sibling)
        path.pop()
        done.add(name)

    for name in sorted(edges):
        visit(name)
