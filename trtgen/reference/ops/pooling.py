"""POOLING (MAX, AVERAGE, MAX_AVERAGE_BLEND; 1-D/2-D/3-D; every PaddingMode).

Max pooling pads with -inf. Average pooling divides by the window's overlap with the padded
input, or with the unpadded input when ``average_count_excludes_padding`` (default True).
Window positions past the padded input (EXPLICIT_ROUND_UP) count for neither.
"""

import math

import torch
import torch.nn.functional as F

from layers.backend import trt

from ..registry import handles
from ._util import dims
from ._window import forward_padding

_MAX = {1: F.max_pool1d, 2: F.max_pool2d, 3: F.max_pool3d}
_AVG = {1: F.avg_pool1d, 2: F.avg_pool2d, 3: F.avg_pool3d}


def _pad(x, pre, post, value):
    spec = []
    for b, a in zip(reversed(pre), reversed(post)):
        spec += [b, a]
    return F.pad(x, spec, value=value)


def _window_sum(x, window, stride):
    return _AVG[len(window)](x, window, stride) * math.prod(window)


@handles("POOLING")
def pooling(layer, inputs, ctx):
    x = inputs[0].float()
    window, stride = dims(layer.window_size_nd), dims(layer.stride_nd)
    nd = len(window)
    lead = x.shape[: x.dim() - nd]
    spatial = x.shape[x.dim() - nd :]
    x = x.reshape(-1, 1, *spatial)  # pooling is per channel: fold everything else into batch
    pre, post, outs = forward_padding(
        layer.padding_mode,
        spatial,
        window,
        stride,
        dims(layer.pre_padding),
        dims(layer.post_padding),
    )
    # Windows that run past the padded input (ceil mode) need extra room, which counts for nothing.
    extra = [
        max(0, (o - 1) * s + f - (i + b + a))
        for o, s, f, i, b, a in zip(outs, stride, window, spatial, pre, post)
    ]
    post_extra = [a + e for a, e in zip(post, extra)]
    crop = (Ellipsis, *[slice(0, o) for o in outs])

    def max_pool():
        return _MAX[nd](_pad(x, pre, post_extra, float("-inf")), window, stride)[crop]

    def avg_pool():
        total = _window_sum(_pad(x, pre, post_extra, 0.0), window, stride)[crop]
        if layer.average_count_excludes_padding:  # count real input elements only
            ones = _pad(torch.ones_like(x), pre, post_extra, 0.0)
        else:  # count the padded input, not the extra room
            padded_size = [i + b + a for i, b, a in zip(spatial, pre, post)]
            ones = _pad(torch.ones(1, 1, *padded_size), [0] * nd, extra, 0.0)
        return total / _window_sum(ones, window, stride)[crop]

    kind = layer.type  # on the downcast IPoolingLayer, ``type`` is the PoolingType
    if kind == trt.PoolingType.MAX:
        y = max_pool()
    elif kind == trt.PoolingType.AVERAGE:
        y = avg_pool()
    else:
        blend = layer.blend_factor
        y = (1 - blend) * max_pool() + blend * avg_pool()
    return y.reshape(*lead, *y.shape[2:])
