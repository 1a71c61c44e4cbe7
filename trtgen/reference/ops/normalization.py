"""NORMALIZATION (layer/instance/group norm, v1 and v2), SOFTMAX, RAGGED_SOFTMAX, LRN, SCALE."""

import torch
import torch.nn.functional as F

from layers.backend import trt

from ..registry import handles
from ..weights import weights_to_torch
from ._util import axes_from_mask, channel_shape, normalize_axis


def _standardize(x, axes, eps):
    mean = x.mean(dim=axes, keepdim=True)
    var = (x - mean).square().mean(dim=axes, keepdim=True)  # biased variance
    return (x - mean) / torch.sqrt(var + eps)


@handles("NORMALIZATION")
def normalization(layer, inputs, ctx):
    """Y = (X - mean) / sqrt(var + eps) * S + B over the masked axes.

    With num_groups G != 1 the channel axis (1) is split into G groups and each group is normalized
    over its channels and the masked (spatial) axes. Scale/bias are then per group ([1, G, 1, ...],
    add_normalization) or per channel ([1, C, 1, ...], add_normalization_v2).
    """
    x, scale, bias = inputs
    x = x.float()
    groups = layer.num_groups
    if groups == 1:
        y = _standardize(x, axes_from_mask(layer.axes, x.dim()), layer.epsilon)
        return y * scale + bias
    n, c = x.shape[0], x.shape[1]
    grouped = x.reshape(n, groups, -1)
    y = _standardize(grouped, [2], layer.epsilon)
    if layer.is_v2:
        return y.reshape(x.shape) * scale + bias
    per_group = y.reshape(n, groups, c // groups, *x.shape[2:])
    # Per-group scale/bias [1, G, 1, ...] against [N, G, C/G, ...].
    group_shape = (scale.shape[0], groups, *[1] * (x.dim() - 1))
    out = per_group * scale.reshape(group_shape) + bias.reshape(group_shape)
    return out.reshape(x.shape)


@handles("SOFTMAX")
def softmax(layer, inputs, ctx):
    x = inputs[0]
    axes = axes_from_mask(layer.axes, x.dim())
    if len(axes) != 1:
        raise ValueError(f"softmax needs exactly one axis, mask {layer.axes} selects {axes}")
    return torch.softmax(x.float(), dim=axes[0])


@handles("RAGGED_SOFTMAX")
def ragged_softmax(layer, inputs, ctx):
    """Softmax over the first bounds[z] entries of each sequence z; entries past it are 0.

    TensorRT wants a [1, Z, S] input and [1, Z, 1] bounds.
    """
    x, bounds = inputs
    x = x.float()
    valid = torch.arange(x.shape[-1]) < bounds.long()
    y = torch.softmax(x.masked_fill(~valid, float("-inf")), dim=-1)
    return torch.nan_to_num(y.masked_fill(~valid, 0.0))


@handles("LRN")
def lrn(layer, inputs, ctx):
    # Same parameters as ONNX LRN (the ONNX parser passes size/alpha/beta/bias through unchanged):
    # y = x / (k + alpha / window * sum over the channel window of x^2) ^ beta.
    x = inputs[0].float()
    return F.local_response_norm(x, layer.window_size, layer.alpha, layer.beta, layer.k)


@handles("SCALE")
def scale(layer, inputs, ctx):
    """(x * scale + shift) ^ power, coefficients per tensor, per channel or per element."""
    x = inputs[0].float()
    axis = normalize_axis(layer.channel_axis, x.dim())
    mode = layer.mode
    if mode == trt.ScaleMode.CHANNEL:
        shape = channel_shape(x.shape[axis], axis, x.dim())
    elif mode == trt.ScaleMode.ELEMENTWISE:
        shape = [1] * axis + list(x.shape[axis:])
    else:
        shape = [1] * x.dim()

    def coefficient(weights, default):
        value = weights_to_torch(weights).float()
        return value.reshape(shape) if value.numel() else torch.tensor(default)

    y = x * coefficient(layer.scale, 1.0) + coefficient(layer.shift, 0.0)
    power = coefficient(layer.power, 1.0)
    return y if bool((power == 1).all()) else torch.pow(y, power)
