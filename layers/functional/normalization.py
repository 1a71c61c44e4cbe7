"""Normalizations: batch_norm, layer_norm, group_norm, instance_norm, rms_norm, local_response_norm.

Inference batch norm with Parameter statistics folds into the convolution just before it
(``batch_norm_fold``), else into one SCALE layer (per-channel ``x * scale + shift``). The others map
onto TensorRT's NORMALIZATION layer; rms_norm is an elementwise composition.
"""

import numpy as np

from .. import dtypes
from ..precision import fp32_island
from ..module import Parameter
from ..network import as_weights, batch_norm_source
from ._common import axes_mask, channel_scale, network, output, scalar
from .batch_norm_fold import fold_into_convolution
from ._params import name_weights, per_channel, weights_of, with_leading_ones
from .constant import full, shared_scalar
from .elementwise import add, clamp, div, mul, sub
from .elementwise import pow as power
from .indexing import narrow
from .pad import pad
from . import reduce
from .shape import append_ones, squeeze
from .reduce import vector_norm
from .unary import sqrt

__all__ = [
    "normalize",
    "weight_norm",
    "batch_norm",
    "layer_norm",
    "group_norm",
    "instance_norm",
    "rms_norm",
    "local_response_norm",
]


# --------------------------------------------------------------------------- helpers
def _has_value(*values):
    """All Parameters (or None) with numpy-representable values: foldable at build time."""
    return all(
        v is None
        or (isinstance(v, Parameter) and v.value is not None and v.dtype != dtypes.bfloat16)
        for v in values
    )


def _channel_affine(weight, bias, x):
    """Per-channel scale and shift (1, C, 1, ...) for a NORMALIZATION layer: 1 and 0 if absent."""
    shape = (1, x.shape[1]) + (1,) * (x.ndim - 2)
    scale = per_channel(weight, x.ndim) if weight is not None else full(shape, 1.0, x.dtype)
    shift = per_channel(bias, x.ndim) if bias is not None else full(shape, 0.0, x.dtype)
    return scale, shift


def _numpy_dtype(dtype):
    try:
        return dtypes.to_numpy(dtype)
    except TypeError:  # bfloat16: no numpy type, so no Weights either
        return None


def _normalization(x, scale, bias, axes, eps, op, num_groups=1, per_group_affine=False):
    """One NORMALIZATION layer, via ``add_normalization_v2`` when TensorRT has it (10.15+, RTX).

    They differ only for groups: v2 takes per-channel scale/bias, the older form per-group
    ones (``per_group_affine``).
    """
    mask = axes_mask(tuple(axes), x.ndim)
    net = network()
    if _has_normalization_v2() and not per_group_affine:
        layer = net.add_normalization_v2(x.trt, scale.trt, bias.trt, mask)
    else:
        layer = net.add_normalization(x.trt, scale.trt, bias.trt, mask)
    layer.epsilon = float(eps)
    if num_groups != 1:
        layer.num_groups = int(num_groups)
    return output(layer, op)


def _has_normalization_v2():
    return hasattr(network(), "add_normalization_v2")


def _restore_rank(y, ndim):
    """Drop the trailing unit dims ``append_ones`` added."""
    return squeeze(y, tuple(range(ndim, y.ndim)))


# --------------------------------------------------------------------------- batch norm
def batch_norm(
    input, running_mean, running_var, weight=None, bias=None, training=False, momentum=0.1, eps=1e-5
):
    """torch.nn.functional.batch_norm for inference.

    With ``training`` (or no running statistics) the batch statistics are used, as torch does
    for ``track_running_stats=False``; running statistics are never updated.
    """
    if input.ndim < 2:
        raise ValueError(f"batch_norm expects (N, C, ...) input, got shape {input.shape}")
    if training or running_mean is None or running_var is None:
        return _batch_stats_norm(input, weight, bias, eps)
    numpy_dtype = _numpy_dtype(input.dtype)
    if numpy_dtype is not None and _has_value(running_mean, running_var, weight, bias):
        return _folded_batch_norm(input, running_mean, running_var, weight, bias, eps, numpy_dtype)
    return _elementwise_batch_norm(input, running_mean, running_var, weight, bias, eps)


def _folded_batch_norm(x, mean, var, weight, bias, eps, numpy_dtype):
    """scale = w / sqrt(var + eps), shift = b - mean * scale (in float64), folded into the
    convolution that made ``x`` or one SCALE layer."""
    keys = [p.name if p is not None else None for p in (mean, var, weight, bias)]
    # the stored (full-precision) values: an FP16 network still folds in float64
    var = var.stored().astype(np.float64)
    scale = 1.0 / np.sqrt(var + eps)
    if weight is not None:
        scale = scale * weight.stored()
    shift = -mean.stored().astype(np.float64) * scale
    if bias is not None:
        shift = shift + bias.stored()
    folded = fold_into_convolution(x, scale, shift, keys, eps, numpy_dtype)
    if folded is not None:
        return folded
    ndim = x.ndim
    x = append_ones(x, 4)  # SCALE wants NCHW / NCDHW (as TensorRT's ONNX parser does)
    shift = as_weights(shift.astype(numpy_dtype), batch_norm_source("shift", *keys, eps))
    scale = as_weights(scale.astype(numpy_dtype), batch_norm_source("scale", *keys, eps))
    y = channel_scale(x, 1, "batch_norm", scale=scale, shift=shift)
    return _restore_rank(y, ndim)


def _elementwise_batch_norm(x, mean, var, weight, bias, eps):
    """(x - mean) / sqrt(var + eps) * weight + bias with (1, C, 1, ...) operands."""
    n = x.ndim
    denominator = sqrt(add(per_channel(var, n), scalar(eps, x.dtype, n)))
    y = div(sub(x, per_channel(mean, n)), denominator)
    if weight is not None:
        y = mul(y, per_channel(weight, n))
    if bias is not None:
        y = add(y, per_channel(bias, n))
    return y


@fp32_island("normalization")
def _batch_stats_norm(x, weight, bias, eps):
    """Normalize over N and the spatial dims (batch statistics, biased variance)."""
    ndim = x.ndim
    x = append_ones(x, 3)
    scale, shift = _channel_affine(weight, bias, x)
    y = _normalization(x, scale, shift, (0,) + tuple(range(2, x.ndim)), eps, "batch_norm")
    return _restore_rank(y, ndim)


# --------------------------------------------------------------------------- layer norm
@fp32_island("normalization")
def layer_norm(input, normalized_shape, weight=None, bias=None, eps=1e-5):
    """Normalize over the last ``len(normalized_shape)`` dims: one NORMALIZATION layer.

    Over the last dim with state_dict weight and bias, the layer normalizes with the network's
    shared unit scale and zero shift and a SCALE layer applies the affine, its values inside
    the layer (``layer_norm`` + ``affine``: no CONSTANT per weight, refit by key).
    """
    if isinstance(normalized_shape, int):
        normalized_shape = (normalized_shape,)
    normalized_shape = tuple(int(d) for d in normalized_shape)
    k, n = len(normalized_shape), input.ndim
    if tuple(input.shape[n - k :]) != normalized_shape and -1 not in input.shape[n - k :]:
        raise ValueError(
            f"layer_norm: input {input.shape} does not end in {list(normalized_shape)}"
        )
    affine = _affine_weights(input, weight, bias) if k == 1 else None
    if affine is not None:
        one, zero = shared_scalar(1.0, input.dtype, n), shared_scalar(0.0, input.dtype, n)
        y = _normalization(input, one, zero, (n - 1,), eps, "layer_norm")
        y = channel_scale(y, n - 1, "affine", *affine)
        for weights, param in zip(affine, (weight, bias)):
            name_weights(weights, param)  # TensorRT names only weights a layer already holds
        return y
    shape = (1,) * (n - k) + normalized_shape
    scale = with_leading_ones(weight, n) if weight is not None else full(shape, 1.0, input.dtype)
    shift = with_leading_ones(bias, n) if bias is not None else full(shape, 0.0, input.dtype)
    return _normalization(input, scale, shift, range(n - k, n), eps, "layer_norm")


def _affine_weights(x, weight, bias):
    """``(scale, shift)`` Weights of state_dict weight and bias over x's last dim, or None when
    either is a Tensor, bfloat16, or both are absent."""
    params = [p for p in (weight, bias) if p is not None]
    if not params or not all(isinstance(p, Parameter) and p.value is not None for p in params):
        return None
    if x.dtype not in (dtypes.float32, dtypes.float16):
        return None
    affine = []
    for param in (weight, bias):
        weights = weights_of(param, x.dtype)[0] if param is not None else None
        if param is not None and weights is None:
            return None
        affine.append(weights)
    return tuple(affine)


# --------------------------------------------------------------------------- group / instance norm
@fp32_island("normalization")
def group_norm(input, num_groups, weight=None, bias=None, eps=1e-5):
    """Statistics per (sample, group of channels): one NORMALIZATION layer with ``num_groups``.

    Without ``add_normalization_v2`` (TensorRT < 10.15) the layer takes per-group scale/bias,
    so the per-channel affine follows as elementwise mul / add.
    """
    if input.ndim < 2:
        raise ValueError(f"group_norm expects (N, C, ...) input, got shape {input.shape}")
    channels = input.shape[1]
    if channels % num_groups:
        raise ValueError(
            f"group_norm: {channels} channels are not divisible by num_groups={num_groups}"
        )
    ndim = input.ndim
    x = append_ones(input, 3)  # (N, C) → (N, C, 1): the groups still split C
    # groups split C inside the layer; one group is plain normalization over C and the rest
    axes = range(2, x.ndim) if num_groups != 1 else range(1, x.ndim)
    if _has_normalization_v2():
        scale, shift = _channel_affine(weight, bias, x)
        return _restore_rank(
            _normalization(x, scale, shift, axes, eps, "group_norm", num_groups), ndim
        )
    shape = (1, num_groups) + (1,) * (x.ndim - 2)
    y = _normalization(
        x,
        full(shape, 1.0, x.dtype),
        full(shape, 0.0, x.dtype),
        axes,
        eps,
        "group_norm",
        num_groups,
        per_group_affine=True,
    )
    if weight is not None:
        y = mul(y, per_channel(weight, y.ndim))
    if bias is not None:
        y = add(y, per_channel(bias, y.ndim))
    return _restore_rank(y, ndim)


@fp32_island("normalization")
def instance_norm(
    input,
    running_mean=None,
    running_var=None,
    weight=None,
    bias=None,
    use_input_stats=True,
    momentum=0.1,
    eps=1e-5,
):
    """Statistics per (sample, channel) over the spatial dims: one NORMALIZATION layer."""
    if not use_input_stats:
        return batch_norm(input, running_mean, running_var, weight, bias, False, momentum, eps)
    if input.ndim < 3:
        raise ValueError(f"instance_norm expects (N, C, *spatial) input, got shape {input.shape}")
    scale, shift = _channel_affine(weight, bias, input)
    return _normalization(input, scale, shift, range(2, input.ndim), eps, "instance_norm")


# --------------------------------------------------------------------------- rms norm
@fp32_island("normalization")
def rms_norm(input, normalized_shape, weight=None, eps=None):
    """x / sqrt(mean(x², last dims) + eps) * weight; eps defaults to the dtype's epsilon."""
    if isinstance(normalized_shape, int):
        normalized_shape = (normalized_shape,)
    n, k = input.ndim, len(normalized_shape)
    if eps is None:
        eps = (
            float(np.finfo(dtypes.to_numpy(input.dtype)).eps)
            if input.dtype != dtypes.bfloat16
            else 2.0**-7
        )
    mean_square = reduce.mean(mul(input, input), tuple(range(n - k, n)), keepdim=True)
    rms = sqrt(add(mean_square, scalar(eps, input.dtype, n)))
    y = div(input, rms)
    if weight is not None:
        y = mul(y, with_leading_ones(weight, n))
    return y


# --------------------------------------------------------------------------- LRN
def local_response_norm(input, size, alpha=1e-4, beta=0.75, k=1.0):
    """Across-channel LRN as one LRN layer (TensorRT: odd window 1..15, NCHW-like input)."""
    if input.ndim < 3:
        raise ValueError(f"local_response_norm expects (N, C, *) input, got shape {input.shape}")
    if size % 2 == 0 or not 1 <= size <= 15:  # outside what TensorRT's LRN layer takes
        return _channel_window_norm(input, size, alpha, beta, k)
    ndim = input.ndim
    x = append_ones(input, 4)
    layer = network().add_lrn(x.trt, int(size), float(alpha), float(beta), float(k))
    return _restore_rank(output(layer, "lrn"), ndim)


def _channel_window_norm(x, size, alpha, beta, k):
    """torch's LRN formula, composed: x / (k + alpha * mean of x**2 over a window of ``size``
    channels, zero-padded size // 2 before and (size - 1) // 2 after) ** beta."""
    channels = x.shape[1]
    if channels == -1:
        raise NotImplementedError(f"local_response_norm(size={size}) needs a static channel count")
    squares = mul(x, x)
    widths = [0, 0] * (x.ndim - 2) + [size // 2, (size - 1) // 2]
    padded = pad(squares, widths)
    window = narrow(padded, 1, 0, channels)
    for start in range(1, size):
        window = add(window, narrow(padded, 1, start, channels))
    scale = add(mul(window, alpha / size), float(k))
    return div(x, power(scale, float(beta)))


def normalize(input, p=2.0, dim=1, eps=1e-12):  # noqa: A002 - torch name
    """torch.nn.functional.normalize: ``input / max(||input||_p, eps)`` along ``dim``."""

    return div(input, clamp(vector_norm(input, p, dim, keepdim=True), min=eps))


def weight_norm(v, g, dim=0):
    """``aten._weight_norm`` (torch.nn.utils weight_norm): ``v * g / ||v||`` over all dims but ``dim``."""

    dims = [d for d in range(v.ndim) if d != dim % v.ndim]
    return mul(v, div(g, vector_norm(v, 2, dims, keepdim=True)))
