"""GATHER (DEFAULT / ELEMENT / ND, num_elementwise_dims), SCATTER (ELEMENT / ND), ONE_HOT,
NON_ZERO; reference formulations follow the ONNX operators they mirror."""

import numpy as np
import pytest
import torch

from layers.backend import trt
from reference_helpers import assert_close, rng

G = trt.GatherMode
DATA = rng(36).standard_normal((3, 4, 5)).astype(np.float32)


@pytest.mark.parametrize("axis", [0, 1, 2])
@pytest.mark.parametrize("index_shape", [(), (2,), (2, 3)])
def test_gather_default(net, axis, index_shape):
    idx = rng(37).integers(-DATA.shape[axis], DATA.shape[axis], index_shape).astype(np.int32)
    layer = net.network.add_gather(net.input("d", DATA), net.input("i", idx), axis)
    assert_close(net.run(layer.get_output(0)), np.take(DATA, idx, axis=axis))


def test_gather_default_elementwise_dim(net):
    idx = np.array([[0, 3], [1, 1], [2, 0]], np.int64)  # one index row per batch item
    layer = net.network.add_gather_v2(net.input("d", DATA), net.input("i", idx), G.DEFAULT)
    layer.axis = 1
    layer.num_elementwise_dims = 1
    expected = np.stack([np.take(DATA[b], idx[b], axis=0) for b in range(3)])
    assert_close(net.run(layer.get_output(0)), expected)


@pytest.mark.parametrize("axis", [0, 2])
def test_gather_element(net, axis):
    idx = (
        rng(38)
        .integers(0, DATA.shape[axis], (3, 2, 5) if axis == 0 else (3, 4, 3))
        .astype(np.int32)
    )
    layer = net.network.add_gather_v2(net.input("d", DATA), net.input("i", idx), G.ELEMENT)
    layer.axis = axis
    coords = list(np.indices(idx.shape))
    coords[axis] = idx  # output[J] = data[J with J[axis] replaced by indices[J]]
    assert_close(net.run(layer.get_output(0)), DATA[tuple(coords)])


@pytest.mark.parametrize(
    "indices,batch_dims",
    [
        (np.array([[0, 1], [2, 3]], np.int32), 0),
        (np.array([[1], [0]], np.int64), 0),
        (np.array([[[0, 1, 2]], [[2, 3, 4]]], np.int32), 0),
        (np.array([[1, 2], [3, 0], [0, 0]], np.int32), 1),
    ],
)
def test_gather_nd(net, indices, batch_dims):
    layer = net.network.add_gather_v2(net.input("d", DATA), net.input("i", indices), G.ND)
    layer.num_elementwise_dims = batch_dims
    if batch_dims == 0:
        expected = np.stack([DATA[tuple(ix)] for ix in indices.reshape(-1, indices.shape[-1])])
        expected = expected.reshape(*indices.shape[:-1], *DATA.shape[indices.shape[-1] :])
    else:
        expected = np.stack([DATA[b][tuple(indices[b])] for b in range(3)])
    assert_close(net.run(layer.get_output(0)), expected)


def test_scatter_element(net):
    data = np.zeros((3, 4), np.float32)
    idx = np.array([[1, 0, 2, 0], [2, 1, 0, 1]], np.int32)
    updates = rng(39).standard_normal((2, 4)).astype(np.float32)
    layer = net.network.add_scatter(
        net.input("d", data), net.input("i", idx), net.input("u", updates), trt.ScatterMode.ELEMENT
    )
    layer.axis = 0
    expected = data.copy()
    for j in range(2):
        for k in range(4):
            expected[idx[j, k], k] = updates[j, k]
    assert_close(net.run(layer.get_output(0)), expected)


def test_scatter_nd(net):
    data = rng(40).standard_normal((4, 3, 2)).astype(np.float32)
    idx = np.array([[3], [1]], np.int64)
    updates = rng(41).standard_normal((2, 3, 2)).astype(np.float32)
    layer = net.network.add_scatter(
        net.input("d", data), net.input("i", idx), net.input("u", updates), trt.ScatterMode.ND
    )
    expected = data.copy()
    expected[3], expected[1] = updates[0], updates[1]
    assert_close(net.run(layer.get_output(0)), expected)


@pytest.mark.parametrize("axis", [-1, 0, 1])
def test_one_hot(net, axis):
    idx = np.array([[0, 2], [1, 3]], np.int32)
    values = np.array([-1.0, 5.0], np.float32)
    layer = net.network.add_one_hot(
        net.input("i", idx), net.const(values), net.const(np.array(4, np.int32)), axis
    )
    onehot = np.where(np.eye(4)[idx] > 0, 5.0, -1.0).astype(np.float32)  # one-hot on the last axis
    expected = np.moveaxis(onehot, -1, axis)
    assert_close(net.run(layer.get_output(0)), expected)


def test_non_zero(net):
    x = np.array([[0.0, 1.5, 0.0], [2.0, 0.0, -3.0]], np.float32)
    layer = net.network.add_non_zero(net.input("x", x))
    out = net.run(layer.get_output(0))
    assert out.dtype == torch.int32
    assert_close(out, np.stack(np.nonzero(x)).astype(np.int32))
