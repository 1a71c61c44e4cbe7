"""Calls of a ModuleList's children, one after another, written back as the loop they came from.

The model's ``for layer in self.layer: h = layer(h, mask)`` traces to ``self.layer[0](h, mask)``,
``self.layer[1](that, mask)``, ... The generated forward says it the model's way::

    for layer in self.layer:
        hidden_states = layer(hidden_states, attention_mask)

The same modules are called on the same tensors in the same order, so the built network (its
layers, their names and order) does not change; only how the forward reads.
"""

import ast
import dataclasses
import re

import torch

from . import child_calls, source_names


@dataclasses.dataclass
class Chain:
    nodes: list  # the calls, child 0 first
    attr: str  # the container's attribute path (``layer``, ``encoder.blocks``)
    variable: str  # preferred loop variable name
    carried: int = 0  # position of the carried value among each call's arguments


_ITEM = re.compile(r"(.+)\.(\d+)")


def chains(capture, live):
    """Call chains over whole containers that can be written as one ``for`` loop.

    A chain matches when a ModuleList or Sequential of children of one class has every child
    called exactly once, in index order, each call reading the previous call's result as its
    first argument, that result having no other use, and every other argument being the same
    in all calls; nothing else may happen between the calls, so that the loop builds the same
    layers in the same order. Anything else (a skipped or repeated child, another order, an
    intermediate result used again) keeps the explicit calls, which say what really happens.
    """
    module, graph = capture.module, capture.graph
    order = {node: i for i, node in enumerate(graph.nodes)}
    calls = {}  # container attribute → {index: [call nodes]}
    for node in graph.nodes:
        if node.op == "call_module" and (m := _ITEM.fullmatch(node.target)):
            calls.setdefault(m.group(1), {}).setdefault(int(m.group(2)), []).append(node)
    found = []
    for attr, by_index in calls.items():
        nodes = _chain(module, graph, attr, by_index, live, order, capture)
        if nodes is not None:
            carried = child_calls.prepended(capture, nodes[0])
            found.append(Chain(nodes, attr, _loop_variable(nodes[0], attr), carried))
    return found


def _chain(module, graph, attr, by_index, live, order, capture):
    try:
        container = module.get_submodule(attr)
    except AttributeError:
        return None
    if not isinstance(container, (torch.nn.ModuleList, torch.nn.Sequential)):
        return None
    children = list(container._modules)
    if len(children) < 2 or children != [str(i) for i in range(len(children))]:
        return None
    if len({type(c) for c in container._modules.values()}) != 1:
        return None
    if sorted(by_index) != list(range(len(children))) or any(
        len(v) != 1 for v in by_index.values()
    ):
        return None
    nodes = [by_index[i][0] for i in range(len(children))]
    # nothing else reads the container or its children's insides
    prefix = attr + "."
    for node in graph.nodes:
        if (
            node.op in ("call_module", "get_attr")
            and node not in nodes
            and (node.target == attr or node.target.startswith(prefix))
        ):
            return None
    first = nodes[0]
    # with dynamic shapes an export passes tensors to read sizes from before the arguments
    k = child_calls.prepended(capture, first)
    if (
        len(first.args) <= k
        or not isinstance(first.args[k], torch.fx.Node)
        or any(n not in live for n in nodes)
        or any(child_calls.prepended(capture, n) != k for n in nodes)
    ):
        return None
    for previous, node in zip(nodes, nodes[1:]):
        if len(node.args) <= k or node.args[k] is not previous or list(previous.users) != [node]:
            return None
        if _reads(node, previous) != 1:
            return None
        others, first_others = (
            node.args[:k] + node.args[k + 1 :],
            first.args[:k] + first.args[k + 1 :],
        )
        if not _same(others, first_others) or not _same(node.kwargs, first.kwargs):
            return None
    # the calls follow one another: no other statement is built in between
    between = [n for n in graph.nodes if order[first] < order[n] < order[nodes[-1]] and n in live]
    if any(n not in nodes for n in between):
        return None
    return nodes


def _same(a, b):
    """Equal arguments: the same nodes (identity), equal literals."""
    if isinstance(a, torch.fx.Node) or isinstance(b, torch.fx.Node):
        return a is b
    if isinstance(a, (tuple, list)) and isinstance(b, (tuple, list)):
        return type(a) is type(b) and len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b))
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(_same(a[k], b[k]) for k in a)
    return type(a) is type(b) and a == b


def _reads(user, node):
    count = [0]

    def visit(arg):
        count[0] += arg is node
        return arg

    torch.fx.node.map_arg((user.args, user.kwargs), visit)
    return count[0]


def _loop_variable(node, attr):
    """The model's loop variable (``layer_module``), else the singular of the attribute."""
    name = _source_variable(node, attr.split(".")[-1])
    if name is None:
        last = attr.split(".")[-1]
        name = (
            last[:-1] if len(last) > 2 and last.endswith("s") and not last.endswith("ss") else last
        )
    return name if name.isidentifier() and not name.startswith("_") else "layer"


def _source_variable(node, attr):
    """``layer_module`` of ``for layer_module in self.layer:`` (or ``enumerate(self.layer)``)
    around the line that made ``node``."""
    frame = source_names.user_frame(node)
    if frame is None:
        return None
    path, line = frame
    try:
        with open(path, encoding="utf-8") as f:
            tree = ast.parse(f.read())
    except (OSError, SyntaxError, ValueError):
        return None
    loops = [
        n
        for n in ast.walk(tree)
        if isinstance(n, ast.For) and n.body and n.body[0].lineno <= line <= n.end_lineno
    ]
    for loop in sorted(loops, key=lambda n: n.end_lineno - n.lineno):  # innermost first
        iterable, target = loop.iter, loop.target
        if (
            isinstance(iterable, ast.Call)
            and isinstance(iterable.func, ast.Name)
            and iterable.func.id == "enumerate"
            and iterable.args
            and isinstance(target, ast.Tuple)
            and len(target.elts) == 2
        ):
            iterable, target = iterable.args[0], target.elts[1]
        if (
            isinstance(iterable, ast.Attribute)
            and iterable.attr == attr
            and isinstance(target, ast.Name)
        ):
            return target.id
    return None
