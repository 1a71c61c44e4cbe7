"""Casts: the only way precision changes in a strongly typed network."""

from .. import dtypes
from ..network import current_network, name_layer
from ..precision import resolve_float
from ..tensor import Tensor


def cast(x, dtype):
    """``x`` as ``dtype``; in a reduced-precision network float32 means its float type."""
    return cast_layer(x, resolve_float(dtypes.to_trt(dtype)))


def cast_layer(x, dtype, op="cast"):
    """One CAST layer named ``op`` (none when ``x`` already has ``dtype``)."""
    dtype = dtypes.to_trt(dtype)
    if x.dtype == dtype:
        return x
    layer = current_network().add_cast(x.trt, dtype)
    return Tensor(name_layer(layer, op).get_output(0))


def promote_pair(a, b):
    """Cast two tensors to their common dtype (torch-like promotion)."""
    dtype = dtypes.promote(a.dtype, b.dtype)
    return cast(a, dtype), cast(b, dtype)

def type_as(x, other):
    """``x.type_as(other)`` (also ``aten.type_as``): ``x`` in ``other``'s dtype."""
    return cast(x, other.dtype)


__all__ = ["cast", "cast_layer", "promote_pair", "type_as"]
