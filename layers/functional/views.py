"""Ops torch computes as strided views of a tensor's storage: ``diagonal`` (and ``diag`` /
``diag_embed``, which build or read diagonals), and ``as_strided``.

A network tensor has no storage, so each is one GATHER of constant flat indices: the
addressed dims are flattened (static sizes), the indices computed at build time. ``as_strided``
reads its input as torch reads a contiguous tensor.
"""

import numpy as np

from ..tensor import Tensor
from ._common import cast, constant, gather_layer, normalize_dim, scalar
from .elementwise import select_layer
from .shape import Dim, permute, reshape_to, slice_layer

__all__ = [
    "diagonal",
    "diag",
    "diag_embed",
    "diagonal_scatter",
    "fill_diagonal",
    "as_strided",
]


def _static(x, dims, op):
    sizes = [x.shape[d] for d in dims]
    if any(n < 0 for n in sizes):
        raise NotImplementedError(f"{op}: the dims it addresses must have static sizes")
    return sizes


def _diagonal_positions(rows, columns, offset):
    """(row, column) of every entry of the ``offset``-th diagonal of a rows x columns matrix."""
    start_row, start_column = (0, offset) if offset >= 0 else (-offset, 0)
    length = max(0, min(rows - start_row, columns - start_column))
    steps = np.arange(length)
    return start_row + steps, start_column + steps


def diagonal(input, offset=0, dim1=0, dim2=1):
    """torch.diagonal: the ``offset``-th diagonal of the (dim1, dim2) planes, as a new last dim
    (one SHUFFLE moving and flattening the two dims, one GATHER)."""
    d1, d2 = normalize_dim(dim1, input.ndim), normalize_dim(dim2, input.ndim)
    if d1 == d2:
        raise ValueError(f"diagonal dimensions cannot be identical {dim1}, {dim2}")
    rows, columns = _static(input, (d1, d2), "diagonal")
    rest = [d for d in range(input.ndim) if d not in (d1, d2)]
    flat = reshape_to(
        input, [Dim(input, d) for d in rest] + [rows * columns], first_permute=rest + [d1, d2]
    )
    row, column = _diagonal_positions(rows, columns, offset)
    if row.size == 0:  # no entry: an empty SLICE (TensorRT has no empty constant)
        return slice_layer(
            flat,
            [0] * flat.ndim,
            [Dim(flat, i) for i in range(flat.ndim - 1)] + [0],
            [1] * flat.ndim,
        )
    return gather_layer(flat, flat.ndim - 1, (row * columns + column).astype(np.int64), "diagonal")


def diag_embed(input, offset=0, dim1=-2, dim2=-1):
    """torch.diag_embed: the last dim of ``input`` on the ``offset``-th diagonal of new
    (dim1, dim2) planes of size n + |offset|, zeros elsewhere (GATHER + SELECT, and a SHUFFLE
    when the planes are not the last two dims)."""
    rank = input.ndim + 1
    d1, d2 = normalize_dim(dim1, rank), normalize_dim(dim2, rank)
    if d1 == d2:
        raise ValueError(f"diagonal dimensions cannot be identical {dim1}, {dim2}")
    (n,) = _static(input, (input.ndim - 1,), "diag_embed")
    size = n + abs(offset)
    row, column = _diagonal_positions(size, size, offset)
    source = np.zeros((size, size), np.int64)  # which input entry each plane position shows
    on_diagonal = np.zeros((size, size), np.bool_)
    source[row, column] = np.arange(row.size)
    on_diagonal[row, column] = True
    spread = gather_layer(input, input.ndim - 1, source, "diag_embed")  # (.., size, size)
    zero = scalar(0, input.dtype, spread.ndim)
    planes = select_layer(constant(on_diagonal), spread, zero, "diag_embed")
    rest = [d for d in range(rank) if d not in (d1, d2)]
    order = [0] * rank
    for k, d in enumerate(rest):
        order[d] = k
    order[d1], order[d2] = rank - 2, rank - 1
    return permute(planes, order)


def _planes_last(x, d1, d2):
    """Permutation moving dims ``d1``, ``d2`` of ``x`` last (in that order), and its inverse."""
    rest = [d for d in range(x.ndim) if d not in (d1, d2)]
    order = rest + [d1, d2]
    return order, [order.index(i) for i in range(x.ndim)]


def _spread_on_diagonal(values, rows, columns, offset, op):
    """``values``' last dim laid on the ``offset``-th diagonal of new (rows, columns) planes, and
    the constant bool mask of that diagonal (GATHER + the mask for a SELECT)."""
    row, column = _diagonal_positions(rows, columns, offset)
    source = np.zeros((rows, columns), np.int64)  # which entry each plane position shows
    on_diagonal = np.zeros((rows, columns), np.bool_)
    source[row, column] = np.arange(row.size)
    on_diagonal[row, column] = True
    return gather_layer(values, values.ndim - 1, source, op), constant(on_diagonal)


def diagonal_scatter(input, src, offset=0, dim1=0, dim2=1):
    """torch.diagonal_scatter: ``input`` with its ``offset``-th diagonal of the (dim1, dim2)
    planes replaced by ``src`` (what torch.export makes of ``x.diagonal().copy_(v)``)."""
    d1, d2 = normalize_dim(dim1, input.ndim), normalize_dim(dim2, input.ndim)
    if d1 == d2:
        raise ValueError(f"diagonal dimensions cannot be identical {dim1}, {dim2}")
    rows, columns = _static(input, (d1, d2), "diagonal_scatter")
    if _diagonal_positions(rows, columns, offset)[0].size == 0:
        return input
    order, back = _planes_last(input, d1, d2)
    spread, on_diagonal = _spread_on_diagonal(
        cast(src, input.dtype), rows, columns, offset, "diagonal_scatter"
    )
    moved = permute(input, order)
    return permute(select_layer(on_diagonal, spread, moved, "diagonal_scatter"), back)


def fill_diagonal(input, fill_value, wrap=False):
    """``Tensor.fill_diagonal_``: entries (i, i, ..., i) set to ``fill_value``; a tall matrix
    with ``wrap`` starts again every columns + 1 rows, as torch does."""
    if input.ndim < 2:
        raise ValueError("dimensions must larger than 1")
    shape = _static(input, range(input.ndim), "fill_diagonal")
    if input.ndim > 2 and len(set(shape)) != 1:
        raise ValueError("all dimensions of input must be of equal length")
    mask = np.zeros(shape, np.bool_)
    stride = sum(int(np.prod(shape[i + 1 :])) for i in range(len(shape)))  # flat step (1,..,1)
    count = min(shape)
    if input.ndim == 2 and wrap:  # the same step on through the rows below the square
        count = (mask.size + stride - 1) // stride
    mask.reshape(-1)[np.arange(count) * stride] = True
    value = scalar(fill_value, input.dtype, input.ndim)
    return select_layer(constant(mask), value, input, "fill_diagonal")


def diag(input, diagonal=0):
    """torch.diag: a 1-D input becomes a matrix with it on the ``diagonal``-th diagonal; a 2-D
    input gives that diagonal."""
    if input.ndim == 1:
        return diag_embed(input, diagonal)
    if input.ndim == 2:
        return globals()["diagonal"](input, diagonal)
    raise ValueError(f"diag(): Supports 1D or 2D tensors. Got {input.ndim}D")


def as_strided(input, size, stride, storage_offset=0):
    """torch.as_strided on a contiguous tensor: entry ``i`` of the result is the input's flat
    entry ``storage_offset + sum(i_k * stride_k)`` (one SHUFFLE flattening, one GATHER)."""
    if isinstance(storage_offset, Tensor) or any(isinstance(v, Tensor) for v in (*size, *stride)):
        raise NotImplementedError("as_strided needs build-time sizes, strides and offset")
    size, stride = [int(s) for s in size], [int(s) for s in stride]
    if len(size) != len(stride):
        raise ValueError(f"mismatch in length of strides and shape: {size} vs {stride}")
    total = int(np.prod(_static(input, range(input.ndim), "as_strided")))
    grids = np.meshgrid(*[np.arange(n) for n in size], indexing="ij")
    flat_index = int(storage_offset) + sum(
        (g * s for g, s in zip(grids, stride)), np.zeros(size, np.int64)
    )
    flat_index = np.asarray(flat_index, np.int64).reshape(size)
    if flat_index.size and (flat_index.min() < 0 or flat_index.max() >= total):
        raise ValueError(
            f"as_strided: size {size}, stride {stride}, offset {storage_offset} read outside "
            f"the input's {total} elements"
        )
    flat = reshape_to(input, [total])
    if flat_index.size == 0:
        return reshape_to(slice_layer(flat, [0], [0], [1]), size)
    return gather_layer(flat, 0, flat_index, "as_strided")
