"""Parameters (state_dict weights) as op operands: CONSTANT tensors named by their key.

A Parameter that must broadcast gets its broadcastable shape built into the CONSTANT, which
saves a SHUFFLE per use; a Tensor operand gets the SHUFFLE.
"""

from .. import dtypes
from ..module import Parameter
from ..network import as_weights, param_source
from ._common import constant, network, prepend_ones
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


def weights_of(value, dtype):
    """``(trt.Weights, None)`` for a Parameter with a build-time value, else ``(None, Tensor)``.

    bfloat16 has no numpy type, so such parameters go through a (cast) constant tensor.
    """
    if isinstance(value, Parameter):
        if value.dtype == dtypes.bfloat16 or dtype == dtypes.bfloat16:
            return None, value.tensor()
        array = value.numpy().astype(dtypes.to_numpy(dtype), copy=False)
        return as_weights(array, param_source(value.name)), None
    return None, value


def name_weights(weights, param):
    """Tag ``weights`` with the state_dict key so a refitter can find them by key."""
    if weights is not None and isinstance(param, Parameter) and param.name:
        network().set_weights_name(weights, param.name)
