"""CONVOLUTION and DECONVOLUTION against torch.nn.functional."""

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from layers.backend import trt
from reference_helpers import assert_close, rng

P = trt.PaddingMode
ROUND_DOWN, ROUND_UP = P.EXPLICIT_ROUND_DOWN, P.EXPLICIT_ROUND_UP
_CONV = {1: F.conv1d, 2: F.conv2d, 3: F.conv3d}
_DECONV = {1: F.conv_transpose1d, 2: F.conv_transpose2d, 3: F.conv_transpose3d}


def _pad_spec(pre, post):
    spec = []
    for b, a in zip(reversed(pre), reversed(post)):
        spec += [b, a]
    return spec


def _operands(seed, case, transposed):
    """x, weight and bias for a case: the weight is (out, in / groups, *kernel), or
    (in, out / groups, *kernel) when transposed."""
    nd, spatial, cin, cout, kernel, stride, dilation, groups, pre, post, mode = case
    r = rng(seed)
    x = r.standard_normal((2, cin, *spatial)).astype(np.float32)
    maps = (cin, cout // groups) if transposed else (cout, cin // groups)
    w = r.standard_normal((*maps, *kernel)).astype(np.float32)
    b = r.standard_normal(cout).astype(np.float32)
    return x, w, b


def _set_window(layer, stride, dilation, groups, pre, post, mode):
    """The attributes CONVOLUTION and DECONVOLUTION share."""
    layer.stride_nd = stride
    layer.dilation_nd = dilation
    layer.num_groups = groups
    layer.pre_padding = pre
    layer.post_padding = post
    layer.padding_mode = mode


def _same_padding(mode, size, dk, s):
    total = max((size - 1) // s * s + dk - size, 0)
    small = total // 2
    return (small, total - small) if mode == P.SAME_UPPER else (total - small, small)


CASES = [
    # nd, in_shape(spatial), cin, cout, kernel, stride, dilation, groups, pre, post, mode
    (2, (9, 8), 4, 6, (3, 3), (1, 1), (1, 1), 1, (1, 1), (1, 1), ROUND_DOWN),
    (2, (9, 8), 4, 6, (3, 2), (2, 3), (1, 1), 2, (0, 1), (2, 0), ROUND_DOWN),
    (2, (9, 8), 4, 4, (3, 3), (2, 2), (2, 1), 4, (1, 0), (0, 1), ROUND_UP),
    (2, (10, 7), 3, 5, (4, 3), (3, 2), (1, 2), 1, (0, 0), (0, 0), P.SAME_UPPER),
    (2, (10, 7), 3, 5, (4, 3), (3, 2), (1, 2), 1, (0, 0), (0, 0), P.SAME_LOWER),
    # TensorRT has no 1-D convolution (kernel rank must be 2 or 3): 1-D is a (1, k) 2-D kernel.
    (2, (1, 11), 2, 3, (1, 3), (1, 2), (1, 1), 1, (0, 1), (0, 2), ROUND_DOWN),
    (3, (5, 6, 4), 2, 4, (3, 2, 2), (1, 2, 1), (1, 1, 2), 2, (1, 0, 1), (1, 1, 0), ROUND_DOWN),
    (3, (5, 6, 4), 2, 3, (2, 3, 2), (2, 2, 2), (1, 1, 1), 1, (0, 0, 0), (0, 0, 0), P.SAME_UPPER),
]


def _conv_reference(x, w, b, stride, dilation, groups, pre, post, mode):
    nd = len(stride)
    dk = [1 + d * (k - 1) for d, k in zip(dilation, w.shape[2:])]
    if mode in (P.SAME_UPPER, P.SAME_LOWER):
        pairs = [_same_padding(mode, n, k, s) for n, k, s in zip(x.shape[2:], dk, stride)]
        pre, post = [p[0] for p in pairs], [p[1] for p in pairs]
        outs = [-(-n // s) for n, s in zip(x.shape[2:], stride)]
    else:
        spans = [n + b_ + a - k for n, b_, a, k in zip(x.shape[2:], pre, post, dk)]
        outs = [
            (-(-sp // s) if mode == P.EXPLICIT_ROUND_UP else sp // s) + 1
            for sp, s in zip(spans, stride)
        ]
        post = [
            max(a, (o - 1) * s + k - (n + b_))
            for a, o, s, k, n, b_ in zip(post, outs, stride, dk, x.shape[2:], pre)
        ]
    y = _CONV[nd](
        F.pad(x, _pad_spec(pre, post)), w, b, stride=stride, dilation=dilation, groups=groups
    )
    return y[(Ellipsis, *[slice(0, o) for o in outs])]


@pytest.mark.parametrize("case", CASES, ids=lambda c: f"{c[0]}d-{c[10].name}-g{c[7]}")
@pytest.mark.parametrize("kernel_as_input", [False, True])
def test_convolution(net, case, kernel_as_input):
    nd, spatial, cin, cout, kernel, stride, dilation, groups, pre, post, mode = case
    x, w, b = _operands(1, case, transposed=False)
    xt = net.input("x", x)
    if kernel_as_input:
        layer = net.network.add_convolution_nd(xt, cout, kernel, trt.Weights(), trt.Weights())
        layer.set_input(1, net.const(w))
        layer.set_input(2, net.const(b))
    else:
        layer = net.network.add_convolution_nd(xt, cout, kernel, net.weights(w), net.weights(b))
    _set_window(layer, stride, dilation, groups, pre, post, mode)
    expected = _conv_reference(
        torch.from_numpy(x),
        torch.from_numpy(w),
        torch.from_numpy(b),
        stride,
        dilation,
        groups,
        pre,
        post,
        mode,
    )
    assert_close(net.run(layer.get_output(0)), expected)


def test_convolution_symmetric_padding_nd_without_bias(net):
    r = rng(2)
    x = r.standard_normal((1, 3, 7, 7)).astype(np.float32)
    w = r.standard_normal((4, 3, 3, 3)).astype(np.float32)
    layer = net.network.add_convolution_nd(net.input("x", x), 4, (3, 3), net.weights(w))
    layer.padding_nd = (1, 2)
    expected = F.conv2d(torch.from_numpy(x), torch.from_numpy(w), padding=(1, 2))
    assert_close(net.run(layer.get_output(0)), expected)


DECONV_CASES = [
    # nd, spatial, cin, cout, kernel, stride, dilation, groups, pre, post, mode
    (2, (5, 4), 4, 6, (3, 3), (2, 2), (1, 1), 1, (1, 1), (1, 1), ROUND_DOWN),
    (2, (5, 4), 4, 6, (4, 3), (2, 3), (1, 1), 2, (1, 0), (2, 1), ROUND_UP),
    (2, (5, 4), 4, 4, (3, 3), (1, 2), (2, 1), 4, (0, 0), (0, 0), ROUND_DOWN),
    (2, (5, 4), 2, 3, (4, 4), (2, 2), (1, 1), 1, (0, 0), (0, 0), P.SAME_UPPER),
    (2, (5, 4), 2, 3, (3, 5), (2, 2), (1, 1), 1, (0, 0), (0, 0), P.SAME_LOWER),
    (2, (1, 6), 2, 2, (1, 3), (1, 3), (1, 1), 1, (0, 1), (0, 0), ROUND_DOWN),  # "1-D"
    (3, (3, 4, 3), 2, 4, (2, 3, 2), (2, 1, 2), (1, 1, 1), 2, (0, 1, 0), (1, 0, 0), ROUND_DOWN),
]


@pytest.mark.parametrize("case", DECONV_CASES, ids=lambda c: f"{c[0]}d-{c[10].name}-g{c[7]}")
def test_deconvolution(net, case):
    nd, spatial, cin, cout, kernel, stride, dilation, groups, pre, post, mode = case
    x, w, b = _operands(3, case, transposed=True)
    layer = net.network.add_deconvolution_nd(
        net.input("x", x), cout, kernel, net.weights(w), net.weights(b)
    )
    _set_window(layer, stride, dilation, groups, pre, post, mode)
    full = _DECONV[nd](
        torch.from_numpy(x),
        torch.from_numpy(w),
        None,
        stride=stride,
        dilation=dilation,
        groups=groups,
    )
    if mode in (P.SAME_UPPER, P.SAME_LOWER):
        dk = [1 + d * (k - 1) for d, k in zip(dilation, kernel)]
        totals = [max(k - s, 0) for k, s in zip(dk, stride)]
        if mode == P.SAME_UPPER:
            pre, post = [t // 2 for t in totals], [t - t // 2 for t in totals]
        else:
            pre, post = [t - t // 2 for t in totals], [t // 2 for t in totals]
    crop = tuple(slice(b_, n - a) for b_, a, n in zip(pre, post, full.shape[2:]))
    expected = full[(Ellipsis, *crop)] + torch.from_numpy(b).reshape(1, -1, *[1] * nd)
    assert_close(net.run(layer.get_output(0)), expected)
