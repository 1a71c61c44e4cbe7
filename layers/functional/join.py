"""Joining and splitting: cat/stack (CONCATENATION), split/chunk/unbind (one SLICE per piece)."""

from ._common import cast, common_dtype, concat_layer, network, normalize_dim, output
from .shape import Dim, reshape_to, slice_layer, unsqueeze

__all__ = ["cat", "concat", "concatenate", "stack", "hstack", "vstack", "split", "chunk"]


def cat(tensors, dim=0):
    """torch.cat: one CONCATENATION with its axis set explicitly; dtypes promoted first."""
    tensors = list(tensors)
    if not tensors:
        raise ValueError("cat expects a non-empty list of tensors")
    # torch skips legacy empty 1-D tensors next to tensors of another rank
    rank = max(t.ndim for t in tensors)
    tensors = [t for t in tensors if not (t.ndim == 1 and t.shape[0] == 0 and rank > 1)] or tensors[
        :1
    ]
    dtype = common_dtype(tensors)
    tensors = [cast(t, dtype) for t in tensors]
    if len(tensors) == 1:
        return tensors[0]
    if len({t.ndim for t in tensors}) != 1:
        raise ValueError(f"cat: tensors must have the same rank, got {[t.shape for t in tensors]}")
    return concat_layer(tensors, dim)


concat = concatenate = cat


def stack(tensors, dim=0):
    """torch.stack as 2 layers for any count: CONCATENATION along ``dim``, then one SHUFFLE that
    splits the joined dim into (count, size). Stacking after the last dim joins the last dim and
    lets the same SHUFFLE swap the split pair."""
    tensors = list(tensors)
    rank = tensors[0].ndim
    d = normalize_dim(dim, rank + 1)
    if rank == 0 or len(tensors) == 1:
        return cat([unsqueeze(t, d) for t in tensors], d)
    axis = min(d, rank - 1)
    joined = cat(tensors, axis)
    dims = [Dim(joined, i) for i in range(rank)]
    spec = dims[:axis] + [len(tensors), Dim(tensors[0], axis)] + dims[axis + 1 :]
    perm = None
    if d == rank:  # (..., count, size) -> (..., size, count)
        perm = list(range(rank - 1)) + [rank, rank - 1]
    return reshape_to(joined, spec, "stack", then_permute=perm)


def hstack(tensors):
    tensors = list(tensors)
    return cat(tensors, 0 if tensors[0].ndim == 1 else 1)


def vstack(tensors):
    return cat([t if t.ndim >= 2 else reshape_to(t, [1, Dim(t, 0)]) for t in tensors], 0)


def _pieces(x, d, lengths):
    """One SLICE per piece along ``d`` (none if a piece is all of ``x``)."""
    out, start = [], 0
    for length in lengths:
        if start == 0 and length == x.shape[d]:
            out.append(x)
        else:
            starts = [0] * x.ndim
            starts[d] = start
            spec = [length if i == d else Dim(x, i) for i in range(x.ndim)]
            out.append(slice_layer(x, starts, spec, [1] * x.ndim, op="split"))
        start += length
    return tuple(out)


def split(x, split_size_or_sections, dim=0):
    """torch.split: an int is a piece size (the last piece may be smaller), a list the sizes."""
    d = normalize_dim(dim, x.ndim)
    n = x.shape[d]
    if isinstance(split_size_or_sections, int):
        if n < 0:
            raise NotImplementedError("split by size on a dynamic dim is not supported")
        size = split_size_or_sections
        lengths = [min(size, n - s) for s in range(0, n, size)] if size > 0 else [n]
        lengths = lengths or [0]
    else:
        lengths = [int(s) for s in split_size_or_sections]
        if n >= 0 and sum(lengths) != n:
            raise ValueError(f"split sizes {lengths} do not sum to dim size {n}")
    return _pieces(x, d, lengths)


def chunk(x, chunks, dim=0):
    """torch.chunk: pieces of ceil(n / chunks); fewer than ``chunks`` pieces when n is small."""
    d = normalize_dim(dim, x.ndim)
    n = x.shape[d]
    if n < 0:
        raise NotImplementedError("chunk on a dynamic dim is not supported")
    return split(x, max(-(-n // chunks), 1) if n else 1, d)
