"""CONSTANT, IDENTITY, CAST, SHAPE, CONCATENATION (axis set explicitly), PADDING."""

import numpy as np
import pytest
import torch

from layers.backend import trt
from reference_helpers import assert_close, rng


@pytest.mark.parametrize("dtype", [np.float32, np.float16, np.int8, np.int32, np.int64])
def test_constant(net, dtype):
    value = (rng(15).standard_normal((2, 3)) * 10).astype(dtype)
    out = execute_const(net, value)
    assert out.dtype == torch.from_numpy(value).dtype
    assert_close(out, value)


def execute_const(net, value):
    tensor = net.const(value)
    return net.run(tensor)


def test_scalar_constant(net):
    assert_close(execute_const(net, np.array(3.5, np.float32)), np.array(3.5, np.float32))


@pytest.mark.parametrize(
    "src,dst,values,expected",
    [
        (np.float32, trt.int32, [1.7, -1.7, 2.5, -0.2], [1, -1, 2, 0]),  # truncation toward zero
        (np.float32, trt.bool, [0.0, -0.5, 2.0, 0.0], [False, True, True, False]),
        (np.int32, trt.float32, [3, -4, 0, 7], [3.0, -4.0, 0.0, 7.0]),
        (np.bool_, trt.int64, [True, False, True, True], [1, 0, 1, 1]),
        (np.int64, trt.int8, [1, -128, 127, 5], [1, -128, 127, 5]),
        (np.float32, trt.bfloat16, [1.00390625, 3.0, -2.2, 1e-3], None),
    ],
)
def test_cast(net, src, dst, values, expected):
    x = np.array(values, src)
    out = net.run(net.network.add_cast(net.input("x", x), dst).get_output(0))
    if expected is None:
        expected = torch.tensor(values, dtype=torch.float32).to(torch.bfloat16)
        assert out.dtype == torch.bfloat16
        assert torch.equal(out, expected)
    else:
        assert_close(out, np.array(expected))


def test_identity_keeps_values(net):
    x = rng(16).standard_normal((2, 2)).astype(np.float32)
    assert_close(net.run(net.network.add_identity(net.input("x", x)).get_output(0)), x)


def test_shape(net):
    out = net.run(
        net.network.add_shape(net.input("x", np.zeros((2, 3, 5), np.float32))).get_output(0)
    )
    assert out.dtype == torch.int64
    assert_close(out, np.array([2, 3, 5]))


@pytest.mark.parametrize("axis", [0, 1, 2])
def test_concatenation(net, axis):
    r = rng(17)
    shapes = [[2, 3, 4], [2, 3, 4], [2, 3, 4]]
    for i, s in enumerate(shapes):
        s[axis] += i
    arrays = [r.standard_normal(s).astype(np.float32) for s in shapes]
    layer = net.network.add_concatenation([net.input(f"x{i}", a) for i, a in enumerate(arrays)])
    layer.axis = axis
    assert_close(net.run(layer.get_output(0)), np.concatenate(arrays, axis))


def test_concatenation_default_axis_is_rank_minus_three(net):
    a = np.zeros((1, 2, 3, 4), np.float32)
    layer = net.network.add_concatenation([net.input("a", a), net.input("b", a + 1)])
    assert layer.axis == 1
    assert_close(net.run(layer.get_output(0)), np.concatenate([a, a + 1], 1))


@pytest.mark.parametrize("pre,post", [((1, 2), (0, 3)), ((0, 0), (2, 1)), ((-1, 1), (1, -2))])
def test_padding(net, pre, post):
    x = rng(18).standard_normal((1, 2, 4, 5)).astype(np.float32)
    layer = net.network.add_padding_nd(net.input("x", x), pre, post)
    expected = torch.nn.functional.pad(torch.from_numpy(x), [pre[1], post[1], pre[0], post[0]])
    assert_close(net.run(layer.get_output(0)), expected)
