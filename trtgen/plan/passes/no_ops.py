"""Ops that return their input unchanged are replaced by that input.

Export and functionalization write some (``arange(n) + 0``, ``x[:, 0:]`` as a whole-dim
``slice``, ``pad(x, [0, 0, 0, 0])`` of an input that needs no padding, ``x.to(x.dtype)``),
models write others. Each would be a statement and a TensorRT layer that does nothing.

A rewrite that depends on dtype or shape needs the fake tensors torch.export records
(``meta["val"]``); without them (symbolic traces) only the shape-free rules apply.
"""

import sys
from typing import Callable, Dict, Optional

import torch
import torch.fx

from ..normalize import normalize
from ..op import Op
from .purity import is_pure, writes_into_views


def _val(value) -> Optional[torch.Tensor]:
    if not isinstance(value, torch.fx.Node):
        return None
    val = value.meta.get("val")
    return val if isinstance(val, torch.Tensor) else None


def _same_type(node: torch.fx.Node, source) -> bool:
    """``node`` makes a tensor of ``source``'s dtype and shape (symbolic dims by name)."""
    made, given = _val(node), _val(source)
    if made is None or given is None or made.dtype != given.dtype or made.ndim != given.ndim:
        return False
    return [str(d) for d in made.shape] == [str(d) for d in given.shape]


def _is_number(value, number) -> bool:
    return type(value) in (int, float) and value == number


def _arithmetic_identity(neutral, commutes):
    def rule(op: Op, node):
        if len(op.args) < 2 or set(op.kwargs) - {"alpha"}:
            return None
        x, y = op.args[0], op.args[1]
        if _is_number(y, neutral) and isinstance(x, torch.fx.Node):
            return x
        if commutes and _is_number(x, neutral) and isinstance(y, torch.fx.Node):
            return y
        return None

    return rule


def _whole_slice(op: Op, node):
    """``slice(x, dim, 0, None or INT64_MAX, 1)``: every item of the dim."""
    args = list(op.args) + [None] * (5 - len(op.args))
    start = op.kwargs.get("start", args[2])
    end = op.kwargs.get("end", args[3])
    step = op.kwargs.get("step", args[4])
    if (
        start in (None, 0)
        and (end is None or (type(end) is int and end >= sys.maxsize))
        and step in (None, 1)
    ):
        return op.args[0]
    return None


def _zero_pad(op: Op, node):
    pads = op.args[1] if len(op.args) > 1 else op.kwargs.get("pad")
    if isinstance(pads, (list, tuple)) and pads and all(type(p) is int and p == 0 for p in pads):
        return op.args[0]
    return None


def _zero_roll(op: Op, node):
    shifts = op.args[1] if len(op.args) > 1 else op.kwargs.get("shifts")
    shifts = shifts if isinstance(shifts, (list, tuple)) else [shifts]
    if shifts and all(type(s) is int and s == 0 for s in shifts):
        return op.args[0]
    return None


def _identity_permute(op: Op, node):
    dims = (
        list(op.args[1:])
        if len(op.args) > 2
        else (op.args[1] if len(op.args) > 1 else op.kwargs.get("dims"))
    )
    given = _val(op.args[0])
    if (
        isinstance(dims, (list, tuple))
        and list(dims) == list(range(len(dims)))
        and given is not None
        and given.ndim == len(dims)
    ):
        return op.args[0]
    return None


def _same_dim_transpose(op: Op, node):
    if len(op.args) == 3 and type(op.args[1]) is int and op.args[1] == op.args[2]:
        return op.args[0]
    return None


def _unchanged(op: Op, node):
    """A cast, view, reshape, expand or repeat whose result has its input's dtype and shape."""
    return op.args[0] if op.args and _same_type(node, op.args[0]) else None


NO_OP_RULES: Dict[str, Callable] = {
    "add": _arithmetic_identity(0, commutes=True),
    "sub": _arithmetic_identity(0, commutes=False),
    "mul": _arithmetic_identity(1, commutes=True),
    "div": _arithmetic_identity(1, commutes=False),
    "slice_tensor": _whole_slice,
    "pad": _zero_pad,
    "roll": _zero_roll,
    "permute": _identity_permute,
    "transpose": _same_dim_transpose,
    "to": _unchanged,
    "type_as": _unchanged,
    "view": _unchanged,
    "reshape": _unchanged,
    "expand": _unchanged,
    "expand_as": _unchanged,
    "repeat": _unchanged,
    "flatten": _unchanged,
}

# rules that hold whatever the dtype: the others must also keep dtype and shape, which
# ``x + 0`` does not when it promotes an int tensor or broadcasts
_TYPE_FREE = {"slice_tensor", "pad", "roll", "permute", "transpose"}


def drop_no_ops(graph: torch.fx.Graph) -> int:
    """Replace every no-op of ``graph`` by its input; returns how many were dropped."""
    if writes_into_views(graph):
        return 0
    dropped = 0
    for node in list(graph.nodes):
        if not is_pure(node) or node.op == "get_attr":
            continue
        op = normalize(node)
        rule = NO_OP_RULES.get(op.name)
        source = rule(op, node) if rule is not None else None
        if not isinstance(source, torch.fx.Node):
            continue
        if op.name not in _TYPE_FREE and not _same_type(node, source):
            continue
        node.replace_all_uses_with(source)
        graph.erase_node(node)
        dropped += 1
    return dropped
