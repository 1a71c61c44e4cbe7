"""Binary elementwise ops: a table of 1:1 torch name → TensorRT operation, then the few torch ops
that take more than one layer (ne, ge, le, div modes, remainder, fmod, where, clamp).

Operands broadcast like torch: ranks are aligned by prepending 1s, Python scalars become
constants of the tensor operand's dtype (a float next to an integer tensor becomes float32).
"""

import numpy as np

from .. import dtypes
from ..backend import trt
from ..tensor import Tensor
from ._common import (
    activation,
    align_ranks,
    cast,
    common_dtype,
    constant,
    network,
    output,
    scalar,
    unary,
)

_OP = trt.ElementWiseOperation
_LOGICAL = (_OP.AND, _OP.OR, _OP.XOR)

# torch name → TensorRT op; every row is exactly one ELEMENTWISE layer.
_BINARY = {
    "mul": _OP.PROD,
    "pow": _OP.POW,
    "maximum": _OP.MAX,
    "minimum": _OP.MIN,
    "floor_divide": _OP.FLOOR_DIV,
    "eq": _OP.EQUAL,
    "gt": _OP.GREATER,
    "lt": _OP.LESS,
    "logical_and": _OP.AND,
    "logical_or": _OP.OR,
    "logical_xor": _OP.XOR,
}

# torch's scalar promotion: a Python number only changes the dtype when it is of a "higher"
# kind than the tensor (bool < int < float), and then takes torch's default for that kind.
_KIND = {bool: 0, int: 1, float: 2}
_DEFAULT = {0: dtypes.bool, 1: dtypes.int64, 2: dtypes.float32}


def _kind_of_dtype(dtype):
    return 0 if dtype == dtypes.bool else 2 if dtypes.is_floating(dtype) else 1


def _kind_of_value(value):
    return (
        _KIND[bool]
        if isinstance(value, bool)
        else _KIND[int] if isinstance(value, int) else _KIND[float]
    )


def _python_number(value):
    return value.item() if isinstance(value, np.generic) else value


def _wrap(value, like, ndim):
    """``value`` (Tensor, array or number) as a Tensor; numbers follow torch's scalar promotion."""
    if isinstance(value, Tensor):
        return value
    value = _python_number(value)
    if isinstance(value, np.ndarray):
        return constant(value)
    kind = _kind_of_value(value)
    if like is None or kind > _kind_of_dtype(like):
        return scalar(value, _DEFAULT[kind], ndim)
    return scalar(value, like, ndim)


def _operands(*values):
    """Tensors of one dtype and one rank (TensorRT broadcasts equal ranks only)."""
    tensors = [v for v in values if isinstance(v, Tensor)]
    if not tensors:
        raise TypeError("at least one operand must be a network Tensor")
    ndim = max(t.ndim for t in tensors)
    wrapped = [_wrap(v, common_dtype(tensors), ndim) for v in values]
    dtype = common_dtype(wrapped)
    return align_ranks(*(cast(t, dtype) for t in wrapped))


def elementwise(a, b, operation, op_name):
    """One ELEMENTWISE layer after torch-style broadcasting and type promotion."""
    a, b = _operands(a, b)
    if operation in _LOGICAL:
        a, b = cast(a, dtypes.bool), cast(b, dtypes.bool)
    return output(network().add_elementwise(a.trt, b.trt, operation), op_name)


def _make(name, operation):
    def op(input, other):
        return elementwise(input, other, operation, name)

    op.__name__ = op.__qualname__ = name
    op.__doc__ = f"torch.{name} as one ELEMENTWISE {operation.name} layer (broadcasting)."
    return op


for _name, _operation in _BINARY.items():
    globals()[_name] = _make(_name, _operation)


# --------------------------------------------------------------------------- arithmetic


def _scaled(value, alpha):
    if alpha == 1:
        return value
    return value * alpha if not isinstance(value, Tensor) else mul(value, alpha)  # noqa: F821


def add(input, other, *, alpha=1):
    """torch.add: ``input + alpha * other``."""
    return elementwise(input, _scaled(other, alpha), _OP.SUM, "add")


def sub(input, other, *, alpha=1):
    """torch.sub: ``input - alpha * other``."""
    return elementwise(input, _scaled(other, alpha), _OP.SUB, "sub")


def rsub(input, other, *, alpha=1):
    """torch.rsub: ``other - alpha * input``."""
    return elementwise(other, _scaled(input, alpha), _OP.SUB, "rsub")


def div(input, other, *, rounding_mode=None):
    """torch.div: true division (integers divide as float32), or ``"trunc"`` / ``"floor"``."""
    if rounding_mode == "floor":
        return floor_divide(input, other)  # noqa: F821
    a, b = _operands(input, other)
    if rounding_mode is None:
        if not dtypes.is_floating(a.dtype):  # torch: int / int is a float tensor
            a, b = cast(a, dtypes.float32), cast(b, dtypes.float32)
        return elementwise(a, b, _OP.DIV, "div")
    if rounding_mode != "trunc":
        raise ValueError(
            f"div expected rounding_mode to be one of None, 'trunc', or 'floor', got {rounding_mode!r}"
        )
    quotient = elementwise(a, b, _OP.DIV, "div")
    if not dtypes.is_floating(quotient.dtype):
        return quotient  # integer DIV already truncates toward zero
    return truncated(quotient)


def truncated(x):
    """A float tensor rounded toward zero: sign(x) * floor(|x|); TensorRT has no TRUNC."""
    sign = unary(x, trt.UnaryOperation.SIGN, "sign")
    whole = unary(unary(x, trt.UnaryOperation.ABS, "abs"), trt.UnaryOperation.FLOOR, "floor")
    return mul(sign, whole)  # noqa: F821


def true_divide(input, other):
    return div(input, other)


def remainder(input, other):
    """torch.remainder (Python ``%``): ``a - floor(a / b) * b``, the sign of the divisor."""
    a, b = _operands(input, other)
    quotient = floor_divide(a, b)  # noqa: F821
    return sub(a, mul(quotient, b))  # noqa: F821


def fmod(input, other):
    """torch.fmod (C ``fmod``): ``a - trunc(a / b) * b``, the sign of the dividend."""
    a, b = _operands(input, other)
    return sub(a, mul(div(a, b, rounding_mode="trunc"), b))  # noqa: F821


# --------------------------------------------------------------------------- comparisons


def ne(input, other):
    """torch.ne: NOT(EQUAL); NaN != x is True, as in torch."""
    return unary(eq(input, other), trt.UnaryOperation.NOT, "ne")  # noqa: F821


def ge(input, other):
    """torch.ge: GREATER OR EQUAL (not NOT(LESS), which would say NaN >= x)."""
    a, b = _operands(input, other)
    return logical_or(gt(a, b), eq(a, b))  # noqa: F821


def le(input, other):
    """torch.le: LESS OR EQUAL."""
    a, b = _operands(input, other)
    return logical_or(lt(a, b), eq(a, b))  # noqa: F821


greater, greater_equal, less, less_equal = gt, ge, lt, le  # noqa: F821
not_equal = ne


# --------------------------------------------------------------------------- selection


def where(condition, input, other):
    """torch.where(condition, input, other): one SELECT layer; any argument may broadcast."""
    if not isinstance(condition, Tensor):
        raise TypeError("where: condition must be a network Tensor")
    ndim = max(t.ndim for t in (condition, input, other) if isinstance(t, Tensor))
    if not isinstance(input, Tensor) and not isinstance(other, Tensor):
        kind = max(_kind_of_value(_python_number(input)), _kind_of_value(_python_number(other)))
        input, other = (scalar(_python_number(v), _DEFAULT[kind], ndim) for v in (input, other))
    a, b = _operands(input, other)
    return select_layer(cast(condition, dtypes.bool), a, b, "where")


def select_layer(condition, then, otherwise, op):
    """One SELECT named ``op`` (bool condition, equal dtypes); ranks are aligned first."""
    condition, then, otherwise = align_ranks(condition, then, otherwise)
    return output(network().add_select(condition.trt, then.trt, otherwise.trt), op)


def clamp(input, min=None, max=None):  # noqa: A002 - torch names
    """torch.clamp / clip: one CLIP activation for two number bounds on a float tensor,
    else an ELEMENTWISE MAX (min bound) and/or MIN (max bound)."""
    if min is None and max is None:
        raise ValueError("clamp: at least one of 'min' or 'max' must not be None")
    numbers = all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in (min, max))
    # CLIP is max(alpha, min(beta, x)): torch's min(max(x, min), max) only while min <= max
    if numbers and min <= max and dtypes.is_floating(input.dtype):
        return activation(input, trt.ActivationType.CLIP, "clamp", min, max)
    result = input
    if min is not None:
        result = elementwise(result, min, _OP.MAX, "clamp_min")
    if max is not None:
        result = elementwise(result, max, _OP.MIN, "clamp_max")
    return result


def clamp_min(input, min):  # noqa: A002
    return clamp(input, min=min)


def clamp_max(input, max):  # noqa: A002
    return clamp(input, max=max)


def addcmul(input, tensor1, tensor2, *, value=1):
    """torch.addcmul: ``input + value * tensor1 * tensor2`` (timm's Affine, optimizers' EMAs)."""
    product = mul(tensor1, tensor2)
    return add(input, product if value == 1 else mul(product, value))


def addcdiv(input, tensor1, tensor2, *, value=1):
    """torch.addcdiv: ``input + value * tensor1 / tensor2``."""
    quotient = div(tensor1, tensor2)
    return add(input, quotient if value == 1 else mul(quotient, value))


clip = clamp

__all__ = list(_BINARY) + [
    "add",
    "sub",
    "rsub",
    "div",
    "true_divide",
    "remainder",
    "fmod",
    "ne",
    "ge",
    "le",
    "greater",
    "greater_equal",
    "less",
    "less_equal",
    "not_equal",
    "where",
    "clamp",
    "clamp_min",
    "clamp_max",
    "clip",
    "addcmul",
    "addcdiv",
]
