"""Shape ops: view/reshape, flatten, permute, squeeze/unsqueeze, expand, repeat, flip,
repeat_interleave.

One SHUFFLE (or SLICE) per op, none for a no-op. Static shapes go into the layer as literal
dims, so static networks get no SHAPE layers; a dynamic (-1) dim is read at run time from a
SHAPE layer only when the op cannot express it with TensorRT's 0 (copy) / -1 (infer) dims.
"""

import numpy as np

from .. import dtypes
from ..backend import trt
from ..tensor import Tensor
from ._common import (
    cast,
    concat_layer,
    constant,
    gather_layer,
    network,
    normalize_dim,
    output,
    prepend_ones,
    reduce,
    shape_of,
    varargs_shape,
)
from .elementwise import add, mul

__all__ = [
    "roll",
    "size",
    "numel",
    "reshape",
    "view",
    "view_as",
    "reshape_as",
    "flatten",
    "unflatten",
    "permute",
    "transpose",
    "swapaxes",
    "swapdims",
    "t",
    "movedim",
    "unsqueeze",
    "squeeze",
    "expand",
    "expand_as",
    "broadcast_to",
    "repeat",
    "tile",
    "flip",
    "fliplr",
    "flipud",
    "repeat_interleave",
    "contiguous",
]


# --------------------------------------------------------------------------- dims known late


class Dim:
    """``tensor.shape[index] + offset``: an int when static, read at run time when dynamic."""

    __slots__ = ("tensor", "index", "offset")

    def __init__(self, tensor, index, offset=0):
        self.tensor, self.index, self.offset = tensor, index, offset

    def static(self):
        d = self.tensor.shape[self.index]
        return None if d < 0 else d + self.offset


class DimTensor(Tensor):
    """The 0-d int64 tensor ``size(x, i)`` returns for a dynamic dim; remembers where it came
    from, so ``x.view(x.size(0), -1)`` still becomes one static SHUFFLE (0 = copy dim 0)."""

    __slots__ = ("source",)

    def __init__(self, itensor, source):
        super().__init__(itensor)
        self.source = source


def dim_entry(d):
    """A user-given dim (int, Dim, size() tensor, int tensor) as a shape-spec entry."""
    if isinstance(d, DimTensor):
        return d.source
    if isinstance(d, (Dim, Tensor)):
        return d
    return int(d)


def resolve(spec):
    """Static ``Dim``s become ints; the rest stay as they are."""
    out = []
    for d in spec:
        if isinstance(d, Dim) and d.static() is not None:
            d = d.static()
        out.append(d)
    return out


def is_static(spec):
    return all(isinstance(d, int) for d in spec)


def _int64(values):
    return constant(np.asarray(values, dtype=np.int64).reshape(-1))


def _as_1d_int64(t):
    t = cast(t, dtypes.int64)
    return t if t.ndim == 1 else _shuffle(t, (1,), "reshape")


def shape_tensor(spec):
    """A 1-D int64 tensor for ``spec`` (ints, ``Dim``s, scalar int tensors), built from as few
    pieces as possible: runs of ints → one constant, runs of one tensor's dims → one slice."""
    spec = resolve(spec)
    shapes, pieces, i = {}, [], 0
    while i < len(spec):
        d = spec[i]
        if isinstance(d, int):
            j = i
            while j < len(spec) and isinstance(spec[j], int):
                j += 1
            pieces.append(_int64(spec[i:j]))
        elif isinstance(d, Dim):
            j = i + 1
            while (
                j < len(spec)
                and isinstance(spec[j], Dim)
                and spec[j].tensor is d.tensor
                and spec[j].index == d.index + j - i
                and not spec[j].offset
                and not d.offset
            ):
                j += 1
            key = id(d.tensor)
            if key not in shapes:
                shapes[key] = shape_of(d.tensor)
            piece = shapes[key]
            if d.index != 0 or j - i != d.tensor.ndim:
                piece = slice_layer(piece, [d.index], [j - i], [1])
            if d.offset:
                piece = add(piece, _int64([d.offset]))
            pieces.append(piece)
        else:
            j = i + 1
            pieces.append(_as_1d_int64(d))
        i = j
    if len(pieces) == 1:
        return pieces[0]
    return concat_layer(pieces, 0, "concat")


# --------------------------------------------------------------------------- reshape core


def _infer(x, dims):
    """Replace one -1 by its value when ``x`` is fully static (explicit dims read better)."""
    if -1 not in dims or any(d < 0 for d in x.shape):
        return dims
    known = int(np.prod([d for d in dims if d != -1], dtype=np.int64))
    total = int(np.prod(x.shape, dtype=np.int64))
    if known == 0 or total % known:
        raise ValueError(f"shape {list(dims)} is invalid for input of shape {list(x.shape)}")
    return [total // known if d == -1 else d for d in dims]


def _same_shape(x, dims):
    """``dims`` certainly equal ``x``'s shape (one -1 matching x's only dynamic dim counts)."""
    if len(dims) != x.ndim or tuple(dims).count(-1) > 1:
        return False
    return all(d == n for d, n in zip(dims, x.shape))


def reshape_to(x, spec, op="reshape", then_permute=None, first_permute=None):
    """Reshape ``x`` to ``spec`` in one SHUFFLE, optionally permuting ``x`` first and / or the
    result; no layer for a no-op. ``Dim``s in ``spec`` name dims of ``x`` itself."""
    spec = resolve(spec)
    permutes = {"first_permute": first_permute, "then_permute": then_permute}
    if is_static(spec):
        dims = _infer(x, spec)
        if sum(d == -1 for d in dims) > 1:
            raise ValueError(f"only one dimension can be inferred (-1), got {list(dims)}")
        if _same_shape(x, dims) and then_permute is None and first_permute is None:
            return x
        return _shuffle(x, dims, op, **permutes)
    # Dynamic: a dim copied to its own position (after first_permute) is TensorRT's 0, one
    # unknown left is -1.
    source = list(range(x.ndim)) if first_permute is None else list(first_permute)
    dims = list(spec)
    if not _holds(spec, 0):
        dims = [
            (
                0
                if isinstance(d, Dim)
                and d.tensor is x
                and i < len(source)
                and d.index == source[i]
                and not d.offset
                else d
            )
            for i, d in enumerate(spec)
        ]
    unknown = [i for i, d in enumerate(dims) if not isinstance(d, int)]
    if len(unknown) == 1 and not _holds(dims, -1):
        dims[unknown[0]] = -1
    if is_static(dims):
        return _shuffle(x, dims, op, zero_is_placeholder=not _holds(spec, 0), **permutes)
    return _shuffle(x, shape_tensor(spec), op, **permutes)


def _holds(spec, value):
    """Is the int ``value`` in ``spec``? (``in`` would compare run-time size tensors with ==,
    which builds a layer.)"""
    return any(isinstance(d, int) and d == value for d in spec)


def _shuffle(x, dims, op, first_permute=None, then_permute=None, zero_is_placeholder=False):
    """One SHUFFLE: optionally permute, reshape to ``dims`` (a list, or a shape tensor),
    optionally permute again."""
    layer = network().add_shuffle(x.trt)
    if first_permute is not None:
        layer.first_transpose = trt.Permutation(tuple(first_permute))
    if isinstance(dims, Tensor):
        layer.set_input(1, dims.trt)
        layer.zero_is_placeholder = False
    else:
        layer.reshape_dims = tuple(dims)
        if 0 in dims and not zero_is_placeholder:
            layer.zero_is_placeholder = False  # torch's 0 is an empty dim, not "copy"
    if then_permute is not None:
        layer.second_transpose = trt.Permutation(tuple(then_permute))
    return output(layer, op)


def reshape(x, *shape):
    """torch.reshape / Tensor.view: one SHUFFLE (none if the shape is unchanged)."""
    return reshape_to(x, [dim_entry(d) for d in varargs_shape(shape)])


view = reshape


def view_as(x, other):
    return reshape_to(x, [Dim(other, i) for i in range(other.ndim)])


reshape_as = view_as


def _dims(x):
    return [Dim(x, i) for i in range(x.ndim)]


def flatten(x, start_dim=0, end_dim=-1):
    if x.ndim == 0:
        return reshape_to(x, [1], "flatten")
    start, end = normalize_dim(start_dim, x.ndim), normalize_dim(end_dim, x.ndim)
    if start > end:
        raise ValueError("flatten() has invalid args: start_dim cannot come after end_dim")
    if start == end:
        return x
    inner = x.shape[start : end + 1]
    merged = int(np.prod(inner, dtype=np.int64)) if min(inner) >= 0 else -1
    dims = _dims(x)
    return reshape_to(x, dims[:start] + [merged] + dims[end + 1 :], "flatten")


def unflatten(x, dim, sizes):
    d = normalize_dim(dim, x.ndim)
    dims = _dims(x)
    return reshape_to(x, dims[:d] + [dim_entry(s) for s in sizes] + dims[d + 1 :], "unflatten")


def squeeze(x, dim=None):
    """Drop size-1 dims (all static ones, or those in ``dim``); a named non-1 dim stays, as in
    torch. A named dynamic dim is assumed to be 1."""
    if dim is None:
        drop = {i for i, n in enumerate(x.shape) if n == 1}
    else:
        dims = dim if isinstance(dim, (tuple, list)) else (dim,)
        drop = {normalize_dim(d, x.ndim) for d in dims}
        drop = {i for i in drop if x.shape[i] in (1, -1)}
    if not drop:
        return x
    return reshape_to(x, [d for i, d in enumerate(_dims(x)) if i not in drop], "squeeze")


def unsqueeze(x, dim):
    d = normalize_dim(dim, x.ndim + 1)
    dims = _dims(x)
    return reshape_to(x, dims[:d] + [1] + dims[d:], "unsqueeze")


def append_ones(x, rank):
    """``x`` with trailing 1s up to ``rank`` dims (the mirror of ``_common.prepend_ones``)."""
    if rank <= x.ndim:
        return x
    return reshape_to(x, _dims(x) + [1] * (rank - x.ndim), "unsqueeze")


# --------------------------------------------------------------------------- transposes


def permute(x, *dims):
    """torch.permute: one SHUFFLE (first_transpose), none for the identity."""
    return permute_to(x, varargs_shape(dims), "permute")


def permute_to(x, dims, op):
    """One SHUFFLE (first_transpose) named ``op``; none for the identity."""
    perm = tuple(normalize_dim(d, x.ndim) for d in dims)
    if sorted(perm) != list(range(x.ndim)):
        raise ValueError(f"{op}: {list(perm)} is not a permutation of {x.ndim} dims")
    if perm == tuple(range(x.ndim)):
        return x
    layer = network().add_shuffle(x.trt)
    layer.first_transpose = trt.Permutation(perm)
    return output(layer, op)


def transpose(x, dim0, dim1):
    perm = list(range(x.ndim))
    a, b = normalize_dim(dim0, x.ndim), normalize_dim(dim1, x.ndim)
    perm[a], perm[b] = perm[b], perm[a]
    return permute_to(x, perm, "transpose")


swapaxes = swapdims = transpose


def t(x):
    return x if x.ndim < 2 else transpose(x, 0, 1)


def movedim(x, source, destination):
    source = [source] if isinstance(source, int) else list(source)
    destination = [destination] if isinstance(destination, int) else list(destination)
    source = [normalize_dim(d, x.ndim) for d in source]
    destination = [normalize_dim(d, x.ndim) for d in destination]
    rest = iter(d for d in range(x.ndim) if d not in source)
    placed = dict(zip(destination, source))
    order = [placed[i] if i in placed else next(rest) for i in range(x.ndim)]
    return permute_to(x, order, "movedim")


def contiguous(x, memory_format=None):
    """Layout is TensorRT's business: no layer."""
    return x


# --------------------------------------------------------------------------- size queries


def size(x, dim=None):
    """Static dims as ints; a dynamic dim as a 0-d int64 tensor (SHAPE + GATHER)."""
    if dim is None:
        return tuple(size(x, i) for i in range(x.ndim))
    d = normalize_dim(dim, x.ndim)
    if x.shape[d] >= 0:
        return x.shape[d]
    return DimTensor(gather_layer(shape_of(x), 0, d, "size").trt, Dim(x, d))


def numel(x):
    if all(d >= 0 for d in x.shape):
        return int(np.prod(x.shape, dtype=np.int64))
    return reduce(shape_of(x), trt.ReduceOperation.PROD, 0, False, "numel")


# --------------------------------------------------------------------------- slices


def slice_layer(x, start, spec, stride, mode=None, fill=None, op="slice"):
    """One SLICE layer. ``spec`` (the output shape) is a list that may hold ``Dim``s, or a
    1-D int64 tensor. Dynamic dims read whole are left out through the slice's ``axes``, so a
    shape tensor is only built for dynamic dims that really change."""
    axes = None
    if isinstance(spec, Tensor):
        static, sizes = (0,) * x.ndim, spec
    else:
        spec = resolve(spec)
        whole = [
            i
            for i, d in enumerate(spec)
            if start[i] == 0
            and stride[i] == 1
            and (
                d == x.shape[i]
                if isinstance(d, int)
                else isinstance(d, Dim) and d.tensor is x and d.index == i and not d.offset
            )
        ]
        if not is_static(spec):
            axes = [i for i in range(x.ndim) if i not in whole]
            start, spec, stride = ([v[i] for i in axes] for v in (start, spec, stride))
        static = tuple(d if isinstance(d, int) else 0 for d in spec)
        sizes = None if is_static(spec) else shape_tensor(spec)
    layer = network().add_slice(x.trt, tuple(start), static, tuple(stride))
    if axes is not None:
        layer.axes = tuple(axes)
    if sizes is not None:
        layer.set_input(2, sizes.trt)
    if mode is not None:
        layer.mode = mode
    if fill is not None:
        layer.set_input(4, fill.trt)
    return output(layer, op)


def expand(x, *sizes):
    """torch.expand: SLICE with stride 0 on the broadcast dims (-1 keeps a dim)."""
    sizes = [dim_entry(s) for s in varargs_shape(sizes)]
    lead = len(sizes) - x.ndim
    if lead < 0:
        raise ValueError(f"expand: {len(sizes)} sizes for a tensor of rank {x.ndim}")
    x = prepend_ones(x, len(sizes))
    target = resolve(
        [Dim(x, i) if isinstance(s, int) and s == -1 else s for i, s in enumerate(sizes)]
    )
    # Only size-1 dims can grow; every other target dim equals the input's (torch checks).
    stride = [
        0 if n == 1 and not (isinstance(s, int) and s == 1) else 1 for n, s in zip(x.shape, target)
    ]
    if 0 not in stride:
        return x
    spec = [s if st == 0 else Dim(x, i) for i, (s, st) in enumerate(zip(target, stride))]
    return slice_layer(x, [0] * x.ndim, spec, stride, op="expand")


broadcast_to = expand


def expand_as(x, other):
    return expand(x, [Dim(other, i) for i in range(other.ndim)])


def roll(x, shifts, dims=None):
    """torch.roll as one SLICE in WRAP mode: output[i] = x[(i - shift) mod n]. The rolled dims
    must be static; the others may be dynamic (a batch)."""
    if dims is None:
        return reshape(roll(flatten(x), shifts, 0), *x.shape)
    shifts = (shifts,) if isinstance(shifts, int) else tuple(shifts)
    dims = (dims,) if isinstance(dims, int) else tuple(dims)
    start = [0] * x.ndim
    for shift, dim in zip(shifts, dims):
        dim = normalize_dim(dim, x.ndim)
        if x.shape[dim] < 0:
            raise NotImplementedError("roll along a dynamic dim")
        start[dim] = (start[dim] - shift) % x.shape[dim]
    if not any(start):
        return x
    size = [Dim(x, i) if n < 0 else n for i, n in enumerate(x.shape)]
    return slice_layer(x, start, size, [1] * x.ndim, mode=trt.SampleMode.WRAP, op="roll")


def repeat(x, *sizes):
    """torch.repeat: one SLICE in WRAP mode reading the input ``sizes`` times per dim."""
    reps = [int(r) for r in varargs_shape(sizes)]
    if len(reps) < x.ndim:
        raise ValueError(
            "repeat: number of repeat dims can not be smaller than number of tensor dims"
        )
    x = prepend_ones(x, len(reps))
    if all(r == 1 for r in reps):
        return x
    if all(n >= 0 for n, r in zip(x.shape, reps) if r != 1):
        spec = [Dim(x, i) if r == 1 else n * r for i, (n, r) in enumerate(zip(x.shape, reps))]
    else:  # a repeated dynamic dim: sizes = shape(x) * reps at run time
        spec = mul(shape_of(x), _int64(reps))
    return slice_layer(x, [0] * x.ndim, spec, [1] * x.ndim, mode=trt.SampleMode.WRAP, op="repeat")


def tile(x, *dims):
    dims = list(varargs_shape(dims))
    return repeat(x, [1] * (x.ndim - len(dims)) + dims)


def flip(input, *args, dims=None):
    """torch.flip as one SLICE with stride -1 on the flipped dims; ``dims`` as torch.flip takes
    them (a tuple, also as ``dims=``) or as Tensor.flip does (``x.flip(0, 2)``).

    A static dim starts at its last index; a dynamic one starts at -1 in WRAP mode (-1 - i wraps
    to n - 1 - i), so its length is never needed as a start.
    """
    x = input
    dims = varargs_shape(args) if dims is None else dims
    dims = (dims,) if isinstance(dims, int) else tuple(dims)
    flipped = {normalize_dim(d, x.ndim) for d in dims}
    flipped = {d for d in flipped if x.shape[d] != 1}
    if not flipped:
        return x
    wrap = any(x.shape[d] < 0 for d in flipped)
    start = [(-1 if wrap else x.shape[i] - 1) if i in flipped else 0 for i in range(x.ndim)]
    stride = [-1 if i in flipped else 1 for i in range(x.ndim)]
    size = [Dim(x, i) for i in range(x.ndim)]
    return slice_layer(
        x, start, size, stride, mode=trt.SampleMode.WRAP if wrap else None, op="flip"
    )


def fliplr(input):
    return flip(input, 1)


def flipud(input):
    return flip(input, 0)


def repeat_interleave(input, repeats=None, dim=None, *, output_size=None):
    """torch.repeat_interleave with an int ``repeats``: each element ``repeats`` times in a row.

    Unsqueeze after ``dim`` and broadcast it to ``repeats`` (one SLICE with stride 0, whose
    output is (.., n, repeats, ..)), then merge the two dims (one SHUFFLE). ``dim=None``
    flattens first, as torch does.
    """
    if repeats is None or isinstance(repeats, Tensor) or not isinstance(repeats, int):
        raise NotImplementedError(
            "repeat_interleave: only an int 'repeats' is supported (per-element repeats give a "
            "data-dependent shape)"
        )
    x = input
    if dim is None:
        x, dim = flatten(x), 0
    d = normalize_dim(dim, x.ndim)
    if repeats == 1:
        return x
    n = x.shape[d]
    dims = _dims(x)
    y = reshape_to(x, dims[: d + 1] + [1] + dims[d + 1 :], "unsqueeze")
    y = slice_layer(
        y,
        [0] * y.ndim,
        [repeats if i == d + 1 else Dim(y, i) for i in range(y.ndim)],
        [0 if i == d + 1 else 1 for i in range(y.ndim)],
        op="expand",
    )
    merged = n * repeats if n >= 0 else -1
    return reshape_to(y, [Dim(y, i) for i in range(d)] + [merged] + _dims(y)[d + 2 :], "reshape")
