"""Unary elementwise ops: a table of torch name → TensorRT UnaryOperation, plus the few torch
ops that take two or more layers (rsqrt, square, log2, trunc, ...).

Dtypes follow torch: float-only math on an integer tensor computes in float32 (``torch.exp``
of an int tensor is float32); abs / neg / sign keep integer dtypes; floor / ceil / round /
trunc return an integer tensor unchanged; logical_not and isnan / isinf return bool.
"""

import math

from .. import dtypes
from ..backend import trt
from ..precision import fp32_island
from ._common import cast, network, output, unary
from .elementwise import (  # noqa: A004 - torch names
    _operands,
    add,
    div,
    eq,
    logical_and,
    logical_or,
    lt,
    mul,
    pow,
    sub,
    truncated,
    where,
)

_U = trt.UnaryOperation

# how a row treats its input dtype
_FLOAT = "float"  # integers and bools compute in float32
_KEEP = "keep"  # any numeric dtype, result keeps it
_ROUND = "round"  # integers are already whole: returned unchanged
_LOGICAL = "logical"  # input read as bool, result bool

# torch name → (TensorRT op, dtype rule); every row is exactly one UNARY layer.
_UNARY = {
    "abs": (_U.ABS, _KEEP),
    "neg": (_U.NEG, _KEEP),
    "sign": (_U.SIGN, _KEEP),
    "exp": (_U.EXP, _FLOAT),
    "log": (_U.LOG, _FLOAT),
    "sqrt": (_U.SQRT, _FLOAT),
    "reciprocal": (_U.RECIP, _FLOAT),
    "sin": (_U.SIN, _FLOAT),
    "cos": (_U.COS, _FLOAT),
    "tan": (_U.TAN, _FLOAT),
    "asin": (_U.ASIN, _FLOAT),
    "acos": (_U.ACOS, _FLOAT),
    "atan": (_U.ATAN, _FLOAT),
    "sinh": (_U.SINH, _FLOAT),
    "cosh": (_U.COSH, _FLOAT),
    "asinh": (_U.ASINH, _FLOAT),
    "acosh": (_U.ACOSH, _FLOAT),
    "atanh": (_U.ATANH, _FLOAT),
    "erf": (_U.ERF, _FLOAT),
    "floor": (_U.FLOOR, _ROUND),
    "ceil": (_U.CEIL, _ROUND),
    "round": (_U.ROUND, _ROUND),  # TensorRT rounds half to even, as torch.round does
    "logical_not": (_U.NOT, _LOGICAL),
    "isnan": (_U.ISNAN, _FLOAT),
    "isinf": (_U.ISINF, _FLOAT),
}


def _make(name, operation, rule):
    def op(input):
        if rule == _ROUND and not dtypes.is_floating(input.dtype):
            return input
        if rule == _FLOAT and not dtypes.is_floating(input.dtype):
            input = cast(input, dtypes.float32)
        elif rule == _LOGICAL:
            input = cast(input, dtypes.bool)
        return unary(input, operation, name)

    op.__name__ = op.__qualname__ = name
    op.__doc__ = f"torch.{name} as one UNARY {operation.name} layer."
    return op


for _name, (_operation, _rule) in _UNARY.items():
    globals()[_name] = _make(_name, _operation, _rule)
for _name in ("exp", "log"):  # FP32 in reduced-precision networks (see layers.precision)
    globals()[_name] = fp32_island("exp")(globals()[_name])

negative, absolute, arcsin, arccos, arctan = neg, abs, asin, acos, atan  # noqa: F821


# --------------------------------------------------------------------------- composites


def _as_float(x):
    return x if dtypes.is_floating(x.dtype) else cast(x, dtypes.float32)


def rsqrt(input):
    """torch.rsqrt: RECIP(SQRT(x)) (more accurate than POW(x, -0.5))."""
    return reciprocal(sqrt(input))  # noqa: F821


def square(input):
    """torch.square: x * x (keeps integer dtypes)."""
    return mul(input, input)


@fp32_island("exp")
def log2(input):
    return mul(log(input), 1.0 / math.log(2.0))  # noqa: F821


@fp32_island("exp")
def log10(input):
    return mul(log(input), 1.0 / math.log(10.0))  # noqa: F821


@fp32_island("exp")
def log1p(input):
    return log(add(_as_float(input), 1.0))  # noqa: F821


@fp32_island("exp")
def exp2(input):
    return pow(2.0, _as_float(input))


@fp32_island("exp")
def expm1(input):
    return sub(exp(input), 1.0)  # noqa: F821


def trunc(input):
    """torch.trunc (round toward zero): sign(x) * floor(|x|); TensorRT has no TRUNC."""
    if not dtypes.is_floating(input.dtype):
        return input
    return truncated(input)


_round_to_integer = round  # noqa: F821 - the table's one-layer ROUND


def round(input, *, decimals=0):  # noqa: A001 - torch name
    """torch.round: half to even; ``decimals`` scales by 10**decimals around the ROUND layer."""
    if decimals == 0 or not dtypes.is_floating(input.dtype):
        return _round_to_integer(input)
    if decimals > 0:
        return div(_round_to_integer(mul(input, 10.0**decimals)), 10.0**decimals)
    return mul(_round_to_integer(div(input, 10.0**-decimals)), 10.0**-decimals)


def frac(input):
    """torch.frac: x - trunc(x)."""
    return sub(input, trunc(input))


fix = trunc


def _sign_bit(x):
    """True where ``x`` is negative, -0.0 included (``1 / -0.0`` is -inf)."""
    return logical_or(lt(x, 0), logical_and(eq(x, 0), lt(div(1.0, x), 0)))


def atan2(input, other):
    """torch.atan2(y, x), the angle of (x, y) in [-pi, pi], as ``atan(y / x)`` moved by pi into
    the left half-plane. The IEEE cases of C's atan2 hold: the signs of zeros pick the half
    (``atan2(0, -0) = pi``), both zero gives ``atan(y)`` (a signed zero), both infinite gives
    ``atan(+-1)``; NaN propagates through the quotient."""
    y, x = _operands(_as_float(input), _as_float(other))
    both_zero = logical_and(eq(x, 0), eq(y, 0))
    both_infinite = logical_and(isinf(x), isinf(y))  # noqa: F821
    unit_ratio = mul(sign(y), sign(x))  # noqa: F821 - inf / inf as +-1
    ratio = where(both_zero, y, where(both_infinite, unit_ratio, div(y, x)))
    angle = atan(ratio)  # noqa: F821
    turn = where(_sign_bit(y), -math.pi, math.pi)
    return where(_sign_bit(x), add(angle, turn), angle)  # not angle + 0: keeps -0.0


arctan2 = atan2

__all__ = list(_UNARY) + [
    "negative",
    "absolute",
    "arcsin",
    "arccos",
    "arctan",
    "rsqrt",
    "square",
    "log2",
    "log10",
    "log1p",
    "exp2",
    "expm1",
    "trunc",
    "frac",
    "fix",
    "atan2",
    "arctan2",
]
