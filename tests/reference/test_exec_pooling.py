"""POOLING against torch max/avg pooling (padding via F.pad, ceil_mode, count_include_pad)."""

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from layers.backend import trt
from reference_helpers import assert_close, rng

P = trt.PaddingMode
_MAX = {2: F.max_pool2d, 3: F.max_pool3d}
_AVG = {2: F.avg_pool2d, 3: F.avg_pool3d}


def _make(net, x, kind, window, stride, pre, post, mode, exclude=True):
    layer = net.network.add_pooling_nd(net.input("x", x), kind, window)
    layer.stride_nd = stride
    layer.pre_padding = pre
    layer.post_padding = post
    layer.padding_mode = mode
    layer.average_count_excludes_padding = exclude
    return layer


SYMMETRIC = [
    # window, stride, padding, ceil
    ((3, 3), (2, 2), (1, 1), False),
    ((3, 3), (2, 2), (1, 1), True),
    ((2, 3), (2, 1), (0, 1), True),
    # (TensorRT keeps a ceil-mode window that starts in the post padding; torch drops it, so the
    # cases here avoid that.)
    ((3, 2), (3, 2), (0, 0), True),
    ((3, 3, 2), (2, 2, 1), (1, 0, 1), True),
]


@pytest.mark.parametrize("window,stride,padding,ceil", SYMMETRIC)
@pytest.mark.parametrize("kind", ["max", "avg_exclude", "avg_include"])
def test_pooling_matches_torch(net, window, stride, padding, ceil, kind):
    nd = len(window)
    x = rng(4).standard_normal((2, 3, 9, 8, 7)[: 2 + nd]).astype(np.float32)
    mode = P.EXPLICIT_ROUND_UP if ceil else P.EXPLICIT_ROUND_DOWN
    trt_kind = trt.PoolingType.MAX if kind == "max" else trt.PoolingType.AVERAGE
    layer = _make(
        net, x, trt_kind, window, stride, padding, padding, mode, exclude=kind != "avg_include"
    )
    xt = torch.from_numpy(x)
    if kind == "max":
        expected = _MAX[nd](xt, window, stride, padding, ceil_mode=ceil)
    else:
        expected = _AVG[nd](
            xt, window, stride, padding, ceil_mode=ceil, count_include_pad=kind == "avg_include"
        )
    assert_close(net.run(layer.get_output(0)), expected)


@pytest.mark.parametrize("mode", [P.SAME_UPPER, P.SAME_LOWER])
@pytest.mark.parametrize("kind", [trt.PoolingType.MAX, trt.PoolingType.AVERAGE])
def test_pooling_same_modes(net, mode, kind):
    x = rng(5).standard_normal((1, 2, 7, 6)).astype(np.float32)
    window, stride = (4, 3), (2, 2)
    layer = _make(net, x, kind, window, stride, (0, 0), (0, 0), mode)
    pre, post = [], []
    for n, f, s in zip(x.shape[2:], window, stride):
        total = max((n - 1) // s * s + f - n, 0)
        small = total // 2
        b, a = (small, total - small) if mode == P.SAME_UPPER else (total - small, small)
        pre.append(b)
        post.append(a)
    spec = [pre[1], post[1], pre[0], post[0]]
    xt = torch.from_numpy(x)
    if kind == trt.PoolingType.MAX:
        expected = F.max_pool2d(F.pad(xt, spec, value=float("-inf")), window, stride)
    else:
        sums = F.avg_pool2d(F.pad(xt, spec), window, stride) * 12
        counts = F.avg_pool2d(F.pad(torch.ones_like(xt), spec), window, stride) * 12
        expected = sums / counts
    assert tuple(expected.shape[2:]) == (4, 3)  # ceil(I / S)
    assert_close(net.run(layer.get_output(0)), expected)


def test_asymmetric_explicit_padding_average_include(net):
    x = rng(6).standard_normal((1, 2, 6, 6)).astype(np.float32)
    layer = _make(
        net,
        x,
        trt.PoolingType.AVERAGE,
        (3, 3),
        (2, 2),
        (2, 0),
        (0, 1),
        P.EXPLICIT_ROUND_DOWN,
        exclude=False,
    )
    padded = F.pad(torch.from_numpy(x), [0, 1, 2, 0])
    assert_close(net.run(layer.get_output(0)), F.avg_pool2d(padded, 3, 2))


def test_max_average_blend(net):
    x = rng(7).standard_normal((1, 2, 6, 6)).astype(np.float32)
    layer = _make(
        net,
        x,
        trt.PoolingType.MAX_AVERAGE_BLEND,
        (2, 2),
        (2, 2),
        (0, 0),
        (0, 0),
        P.EXPLICIT_ROUND_DOWN,
    )
    layer.blend_factor = 0.25
    xt = torch.from_numpy(x)
    expected = 0.75 * F.max_pool2d(xt, 2) + 0.25 * F.avg_pool2d(xt, 2)
    assert_close(net.run(layer.get_output(0)), expected)


def test_default_average_excludes_padding(net):
    x = net.input("x", np.ones((1, 1, 4, 4), np.float32))
    layer = net.network.add_pooling_nd(x, trt.PoolingType.AVERAGE, (3, 3))
    assert layer.average_count_excludes_padding  # documented default: True
    layer.padding_nd = (1, 1)
    assert_close(net.run(layer.get_output(0)), np.ones((1, 1, 4, 4), np.float32))
