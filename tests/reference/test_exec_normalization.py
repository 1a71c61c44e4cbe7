"""NORMALIZATION (layer, instance, group norm; v1 and v2), SOFTMAX, RAGGED_SOFTMAX, LRN, SCALE."""

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from layers.backend import trt
from reference_helpers import assert_close, rng


def _normalization(net, seed, shape, affine_shape, axes, v2=True):
    """A NORMALIZATION layer (v2 or v1) on random x, gamma, beta: returns x, gamma, beta, layer."""
    r = rng(seed)
    x = r.standard_normal(shape).astype(np.float32)
    gamma = r.standard_normal(affine_shape).astype(np.float32)
    beta = r.standard_normal(affine_shape).astype(np.float32)
    add = net.network.add_normalization_v2 if v2 else net.network.add_normalization
    layer = add(net.input("x", x), net.const(gamma), net.const(beta), axes)
    return x, gamma, beta, layer


def test_layer_norm(net):
    x, gamma, beta, layer = _normalization(net, 24, (2, 5, 8), (1, 1, 8), 1 << 2)
    layer.epsilon = 1e-3
    expected = F.layer_norm(
        torch.from_numpy(x),
        (8,),
        torch.from_numpy(gamma.reshape(8)),
        torch.from_numpy(beta.reshape(8)),
        eps=1e-3,
    )
    assert_close(net.run(layer.get_output(0)), expected)


def test_layer_norm_two_axes(net):
    x, gamma, beta, layer = _normalization(net, 25, (2, 3, 4, 5), (1, 1, 4, 5), 0b1100)
    expected = F.layer_norm(
        torch.from_numpy(x), (4, 5), torch.from_numpy(gamma[0, 0]), torch.from_numpy(beta[0, 0])
    )
    assert_close(net.run(layer.get_output(0)), expected)


@pytest.mark.parametrize("v2", [False, True])
def test_instance_norm(net, v2):
    x, gamma, beta, layer = _normalization(net, 26, (2, 3, 4, 5), (1, 3, 1, 1), 0b1100, v2)
    expected = F.instance_norm(
        torch.from_numpy(x),
        weight=torch.from_numpy(gamma.reshape(3)),
        bias=torch.from_numpy(beta.reshape(3)),
    )
    assert_close(net.run(layer.get_output(0)), expected)


def test_group_norm_v2_per_channel_affine(net):
    x, gamma, beta, layer = _normalization(net, 27, (2, 6, 4, 3), (1, 6, 1, 1), 0b1100)
    layer.num_groups = 3
    layer.epsilon = 1e-4
    expected = F.group_norm(
        torch.from_numpy(x),
        3,
        torch.from_numpy(gamma.reshape(6)),
        torch.from_numpy(beta.reshape(6)),
        eps=1e-4,
    )
    assert_close(net.run(layer.get_output(0)), expected)


def test_group_norm_v1_per_group_affine(net):
    x, gamma, beta, layer = _normalization(net, 28, (2, 6, 4, 3), (1, 3, 1, 1), 0b1100, v2=False)
    layer.num_groups = 3
    normalized = F.group_norm(torch.from_numpy(x), 3, eps=1e-5)
    expected = normalized * torch.from_numpy(gamma).repeat_interleave(2, 1) + torch.from_numpy(
        beta
    ).repeat_interleave(2, 1)
    assert_close(net.run(layer.get_output(0)), expected)


def test_fp16_layer_norm(net):
    r = rng(29)
    x = r.standard_normal((2, 8)).astype(np.float16)
    gamma = np.ones((1, 8), np.float16)
    beta = np.zeros((1, 8), np.float16)
    layer = net.network.add_normalization_v2(
        net.input("x", x), net.const(gamma), net.const(beta), 0b10
    )
    out = net.run(layer.get_output(0))
    assert out.dtype == torch.float16
    assert_close(out, F.layer_norm(torch.from_numpy(x).float(), (8,)).half(), tol=1e-3)


@pytest.mark.parametrize("axis", [0, 1, 2, 3])
def test_softmax(net, axis):
    x = rng(30).standard_normal((2, 3, 4, 5)).astype(np.float32)
    layer = net.network.add_softmax(net.input("x", x))
    layer.axes = 1 << axis
    assert_close(net.run(layer.get_output(0)), torch.softmax(torch.from_numpy(x), axis))


def test_softmax_default_axis_is_rank_minus_three(net):
    x = rng(31).standard_normal((2, 3, 4, 5)).astype(np.float32)
    layer = net.network.add_softmax(net.input("x", x))
    assert layer.axes == 1 << 1
    assert_close(net.run(layer.get_output(0)), torch.softmax(torch.from_numpy(x), 1))


def test_ragged_softmax(net):
    x = rng(32).standard_normal((1, 3, 5)).astype(np.float32)  # TensorRT wants [1, Z, S]
    bounds = np.array([[[2], [5], [1]]], np.int32)
    layer = net.network.add_ragged_softmax(net.input("x", x), net.input("b", bounds))
    expected = np.zeros_like(x)
    for z, n in enumerate(bounds[0, :, 0]):
        expected[0, z, :n] = torch.softmax(torch.from_numpy(x[0, z, :n]), 0).numpy()
    assert_close(net.run(layer.get_output(0)), expected)


@pytest.mark.parametrize("window", [1, 3, 5])
def test_lrn(net, window):
    x = rng(33).standard_normal((2, 7, 3, 3)).astype(np.float32)
    layer = net.network.add_lrn(net.input("x", x), window, 1e-2, 0.75, 2.0)
    expected = F.local_response_norm(
        torch.from_numpy(x), window, alpha=layer.alpha, beta=0.75, k=2.0
    )
    assert_close(net.run(layer.get_output(0)), expected)


@pytest.mark.parametrize("mode", ["UNIFORM", "CHANNEL", "ELEMENTWISE"])
@pytest.mark.parametrize("channel_axis", [1, 2])
def test_scale(net, mode, channel_axis):
    r = rng(34)
    x = r.uniform(0.5, 2.0, (2, 3, 4, 5)).astype(np.float32)
    shape = {
        "UNIFORM": (1,),
        "CHANNEL": (x.shape[channel_axis],),
        "ELEMENTWISE": x.shape[channel_axis:],
    }[mode]
    scale = r.uniform(0.5, 1.5, shape).astype(np.float32)
    shift = r.uniform(0.0, 1.0, shape).astype(np.float32)
    power = r.uniform(0.5, 2.0, shape).astype(np.float32)
    layer = net.network.add_scale_nd(
        net.input("x", x),
        getattr(trt.ScaleMode, mode),
        net.weights(shift),
        net.weights(scale),
        net.weights(power),
        channel_axis,
    )
    if mode == "CHANNEL":
        bshape = [1] * 4
        bshape[channel_axis] = -1
        scale, shift, power = (v.reshape(bshape) for v in (scale, shift, power))
    elif mode == "ELEMENTWISE":
        scale, shift, power = (
            v.reshape((1,) * channel_axis + v.shape) for v in (scale, shift, power)
        )
    expected = (x.astype(np.float64) * scale + shift) ** power
    assert_close(net.run(layer.get_output(0)), expected)


def test_scale_empty_weights_default(net):
    x = rng(35).standard_normal((1, 2, 3, 3)).astype(np.float32)
    shift = np.array([0.5, -1.0], np.float32)
    layer = net.network.add_scale_nd(
        net.input("x", x),
        trt.ScaleMode.CHANNEL,
        net.weights(shift),
        trt.Weights(),
        trt.Weights(),
        1,
    )
    assert_close(net.run(layer.get_output(0)), x + shift.reshape(1, 2, 1, 1))
