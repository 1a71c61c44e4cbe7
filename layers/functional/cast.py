"""Casts: the only way precision changes in a strongly typed network."""

from .. import dtypes
from ._common import cast, cast_layer


def promote_pair(a, b):
    """Cast two tensors to their common dtype (torch-like promotion)."""
    dtype = dtypes.promote(a.dtype, b.dtype)
    return cast(a, dtype), cast(b, dtype)


def type_as(x, other):
    """``x.type_as(other)`` (also ``aten.type_as``): ``x`` in ``other``'s dtype."""
    return cast(x, other.dtype)


__all__ = ["cast", "cast_layer", "promote_pair", "type_as"]
