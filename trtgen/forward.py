"""The ``forward`` body of one generated class, from that module's fx graph.

One statement per op, variables named after the model's own names (fx derives them from
module attributes and ops), child modules called as ``self.<path>(...)``.
"""

import dataclasses
import inspect

import torch

from . import pysource
from .normalize import normalize
from .rules import lowering_rule


@dataclasses.dataclass
class ForwardCode:
    params: list  # "x", "mask=None"
    lines: list
    unsupported: list  # (op name, where)


def _unsupported_where(capture, node):
    where = capture.path or "<model>"
    return f"{where} ({type(capture.module).__name__}.forward, `{node.name}`)"


def _placeholder(capture, node, names, params, constants, taken):
    """Forward parameters that receive tensors stay; the others are the values seen at run time."""
    target = node.target.lstrip("*")
    if capture.params is not None and target not in capture.params:
        names[node] = pysource.value(constants.get(target), names) if _literal(constants.get(target)) else "None"
        return
    name = pysource.legal_name(target, taken)
    names[node] = name
    taken.add(name)
    params.append(name)


def _literal(v):
    return v is None or isinstance(v, (bool, int, float, str))


def _call(op, rule, names):
    args = [pysource.value(a, names) for a in op.args]
    kwargs = {k: pysource.value(v, names) for k, v in op.kwargs.items()}
    if rule.kind == "infix":
        if op.name == "add" and "alpha" in kwargs:
            return f"{args[0]} + {kwargs['alpha']} * {args[1]}"
        return f"{args[0]} {rule.symbol} {args[1]}"
    if rule.kind == "prefix":
        return f"{rule.symbol}{args[0]}"
    if rule.kind == "getitem":
        return f"{args[0]}[{pysource.index(op.args[1], names)}]"
    if rule.kind == "getattr":
        return f"{args[0]}.{op.args[1]}"
    if rule.kind == "custom":
        return rule.render(args, kwargs)
    rendered = ", ".join(args[1:] if op.method else args)
    rendered = ", ".join([p for p in [rendered] + [f"{k}={v}" for k, v in kwargs.items()] if p])
    if op.method:
        return f"{args[0]}.{op.name}({rendered})"
    return f"F.{op.name}({rendered})"


def _recorded_constants(capture):
    from .capture import tensor_params

    if capture.recorded is None:
        return {}
    return tensor_params(capture.module, capture.recorded)[1]


def _module_call_args(capture, node, params_by_module, names):
    """Arguments of ``self.child(...)``: for a generated class, only the tensor parameters it kept."""
    child = capture.module.get_submodule(node.target)
    kept = params_by_module.get(id(child))
    if kept is None:
        return pysource.call_args(node.args, node.kwargs, names)
    if capture.unflattened is not None:  # export flattens arguments: names from the child's graph
        graph = capture.unflattened.get_submodule(node.target).graph
        placeholders = [n.target for n in graph.nodes if n.op == "placeholder"]
        by_name = dict(zip(placeholders, node.args))
        by_name.update(node.kwargs)
    else:
        bound = inspect.signature(type(child).forward).bind(child, *node.args, **node.kwargs)
        by_name = dict(list(bound.arguments.items())[1:])
    missing = [n for n in kept if n not in by_name]
    if missing:
        raise RuntimeError(f"call of {node.target} does not pass {missing}")
    return ", ".join(pysource.value(by_name[n], names) for n in kept)


def forward_code(capture, params_by_module):
    """``ForwardCode`` for one ``Capture``; unsupported ops are collected, not raised."""
    module, graph = capture.module, capture.graph
    constants = _recorded_constants(capture)
    names, params, lines, unsupported = {}, [], [], []
    taken = set()

    def assign(node, expression):
        name = pysource.legal_name(node.name, taken)
        taken.add(name)
        names[node] = name
        lines.append(f"{name} = {expression}")

    for node in graph.nodes:
        if node.op == "placeholder":
            _placeholder(capture, node, names, params, constants, taken)
        elif node.op == "get_attr":
            names[node] = pysource.attribute_path(module, node.target)
        elif node.op == "call_module":
            call = _module_call_args(capture, node, params_by_module, names)
            assign(node, f"{pysource.attribute_path(module, node.target)}({call})")
        elif node.op in ("call_function", "call_method"):
            op = normalize(node)
            rule = lowering_rule(op.name)
            if rule is None:
                unsupported.append((op.name, _unsupported_where(capture, node)))
                names[node] = node.name
            elif rule.kind == "alias":
                names[node] = names[op.args[0]] if isinstance(op.args[0], torch.fx.Node) else pysource.value(op.args[0], names)
            elif rule.kind == "drop":
                names[node] = "None"
            else:
                assign(node, _call(op, rule, names))
        elif node.op == "output":
            lines.append(f"return {pysource.value(node.args[0], names)}")
    return ForwardCode(params, lines, unsupported)
