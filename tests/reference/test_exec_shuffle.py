"""SHUFFLE (first transpose, reshape with 0/-1, zero_is_placeholder, second transpose, dynamic
reshape input), SQUEEZE and UNSQUEEZE."""

import numpy as np
import pytest

from reference_helpers import assert_close, rng

X = rng(11).standard_normal((2, 3, 4, 5)).astype(np.float32)


@pytest.mark.parametrize(
    "first,reshape,second,expected",
    [
        ((0, 2, 1, 3), None, None, lambda x: x.transpose(0, 2, 1, 3)),
        (None, (0, -1, 5), None, lambda x: x.reshape(2, 12, 5)),
        (None, (0, 0, -1), None, lambda x: x.reshape(2, 3, 20)),
        ((3, 2, 1, 0), (5, -1), (1, 0), lambda x: x.transpose(3, 2, 1, 0).reshape(5, 24).T),
        (None, (2, 3, 20), (2, 0, 1), lambda x: x.reshape(2, 3, 20).transpose(2, 0, 1)),
        (None, (), None, None),
    ],
)
def test_shuffle(net, first, reshape, second, expected):
    x = X if reshape != () else np.array([[[[7.0]]]], np.float32)
    layer = net.network.add_shuffle(net.input("x", x))
    if first is not None:
        layer.first_transpose = first
    if reshape is not None:
        layer.reshape_dims = reshape
    if second is not None:
        layer.second_transpose = second
    out = net.run(layer.get_output(0))
    assert_close(out, expected(x) if expected else np.array(7.0, np.float32))


def test_zero_is_not_placeholder(net):
    layer = net.network.add_shuffle(net.input("x", np.zeros((2, 0, 3), np.float32)))
    layer.zero_is_placeholder = False
    layer.reshape_dims = (0, 6)
    assert tuple(net.run(layer.get_output(0)).shape) == (0, 6)


def test_dynamic_reshape_input(net):
    layer = net.network.add_shuffle(net.input("x", X))
    layer.set_input(1, net.const(np.array([4, 0, -1], np.int64)))
    layer.zero_is_placeholder = True
    assert_close(net.run(layer.get_output(0)), X.reshape(4, 3, 10))


def test_squeeze_with_axes(net):
    x = rng(12).standard_normal((1, 3, 1, 2)).astype(np.float32)
    layer = net.network.add_squeeze(net.input("x", x), net.const(np.array([0, -2], np.int64)))
    assert_close(net.run(layer.get_output(0)), x.reshape(3, 2))


def test_squeeze_without_axes(net):
    x = rng(12).standard_normal((1, 3, 1, 2)).astype(np.float32)
    layer = net.network.add_squeeze(net.input("x", x))
    assert_close(net.run(layer.get_output(0)), x.reshape(3, 2))


@pytest.mark.parametrize(
    "axes,shape",
    [([0], (1, 3, 2)), ([-1], (3, 2, 1)), ([1, 3], (3, 1, 2, 1)), ([0, -1], (1, 3, 2, 1))],
)
def test_unsqueeze(net, axes, shape):
    x = rng(13).standard_normal((3, 2)).astype(np.float32)
    layer = net.network.add_unsqueeze(net.input("x", x), net.const(np.array(axes, np.int64)))
    assert_close(net.run(layer.get_output(0)), x.reshape(shape))
