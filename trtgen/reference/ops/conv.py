"""CONVOLUTION and DECONVOLUTION (1-D/2-D/3-D, groups, dilation, every PaddingMode)."""

import torch.nn.functional as F

from ..registry import handles
from ..weights import weights_to_torch
from ._util import dims
from ._window import deconv_padding, forward_padding

_CONV = {1: F.conv1d, 2: F.conv2d, 3: F.conv3d}
_DECONV = {1: F.conv_transpose1d, 2: F.conv_transpose2d, 3: F.conv_transpose3d}


def _torch_pad(pre, post):
    """F.pad order: last dimension first; negative amounts crop."""
    out = []
    for b, a in zip(reversed(pre), reversed(post)):
        out += [b, a]
    return out


def _kernel_and_bias(layer, inputs, kernel_shape):
    """Kernel/bias come from Weights, or from inputs 1/2 when those are set."""
    if len(inputs) > 1 and inputs[1] is not None:
        kernel = inputs[1].float().reshape(kernel_shape)
    else:
        kernel = weights_to_torch(layer.kernel).float().reshape(kernel_shape)
    if len(inputs) > 2 and inputs[2] is not None:
        bias = inputs[2].float().reshape(-1)
    else:
        bias = weights_to_torch(layer.bias).float().reshape(-1)
    return kernel, (bias if bias.numel() else None)


def _batched(x, nd):
    """Collapse leading dims so x is (N, C, *spatial); returns (x, leading shape)."""
    lead = tuple(x.shape[: x.dim() - nd - 1])
    return x.reshape(-1, *x.shape[x.dim() - nd - 1 :]), lead


def _operands(layer, inputs, transposed):
    """What both layers read: x as (N, C, *spatial), its leading dims, kernel, bias, stride,
    dilation and the dilated window extent."""
    window = dims(layer.kernel_size_nd)
    x, lead = _batched(inputs[0].float(), len(window))
    groups, k_out, channels = layer.num_groups, layer.num_output_maps, x.shape[1]
    # Deconvolution kernels are CKRS: (in channels, out channels per group, *window), like torch.
    maps = (channels, k_out // groups) if transposed else (k_out, channels // groups)
    kernel, bias = _kernel_and_bias(layer, inputs, (*maps, *window))
    stride, dilation = dims(layer.stride_nd), dims(layer.dilation_nd)
    dilated = [1 + d * (f - 1) for d, f in zip(dilation, window)]
    return x, lead, kernel, bias, stride, dilation, dilated


@handles("CONVOLUTION")
def convolution(layer, inputs, ctx):
    x, lead, kernel, bias, stride, dilation, dilated = _operands(layer, inputs, False)
    spatial = x.shape[2:]
    pre, post, outs = forward_padding(
        layer.padding_mode,
        spatial,
        dilated,
        stride,
        dims(layer.pre_padding),
        dims(layer.post_padding),
    )
    # EXPLICIT_ROUND_UP may place the last window partly past the padded input: extend with zeros.
    post = [
        max(a, (o - 1) * s + dk - (i + b))
        for a, o, s, dk, i, b in zip(post, outs, stride, dilated, spatial, pre)
    ]
    x = F.pad(x, _torch_pad(pre, post))
    conv = _CONV[len(stride)]
    y = conv(x, kernel, bias, stride=stride, dilation=dilation, groups=layer.num_groups)
    y = y[(Ellipsis, *[slice(0, o) for o in outs])]
    return y.reshape(*lead, *y.shape[1:])


@handles("DECONVOLUTION")
def deconvolution(layer, inputs, ctx):
    x, lead, kernel, bias, stride, dilation, dilated = _operands(layer, inputs, True)
    nd = len(stride)
    pre, post = deconv_padding(
        layer.padding_mode, dilated, stride, dims(layer.pre_padding), dims(layer.post_padding)
    )
    y = _DECONV[nd](x, kernel, None, stride=stride, dilation=dilation, groups=layer.num_groups)
    y = F.pad(y, _torch_pad([-b for b in pre], [-a for a in post]))  # padding crops the full result
    if bias is not None:
        y = y + bias.reshape(1, -1, *([1] * nd))
    return y.reshape(*lead, *y.shape[1:])
