"""Ops whose output shape depends on the values of their input: no static TensorRT network
computes them, so generation refuses them (with the op and the model's line), never ``check``.

``BOOLEAN_MASK`` is the op name a boolean-mask subscript (``x[x > 0]``, aten ``index`` with a
bool index) is reported under; ``REASONS`` says why each op is refused.
"""

BOOLEAN_MASK = "boolean_mask_index"
REPEATS_TENSOR = "repeat_interleave(tensor repeats)"
WHERE_INDICES = "where(condition)"  # torch.where with one argument: nonzero(as_tuple=True)

_SHAPE_FROM_VALUES = "its output shape depends on the input's values (data-dependent)"
REASONS = {
    "nonzero": _SHAPE_FROM_VALUES,
    "argwhere": _SHAPE_FROM_VALUES,
    "masked_select": _SHAPE_FROM_VALUES,
    "unique": _SHAPE_FROM_VALUES,
    "_unique": _SHAPE_FROM_VALUES,
    "_unique2": _SHAPE_FROM_VALUES,
    "unique_dim": _SHAPE_FROM_VALUES,
    "unique_consecutive": _SHAPE_FROM_VALUES,
    "bincount": "its output length is the largest input value + 1 (data-dependent)",
    REPEATS_TENSOR: "per-element repeats: "
    + _SHAPE_FROM_VALUES
    + "; an int repeats keeps it static",
    WHERE_INDICES: "torch.where(condition) without values is nonzero(condition): "
    + _SHAPE_FROM_VALUES,
    BOOLEAN_MASK: "x[mask] with a boolean mask: "
    + _SHAPE_FROM_VALUES
    + "; torch.where(mask, x, 0) or x.masked_fill(~mask, 0) keep the shape",
}

# ops whose result is a bool tensor whatever their operands (canonical names)
_BOOL_RESULTS = {
    "eq",
    "ne",
    "lt",
    "le",
    "gt",
    "ge",
    "logical_and",
    "logical_or",
    "logical_xor",
    "logical_not",
    "isnan",
    "isinf",
    "isfinite",
    "isneginf",
    "isposinf",
    "signbit",
    "isin",
    "isclose",
    "bool",
}
# ops whose result is bool when their tensor operands are
_BOOL_PRESERVING = {
    "and",
    "or",
    "xor",
    "invert",
    "bitwise_and",
    "bitwise_or",
    "bitwise_xor",
    "bitwise_not",
    "expand",
    "expand_as",
    "view",
    "reshape",
    "unsqueeze",
    "squeeze",
    "flatten",
    "permute",
    "transpose",
    "contiguous",
    "clone",
}


def is_bool_valued(value, canonical_name):
    """Does ``value`` (an fx node, or anything else) hold a bool tensor? Read from the traced
    value where the capture recorded one (torch.export), else from the op that made it.
    ``canonical_name(node)`` gives a call node's canonical op name."""
    import torch  # late: the error messages above are read without torch

    if not isinstance(value, torch.fx.Node):
        return False
    traced = value.meta.get("val")
    if isinstance(traced, torch.Tensor):
        return traced.dtype == torch.bool
    if "dtype" in value.meta:  # a symbolic graph's input, as recorded
        return value.meta["dtype"] == torch.bool
    if value.op not in ("call_function", "call_method"):
        return False
    name = canonical_name(value)
    if name in _BOOL_RESULTS:
        return True
    if name == "to":
        return torch.bool in list(value.args[1:]) + list(value.kwargs.values())
    if name in _BOOL_PRESERVING:
        operands = [a for a in value.args if isinstance(a, torch.fx.Node)]
        return bool(operands) and all(is_bool_valued(a, canonical_name) for a in operands)
    return False


def has_boolean_mask(index, canonical_name):
    """Is a subscript (``x[index]``, or aten ``index``'s list of indices) a boolean mask?"""
    items = index if isinstance(index, (tuple, list)) else (index,)
    return any(is_bool_valued(item, canonical_name) for item in items)


# call nodes whose value is a Python int (a size), not a tensor
_INT_RESULTS = {"size", "sym_size", "numel", "dim"}
# arithmetic: a tensor when an operand is (``x.size(0) - 1`` is an int)
_ARITHMETIC = {"add", "sub", "mul", "div", "floordiv", "remainder", "pow", "neg", "pos"}


def is_tensor_valued(value, canonical_name):
    """Does ``value`` (an fx node) hold a tensor rather than a size? Read from the traced value
    or the recorded input dtype where there is one, else from the op that made it."""
    import torch

    if not isinstance(value, torch.fx.Node):
        return False
    if "val" in value.meta:
        return isinstance(value.meta["val"], torch.Tensor)
    if value.op == "placeholder":
        return "dtype" in value.meta
    if value.op not in ("call_function", "call_method"):
        return value.op == "get_attr"
    name = canonical_name(value)
    if name in _INT_RESULTS:
        return False
    if name in ("getitem", "getattr"):  # x.shape[0] is a size; t[0] of a tensor a tensor
        return is_tensor_valued(value.args[0], canonical_name) and value.args[1] != "shape"
    if name in _ARITHMETIC:
        return any(is_tensor_valued(a, canonical_name) for a in value.all_input_nodes)
    return True
