"""SLICE: static/dynamic start, size, stride, axes, and every SampleMode (against np.pad)."""

import numpy as np
import pytest

from layers.backend import trt
from reference_helpers import assert_close, rng

S = trt.SampleMode
X = rng(14).standard_normal((3, 5, 6)).astype(np.float32)


def _slice(net, x, start, size, stride, mode=S.STRICT_BOUNDS):
    layer = net.network.add_slice(net.input("x", x), start, size, stride)
    layer.mode = mode
    return layer


@pytest.mark.parametrize(
    "start,size,stride,expected",
    [
        ((0, 1, 2), (3, 2, 2), (1, 1, 2), lambda x: x[:, 1:3, 2:6:2]),
        ((2, 4, 5), (3, 5, 6), (-1, -1, -1), lambda x: x[::-1, ::-1, ::-1]),
        ((1, 0, 0), (2, 5, 3), (1, 1, 2), lambda x: x[1:3, :, 0:6:2]),
        ((0, 2, 3), (3, 2, 2), (1, 0, 1), lambda x: np.repeat(x[:, 2:3, 3:5], 2, axis=1)),
    ],
)
def test_strict_bounds(net, start, size, stride, expected):
    out = net.run(_slice(net, X, start, size, stride).get_output(0))
    assert_close(out, expected(X))


@pytest.mark.parametrize(
    "mode,np_mode",
    [(S.CLAMP, "edge"), (S.REFLECT, "reflect"), (S.WRAP, "wrap"), (S.FILL, "constant")],
)
def test_out_of_bounds_modes_match_np_pad(net, mode, np_mode):
    # Start 3 elements early and read 3 past the end on the last two axes.
    x = X
    layer = _slice(net, x, (0, -3, -3), (3, 5 + 6, 6 + 6), (1, 1, 1), mode)
    padded = np.pad(x, ((0, 0), (3, 3), (3, 3)), mode=np_mode)
    assert_close(net.run(layer.get_output(0)), padded)


def test_fill_value_input(net):
    x = X[:1, :2, :3]
    layer = _slice(net, x, (0, 0, -1), (1, 2, 5), (1, 1, 1), S.FILL)
    layer.set_input(4, net.const(np.array(2.5, np.float32)))
    expected = np.pad(x, ((0, 0), (0, 0), (1, 1)), constant_values=2.5)
    assert_close(net.run(layer.get_output(0)), expected)


@pytest.mark.parametrize("mode", [S.CLAMP, S.REFLECT, S.WRAP, S.FILL])
def test_modes_with_strides(net, mode):
    x = np.arange(7, dtype=np.float32).reshape(1, 7)
    layer = _slice(net, x, (0, -5), (1, 9), (1, 2), mode)
    coords = -5 + 2 * np.arange(9)
    d = 7
    if mode == S.CLAMP:
        idx, ok = np.clip(coords, 0, d - 1), np.ones(9, bool)
    elif mode == S.WRAP:
        idx, ok = np.mod(coords, d), np.ones(9, bool)
    elif mode == S.REFLECT:
        c = np.mod(np.abs(coords), 2 * d - 2)
        idx, ok = np.where(c >= d, 2 * d - 2 - c, c), np.ones(9, bool)
    else:
        idx, ok = np.clip(coords, 0, d - 1), (coords >= 0) & (coords < d)
    expected = np.where(ok, x[0, idx], 0.0)[None]
    assert_close(net.run(layer.get_output(0)), expected)


def test_dynamic_start_size_stride(net):
    layer = net.network.add_slice(net.input("x", X), (0, 0, 0), (1, 1, 1), (1, 1, 1))
    layer.set_input(1, net.const(np.array([1, 0, 1], np.int64)))
    layer.set_input(2, net.const(np.array([2, 3, 2], np.int32)))
    layer.set_input(3, net.const(np.array([1, 2, 3], np.int64)))
    assert_close(net.run(layer.get_output(0)), X[1:3, 0:6:2, 1:6:3])


def test_axes_static_and_dynamic(net):
    static = net.network.add_slice(net.input("x", X), (1,), (3,), (2,))
    static.axes = (-1,)
    dynamic = net.network.add_slice(net.network.get_input(0), (0,), (1,), (1,))
    dynamic.set_input(1, net.const(np.array([4, 1], np.int64)))
    dynamic.set_input(2, net.const(np.array([2, 2], np.int64)))
    dynamic.set_input(3, net.const(np.array([-2, 1], np.int64)))
    dynamic.set_input(5, net.const(np.array([1, 0], np.int64)))
    a, b = net.run(static.get_output(0), dynamic.get_output(0))
    assert_close(a, X[:, :, 1:6:2])
    assert_close(b, X[1:3, 4:0:-2, :])


def test_shape_tensor_slice(net):
    shape = net.network.add_shape(net.input("x", X)).get_output(0)
    layer = net.network.add_slice(shape, (1,), (2,), (1,))
    assert_close(net.run(layer.get_output(0)), np.array([5, 6], np.int64))
