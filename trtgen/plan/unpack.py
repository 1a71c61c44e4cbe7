"""Tuple results of child calls, unpacked where the call is made: ``out, (h, c) = self.lstm(x)``.

fx turns ``out, (h, c) = self.lstm(x)`` into a call and a tree of ``getitem`` nodes; written
one by one they read ``lstm = self.lstm(x); getitem_1 = lstm[1]; ... getitem_1[0][-1]``. When
every use of a call's result is a constant index into it, the call becomes one unpacking
statement instead, for the ``layers`` classes whose result structure is known
(``library.result_names``): its names are the model's own assignment on that source line when
it unpacks the same structure, else the names torch documents for the class (its main
output named after the module, as any call's result is).
"""

import ast
import dataclasses
import functools
import operator
import os
import re

from . import library


@dataclasses.dataclass(frozen=True)
class Leaf:
    """One element of the result bound to a variable: its preferred name and the getitem nodes
    of the graph that read it."""

    name: str
    nodes: tuple


@dataclasses.dataclass(frozen=True)
class Unpacking:
    """``pattern``: nested tuples of ``Leaf`` or None (an element nobody reads: ``_``)."""

    pattern: tuple

    def leaves(self):
        """Every ``Leaf``, left to right."""
        found = []

        def visit(item):
            if isinstance(item, Leaf):
                found.append(item)
            elif isinstance(item, tuple):
                for sub in item:
                    visit(sub)

        visit(self.pattern)
        return found

    def members(self):
        """(getitem node, preferred name) for every node the unpacking binds."""
        return [(node, leaf.name) for leaf in self.leaves() for node in leaf.nodes]

    def target(self, final_names):
        """The left-hand side, ``out, (h, _)``, with each leaf's final variable name."""

        def render(item, top=False):
            if item is None:
                return "_"
            if isinstance(item, Leaf):
                return final_names[item.nodes[0]]
            inner = ", ".join(render(sub) for sub in item) + ("," if len(item) == 1 else "")
            return inner if top else f"({inner})"

        return render(self.pattern, top=True)


def unpacking(capture, node, live):
    """The ``Unpacking`` of call ``node``'s result, or None when the result is not only indexed
    (or its class has no known result names and the source line does not unpack it)."""
    if node.op != "call_module":
        return None
    known = library.result_names(capture.module.get_submodule(node.target))
    if known is None:  # only classes whose result structure is known for sure
        return None
    names = _source_names(node)
    if not _fits(names, known):
        names = tuple(node.name if n is None else n for n in known)
    users = [u for u in node.users if u in live]
    if not users or any(_index(u, len(names)) is None for u in users):
        return None
    return Unpacking(_match([node], names, live))


def _fits(names, known):
    """``names`` (from the source) unpacks a result shaped like ``known``."""
    if isinstance(names, str):
        return True
    if not isinstance(names, tuple) or not isinstance(known, tuple) or len(names) != len(known):
        return False
    return all(_fits(n, k) for n, k in zip(names, known))


def _index(user, length):
    """The constant index ``user`` takes from its operand (negatives wrapped), or None."""
    if user.op != "call_function" or user.target is not operator.getitem:
        return None
    index = user.args[1]
    if type(index) is not int or not -length <= index < length:
        return None
    return index % length


def _match(nodes, names, live):
    """The pattern for the value ``nodes`` all hold, shaped like ``names`` as far as the graph
    only indexes it (a value read otherwise is one ``Leaf``); None when nothing reads it."""
    users = [u for n in nodes for u in n.users if u in live]
    if not users:
        return None
    if isinstance(names, str):
        return Leaf(names, tuple(nodes))
    indices = [_index(u, len(names)) for u in users]
    if any(i is None for i in indices):
        return Leaf(_WHOLE, tuple(nodes))
    parts = tuple(
        _match([u for u, i in zip(users, indices) if i == position], sub, live)
        for position, sub in enumerate(names)
    )
    return parts if any(p is not None for p in parts) else None


_WHOLE = "state"  # a nested tuple of the result used as a whole (an LSTM's (h_n, c_n))


# ----------------------------------------------------------------------------- source names


def _source_names(node):
    """Names of the model's own ``a, (b, c) = <call>`` on the line that made ``node``."""
    trace = node.meta.get("stack_trace") or getattr(node, "stack_trace", None) or ""
    frames = re.findall(r'File "([^"]+)", line (\d+)', trace)
    frames = [f for f in frames if f"{os.sep}torch{os.sep}" not in f[0]]
    if not frames:
        return None
    path, line = frames[-1][0], int(frames[-1][1])
    for statement in _assignments(path):
        if statement.lineno <= line <= statement.end_lineno:
            names = _target_names(statement.targets[0])
            return names if isinstance(names, tuple) else None
    return None


@functools.lru_cache(maxsize=32)
def _assignments(path):
    """Single-target assignments of a call in the file at ``path``."""
    try:
        with open(path, encoding="utf-8") as f:
            tree = ast.parse(f.read())
    except (OSError, SyntaxError, ValueError):
        return ()
    return tuple(
        n
        for n in ast.walk(tree)
        if isinstance(n, ast.Assign) and len(n.targets) == 1 and isinstance(n.value, ast.Call)
    )


def _target_names(target):
    if isinstance(target, ast.Name):
        return target.id
    if isinstance(target, (ast.Tuple, ast.List)):
        parts = tuple(_target_names(t) for t in target.elts)
        return None if any(p is None for p in parts) else parts
    return None  # starred, attribute or subscript targets: not a plain unpacking
