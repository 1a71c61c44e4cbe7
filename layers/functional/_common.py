"""Small helpers every op family uses: dims, axes bitmasks, rank alignment, per-dim tuples,
layer outputs."""

import functools

import numpy as np

from .. import dtypes
from ..backend import trt
from ..network import as_weights, current_network, name_layer
from ..tensor import Tensor


def network():
    return current_network()


def output(layer, op):
    """Name ``layer`` after the current module path and wrap its first output."""
    return Tensor(name_layer(layer, op).get_output(0))


def channel_scale(x, axis, op, scale=None, shift=None):
    """One SCALE layer, ``x * scale + shift`` per channel along ``axis``; ``scale`` and ``shift``
    are ``trt.Weights`` in x's dtype (an absent one is 1 or 0)."""
    empty = trt.Weights(x.dtype)
    layer = network().add_scale_nd(
        x.trt,
        trt.ScaleMode.CHANNEL,
        empty if shift is None else shift,
        empty if scale is None else scale,
        empty,
        axis,
    )
    return output(layer, op)


def uniform_scale(x, factor, op):
    """``x * factor`` as one SCALE layer (the factor inside it, no CONSTANT); None when x's
    dtype has no numpy type to hold the factor (bfloat16) or is not float."""
    if x.dtype not in (dtypes.float32, dtypes.float16):
        return None
    factor = as_weights(np.array([factor], dtype=dtypes.to_numpy(x.dtype)))
    empty = trt.Weights(x.dtype)
    layer = network().add_scale_nd(x.trt, trt.ScaleMode.UNIFORM, empty, factor, empty, 0)
    return output(layer, op)


def normalize_dim(dim, ndim):
    """Python-style negative dims → non-negative; range-checked with a readable error."""
    if not -ndim <= dim < max(ndim, 1):
        raise IndexError(f"dim {dim} is out of range for a tensor of rank {ndim}")
    return dim % ndim if ndim else 0


def normalize_dims(dims, ndim):
    if dims is None:
        return tuple(range(ndim))
    if isinstance(dims, int):
        dims = (dims,)
    return tuple(sorted(normalize_dim(d, ndim) for d in dims))


def axes_mask(dims, ndim):
    """TensorRT's axes bitmask (bit i = dim i)."""
    mask = 0
    for d in normalize_dims(dims, ndim):
        mask |= 1 << d
    return mask


def prepend_ones(x, rank):
    """Reshape ``x`` to ``rank`` dims by adding leading 1s.

    Static shapes (and one dynamic dim, as -1) need one SHUFFLE; more dynamic dims an
    UNSQUEEZE. (Reshape 0s would be wrong: a 0 copies the input dim at the *same* index.)
    """
    missing = rank - x.ndim
    if missing <= 0:
        return x
    if sum(d < 0 for d in x.shape) <= 1:
        layer = network().add_shuffle(x.trt)
        layer.reshape_dims = (1,) * missing + tuple(x.shape)
        if 0 in x.shape:
            layer.zero_is_placeholder = False  # an empty dim, not "copy"
    else:
        from .constant import constant

        axes = constant(np.arange(missing, dtype=np.int64))
        layer = network().add_unsqueeze(x.trt, axes.trt)
    return output(layer, "unsqueeze")


def align_ranks(*tensors):
    """Give every tensor the largest rank among them (TensorRT broadcasts equal ranks only)."""
    rank = max(t.ndim for t in tensors)
    return tuple(prepend_ones(t, rank) for t in tensors)


def ntuple(value, n, what):
    """``3`` → ``(3, 3)``; a 1-tuple repeats, other tuples pass through after a length check."""
    if isinstance(value, int):
        return (value,) * n
    value = tuple(int(v) for v in value)
    if len(value) == 1:
        return value * n
    if len(value) != n:
        raise ValueError(f"{what} needs {n} values, got {list(value)}")
    return value


def common_dtype(tensors):
    """The dtype ``tensors`` promote to together (torch-like promotion)."""
    return functools.reduce(dtypes.promote, [t.dtype for t in tensors])


def varargs_shape(shape):
    """Accept ``f(x, 2, 3)`` and ``f(x, (2, 3))`` alike, as torch does."""
    if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
        return tuple(shape[0])
    return tuple(shape)
