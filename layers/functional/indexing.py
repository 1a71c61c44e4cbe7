"""Indexing: ``x[...]``, select/narrow/slice, gather, index_select, embedding, masked_fill,
tril / triu, and the writes torch.export turns ``x[...] = v`` into (slice/select_scatter,
index_put, copy).

``x[...]`` with ints, slices, None and Ellipsis is one SLICE for all axes plus, when dims are
dropped or added, one SHUFFLE; a single integer-tensor (or list) index adds one GATHER.
"""

import builtins

import numpy as np

from .. import dtypes
from ..backend import trt
from ..tensor import Tensor
from ._common import (
    cast,
    constant,
    gather_layer,
    index_tensor,
    network,
    normalize_dim,
    output,
    prepend_ones,
    scalar,
)
from ._params import tensor_of
from .constant import arange, full_like
from .elementwise import add, eq, gt, lt, mul, ne, select_layer, sub
from .shape import (
    Dim,
    append_ones,
    expand,
    expand_as,
    flatten,
    permute,
    reshape_to,
    resolve,
    size,
    slice_layer,
    squeeze,
    unsqueeze,
)
from .join import cat, stack
from .reduce import ValuesIndices, cumsum, topk
from .reduce import sum as reduce_sum

__all__ = [
    "unbind",
    "kthvalue",
    "fill",
    "getitem",
    "select",
    "narrow",
    "slice_tensor",
    "gather",
    "index_select",
    "take_along_dim",
    "embedding",
    "masked_fill",
    "masked_scatter",
    "index",
    "slice_scatter",
    "select_scatter",
    "index_put",
    "index_add",
    "index_copy",
    "index_fill",
    "take",
    "copy",
    "diff",
    "tril",
    "triu",
]

_FULL = builtins.slice(None)


# --------------------------------------------------------------------------- x[index]


def _expand_ellipsis(index, ndim):
    """``index`` as a list without Ellipsis (``...`` or the end become as many ``:`` as needed)."""
    index = index if isinstance(index, tuple) else (index,)
    ellipses = sum(1 for i in index if i is Ellipsis)
    if ellipses > 1:
        raise IndexError("an index can only have a single ellipsis ('...')")
    consumed = sum(1 for i in index if i is not None and i is not Ellipsis)
    if consumed > ndim:
        raise IndexError(f"too many indices for a tensor of rank {ndim}")
    fill = [_FULL] * (ndim - consumed)
    if not ellipses:
        return list(index) + fill
    out = []
    for i in index:
        out.extend(fill if i is Ellipsis else [i])
    return out


def _static_slice(s, n):
    """(start, size, stride) of Python slice ``s`` over a static dim of size ``n``."""
    start, stop, step = s.indices(n)
    if step <= 0:
        raise ValueError("step must be greater than zero")
    return start, len(range(start, stop, step)), step


# torch.export writes ``x[a:]`` as slice(a, 2**63 - 1): any stop this large means "to the end"
_TO_THE_END = 2**62


def _runtime_bound_slice(s):
    """(start, size, stride) of ``x[a:b]`` where ``b`` is a run-time size (``x.size(1)``)."""
    start = s.start or 0
    if (s.step or 1) != 1 or not isinstance(start, int) or start < 0:
        raise NotImplementedError(f"{s}: a run-time stop needs a non-negative int start and step 1")
    return start, (s.stop if start == 0 else s.stop - start), 1


def _dynamic_slice(s, x, dim):
    """(start, size, stride) over a dynamic dim; a negative start relies on WRAP sampling."""
    if (s.step or 1) != 1:
        raise NotImplementedError("a step other than 1 on a dynamic dim is not supported")
    start, stop = s.start or 0, s.stop
    if stop is None or stop >= _TO_THE_END:
        return start, (-start if start < 0 else Dim(x, dim, -start)), 1
    if start >= 0 > stop:
        return start, Dim(x, dim, stop - start), 1
    if (start < 0) == (stop < 0):
        return start, max(stop - start, 0), 1
    raise NotImplementedError(f"{s} mixes a negative start with a positive stop on a dynamic dim")


def _whole(x, starts, sizes, strides):
    """True when the slice reads all of ``x`` (no layer needed)."""
    for i, (start, extent, stride) in enumerate(zip(starts, sizes, strides)):
        full = (
            extent == x.shape[i]
            if isinstance(extent, int)
            else (
                isinstance(extent, Dim)
                and extent.tensor is x
                and extent.index == i
                and not extent.offset
            )
        )
        if start != 0 or stride != 1 or not full:
            return False
    return True


def _isindex_tensor(item):
    return isinstance(item, (Tensor, list, np.ndarray))


def getitem(x, index):
    """torch's ``x[index]``: ints (negative too), slices, None, Ellipsis, one integer tensor."""
    items = _expand_ellipsis(index, x.ndim)
    starts, sizes, strides = [], [], []
    kept = []  # per output dim: ("in", input dim) or ("new",)
    advanced = None  # (input dim, index)
    wrap = False
    dim = 0
    for item in items:
        if item is None:
            kept.append(("new",))
            continue
        n = x.shape[dim]
        if isinstance(item, (bool, np.bool_)):
            raise NotImplementedError("boolean indices are not supported")
        if isinstance(item, (int, np.integer)):
            item = int(item)
            if n >= 0:
                if not -n <= item < n:
                    raise IndexError(f"index {item} is out of bounds for dim {dim} with size {n}")
                item %= n
            wrap |= item < 0
            starts.append(item), sizes.append(1), strides.append(1)
        elif isinstance(item, builtins.slice):
            if isinstance(item.stop, Tensor):
                start, size, stride = _runtime_bound_slice(item)
            elif n >= 0:
                start, size, stride = _static_slice(item, n)
            else:
                start, size, stride = _dynamic_slice(item, x, dim)
            wrap |= start < 0
            starts.append(start), sizes.append(size), strides.append(stride)
            kept.append(("in", dim))
        elif _isindex_tensor(item):
            if advanced is not None:
                raise NotImplementedError("only one tensor/list index per subscript is supported")
            advanced = (dim, item)
            starts.append(0), sizes.append(Dim(x, dim)), strides.append(1)
            kept.append(("in", dim))
        else:
            raise TypeError(f"unsupported index {item!r}")
        dim += 1

    sizes = resolve(sizes)
    y = x
    if not _whole(x, starts, sizes, strides):
        y = slice_layer(x, starts, sizes, strides, mode=trt.SampleMode.WRAP if wrap else None)
    if kept != [("in", i) for i in range(x.ndim)]:  # ints drop dims, None adds them
        y = reshape_to(y, [1 if k[0] == "new" else Dim(y, k[1]) for k in kept], "reshape")
    if advanced is not None:
        in_dim, idx = advanced
        out_dim = kept.index(("in", in_dim))
        y = gather_layer(y, out_dim, idx)  # in_dim was read whole: its size is x's
    return y


# --------------------------------------------------------------------------- named forms


def select(x, dim, index):
    """torch.select: drop ``dim`` at ``index`` (SLICE + SHUFFLE, or GATHER for a tensor index)."""
    d = normalize_dim(dim, x.ndim)
    if isinstance(index, Tensor):
        return gather_layer(x, d, index)
    return getitem(x, (_FULL,) * d + (index,))


def slice_tensor(x, dim=0, start=None, end=None, step=1):
    """aten ``slice.Tensor`` (what ``x[a:b:c]`` on one dim lowers to); out-of-range bounds clamp."""
    d = normalize_dim(dim, x.ndim)
    return getitem(x, (_FULL,) * d + (builtins.slice(start, end, step),))


def slice_scatter(x, src, dim=0, start=None, end=None, step=1):
    """aten ``slice_scatter``: ``x`` with ``x[start:end:step]`` along ``dim`` replaced by ``src``.

    What functionalized in-place slice writes (``mask[a:b] = v``) become: a CONCATENATION of the
    parts kept and ``src`` for step 1, else a GATHER spreading ``src`` and a SELECT.
    """

    d = normalize_dim(dim, x.ndim)
    n = x.shape[d]
    src = cast(src, x.dtype)
    if n < 0:
        return _dynamic_slice_scatter(x, src, d, start, end, step)
    lo, hi, step = builtins.slice(start, end, step).indices(n)
    if step <= 0:
        raise ValueError("slice_scatter: step must be greater than zero")
    if step != 1:
        return _strided_scatter(x, src, d, range(lo, hi, step))
    hi = max(hi, lo)
    parts = [
        p
        for p, size in (
            (slice_tensor(x, d, 0, lo), lo),
            (src, hi - lo),
            (slice_tensor(x, d, hi, n), n - hi),
        )
        if size > 0
    ]
    if not parts:  # x has no entries along d
        return x
    return parts[0] if len(parts) == 1 else cat(parts, d)


def _dynamic_slice_scatter(x, src, d, start, end, step):
    """slice_scatter along a run-time sized dim: the parts before and after the slice, around
    ``src`` (whose size torch already checked is the slice's)."""

    if (step or 1) != 1:
        raise NotImplementedError("slice_scatter with a step along a dynamic dim")
    start = start or 0
    to_the_end = end is None or end >= _TO_THE_END
    parts = [slice_tensor(x, d, 0, start)] if start != 0 else []
    parts.append(src)
    if not to_the_end:
        parts.append(slice_tensor(x, d, end, None))
    return parts[0] if len(parts) == 1 else cat(parts, d)


def _strided_scatter(x, src, d, positions):
    """``x`` with the entries of dim ``d`` at ``positions`` taken from ``src`` in order: a
    constant GATHER spreads ``src`` over the whole dim, a SELECT keeps ``x`` elsewhere."""
    n = x.shape[d]
    if not positions:
        return x
    source = np.zeros(n, np.int64)
    source[list(positions)] = np.arange(len(positions))
    written = np.zeros([n if i == d else 1 for i in range(x.ndim)], np.bool_)
    written.reshape(-1)[list(positions)] = True
    return select_layer(constant(written), gather_layer(src, d, source), x, "slice_scatter")


def select_scatter(input, src, dim, index):
    """aten ``select_scatter``: ``input`` with ``input.select(dim, index)`` replaced by ``src``
    (what ``x[:, 0] = v`` becomes once torch.export functionalizes it)."""
    d = normalize_dim(dim, input.ndim)
    n = input.shape[d]
    if n >= 0:
        if not -n <= index < n:
            raise IndexError(f"select_scatter: index {index} is out of range for size {n}")
        index %= n
    end = None if index == -1 else index + 1
    return slice_scatter(input, unsqueeze(src, d), d, index, end)


def copy(input, src, non_blocking=False):
    """aten ``copy`` / ``x.copy_(src)``: ``src`` broadcast to ``input``'s shape, in its dtype."""
    if not isinstance(src, Tensor):
        return full_like(input, src)
    return expand_as(cast(src, input.dtype), input)


def fill(x, value):
    """aten ``fill``: a tensor shaped like ``x`` holding ``value`` (a number or 0-d tensor)."""
    if not isinstance(value, Tensor):
        return full_like(x, value)
    return copy(x, value)  # in x's dtype, as torch casts the value


def _is_mask(index):
    if isinstance(index, Tensor):
        return index.dtype == dtypes.bool
    return np.asarray(index).dtype == np.bool_


def index_put(input, indices, values, accumulate=False):
    """aten ``index_put`` / ``x.index_put_``: ``x[indices] = values`` (``+=`` with
    ``accumulate``), for one index: a boolean mask (a SELECT), or an integer index along one
    dim (a SCATTER; a one-hot sum when accumulating, so repeated indices add up); or for
    integer indices (one ScatterND; accumulating, the one-hot sum over their linear index)."""
    positions = [i for i, t in enumerate(indices) if t is not None]
    if not positions:
        raise ValueError("index_put needs at least one index tensor")
    d = positions[0]
    if isinstance(values, Tensor):
        values = cast(values, input.dtype)
    else:
        values = scalar(values, input.dtype)
    if len(positions) > 1:
        return _scattered_nd_put(input, positions, indices, values, accumulate)
    if _is_mask(indices[d]):
        return _masked_put(input, d, indices[d], values, accumulate)
    return _scattered_put(input, d, indices[d], values, accumulate)


def _scattered_nd_put(input, positions, indices, values, accumulate):
    """``x[:, i, j] = values`` with integer indices at adjacent dims: one ScatterND over the
    input with the indexed dims moved to the front."""

    d, k = positions[0], len(positions)
    if any(_is_mask(indices[p]) for p in positions):
        raise NotImplementedError("index_put with several index tensors needs integer indices")
    if positions != list(range(d, d + k)):
        return _separated_put(input, positions, indices, values, accumulate)
    index = [_wrapped_index(input, p, indices[p]) for p in positions]
    if accumulate:
        return _accumulated_nd_put(input, d, index, values)
    common = _broadcast_dims(index)
    index = stack([expand(i, common) for i in index], -1)  # (*B, k)
    lead, rest = list(range(d)), list(range(d + k, input.ndim))
    # values as torch lays them out (lead, *B, rest), then B first to match the data
    values = expand(values, _dims(input, lead) + common + _dims(input, rest))
    b = list(range(d, d + len(common)))
    values = permute(values, b + lead + list(range(b[-1] + 1 if b else d, values.ndim)))
    data = permute(input, list(range(d, d + k)) + lead + rest)
    layer = network().add_scatter(data.trt, index.trt, values.trt, trt.ScatterMode.ND)
    back = np.argsort(list(range(d, d + k)) + lead + rest).tolist()
    return permute(output(layer, "index_put"), back)


def _separated_put(input, positions, indices, values, accumulate):
    """Index tensors at non-adjacent dims: torch lays the values out with the broadcast index
    dims first, then the other dims in order; so does the input with the indexed dims moved to
    the front, where they are adjacent."""
    rest = [i for i in range(input.ndim) if i not in positions]
    moved = permute(input, positions + rest)
    put = index_put(moved, [indices[p] for p in positions], values, accumulate)
    return permute(put, np.argsort(positions + rest).tolist())


def _accumulated_nd_put(input, d, index, values):
    """``x[:, i, j] += values`` with repeated (i, j) pairs adding up: the indexed dims become
    one dim of their product, addressed by the linear index ``i * n_j + j``, and the one-hot
    sum of the single-index put does the rest."""
    sizes = [input.shape[d + j] for j in range(len(index))]
    if any(n < 0 for n in sizes):
        raise NotImplementedError("index_put(accumulate=True) over several dynamic dims")
    linear = None
    for n, i in zip(sizes, index):
        linear = i if linear is None else add(mul(linear, n), i)
    total = int(np.prod(sizes))
    after = d + len(sizes)
    flat = reshape_to(
        input, _dims(input, range(d)) + [total] + _dims(input, range(after, input.ndim))
    )
    put = _scattered_put(flat, d, linear, values, accumulate=True)
    return reshape_to(put, _dims(put, range(d)) + sizes + _dims(put, range(d + 1, put.ndim)))


def _wrapped_index(input, d, index):
    """An integer index along dim ``d`` as an int64 tensor whose negatives have wrapped."""
    n = input.shape[d]
    runtime = isinstance(index, Tensor)
    index = cast(index_tensor(index, n), dtypes.int64)
    if runtime and n >= 0:  # run-time negatives wrap, as in torch
        index = add(index, mul(cast(lt(index, 0), dtypes.int64), n))
    return index


def _broadcast_dims(tensors):
    """The dims the tensors broadcast to (each from a tensor whose dim is not 1)."""
    rank = builtins.max(t.ndim for t in tensors)
    tensors = [prepend_ones(t, rank) for t in tensors]
    dims = []
    for i in range(rank):
        wide = [t for t in tensors if t.shape[i] != 1]
        dims.append(Dim(wide[0], i) if wide else 1)
    return dims


def _masked_put(input, d, mask, values, accumulate):
    """``x[..., mask] = values`` with one value for every masked element (broadcast)."""
    mask = mask if isinstance(mask, Tensor) else constant(np.asarray(mask))
    rest = input.ndim - d - mask.ndim  # dims after the masked ones
    if values.ndim > rest:
        lead = values.ndim - rest  # values of shape (count, *rest)
        if any(n != 1 for n in values.shape[:lead]):
            raise NotImplementedError(
                "index_put with a mask and one value per masked element (a data-dependent count)"
            )
        values = reshape_to(values, [Dim(values, i) for i in range(lead, values.ndim)])
    mask = append_ones(mask, mask.ndim + rest)  # the SELECT broadcasts it over the later dims
    if not accumulate:
        return select_layer(mask, values, input, "index_put")
    zero = scalar(0, input.dtype, input.ndim)
    return add(input, select_layer(mask, values, zero, "index_put"))


def _scattered_put(input, d, index, values, accumulate):
    """``x[:, ..., index] = values`` with an integer index along dim ``d``."""

    index = _wrapped_index(input, d, index)
    # values broadcast to x's shape with the index's dims in place of dim d
    target = _dims(input, range(d)) + _dims(index, range(index.ndim))
    values = expand(values, target + _dims(input, range(d + 1, input.ndim)))
    if index.ndim != 1:  # one index dim, as the ELEMENT scatter and the one-hot sum want
        values = unsqueeze(values, d) if index.ndim == 0 else flatten(values, d, d + index.ndim - 1)
        index = reshape_to(index, [-1])
    after = [1] * (input.ndim - d - 1)
    if accumulate:
        positions = arange(size(input, d), dtype=dtypes.int64)
        hot = eq(unsqueeze(index, 1), unsqueeze(positions, 0))  # (k, n)
        hot = reshape_to(hot, [1] * d + [Dim(hot, 0), Dim(hot, 1)] + after)
        zero = scalar(0, input.dtype, input.ndim + 1)
        spread = select_layer(hot, unsqueeze(values, d + 1), zero, "index_put")
        return add(input, reduce_sum(spread, d))
    index = reshape_to(index, [1] * d + [Dim(index, 0)] + after)
    index = expand(index, _dims(values, range(values.ndim)))
    layer = network().add_scatter(input.trt, index.trt, values.trt, trt.ScatterMode.ELEMENT)
    layer.axis = d
    return output(layer, "index_put")


def _dims(x, indices):
    return [Dim(x, i) for i in indices]


def _along(input, dim, index, values, accumulate):
    """``input`` with the entries of ``dim`` at ``index`` (1-D or 0-d) written (``accumulate``:
    added, repeats adding up) from ``values``, laid out like ``input`` with ``dim`` indexed."""
    d = normalize_dim(dim, input.ndim)
    if not isinstance(values, Tensor):
        values = scalar(values, input.dtype)
    return _scattered_put(input, d, index, cast(values, input.dtype), accumulate)


def index_add(input, dim, index, source, *, alpha=1):
    """torch.index_add: ``input`` plus ``alpha * source`` along ``dim`` at ``index`` (repeated
    indices add up)."""
    return _along(input, dim, index, source if alpha == 1 else mul(source, alpha), True)


def index_copy(input, dim, index, source):
    """torch.index_copy: the entries of ``dim`` at ``index`` replaced by ``source``'s."""
    return _along(input, dim, index, source, False)


def index_fill(input, dim, index, value):
    """torch.index_fill: the entries of ``dim`` at ``index`` set to ``value``."""
    return _along(input, dim, index, value, False)


def take(input, index):
    """torch.take: ``input`` read as a flat vector at ``index`` (negatives count from the end);
    the result has ``index``'s shape."""
    flat = reshape_to(input, [-1])
    return gather_layer(flat, 0, _wrapped_index(flat, 0, index), "take")


def diff(input, n=1, dim=-1, prepend=None, append=None):
    """torch.diff: ``x[1:] - x[:-1]`` along ``dim``, ``n`` times, after joining ``prepend`` and
    ``append``; bool tensors compare (``!=``) instead."""

    d = normalize_dim(dim, input.ndim)
    parts = [tensor_of(p) for p in (prepend, input, append) if p is not None]
    x = cat(parts, d) if len(parts) > 1 else input
    for _ in range(n):
        later, earlier = slice_tensor(x, d, 1, None), slice_tensor(x, d, 0, -1)
        x = ne(later, earlier) if x.dtype == dtypes.bool else sub(later, earlier)
    return x


def narrow(x, dim, start, length):
    d = normalize_dim(dim, x.ndim)
    n = x.shape[d]
    if n >= 0:
        start = start + n if start < 0 else start
        if not 0 <= start <= n or start + length > n:
            raise IndexError(f"narrow: start {start} + length {length} exceeds dim size {n}")
    return getitem(x, (_FULL,) * d + (builtins.slice(start, start + length),))


def index_select(x, dim, index):
    """torch.index_select: GATHER (DEFAULT mode) along ``dim`` with a 1-D index."""
    return gather_layer(x, normalize_dim(dim, x.ndim), index)


def gather(x, dim, index, sparse_grad=False):
    """torch.gather: GATHER in ELEMENT mode (output shape = index shape)."""
    d = normalize_dim(dim, x.ndim)
    index = index_tensor(index, x.shape[d])
    if index.ndim != x.ndim:
        raise ValueError("gather: index must have the same number of dims as input")
    # torch lets index be smaller than x on the other dims: cut x to match.
    cut = [n if i == d else m for i, (n, m) in enumerate(zip(x.shape, index.shape))]
    if cut != list(x.shape) and min(cut) >= 0 and min(x.shape) >= 0:
        x = slice_layer(x, [0] * x.ndim, cut, [1] * x.ndim)
    layer = network().add_gather_v2(x.trt, index.trt, trt.GatherMode.ELEMENT)
    layer.axis = d
    return output(layer, "gather")


def take_along_dim(x, indices, dim):
    """torch.take_along_dim with a ``dim``: x and indices broadcast off ``dim``, then ELEMENT gather."""
    d = normalize_dim(dim, x.ndim)
    indices = index_tensor(indices, x.shape[d])
    if x.ndim != indices.ndim:
        raise ValueError(
            "take_along_dim: input and indices should have the same number of dimensions"
        )
    shape = [max(a, b) for a, b in zip(x.shape, indices.shape)]
    x = expand(x, [-1 if i == d else n for i, n in enumerate(shape)])
    indices = expand(indices, [-1 if i == d else n for i, n in enumerate(shape)])
    return gather(x, d, indices)


def embedding(
    input,
    weight,
    padding_idx=None,
    max_norm=None,
    norm_type=2.0,
    scale_grad_by_freq=False,
    sparse=False,
):
    """F.embedding: rows of ``weight`` picked by ``input`` (one GATHER on axis 0).

    ``padding_idx`` only matters for training; ``max_norm`` renormalizes weights in place in
    torch, which a static network cannot do.
    """
    if max_norm is not None:
        raise NotImplementedError("embedding(max_norm=...) is not supported")
    return gather_layer(tensor_of(weight), 0, input)


def masked_fill(x, mask, value):
    """torch.masked_fill: SELECT(mask, value, x), broadcasting ``mask`` to ``x``."""
    if isinstance(value, Tensor):
        value = cast(value, x.dtype)
    else:
        value = scalar(value, x.dtype, x.ndim)
    return select_layer(cast(mask, dtypes.bool), value, x, "masked_fill")


def masked_scatter(input, mask, source):
    """torch.masked_scatter: where ``mask`` (broadcast to ``input``) is True, the next entries
    of ``source`` in row-major order. The shape is static: the k-th True position reads
    ``source.flatten()[k]``, k a running count of the mask (one CUMULATIVE), one GATHER and
    one SELECT."""

    dims = [Dim(input, i) for i in range(input.ndim)]
    hits = reshape_to(expand(cast(mask, dtypes.bool), dims), [-1])
    order = sub(cumsum(cast(hits, dtypes.int64), 0), 1)  # k of the k-th True position
    order = select_layer(hits, order, scalar(0, dtypes.int64, 1), "masked_scatter")
    picked = gather_layer(reshape_to(cast(source, input.dtype), [-1]), 0, order, "masked_scatter")
    flat = reshape_to(input, [-1])
    return reshape_to(select_layer(hits, picked, flat, "masked_scatter"), dims)


def tensor_unfold(input, dimension, size, step):
    """``Tensor.unfold`` (not F.unfold): windows of ``size`` every ``step`` along ``dimension``,
    which now counts the windows; the window is a new last dim. One GATHER with a constant
    (windows, size) index, and one SHUFFLE moving the window last. ``dimension`` must be static.
    """
    x = input
    if x.ndim == 0:  # torch: a 0-d tensor has one window of size 1
        return reshape_to(x, [1], "unsqueeze")
    d = normalize_dim(dimension, x.ndim)
    n = x.shape[d]
    if n < 0:
        raise NotImplementedError("Tensor.unfold along a dynamic dim")
    if size > n or step <= 0:
        raise ValueError(f"unfold: size {size} > dim size {n}, or step {step} is not positive")
    count = (n - size) // step + 1
    index = np.arange(count)[:, None] * step + np.arange(size)[None, :]
    windows = gather_layer(x, d, index, "unfold")
    order = [i for i in range(windows.ndim) if i != d + 1] + [d + 1]
    return permute(windows, order)


# --------------------------------------------------------------------------- triangles


def _positions(x, dim, offset):
    """Indices along ``dim`` of ``x`` plus ``offset``, shaped to broadcast against ``x``: a
    constant for a static dim, a FILL (arange of the run-time size) for a dynamic one."""
    n = x.shape[dim]
    shape = [1] * x.ndim
    shape[dim] = n
    if n >= 0:
        return constant(np.arange(offset, offset + n, dtype=np.int64).reshape(shape))
    positions = arange(size(x, dim))
    if offset:
        positions = add(positions, offset)
    return reshape_to(positions, [Dim(positions, 0) if i == dim else 1 for i in range(x.ndim)])


def _triangle(input, diagonal, upper, op):
    """Zero what lies below (``upper``) or above the ``diagonal``-th diagonal of the last two
    dims: row and column ranges compared (one ELEMENTWISE), then one SELECT."""
    x = input
    if x.ndim < 2:
        raise ValueError(f"{op}: input needs at least 2 dims, got {x.ndim}")
    rows = _positions(x, x.ndim - 2, int(diagonal))  # column index of each row's diagonal
    columns = _positions(x, x.ndim - 1, 0)
    outside = lt(columns, rows) if upper else gt(columns, rows)
    return select_layer(outside, scalar(0, x.dtype, x.ndim), x, op)


def tril(input, diagonal=0):
    """torch.tril: keep the ``diagonal``-th diagonal and what lies below it, zero the rest."""
    return _triangle(input, diagonal, False, "tril")


def triu(input, diagonal=0):
    """torch.triu: keep the ``diagonal``-th diagonal and what lies above it, zero the rest."""
    return _triangle(input, diagonal, True, "triu")


# --------------------------------------------------------------------------- advanced indexing


def _broadcast_dim(tensors, d):
    """Size of dim ``d`` when ``tensors`` broadcast: the run-time size where one is dynamic."""
    dynamic = [t for t in tensors if t.shape[d] < 0]
    return Dim(dynamic[0], d) if dynamic else max(t.shape[d] for t in tensors)


def index(x, indices):
    """``aten.index``: ``x[i0, i1, ...]`` with integer tensors (None keeps a dim), as one GATHER ND.

    The index tensors broadcast together to a shape S; S takes the place of the indexed dims,
    which must be consecutive (torch moves S to the front otherwise: not supported).
    """

    positions = [i for i, t in enumerate(indices) if t is not None]
    if not positions:
        return x
    if positions != list(range(positions[0], positions[-1] + 1)):
        raise NotImplementedError("index tensors separated by a full slice are not supported")
    first, count = positions[0], len(positions)
    tensors = [index_tensor(indices[i], x.shape[i]) for i in positions]
    rank = max(t.ndim for t in tensors)
    tensors = [prepend_ones(cast(t, dtypes.int64), rank) for t in tensors]
    shape = [_broadcast_dim(tensors, d) for d in range(rank)]
    coords = []
    for dim, t in zip(positions, tensors):
        if any(n == 1 and s != 1 for n, s in zip(t.shape, shape)):  # s may be a run-time Dim
            t = expand(t, shape)
        if x.shape[dim] >= 0 and isinstance(indices[dim], Tensor):  # run-time negatives wrap
            t = add(t, mul(cast(lt(t, 0), dtypes.int64), x.shape[dim]))
        coords.append(unsqueeze(t, -1))
    coordinates = coords[0] if count == 1 else cat(coords, dim=-1)
    rest = [d for d in range(x.ndim) if d not in positions]
    moved = permute(x, positions + rest)
    layer = network().add_gather_v2(moved.trt, coordinates.trt, trt.GatherMode.ND)
    layer.num_elementwise_dims = 0
    gathered = output(layer, "index")
    # (S, before, after) -> (before, S, after)
    before = list(range(rank, rank + first))
    order = before + list(range(rank)) + list(range(rank + first, gathered.ndim))
    return permute(gathered, order)


def unbind(x, dim=0):
    """torch.unbind: one select (SLICE + SHUFFLE) per index."""
    d = normalize_dim(dim, x.ndim)
    if x.shape[d] < 0:
        raise NotImplementedError("unbind on a dynamic dim is not supported")
    return tuple(select(x, d, i) for i in range(x.shape[d]))


def kthvalue(input, k, dim=-1, keepdim=False):
    """torch.kthvalue: (values, indices) of the k-th smallest along ``dim``: the last of the
    ``k`` smallest (one TOPK MIN, one SLICE each)."""
    dim = normalize_dim(dim, input.ndim)
    smallest = topk(input, k, dim, largest=False)
    picked = [narrow(t, dim, int(k) - 1, 1) for t in smallest]
    if not keepdim:
        picked = [squeeze(t, dim) for t in picked]
    return ValuesIndices(*picked)
