"""Reductions (torch names and signatures): sum, mean, amax, amin, prod, max / min, argmax /
argmin, var / std, all / any, norm, logsumexp, and cumsum; topk / sort / argsort (TopK, like
max / min along a dim).

``dim`` may be an int, a tuple / list, or None (every dim); negative dims count from the end.
Integer and bool sums / products / cumsums accumulate in int64, as torch does.
"""

import builtins
import collections

import numpy as np

from .. import dtypes
from ..backend import trt
from ..precision import fp32_island
from ..tensor import Tensor
from ._common import (
    axes_mask,
    cast,
    constant,
    gather_layer,
    network,
    normalize_dim,
    normalize_dims,
    output,
    reduce,
    reduced_dims as _dims,
    shape_of,
)
from .elementwise import (
    add,
    div,
    lt,
    maximum,
    minimum,
    mul,
    pow,
    remainder,
    sub,
)  # noqa: A004 - torch names
from .shape import permute_to, reshape_to, squeeze, unsqueeze
from .unary import abs, exp, log, sqrt  # noqa: A004

_R = trt.ReduceOperation

# torch.max(x, dim) / torch.min(x, dim) return this pair (torch.return_types.max / min).
ValuesIndices = collections.namedtuple("ValuesIndices", ["values", "indices"])


def _accumulating(input, dtype):
    """torch accumulates integer and bool sums / products in int64; ``dtype=`` casts first."""
    if dtype is not None:
        return cast(input, dtype)
    return input if dtypes.is_floating(input.dtype) else cast(input, dtypes.int64)


@fp32_island("reduction")
def sum(input, dim=None, keepdim=False, *, dtype=None):  # noqa: A001
    return reduce(_accumulating(input, dtype), _R.SUM, dim, keepdim, "sum")


def prod(input, dim=None, keepdim=False, *, dtype=None):
    return reduce(_accumulating(input, dtype), _R.PROD, dim, keepdim, "prod")


@fp32_island("reduction")
def mean(input, dim=None, keepdim=False, *, dtype=None):
    if dtype is not None:
        input = cast(input, dtype)
    return reduce(input, _R.AVG, dim, keepdim, "mean")


def _extreme(input, operation, dim, keepdim, op_name):
    if input.dtype == dtypes.bool:  # REDUCE has no bool: go through int32
        return cast(
            _extreme(cast(input, dtypes.int32), operation, dim, keepdim, op_name), dtypes.bool
        )
    return reduce(input, operation, dim, keepdim, op_name)


def amax(input, dim=(), keepdim=False):
    return _extreme(input, _R.MAX, dim, keepdim, "amax")


def amin(input, dim=(), keepdim=False):
    return _extreme(input, _R.MIN, dim, keepdim, "amin")


def all(input, dim=None, keepdim=False):  # noqa: A001
    """True where every element is nonzero: MIN over the values read as 0 / 1."""
    return cast(amin(cast(cast(input, dtypes.bool), dtypes.int32), dim, keepdim), dtypes.bool)


def any(input, dim=None, keepdim=False):  # noqa: A001
    """True where some element is nonzero: MAX over the values read as 0 / 1."""
    return cast(amax(cast(cast(input, dtypes.bool), dtypes.int32), dim, keepdim), dtypes.bool)


# --------------------------------------------------------------------------- max / min / arg*


# TensorRT's TopK keeps at most this many elements (ITopKLayer docs: "K up to 3840")
MAX_TOPK_K = 3840


def _topk(input, operation, k, dim):
    """One TOPK keeping ``k`` along ``dim``: (values, int64 indices), ``dim`` now of size k.

    TensorRT's TopK wants at least 2 dims and reduces one of the last four: a 1-d input is
    viewed as (1, n), earlier dims go through a transpose.
    """
    ndim = input.ndim
    if ndim == 1:
        pair = _topk(unsqueeze(input, 0), operation, k, 1)
        return tuple(squeeze(t, 0) for t in pair)
    perm = None
    if ndim - dim > 4:
        perm = [d for d in range(ndim) if d != dim] + [dim]
        input = permute_to(input, perm, "transpose")
        dim = ndim - 1
    index_type = {"indices_type": dtypes.int64} if hasattr(trt.ITopKLayer, "indices_type") else {}
    layer = network().add_topk(input.trt, operation, k, 1 << dim, **index_type)
    values = output(layer, "topk")
    indices = cast(Tensor(layer.get_output(1)), dtypes.int64)
    if perm is not None:
        inverse = [perm.index(d) for d in range(ndim)]
        values = permute_to(values, inverse, "transpose")
        indices = permute_to(indices, inverse, "transpose")
    return values, indices


def _topk1(input, operation, dim):
    """TOPK with k=1 along ``dim``, ``dim`` kept with size 1."""
    return _topk(input, operation, 1, dim)


def _max_min(input, dim, keepdim, operation, reduce_op, elementwise_op):
    if isinstance(dim, Tensor):  # torch.max(a, b) is maximum(a, b)
        return elementwise_op(input, dim)
    if dim is None:
        return _extreme(input, reduce_op, None, False, "amax" if reduce_op == _R.MAX else "amin")
    dim = normalize_dim(dim, input.ndim)
    values, indices = _topk1(input, operation, dim)
    if not keepdim:
        values, indices = squeeze(values, dim), squeeze(indices, dim)
    return ValuesIndices(values, indices)


def max(input, dim=None, keepdim=False):  # noqa: A001
    """torch.max: the maximum (no dim), (values, indices) along ``dim``, or maximum(a, b)."""
    return _max_min(input, dim, keepdim, trt.TopKOperation.MAX, _R.MAX, maximum)


def min(input, dim=None, keepdim=False):  # noqa: A001
    """torch.min: the minimum (no dim), (values, indices) along ``dim``, or minimum(a, b)."""
    return _max_min(input, dim, keepdim, trt.TopKOperation.MIN, _R.MIN, minimum)


def _arg(input, dim, keepdim, operation):
    if dim is None:  # index into the flattened tensor
        ndim = input.ndim
        _, index = _topk1(reshape_to(input, [1, -1], "flatten"), operation, 1)
        return reshape_to(index, [1] * ndim if keepdim else [], "reshape")
    dim = normalize_dim(dim, input.ndim)
    _, index = _topk1(input, operation, dim)
    return index if keepdim else squeeze(index, dim)


def argmax(input, dim=None, keepdim=False):
    return _arg(input, dim, keepdim, trt.TopKOperation.MAX)


def argmin(input, dim=None, keepdim=False):
    return _arg(input, dim, keepdim, trt.TopKOperation.MIN)


# --------------------------------------------------------------------------- topk / sort


def _check_k(k, n, op):
    if n >= 0 and not 0 <= k <= n:
        raise ValueError(f"{op}: k={k} is out of range for a dim of size {n}")
    if k > MAX_TOPK_K:
        raise NotImplementedError(
            f"{op}: k={k} exceeds TensorRT's TopK limit of {MAX_TOPK_K} elements per axis"
        )


def topk(input, k, dim=-1, largest=True, sorted=True):  # noqa: A002 - torch name
    """torch.topk: (values, indices) of the ``k`` largest (or smallest) along ``dim``, as one
    TOPK layer (MAX or MIN) with int64 indices.

    TensorRT returns the values sorted, which ``sorted=False`` allows too. ``k`` must be a
    Python int (at most 3840, TensorRT's limit); among equal values the order is TensorRT's.
    """
    if isinstance(k, Tensor):
        raise NotImplementedError("topk: k must be a Python int, not a run-time value")
    dim = normalize_dim(dim, input.ndim)
    k = int(k)
    _check_k(k, input.shape[dim] if input.ndim else 1, "topk")
    if input.ndim == 0:  # torch allows k in (0, 1) on a 0-d tensor
        return ValuesIndices(input, constant(np.array(0, dtype=np.int64)))
    operation = trt.TopKOperation.MAX if largest else trt.TopKOperation.MIN
    return ValuesIndices(*_topk(input, operation, k, dim))


def sort(input, dim=-1, descending=False, stable=False):
    """torch.sort: (values, indices) along ``dim``, as one TOPK with k = the size of ``dim``.

    ``dim`` must be static and at most 3840 long (TensorRT's TopK limit). ``stable`` is
    accepted, but the order among equal values is TensorRT's.
    """
    if input.ndim == 0:
        return ValuesIndices(input, constant(np.array(0, dtype=np.int64)))
    dim = normalize_dim(dim, input.ndim)
    n = input.shape[dim]
    if n < 0:
        raise NotImplementedError(
            f"sort: dim {dim} has a dynamic size; TensorRT's TopK needs k, the sorted length, "
            "at build time"
        )
    _check_k(n, n, "sort")
    operation = trt.TopKOperation.MAX if descending else trt.TopKOperation.MIN
    return ValuesIndices(*_topk(input, operation, n, dim))


def argsort(input, dim=-1, descending=False, stable=False):
    """torch.argsort: the indices of ``sort`` (one TOPK, int64)."""
    return sort(input, dim, descending, stable).indices


def msort(input):
    """torch.msort: the values of ``sort`` along dim 0."""
    return sort(input, 0).values


# --------------------------------------------------------------------------- statistics


def _count(input, dims):
    """How many elements each reduction covers: an int, or a 0-d float tensor if dims are dynamic."""
    sizes = [input.shape[d] for d in dims]
    if builtins.all(s >= 0 for s in sizes):
        return int(np.prod(sizes, dtype=np.int64))
    picked = gather_layer(shape_of(input), 0, np.array(dims, dtype=np.int64))
    return cast(reduce(picked, _R.PROD, 0, False, "numel"), input.dtype)


def _correction(unbiased, correction):
    if correction is not None:
        return correction
    return 0 if unbiased is False else 1


@fp32_island("reduction")
def var(input, dim=None, unbiased=None, keepdim=False, *, correction=None):
    """torch.var: sum((x - mean)^2) / (N - correction); ``unbiased=False`` is correction 0.

    ``var(x, False)`` (the old ``unbiased`` positional form) is accepted too.
    """
    if isinstance(dim, bool):
        dim, unbiased = None, dim
    dims = _dims(dim, input.ndim)
    centered = sub(input, mean(input, dims, keepdim=True))
    squares = sum(mul(centered, centered), dims, keepdim)
    count = _count(input, dims)
    correction = _correction(unbiased, correction)
    if isinstance(count, int):
        return div(squares, float(builtins.max(count - correction, 0)))
    return div(squares, maximum(sub(count, float(correction)), 0.0))


@fp32_island("reduction")
def std(input, dim=None, unbiased=None, keepdim=False, *, correction=None):
    """torch.std: sqrt(var)."""
    return sqrt(var(input, dim, unbiased, keepdim, correction=correction))


@fp32_island("reduction")
def var_mean(input, dim=None, unbiased=None, keepdim=False, *, correction=None):
    return var(input, dim, unbiased, keepdim, correction=correction), mean(
        input, _dims(dim, input.ndim), keepdim
    )


@fp32_island("reduction")
def std_mean(input, dim=None, unbiased=None, keepdim=False, *, correction=None):
    return std(input, dim, unbiased, keepdim, correction=correction), mean(
        input, _dims(dim, input.ndim), keepdim
    )


@fp32_island("reduction")
def vector_norm(input, ord=2, dim=None, keepdim=False, *, dtype=None):  # noqa: A002 - torch name
    """torch.linalg.vector_norm: (sum |x|^ord)^(1/ord); inf / -inf are max / min |x|."""
    if dtype is not None:
        input = cast(input, dtype)
    if ord == 2:
        return sqrt(sum(mul(input, input), dim, keepdim))
    magnitude = abs(input)
    if ord == float("inf"):
        return amax(magnitude, _dims(dim, input.ndim), keepdim)
    if ord == float("-inf"):
        return amin(magnitude, _dims(dim, input.ndim), keepdim)
    if ord == 1:
        return sum(magnitude, dim, keepdim)
    if ord <= 0:
        raise NotImplementedError(
            f"vector_norm: ord={ord!r} is not supported (use inf, -inf or ord > 0)"
        )
    return pow(sum(pow(magnitude, float(ord)), dim, keepdim), 1.0 / ord)


@fp32_island("reduction")
def norm(input, p="fro", dim=None, keepdim=False, dtype=None):
    """torch.norm for vector norms ('fro' over any dims is the 2-norm of those elements)."""
    if p == "fro":
        p = 2
    if isinstance(p, str):
        raise NotImplementedError(f"norm: p={p!r} is not supported")
    return vector_norm(input, p, dim, keepdim, dtype=dtype)


@fp32_island("reduction")
def logsumexp(input, dim, keepdim=False):
    """max + log(sum(exp(x - max))): finite where exp(x) alone overflows."""
    dims = _dims(dim, input.ndim)
    peak = amax(input, dims, keepdim=True)
    total = log(sum(exp(sub(input, peak)), dims, keepdim))
    if not keepdim and dims:
        peak = squeeze(peak, dims)
    return add(total, peak)


@fp32_island("reduction")
def cumsum(input, dim, *, dtype=None):
    """One CUMULATIVE SUM layer along ``dim``."""
    input = _accumulating(input, dtype)
    axis = constant(np.array(normalize_dim(dim, input.ndim), dtype=np.int32))
    layer = network().add_cumulative(input.trt, axis.trt, trt.CumulativeOperation.SUM, False, False)
    return output(layer, "cumsum")


def cumprod(input, dim, *, dtype=None):
    """torch.cumprod of a float tensor. TensorRT accumulates sums only: the exp of the running
    sum of log|x|, signed by the parity of the running count of negatives (a zero stays zero
    from there on: log 0 = -inf)."""
    x = _accumulating(input, dtype)
    if not dtypes.is_floating(x.dtype):
        raise NotImplementedError(
            "cumprod of an integer tensor: TensorRT accumulates sums only, and the float route "
            "would not be exact"
        )
    magnitude = exp(cumsum(log(abs(x)), dim))
    negatives = cumsum(cast(lt(x, 0.0), x.dtype), dim)
    sign = sub(1.0, mul(remainder(negatives, 2.0), 2.0))
    return mul(magnitude, sign)


__all__ = [
    "cumprod",
    "sum",
    "prod",
    "mean",
    "amax",
    "amin",
    "all",
    "any",
    "max",
    "min",
    "argmax",
    "argmin",
    "topk",
    "msort",
    "sort",
    "argsort",
    "var",
    "std",
    "var_mean",
    "std_mean",
    "norm",
    "vector_norm",
    "logsumexp",
    "cumsum",
    "ValuesIndices",
]
