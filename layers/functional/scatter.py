"""Scatter along one dim: ``scatter`` / ``scatter_`` (src tensor or a value), ``scatter_add``,
``scatter_reduce`` (sum, prod, mean, amax, amin; ``include_self`` True or False).

A plain scatter is one SCATTER (ELEMENT mode): like torch, a position written twice keeps one of
the writes. TensorRT's scatter has no reduction, so the reducing forms compare every index with
every position of ``dim`` (a one-hot of shape ``index`` with the positions inserted after
``dim``), pick the sources that land on each position (SELECT, the reduction's identity
elsewhere) and reduce over the index's ``dim``: duplicate indices combine exactly as in torch.
"""

import numpy as np

from .. import dtypes
from ..backend import trt
from ..tensor import Tensor
from ._common import cast, constant, network, normalize_dim, output, scalar
from .constant import arange
from .elementwise import add, div, eq, floor_divide, gt, maximum, minimum, mul, select_layer
from .indexing import slice_scatter
from .shape import Dim, expand, reshape_to, size, slice_layer

__all__ = ["scatter", "scatter_add", "scatter_reduce"]

_REDUCE = trt.ReduceOperation


def _cut(x, shape, what):
    """``x`` cut to ``shape`` (index shapes may be smaller than the tensors they address)."""
    if list(x.shape) == list(shape):
        return x
    if min(shape) < 0 or min(x.shape) < 0:
        raise NotImplementedError(
            f"{what}: an index smaller than the tensor on a dynamic dim is not supported"
        )
    if any(s > n for s, n in zip(shape, x.shape)):
        raise ValueError(f"{what}: index shape {list(shape)} is larger than {list(x.shape)}")
    return slice_layer(x, [0] * x.ndim, list(shape), [1] * x.ndim, op="slice")


def _source(input, index, src, value, what):
    """The values written, one per index entry, in input's dtype."""
    if src is None and value is None:
        raise TypeError(f"{what}: needs src or value")
    source = src if src is not None else value
    if isinstance(source, Tensor):
        return _cut(cast(source, input.dtype), index.shape, what)
    return expand(
        scalar(source, input.dtype, index.ndim), [Dim(index, i) for i in range(index.ndim)]
    )


def _index(index):
    if not isinstance(index, Tensor):
        index = constant(np.asarray(index, dtype=np.int64))
    return index if index.dtype in (dtypes.int32, dtypes.int64) else cast(index, dtypes.int64)


def scatter(input, dim, index, src=None, value=None, *, reduce=None):
    """torch.scatter / ``x.scatter_``: ``out[..., index[p], ...] = src[p]`` along ``dim`` (or a
    number ``value``). ``reduce="add"`` / ``"multiply"`` is scatter_reduce's sum / prod."""
    if src is not None and not isinstance(src, Tensor) and value is None:
        src, value = None, src  # torch.scatter(x, dim, index, 1.5)
    index = _index(index)
    d = normalize_dim(dim, input.ndim)
    if input.ndim != index.ndim:
        raise ValueError("scatter: index must have as many dims as the input")
    updates = _source(input, index, src, value, "scatter")
    if reduce is not None:
        ops = {"add": "sum", "multiply": "prod"}
        if reduce not in ops:
            raise ValueError(f"scatter: reduce must be 'add' or 'multiply', got {reduce!r}")
        return _reduced(input, d, index, updates, ops[reduce], True)
    layer = network().add_scatter(input.trt, index.trt, updates.trt, trt.ScatterMode.ELEMENT)
    layer.axis = d
    return output(layer, "scatter")


def scatter_add(input, dim, index, src):
    """torch.scatter_add: sources landing on the same position add up."""
    return scatter_reduce(input, dim, index, src, "sum")


def scatter_reduce(input, dim, index, src, reduce, *, include_self=True):
    """torch.scatter_reduce: ``reduce`` ("sum", "prod", "mean", "amax", "amin") over the sources
    landing on each position, and over the input's own value there when ``include_self``;
    positions no index hits keep the input."""
    if reduce not in _IDENTITY:
        raise ValueError(f"scatter_reduce: unknown reduce {reduce!r}")
    index = _index(index)
    d = normalize_dim(dim, input.ndim)
    if input.ndim != index.ndim:
        raise ValueError("scatter_reduce: index must have as many dims as the input")
    updates = _source(input, index, src, None, "scatter_reduce")
    return _reduced(input, d, index, updates, reduce, include_self)


def _identity(reduce, dtype):
    if reduce in ("amax", "amin"):
        if dtypes.is_floating(dtype):
            return float("-inf") if reduce == "amax" else float("inf")
        info = np.iinfo(dtypes.to_numpy(dtype))
        return int(info.min) if reduce == "amax" else int(info.max)
    return _IDENTITY[reduce]


_IDENTITY = {"sum": 0, "prod": 1, "mean": 0, "amax": None, "amin": None}
_AXIS_REDUCE = {
    "sum": _REDUCE.SUM,
    "mean": _REDUCE.SUM,
    "prod": _REDUCE.PROD,
    "amax": _REDUCE.MAX,
    "amin": _REDUCE.MIN,
}
_COMBINE = {"sum": add, "mean": add, "prod": mul, "amax": maximum, "amin": minimum}


def _hits(input, d, index):
    """bool ``(*index.shape[:d+1], n, *index.shape[d+1:])``: does index entry k (along ``d``)
    point at position j of ``input``'s dim ``d``."""
    n = input.shape[d]
    positions = arange(n if n >= 0 else size(input, d), dtype=dtypes.int64)
    positions = reshape_to(
        positions, [1] * (d + 1) + [Dim(positions, 0)] + [1] * (index.ndim - d - 1)
    )
    spread = reshape_to(
        index,
        [Dim(index, i) for i in range(d + 1)]
        + [1]
        + [Dim(index, i) for i in range(d + 1, index.ndim)],
    )
    if n >= 0:  # torch requires 0 <= index < n; a negative one counts from the end here
        spread = add(spread, mul(cast(gt(0, spread), spread.dtype), n))
    return eq(cast(spread, dtypes.int64), positions)


def _reduce_axis(x, axis, operation):
    layer = network().add_reduce(x.trt, operation, 1 << axis, False)
    return output(layer, "scatter_reduce")


def _reduced(input, d, index, updates, reduce, include_self):
    """The one-hot scatter-reduce over the region the index covers."""
    region_shape = [n if i == d else index.shape[i] for i, n in enumerate(input.shape)]
    region = _cut(input, region_shape, "scatter_reduce")
    hits = _hits(input, d, index)  # (.., k, n, ..)
    dtype = input.dtype
    filler = scalar(_identity(reduce, dtype), dtype, hits.ndim)
    picked = select_layer(hits, _unsqueeze_after(updates, d), filler, "scatter_reduce")
    gathered = _reduce_axis(picked, d, _AXIS_REDUCE[reduce])  # region's shape
    count = _reduce_axis(cast(hits, dtypes.int32), d, _REDUCE.SUM)
    landed = gt(count, 0)
    if include_self:
        result = _COMBINE[reduce](region, gathered)
    else:
        result = gathered
    if reduce == "mean":
        total = add(count, 1) if include_self else maximum(count, 1)
        total = cast(total, dtype)
        result = div(result, total) if dtypes.is_floating(dtype) else floor_divide(result, total)
    result = select_layer(landed, result, region, "scatter_reduce")
    return _put_back(input, result, region_shape)


def _unsqueeze_after(x, d):
    return reshape_to(
        x, [Dim(x, i) for i in range(d + 1)] + [1] + [Dim(x, i) for i in range(d + 1, x.ndim)]
    )


def _put_back(input, region, region_shape):
    """``input`` with its leading ``region_shape`` block replaced by ``region``."""
    if region_shape == list(input.shape):
        return region

    # dim by dim, widest block first: the region grows back to the input's shape
    out = region
    for axis in range(input.ndim):
        if region_shape[axis] == input.shape[axis]:
            continue
        spec = [input.shape[i] if i <= axis else region_shape[i] for i in range(input.ndim)]
        frame = _cut(input, spec, "scatter_reduce")
        out = slice_scatter(frame, out, axis, 0, region_shape[axis])
    return out
