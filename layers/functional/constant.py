"""Constants: numpy arrays and Python scalars as network tensors, arange-style ranges."""

import numpy as np

from .. import dtypes
from ..backend import trt
from ..network import as_weights, current, current_network, name_layer
from ..tensor import Tensor
from ._common import constant, scalar, varargs_shape
from .shape import Dim, expand, shape_tensor

SHARED_PREFIX = "shared/"  # names of the constants ``shared_scalar`` makes


def shared_scalar(value, dtype, ndim):
    """``scalar`` as one CONSTANT per network, value, dtype and rank, named for what it holds
    (``shared/one_3d``), not after the module that first asks: many modules read it, as every
    normalization reads its unit scale."""
    dtype = dtypes.to_trt(dtype)
    context = current()
    key = ("scalar", float(value), dtype, ndim)
    if key not in context.shared:
        array = np.full((1,) * ndim, value, dtype=dtypes.to_numpy(dtype))
        layer = context.network.add_constant(array.shape, as_weights(array))
        word = {0.0: "zero", 1.0: "one"}.get(float(value), str(value))
        layer.name = context.unique(f"{SHARED_PREFIX}{word}_{ndim}d")
        layer.get_output(0).name = layer.name
        context.shared[key] = Tensor(layer.get_output(0))
    return context.shared[key]


def as_tensor(value, like=None):
    """Pass tensors through; wrap numbers / arrays as constants.

    With ``like`` (a Tensor), a Python number takes ``like``'s dtype and rank, except that a
    float next to an integer tensor becomes float32 (torch's scalar promotion).
    """
    if isinstance(value, Tensor):
        return value
    if isinstance(value, np.ndarray):
        return constant(value)
    if like is None:
        default = (
            np.bool_
            if isinstance(value, bool)
            else np.int64 if isinstance(value, int) else np.float32
        )
        return constant(np.array(value, dtype=default))
    dtype = like.dtype
    if isinstance(value, float) and not dtypes.is_floating(dtype):
        dtype = dtypes.float32
    return scalar(value, dtype, like.ndim)


def arange(start, end=None, step=1, dtype=None):
    """torch.arange: a constant for static bounds; a FILL (LINSPACE) when ``end`` is a run-time
    size such as ``x.size(1)`` of a dynamic dim."""
    if end is None:
        start, end = 0, start
    if isinstance(end, Tensor):
        return _runtime_arange(start, end, step, dtype)
    values = np.arange(start, end, step)
    if dtype is None:
        dtype = (
            dtypes.int64 if all(isinstance(v, int) for v in (start, end, step)) else dtypes.float32
        )
    return constant(values, dtype=dtype)


def _runtime_arange(start, end, step, dtype):
    if not isinstance(start, int) or step != 1:
        raise NotImplementedError("arange up to a run-time size needs an int start and step 1")
    shape = shape_tensor([end if start == 0 else end - start])  # before the FILL that reads it
    layer = current_network().add_fill(
        (0,), trt.FillOperation.LINSPACE, dtypes.to_trt(dtype or dtypes.int64)
    )
    layer.set_input(0, shape.trt)
    layer.alpha, layer.beta = float(start), 1.0
    name_layer(layer, "arange")
    return Tensor(layer.get_output(0))


def zeros(*shape, dtype=dtypes.float32):
    return full(varargs_shape(shape), 0.0, dtype=dtype)


def ones(*shape, dtype=dtypes.float32):
    return full(varargs_shape(shape), 1.0, dtype=dtype)


def full(shape, fill_value, dtype=dtypes.float32):
    """A constant of ``shape``; where a size is a run-time one (``x.size(1)`` of a dynamic dim),
    one value broadcast to it (a SLICE with stride 0)."""
    shape = tuple(shape)
    if not any(isinstance(n, Tensor) for n in shape):
        return constant(np.full(shape, fill_value), dtype=dtype)
    if dtype is None:  # torch's: from the fill value
        kinds = ((bool, dtypes.bool), (int, dtypes.int64), (float, dtypes.float32))
        dtype = next(d for kind, d in kinds if isinstance(fill_value, kind))
    return expand(scalar(fill_value, dtype, len(shape)), shape)


def new_full(x, size, fill_value, dtype=None):
    """``x.new_full``: a constant of ``size`` (static), ``x``'s dtype unless ``dtype`` is given."""
    return full(tuple(size), fill_value, dtype=x.dtype if dtype is None else dtype)


def new_ones(x, size, dtype=None):
    return new_full(x, size, 1, dtype)


def new_zeros(x, size, dtype=None):
    return new_full(x, size, 0, dtype)


def full_like(x, fill_value, dtype=None):
    """A constant shaped like ``x``; for dynamic dims, one value broadcast to ``x``'s run-time
    shape (a SLICE with stride 0)."""
    dtype = x.dtype if dtype is None else dtype
    if all(d >= 0 for d in x.shape):
        return full(x.shape, fill_value, dtype=dtype)
    return expand(scalar(fill_value, dtype, x.ndim), [Dim(x, i) for i in range(x.ndim)])


def ones_like(x, dtype=None):
    return full_like(x, 1, dtype)


def zeros_like(x, dtype=None):
    return full_like(x, 0, dtype)


__all__ = [
    "constant",
    "scalar",
    "as_tensor",
    "arange",
    "zeros",
    "ones",
    "full",
    "new_full",
    "new_ones",
    "new_zeros",
    "full_like",
    "ones_like",
    "zeros_like",
]
