"""One canonical spelling per op: ``torch.add`` = ``operator.add`` = ``x.add_`` = ``aten.add.Tensor``.

Every call node becomes an ``Op(name, args, kwargs, method)``; lowering rules are keyed by name.
"""

import builtins
import dataclasses
import inspect
import operator

import torch

from . import aten, data_dependent
from .op import Op

OPERATORS = {
    operator.add: "add",
    operator.iadd: "add",
    operator.sub: "sub",
    operator.isub: "sub",
    operator.mul: "mul",
    operator.imul: "mul",
    operator.truediv: "div",
    operator.itruediv: "div",
    operator.floordiv: "floordiv",
    operator.mod: "remainder",
    operator.pow: "pow",
    operator.matmul: "matmul",
    operator.neg: "neg",
    operator.pos: "pos",
    operator.invert: "invert",
    operator.eq: "eq",
    operator.ne: "ne",
    operator.lt: "lt",
    operator.le: "le",
    operator.gt: "gt",
    operator.ge: "ge",
    operator.and_: "and",
    operator.or_: "or",
    operator.xor: "xor",
    operator.getitem: "getitem",
    builtins.getattr: "getattr",
    operator.abs: "abs",
    operator.iand: "and",
    operator.ior: "or",
    operator.ixor: "xor",
    operator.lshift: "lshift",
    operator.ilshift: "lshift",
    operator.rshift: "rshift",
    operator.irshift: "rshift",
}

# other spellings of the same op
ALIASES = {
    "true_divide": "div",
    "divide": "div",
    "multiply": "mul",
    "subtract": "sub",
    "concat": "cat",
    "concatenate": "cat",
    "clip": "clamp",
    "absolute": "abs",
    "negative": "neg",
    "greater": "gt",
    "greater_equal": "ge",
    "less": "lt",
    "less_equal": "le",
    "not_equal": "ne",
    "equal": "eq",
    "arctan": "atan",
    "swapaxes": "transpose",
    "swapdims": "transpose",
    "moveaxis": "movedim",
    "_assert": "assert",
    "_assert_is_none": "assert",
    "mT": "mT",
    "add_scalar": "add",
    "reshape_as": "reshape_as",
    "_softmax": "softmax",
    "_log_softmax": "log_softmax",
    "_to_copy": "to",
    "floor_divide": "floordiv",
    "slice": "slice_tensor",
    "linalg_vector_norm": "vector_norm",
    "_unsafe_view": "view",
    "_weight_norm": "weight_norm",
    "zero": "zeros_like",
    "_unsafe_index_put": "index_put",
    "arctan2": "atan2",
    # uninitialized memory a model then writes into (``torch.empty_like(x).fill_(v)``)
    "log_sigmoid": "logsigmoid",
    "_threshold": "threshold",  # torch.nn.functional's own names
    "empty_like": "zeros_like",
    "new_empty": "new_zeros",
    "empty": "zeros",
}

# keyword arguments with no meaning in a TensorRT network
DROPPED_KWARGS = {
    "inplace",
    "device",
    "layout",
    "pin_memory",
    "memory_format",
    "non_blocking",
    "requires_grad",
}


def _strip_inplace(name):
    if name.endswith("_") and not name.startswith("_") and not name.endswith("__"):
        return name[:-1]
    return name


def _function_name(target):
    if target in OPERATORS:
        return OPERATORS[target]
    if isinstance(target, torch._ops.OpOverload):
        return target._overloadpacket.__name__
    if isinstance(target, torch._ops.OpOverloadPacket):
        return target.__name__
    return getattr(target, "__name__", str(target))


def canonical(name):
    name = _strip_inplace(name)
    if name.startswith("__") and name.endswith("__"):  # x.__add__ → add
        name = _strip_inplace(name[2:-2].lstrip("i")) if name[2:-2] not in ("invert",) else "invert"
    return ALIASES.get(name, name)


def normalize(node):
    """The ``Op`` of a ``call_function`` / ``call_method`` node."""
    if node.op == "call_method":
        name, method = canonical(node.target), True
    elif aten.is_aten(node.target):  # by the op's schema, never by its name alone
        op = aten.lower(node, canonical)
        kwargs = {k: v for k, v in op.kwargs.items() if k not in DROPPED_KWARGS}
        method = op.name in _ATEN_METHODS
        op = Op(op.name, op.args, kwargs, method)
        return _REWRITES.get(op.name, lambda op: op)(op)
    else:
        name = canonical(_function_name(node.target))
        method = name in _ATEN_METHODS and isinstance(node.target, torch._ops.OpOverload)
    kwargs = {k: v for k, v in node.kwargs.items() if k not in DROPPED_KWARGS}
    if node.op == "call_function":
        kwargs = _without_defaults(node.target, kwargs)
    op = Op(name, tuple(node.args), kwargs, method)
    return _REWRITES.get(name, lambda op: op)(op)


_LITERALS = (type(None), bool, int, float, str)


def _without_defaults(target, kwargs):
    """Drop keyword arguments equal to the function's default (fx spells them all out for
    ``F.interpolate``), so the generated call reads like the model's own."""
    try:
        params = inspect.signature(target).parameters
    except (TypeError, ValueError):
        return kwargs
    kept = {}
    for key, value in kwargs.items():
        default = params[key].default if key in params else inspect.Parameter.empty
        if isinstance(value, _LITERALS) and type(value) is type(default) and value == default:
            continue
        kept[key] = value
    return kept


def _to(op):
    """``x.to(device, dtype)`` / ``aten.to.dtype_layout``: only the dtype matters in a network."""
    values = list(op.args[1:]) + list(op.kwargs.values())
    dtype = next((v for v in values if isinstance(v, torch.dtype)), None)
    if dtype is None:
        return Op("alias", op.args[:1], {}, False)
    return Op("to", (op.args[0], dtype), {}, True)


# tensor attributes that mean nothing inside a network (placement, autograd)
_NO_MEANING = {"device", "is_cuda", "requires_grad", "layout", "is_sparse", "grad"}


def _getattr(op):
    if len(op.args) > 1 and op.args[1] in _NO_MEANING:
        return Op("drop", op.args[:1], {}, False)
    if len(op.args) > 1 and op.args[1] == "shape":
        # x.size(): ints where static, run-time sizes where the network input is dynamic
        return Op("size", op.args[:1], {}, True)
    return op


def _getitem(op):
    """``native_layer_norm(...)[0]``, ``F.max_pool2d(x, 2, return_indices=True)[0]``: ops
    lowered to their first result only; ``x[x > 0]``: refused as a boolean mask."""
    source, index = op.args[:2]
    if not isinstance(index, int):
        return _refuse_boolean_mask(1)(op)
    item = aten.tuple_item(source, index) or _values_item(source, index)
    return item or op


# torch.nn.functional's pools that also return indices: the values are the pool's result, the
# indices have no TensorRT equivalent
_WITH_INDICES = {
    f"{kind}_pool{n}d_with_indices": f"{kind}_pool{n}d"
    for kind in ("max", "adaptive_max")
    for n in (1, 2, 3)
}


def _values_item(source, index):
    if getattr(source, "op", None) != "call_function" or aten.is_aten(source.target):
        return None
    name = _function_name(source.target)
    if name not in _WITH_INDICES:
        return None
    return (
        Op("alias", (source,), {}, False)
        if index == 0
        else Op(f"{name} indices", (source,), {}, False)
    )


def _without_indices(op):
    """The pool of a ``*_with_indices`` call, its ``return_indices`` argument dropped."""
    positions = 2 if op.name.startswith("adaptive") else 6  # where return_indices sits
    kwargs = {k: v for k, v in op.kwargs.items() if k != "return_indices"}
    return Op(_WITH_INDICES[op.name], op.args[:positions], kwargs, False)


def _upsample(mode, align_corners):
    """``aten.upsample_<mode>.vec(input, output_size, [align_corners,] scale_factors)``: how
    torch.export spells ``F.interpolate``."""

    def rewrite(op):
        input, size, *rest = op.args
        align = rest.pop(0) if align_corners and rest else None
        scales = rest[0] if rest and isinstance(rest[0], (list, tuple)) else None
        kwargs = {"size": size} if size is not None else {"scale_factor": scales}
        kwargs["mode"] = mode
        if align_corners:
            kwargs["align_corners"] = align
        return Op("interpolate", (input,), kwargs, False)

    return rewrite


# torch.export's resize ops: mode, and whether the op takes align_corners
_UPSAMPLE = {
    "upsample_nearest1d": ("nearest", False),
    "upsample_nearest2d": ("nearest", False),
    "upsample_nearest3d": ("nearest", False),
    "_upsample_nearest_exact1d": ("nearest-exact", False),
    "_upsample_nearest_exact2d": ("nearest-exact", False),
    "_upsample_nearest_exact3d": ("nearest-exact", False),
    "upsample_linear1d": ("linear", True),
    "upsample_bilinear2d": ("bilinear", True),
    "upsample_bicubic2d": ("bicubic", True),
    "upsample_trilinear3d": ("trilinear", True),
}


def _to_the_end(position):
    """``x[a:]`` as torch.export spells it, ``slice(x, dim, a, 2**63 - 1)``, read back as
    ``end=None``: argument ``position`` is the end."""

    def rewrite(op):
        args = list(op.args)
        if len(args) > position and isinstance(args[position], int) and args[position] >= 2**62:
            args[position] = None
        return Op(op.name, tuple(args), op.kwargs, op.method)

    return rewrite


def _slice(op):
    """``x[a:]`` read back as ``end=None``; ``x[0:]`` is ``x`` (torch.export keeps such slices
    of a symbolic dim, a static export drops them)."""
    op = _to_the_end(3)(op)
    source, *rest = op.args
    dim, start, end, step = (rest + [0, None, None, 1][len(rest) :])[:4]
    if not op.kwargs and start in (0, None) and end is None and step in (1, None):
        return Op("alias", (source,), {}, False)
    return op


def _copy(op):
    """``aten.copy(dst, src)`` where ``src`` already has ``dst``'s shape (``x[:, 1:] = y``
    once functionalized) is ``src`` in ``dst``'s dtype: no expand, and ``dst`` goes unread."""
    dst, src = op.args[:2]
    dst_val, src_val = (getattr(a, "meta", {}).get("val") for a in (dst, src))
    if not isinstance(dst_val, torch.Tensor) or not isinstance(src_val, torch.Tensor):
        return op
    if dst_val.shape != src_val.shape:
        return op
    if dst_val.dtype == src_val.dtype:
        return Op("alias", (src,), {}, False)
    return Op("to", (src, dst_val.dtype), {}, True)


def _copied(node):
    """``node``, or what it copies when it is an ``aten.copy`` that is only a copy (same shape
    and dtype)."""
    if getattr(node, "target", None) is torch.ops.aten.copy.default:
        return node.args[1] if normalize(node).name == "alias" else node
    return node


def _unchanged_write(view, defaults):
    """``slice_scatter(a, slice(a, ...), ...)`` writes back what ``a`` holds: ``a``. torch.export
    ends each augmented assignment (``y[:, 0] += 1``) with one, after the real write.
    ``view``: the op reading the same place; ``defaults``: its arguments after the tensor."""

    def full(args):
        return list(args) + list(defaults[len(args) :])

    def rewrite(op):
        base, src, *where = op.args
        src = _copied(src)
        if (
            not op.kwargs
            and getattr(src, "target", None) is view
            and not src.kwargs
            and src.args[0] is base
            and full(src.args[1:]) == full(where)
        ):
            return Op("alias", (base,), {}, False)
        return op

    return rewrite


def _slice_scatter(op):
    op = _unchanged_write(torch.ops.aten.slice.Tensor, (0, None, None, 1))(op)
    return op if op.name == "alias" else _to_the_end(4)(op)


# aten ops that are Tensor methods whose function of the same name means something else:
# aten.unfold is Tensor.unfold (sliding windows), F.unfold is aten.im2col
_ATEN_METHODS = {"unfold"}


def _node_name(node):
    """A call node's canonical op name, before any rewrite."""
    if node.op == "call_method":
        return canonical(node.target)
    return canonical(_function_name(node.target))


def _refuse_boolean_mask(position):
    """``x[mask]`` (getitem) and aten ``index(x, [mask])`` with a bool index: a data-dependent
    shape, reported under its own name (no rule lowers it) instead of failing at build time.
    ``position``: the argument holding the index."""

    def rewrite(op):
        if len(op.args) > position and data_dependent.has_boolean_mask(
            op.args[position], _node_name
        ):
            return Op(data_dependent.BOOLEAN_MASK, op.args, op.kwargs, False)
        return op

    return rewrite


def _where_condition_only(op):
    """``torch.where(condition)`` (no values) is ``nonzero(condition, as_tuple=True)``."""
    if len(op.args) + len(op.kwargs) == 1:
        return Op(data_dependent.WHERE_INDICES, op.args, op.kwargs, False)
    return op


def _repeats_tensor(op):
    """``repeat_interleave`` with a tensor of repeats (or only one: ``repeat_interleave(r)``)
    has a data-dependent length."""
    if len(op.args) == 1 and "repeats" not in op.kwargs:  # the repeats themselves: positions
        return Op(data_dependent.REPEATS_TENSOR, op.args, op.kwargs, False)
    repeats = op.kwargs.get("repeats", op.args[1] if len(op.args) > 1 else None)
    if data_dependent.is_tensor_valued(repeats, _node_name):
        return Op(data_dependent.REPEATS_TENSOR, op.args, op.kwargs, False)
    return op


_REWRITES = {
    "where": _where_condition_only,
    "repeat_interleave": _repeats_tensor,
    "index": _refuse_boolean_mask(1),
    **{name: _upsample(*spec) for name, spec in _UPSAMPLE.items()},
    # torch.split([...]) as torch.export spells it
    "split_with_sizes": lambda op: Op("split", op.args, op.kwargs, False),
    # F.unfold as torch.export spells it (same arguments, in the same order)
    "im2col": lambda op: Op("unfold", op.args, op.kwargs, False),
    "getattr": _getattr,
    "getitem": _getitem,
    **{name: _without_indices for name in _WITH_INDICES},
    # torch.export's symbolic sizes (dims kept dynamic by --dynamic): x.size(dim)
    "sym_size": lambda op: Op("size", op.args, {}, True),
    "sym_numel": lambda op: Op("numel", op.args[:1], {}, False),
    "to": _to,
    "type": lambda op: _to(op) if len(op.args) > 1 or op.kwargs else op,
    "slice_tensor": _slice,
    "slice_scatter": _slice_scatter,
    "select_scatter": _unchanged_write(torch.ops.aten.select.int, ()),
    "copy": _copy,
}
