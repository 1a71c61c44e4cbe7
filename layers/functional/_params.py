"""Parameters (state_dict weights) as op operands: CONSTANT tensors named by their key.

A Parameter that must broadcast gets its broadcastable shape built into the CONSTANT, which
saves a SHUFFLE per use; a Tensor operand gets the SHUFFLE.
"""

from ..module import Parameter
from ._common import prepend_ones
from .constant import constant
from .shape import Dim, reshape_to


def tensor_of(value):
    """A Parameter as its CONSTANT tensor; anything else as it is."""
    return value.tensor() if isinstance(value, Parameter) else value


def with_leading_ones(value, rank):
    """A Parameter / Tensor with leading 1s up to ``rank`` dims."""
    if not isinstance(value, Parameter):
        return prepend_ones(value, rank)
    if len(value.shape) >= rank:
        return value.tensor()
    return _reshaped(value, (1,) * (rank - len(value.shape)) + value.shape)


def per_channel(value, ndim):
    """A (C,) Parameter / Tensor as (1, C, 1, ...) of ``ndim`` dims, to meet (N, C, *spatial)."""
    trailing = [1] * (ndim - 2)
    if isinstance(value, Parameter):
        return _reshaped(value, (1, value.shape[0], *trailing))
    return reshape_to(value, [1, Dim(value, 0), *trailing], "unsqueeze")


def _reshaped(param, shape):
    return constant(param.numpy().reshape(shape), name=param.name, dtype=param.dtype)
