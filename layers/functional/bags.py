"""F.embedding_bag: the rows of ``weight`` picked by each bag of indices, reduced per bag
(sum, mean or max), optionally weighted per index (sum).

Bags are the rows of a 2-D input, or the segments ``[offsets[b], offsets[b + 1])`` of a 1-D
input, where the offsets may be run-time values: which bag each index belongs to is a
comparison of positions with offsets (a (bags, indices) membership), so the output shape
(bags, embedding_dim) never depends on the values. Sum and mean are one MATRIX_MULTIPLY of the
membership with the gathered rows; max selects and reduces. Entries equal to ``padding_idx``
take no part, and an empty bag gives zeros, as in torch.
"""

import numpy as np

from .. import dtypes
from ..tensor import Tensor
from ._common import cast, constant, gather_layer, scalar
from ._params import tensor_of
from .constant import arange
from .elementwise import div, ge, logical_and, lt, maximum, mul, ne, select_layer
from .join import cat
from .linear import matmul
from .reduce import amax, sum as reduce_sum
from .indexing import slice_tensor
from .shape import reshape_to, size, unsqueeze

__all__ = ["embedding_bag"]

_MODES = ("sum", "mean", "max")


def _membership(input, offsets, include_last_offset):
    """bool (bags, n): is index position j in bag b."""
    n = input.shape[0]
    offsets = offsets if isinstance(offsets, Tensor) else constant(np.asarray(offsets, np.int64))
    offsets = cast(offsets, dtypes.int64)
    if include_last_offset:
        starts = slice_tensor(offsets, 0, 0, -1)
        ends = slice_tensor(offsets, 0, 1, None)
    else:
        starts = offsets
        total = scalar(n, dtypes.int64, 1) if n >= 0 else reshape_to(size(input, 0), [1])
        ends = cat([slice_tensor(offsets, 0, 1, None), total], 0)
    positions = unsqueeze(arange(n if n >= 0 else size(input, 0), dtype=dtypes.int64), 0)
    inside = logical_and(ge(positions, unsqueeze(starts, 1)), lt(positions, unsqueeze(ends, 1)))
    return inside


def embedding_bag(
    input,
    weight,
    offsets=None,
    max_norm=None,
    norm_type=2,
    scale_grad_by_freq=False,
    mode="mean",
    sparse=False,
    per_sample_weights=None,
    include_last_offset=False,
    padding_idx=None,
):
    """F.embedding_bag (torch's arguments; ``max_norm`` rewrites weights in torch: refused)."""
    if mode not in _MODES:
        raise ValueError(f"embedding_bag: mode has to be one of {_MODES}, got {mode!r}")
    if max_norm is not None:
        raise NotImplementedError("embedding_bag(max_norm=...) is not supported")
    if per_sample_weights is not None and mode != "sum":
        raise NotImplementedError(
            "embedding_bag: per_sample_weights is only supported for mode='sum' "
            f"(got mode='{mode}'). Please open a feature request on GitHub."
        )
    weight = tensor_of(weight)
    if input.ndim == 2:
        if offsets is not None:
            raise ValueError("embedding_bag: if input is 2D, then offsets has to be None")
        flat = reshape_to(input, [-1])
        member = _row_bags(input)
        weights = None if per_sample_weights is None else reshape_to(per_sample_weights, [-1])
        input = flat
    elif input.ndim == 1:
        if offsets is None:
            raise ValueError("embedding_bag: offsets has to be a 1D Tensor but got None")
        member = _membership(input, offsets, include_last_offset)
        weights = per_sample_weights
    else:
        raise ValueError(f"embedding_bag: input has to be 1D or 2D Tensor, got {input.ndim}D")
    if padding_idx is not None:
        padding_idx = padding_idx % weight.shape[0] if padding_idx < 0 else padding_idx
        member = logical_and(member, unsqueeze(ne(input, padding_idx), 0))
    rows = gather_layer(weight, 0, input, "embedding_bag")  # (n, D)
    if weights is not None:
        rows = mul(rows, unsqueeze(cast(weights, rows.dtype), 1))
    if mode == "max":
        lowest = scalar(float("-inf"), rows.dtype, 3)
        picked = select_layer(unsqueeze(member, 2), unsqueeze(rows, 0), lowest, "embedding_bag")
        largest = amax(picked, 1)
        counts = reduce_sum(cast(member, dtypes.int32), 1, keepdim=True)
        return select_layer(ge(counts, 1), largest, scalar(0, rows.dtype, 2), "embedding_bag")
    summed = matmul(cast(member, rows.dtype), rows)  # (bags, D)
    if mode == "sum":
        return summed
    counts = reduce_sum(cast(member, rows.dtype), 1, keepdim=True)
    return div(summed, maximum(counts, 1.0))  # an empty bag: 0 / 1


def _row_bags(input):
    """bool (bags, bags * length) for a 2-D input: bag b holds positions b*length .. +length."""
    bags, length = input.shape
    if bags < 0 or length < 0:
        raise NotImplementedError("embedding_bag with a 2-D input of run-time size")
    positions = np.arange(bags * length) // length
    return constant(positions[None, :] == np.arange(bags)[:, None])
