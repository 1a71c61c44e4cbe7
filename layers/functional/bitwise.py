"""Bitwise ops: ``bitwise_and / or / xor / not``, ``&``, ``|``, ``^``, ``~``, ``<<``, ``>>``.

TensorRT's AND / OR / XOR / NOT work on bool tensors only. Bool operands use them; integer
operands are computed exactly from their two's-complement bits: the bits are spread over a new
last dim (``floor(x / 2**k) mod 2``, the sign bit as ``x < 0``), combined with MIN / MAX, and
summed back with the bits' weights (the sign bit weighs ``-2**(w-1)``). ``~x`` on an integer is
``-1 - x``; shifts multiply or floor-divide by a power of two (torch's ``>>`` is arithmetic).
Integer math runs in int64 for int64 tensors and in int32 for the narrower ones.
"""

import numpy as np

from .. import dtypes
from ..tensor import Tensor
from ._common import align_ranks, cast, constant, gather_layer, scalar
from .elementwise import (
    _operands,
    add,
    floor_divide,
    logical_and,
    logical_or,
    logical_xor,
    lt,
    maximum,
    minimum,
    mul,
    sub,
    where,
)
from .join import cat
from .reduce import sum as reduce_sum
from .unary import logical_not

__all__ = [
    "bitwise_not",
    "bitwise_and",
    "bitwise_or",
    "bitwise_xor",
    "bitwise_left_shift",
    "bitwise_right_shift",
]

# integer dtype → (bits, signed, dtype the arithmetic runs in)
_INTEGER = {
    dtypes.uint8: (8, False, dtypes.int32),
    dtypes.int8: (8, True, dtypes.int32),
    dtypes.int32: (32, True, dtypes.int32),
    dtypes.int64: (64, True, dtypes.int64),
}


def _integer_format(dtype, op):
    if dtype not in _INTEGER:
        raise TypeError(f"{op}: expected bool or integer tensors, got {dtypes.name_of(dtype)}")
    return _INTEGER[dtype]


def bitwise_not(input):
    """torch.bitwise_not / ``~x``: NOT for bool; ``-1 - x`` for signed integers (two's
    complement), ``255 - x`` for uint8."""
    if input.dtype == dtypes.bool:
        return logical_not(input)
    bits, signed, compute = _integer_format(input.dtype, "bitwise_not")
    top = -1 if signed else 2**bits - 1
    return cast(sub(scalar(top, compute, input.ndim), cast(input, compute)), input.dtype)


def _bits(x, bits, signed):
    """``x`` (in its compute dtype) → ``(*x.shape, bits)`` of 0/1, least significant first."""
    np_type = dtypes.to_numpy(x.dtype)
    value_bits = bits - 1 if signed else bits
    powers = constant(np.array([2**k for k in range(value_bits)], dtype=np_type))
    spread = floor_divide(x.unsqueeze(-1), powers)  # floor(x / 2**k)
    low = sub(spread, mul(floor_divide(spread, 2), 2))  # its floor-mod 2: bit k
    if not signed:
        return low

    sign = cast(lt(x, 0), x.dtype).unsqueeze(-1)
    return cat([low, sign], -1)


def _from_bits(bits_tensor, bits, signed):
    """The integer whose two's-complement bits are ``bits_tensor`` (last dim)."""

    np_type = dtypes.to_numpy(bits_tensor.dtype)
    weights = [2**k for k in range(bits - 1 if signed else bits)]
    if signed:
        weights.append(-(2 ** (bits - 1)))
    return reduce_sum(mul(bits_tensor, constant(np.array(weights, dtype=np_type))), -1)


def _bitwise(input, other, logical, combine, op):
    a, b = _operands(input, other)
    if a.dtype == dtypes.bool:
        return logical(a, b)
    dtype = a.dtype
    bits, signed, compute = _integer_format(dtype, op)
    a, b = cast(a, compute), cast(b, compute)
    combined = combine(_bits(a, bits, signed), _bits(b, bits, signed))
    return cast(_from_bits(combined, bits, signed), dtype)


def _xor_bits(a, b):
    return sub(maximum(a, b), minimum(a, b))


def bitwise_and(input, other):
    """torch.bitwise_and / ``&``: AND for bools; exact bit arithmetic for integers."""
    return _bitwise(input, other, logical_and, minimum, "bitwise_and")


def bitwise_or(input, other):
    """torch.bitwise_or / ``|``: OR for bools; exact bit arithmetic for integers."""
    return _bitwise(input, other, logical_or, maximum, "bitwise_or")


def bitwise_xor(input, other):
    """torch.bitwise_xor / ``^``: XOR for bools; exact bit arithmetic for integers."""
    return _bitwise(input, other, logical_xor, _xor_bits, "bitwise_xor")


def _shift_operands(input, other, op):
    """(x in its compute dtype, int64 amount, bits, signed, x's dtype), ranks aligned."""
    if not isinstance(input, Tensor):
        input = scalar(input, other.dtype if isinstance(other, Tensor) else dtypes.int64, 0)
    dtype = input.dtype
    bits, signed, compute = _integer_format(dtype, op)
    if isinstance(other, Tensor):
        _integer_format(other.dtype, op)
        amount = cast(other, dtypes.int64)
    else:
        amount = scalar(int(other), dtypes.int64, 0)
    x, amount = align_ranks(cast(input, compute), amount)
    return x, amount, bits, signed, dtype


def _power(amount, x, bits):
    """``2**min(max(amount, 0), largest)`` in x's dtype, where ``largest`` is the widest shift
    whose power x's dtype holds (at most ``bits - 1``); and ``largest`` itself."""

    largest = min(bits - 1, 30 if x.dtype == dtypes.int32 else 62)
    table = constant(np.array([2**k for k in range(largest + 1)], dtype=dtypes.to_numpy(x.dtype)))
    clamped = minimum(maximum(amount, 0), largest)
    return gather_layer(table, 0, clamped, "shift_power"), largest


def _out_of_range(amount, bits):
    """torch's shifts treat a negative amount or one of at least the width alike."""
    return logical_or(lt(amount, 0), lt(bits - 1, amount))


def bitwise_left_shift(input, other):
    """torch.bitwise_left_shift / ``<<``: ``x * 2**s`` wrapped to the dtype's width; 0 where
    ``s`` is negative or at least the width (torch's rule)."""
    x, amount, bits, signed, dtype = _shift_operands(input, other, "bitwise_left_shift")
    power, largest = _power(amount, x, bits)
    shifted = mul(x, power)
    if largest < bits - 1:  # by the full width - 1: one more doubling (it wraps, as in torch)
        shifted = where(lt(largest, amount), mul(shifted, 2), shifted)
    shifted = _wrap_width(shifted, bits, signed)
    zero = scalar(0, x.dtype, x.ndim)
    return cast(where(_out_of_range(amount, bits), zero, shifted), dtype)


def bitwise_right_shift(input, other):
    """torch.bitwise_right_shift / ``>>``: ``floor(x / 2**s)`` (arithmetic shift); where ``s``
    is negative or at least the width, ``x >> (width - 1)`` as torch does (-1 or 0)."""
    x, amount, bits, signed, dtype = _shift_operands(input, other, "bitwise_right_shift")
    power, largest = _power(amount, x, bits)
    shifted = floor_divide(x, power)
    zero = scalar(0, x.dtype, x.ndim)
    fill = sub(zero, cast(lt(x, 0), x.dtype)) if signed else zero  # -1 for negatives, else 0
    # beyond ``largest`` (by the full width - 1 included) every bit is the sign
    return cast(where(logical_or(lt(largest, amount), lt(amount, 0)), fill, shifted), dtype)


def _wrap_width(x, bits, signed):
    """``x`` wrapped to a ``bits``-wide integer (int32 and int64 arithmetic already wraps)."""
    if bits >= 32:
        return x
    span = 2**bits
    if not signed:
        return sub(x, mul(floor_divide(x, span), span))
    shifted = add(x, span // 2)
    return sub(sub(shifted, mul(floor_divide(shifted, span), span)), span // 2)
