"""Pairwise distances: torch.cdist (any p >= 0, inf) and F.pdist.

Like torch, cdist computes the p-norm of every difference ``x1[i] - x2[j]`` (broadcast over a
new pair of dims), except for p = 2 on more than 25 rows on either side, where torch (and this)
expands ``|a - b|^2 = |a|^2 - 2 a.b + |b|^2`` into one MATRIX_MULTIPLY: no (P, R, M) tensor. With a
run-time row count both forms are built and the row counts select one, as torch does when it runs.
pdist is the direct form over the pairs ``i < j`` of a static row count, in torch's order.
"""

import numpy as np

from .. import dtypes
from ..precision import fp32_island
from ._common import cast, gather_layer
from .elementwise import add, clamp_min, gt, logical_or, mul, ne, sub, where
from .linear import matmul
from .reduce import sum as reduce_sum
from .reduce import vector_norm
from .shape import size, slice_layer, transpose, unsqueeze
from .unary import sqrt

__all__ = ["cdist", "pdist"]

_MM_ROWS = 25  # torch's threshold for the matrix-multiply form of p = 2


def _norm_of_differences(diff, p):
    """The p-norm over the last dim; p = 0 counts the entries that differ."""
    if p == 0:
        return reduce_sum(cast(ne(diff, 0), diff.dtype), -1)
    return vector_norm(diff, p, -1)


# torch.cdist's compute modes, and aten.cdist's numbers for them
_MODES = {
    None: "use_mm_for_euclid_dist_if_necessary",
    0: "use_mm_for_euclid_dist_if_necessary",
    1: "use_mm_for_euclid_dist",
    2: "donot_use_mm_for_euclid_dist",
}


def _form(x1, x2, p, compute_mode):
    """``matrix_multiply``, ``direct``, or ``by_rows`` (torch's choice, made at run time)."""
    mode = _MODES.get(compute_mode, compute_mode)
    if mode not in _MODES.values():
        raise ValueError(f"{compute_mode} is not a valid value for compute_mode")
    if p != 2 or mode == "donot_use_mm_for_euclid_dist":
        return "direct"
    if mode == "use_mm_for_euclid_dist":
        return "matrix_multiply"
    rows = (x1.shape[-2], x2.shape[-2])
    if any(n > _MM_ROWS for n in rows):
        return "matrix_multiply"
    return "by_rows" if any(n < 0 for n in rows) else "direct"


def _euclidean_by_matrix_multiply(x1, x2):
    squared1 = reduce_sum(mul(x1, x1), -1, keepdim=True)  # (.., P, 1)
    squared2 = transpose(reduce_sum(mul(x2, x2), -1, keepdim=True), -1, -2)  # (.., 1, R)
    products = matmul(x1, transpose(x2, -1, -2))  # (.., P, R)
    squared = add(sub(squared1, mul(products, 2.0)), squared2)
    return sqrt(clamp_min(squared, 1e-30))  # rounding can make a zero distance negative


@fp32_island("reduction")
def cdist(x1, x2, p=2.0, compute_mode="use_mm_for_euclid_dist_if_necessary"):
    """torch.cdist: ``(.., P, M)`` and ``(.., R, M)`` → ``(.., P, R)`` of p-norm distances."""
    if p < 0:
        raise ValueError(f"cdist only supports non-negative p values, got {p}")
    if x1.ndim < 2 or x2.ndim < 2:
        raise ValueError("cdist: both inputs need at least 2 dims")
    if not dtypes.is_floating(x1.dtype):
        raise TypeError("cdist only supports floating-point dtypes")
    form = _form(x1, x2, p, compute_mode)
    if form == "matrix_multiply":
        return _euclidean_by_matrix_multiply(x1, x2)
    diff = sub(unsqueeze(x1, -2), unsqueeze(x2, -3))  # (.., P, R, M)
    direct = _norm_of_differences(diff, p)
    if form == "direct":
        return direct
    # a run-time row count: torch picks the form when it runs, and so does the network
    over = [
        gt(rows, _MM_ROWS) for rows in (size(x1, -2), size(x2, -2)) if not isinstance(rows, int)
    ]
    condition = over[0] if len(over) == 1 else logical_or(*over)
    return where(condition, _euclidean_by_matrix_multiply(x1, x2), direct)


@fp32_island("reduction")
def pdist(input, p=2.0):
    """F.pdist: distances between the rows of an (N, M) input for every pair i < j, row-major
    (N must be static)."""
    if input.ndim != 2:
        raise ValueError(f"pdist only supports 2D tensors, got: {input.ndim}D")
    if p < 0:
        raise ValueError("pdist only supports non-negative p values")
    n = input.shape[0]
    if n < 0:
        raise NotImplementedError("pdist with a run-time number of rows")
    first, second = np.triu_indices(n, k=1)
    if first.size == 0:  # one row, no pair: an empty SLICE (TensorRT has no empty constant)
        return slice_layer(_norm_of_differences(input, p), [0], [0], [1], op="pdist")
    rows = gather_layer(input, 0, first.astype(np.int64), "pdist")
    others = gather_layer(input, 0, second.astype(np.int64), "pdist")
    return _norm_of_differences(sub(rows, others), p)
