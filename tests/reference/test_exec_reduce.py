"""REDUCE (axes bitmasks, keep_dims, every op), TOPK and CUMULATIVE."""

import numpy as np
import pytest
import torch

from layers.backend import trt
from reference_helpers import assert_close, rng

R = trt.ReduceOperation
X = rng(19).uniform(0.5, 1.5, (2, 3, 4, 5)).astype(np.float32)

NP_REDUCE = {"SUM": np.sum, "PROD": np.prod, "MAX": np.max, "MIN": np.min, "AVG": np.mean}


@pytest.mark.parametrize("op", sorted(NP_REDUCE))
@pytest.mark.parametrize("mask", [0b0001, 0b0110, 0b1000, 0b1111, 0b1010])
@pytest.mark.parametrize("keep", [True, False])
def test_reduce(net, op, mask, keep):
    layer = net.network.add_reduce(net.input("x", X), getattr(R, op), mask, keep)
    axes = tuple(d for d in range(4) if mask >> d & 1)
    expected = NP_REDUCE[op](X.astype(np.float64), axis=axes, keepdims=keep)
    assert_close(net.run(layer.get_output(0)), expected)


def test_reduce_int(net):
    x = np.arange(24, dtype=np.int32).reshape(2, 3, 4)
    s = net.network.add_reduce(net.input("x", x), R.SUM, 0b100, False).get_output(0)
    m = net.network.add_reduce(net.network.get_input(0), R.MAX, 0b011, True).get_output(0)
    sv, mv = net.run(s, m)
    assert sv.dtype == torch.int32
    assert_close(sv, x.sum(2))
    assert_close(mv, x.max((0, 1), keepdims=True))


@pytest.mark.parametrize("op", [trt.TopKOperation.MAX, trt.TopKOperation.MIN])
@pytest.mark.parametrize("axis", [1, 3])
def test_topk(net, op, axis):
    x = rng(20).permutation(120).astype(np.float32).reshape(2, 3, 4, 5)
    layer = net.network.add_topk(net.input("x", x), op, 2, 1 << axis)
    values, indices = net.run(layer.get_output(0), layer.get_output(1))
    order = np.argsort(-x if op == trt.TopKOperation.MAX else x, axis=axis, kind="stable")
    expected_idx = np.take(order, [0, 1], axis=axis)
    assert indices.dtype == torch.int32  # default indices type
    assert_close(indices, expected_idx.astype(np.int32))
    assert_close(values, np.take_along_axis(x, expected_idx, axis=axis))


def test_topk_int64_indices_and_dynamic_k(net):
    x = np.array([[3.0, 1.0, 4.0, 1.5, 5.0]], np.float32)
    layer = net.network.add_topk(net.input("x", x), trt.TopKOperation.MAX, 1, 0b10, trt.int64)
    layer.set_input(1, net.const(np.array(3, np.int32)))
    values, indices = net.run(layer.get_output(0), layer.get_output(1))
    assert indices.dtype == torch.int64
    assert_close(values, np.array([[5.0, 4.0, 3.0]], np.float32))
    assert_close(indices, np.array([[4, 2, 0]]))


@pytest.mark.parametrize("exclusive", [False, True])
@pytest.mark.parametrize("reverse", [False, True])
@pytest.mark.parametrize("axis", [0, 1])
def test_cumulative(net, exclusive, reverse, axis):
    x = rng(21).standard_normal((3, 4)).astype(np.float32)
    layer = net.network.add_cumulative(
        net.input("x", x),
        net.const(np.array(axis, np.int32)),
        trt.CumulativeOperation.SUM,
        exclusive,
        reverse,
    )
    xs = np.flip(x, axis) if reverse else x
    c = np.cumsum(xs, axis=axis)
    if exclusive:
        c = c - xs
    expected = np.flip(c, axis) if reverse else c
    assert_close(net.run(layer.get_output(0)), expected)
