"""The bottom of ``layers.functional``: helpers every op family uses (dims, axes bitmasks, rank
alignment, per-dim tuples, layer outputs) and the single-layer builders they share (CAST,
CONSTANT, SHAPE, GATHER, CONCATENATION, REDUCE, UNARY, ACTIVATION).

This module imports no sibling module, so every op family imports it at the top: the family
modules form an import graph without cycles (checked by tests/layers/test_import_graph.py).
"""

import functools

import numpy as np

from .. import dtypes
from ..backend import trt
from ..network import as_weights, current, current_network, name_layer, param_source
from ..precision import resolve_float
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


# --------------------------------------------------------------------------- single layers


def cast(x, dtype):
    """``x`` as ``dtype``; in a reduced-precision network float32 means its float type."""
    return cast_layer(x, resolve_float(dtypes.to_trt(dtype)))


def cast_layer(x, dtype, op="cast"):
    """One CAST layer named ``op`` (none when ``x`` already has ``dtype``)."""
    dtype = dtypes.to_trt(dtype)
    if x.dtype == dtype:
        return x
    layer = current_network().add_cast(x.trt, dtype)
    return Tensor(name_layer(layer, op).get_output(0))


def constant(array, name=None, dtype=None):
    """A CONSTANT layer holding ``array``; ``name`` (e.g. a state_dict key) names it verbatim."""
    array = np.asarray(array)
    if dtype is not None and dtypes.to_trt(dtype) == dtypes.bfloat16:
        return _bf16_constant(array, name)
    if dtype is not None:
        array = array.astype(dtypes.to_numpy(dtypes.to_trt(dtype)), copy=False)
    if array.dtype == np.float64:
        array = array.astype(np.float32)
    layer = current_network().add_constant(
        tuple(array.shape), as_weights(array, param_source(name))
    )
    return _named_constant(layer, name)


def _bf16_constant(array, name):
    # numpy has no bfloat16: store float32, cast in-network (TensorRT folds it at build time).
    return cast(constant(array.astype(np.float32), name=name), dtypes.bfloat16)


def _named_constant(layer, name):
    if name is None:
        name_layer(layer, "constant")
    else:
        context = current()
        layer.name = context.unique(name)
        layer.get_output(0).name = layer.name
    return Tensor(layer.get_output(0))


def scalar(value, dtype, ndim=0):
    """``value`` as a tensor of ``dtype`` with ``ndim`` dims of size 1 (broadcasts anywhere)."""
    dtype = dtypes.to_trt(dtype)
    if dtype in (dtypes.bfloat16, dtypes.float8_e4m3fn):
        return cast(scalar(value, dtypes.float32, ndim), dtype)
    return constant(np.full((1,) * ndim, value, dtype=dtypes.to_numpy(dtype)))


def shape_of(x):
    """The run-time shape of ``x``: one SHAPE layer, a 1-D int64 tensor."""
    return output(network().add_shape(x.trt), "shape")


def index_tensor(index, n):
    """An integer index (tensor, list or array) as a tensor; constant negatives wrap by ``n``."""
    if isinstance(index, Tensor):
        if index.dtype == dtypes.bool:
            raise NotImplementedError("boolean mask indexing has a data-dependent shape")
        if index.dtype not in (dtypes.int32, dtypes.int64):
            index = cast(index, dtypes.int64)
        return index
    array = np.asarray(index)
    if array.dtype == np.bool_:
        if array.ndim != 1 or (n >= 0 and array.size != n):
            raise NotImplementedError("a constant boolean mask indexes one dim, of its size")
        array = np.flatnonzero(array)  # a constant mask is a constant list of positions
    array = array.astype(np.int64)
    if n >= 0:
        array = np.where(array < 0, array + n, array)
    return constant(array)


def gather_layer(x, dim, index, op="gather"):
    """One GATHER (DEFAULT mode) named ``op``: ``index`` picks entries of ``dim``."""
    index = index_tensor(index, x.shape[dim])
    layer = network().add_gather(x.trt, index.trt, dim)
    return output(layer, op)


def concat_layer(tensors, dim, op="cat"):
    """One CONCATENATION named ``op``, its axis always set (TensorRT's default is not torch's)."""
    layer = network().add_concatenation([t.trt for t in tensors])
    layer.axis = normalize_dim(dim, tensors[0].ndim)
    return output(layer, op)


def reduced_dims(dim, ndim):
    """Reduced dims, sorted; ``None`` and ``()`` mean all of them (torch's convention)."""
    if dim is None or (isinstance(dim, (tuple, list)) and len(dim) == 0):
        return tuple(range(ndim))
    return normalize_dims(dim, ndim)


def reduce(input, operation, dim=None, keepdim=False, op_name="reduce"):
    """One REDUCE layer over ``dim``."""
    dims = reduced_dims(dim, input.ndim)
    if not dims:  # a 0-d tensor reduces to itself
        return input
    layer = network().add_reduce(input.trt, operation, axes_mask(dims, input.ndim), bool(keepdim))
    return output(layer, op_name)


def unary(x, operation, op_name):
    """One UNARY layer."""
    return output(network().add_unary(x.trt, operation), op_name)


def activation(input, type, op_name, alpha=None, beta=None):  # noqa: A002 - TensorRT's name
    """One ACTIVATION layer; integer inputs compute in float32 as torch does."""
    if not dtypes.is_floating(input.dtype):
        input = cast(input, dtypes.float32)
    layer = network().add_activation(input.trt, type)
    if alpha is not None:
        layer.alpha = float(alpha)
    if beta is not None:
        layer.beta = float(beta)
    return output(layer, op_name)
