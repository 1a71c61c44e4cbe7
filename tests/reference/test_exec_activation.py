"""ACTIVATION (every ActivationType with alpha/beta) and PARAMETRIC_RELU."""

import math

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from layers.backend import trt
from reference_helpers import assert_close, rng

A = trt.ActivationType
X = np.linspace(-4, 4, 41, dtype=np.float32).reshape(1, 41)

# Independent formulations (torch.nn.functional where it exists).
EXPECTED = {
    "RELU": lambda x, a, b: F.relu(x),
    "SIGMOID": lambda x, a, b: torch.sigmoid(x),
    "TANH": lambda x, a, b: torch.tanh(x),
    "LEAKY_RELU": lambda x, a, b: F.leaky_relu(x, a),
    "ELU": lambda x, a, b: F.elu(x, a),
    "SELU": lambda x, a, b: b * F.elu(x, a),
    "SOFTSIGN": lambda x, a, b: F.softsign(x),
    "SOFTPLUS": lambda x, a, b: a * torch.log1p(torch.exp(b * x)),
    "CLIP": lambda x, a, b: x.clamp(max=b).clamp(
        min=a
    ),  # max(alpha, min(beta, x)), even if alpha > beta
    "HARD_SIGMOID": lambda x, a, b: torch.clamp(a * x + b, 0, 1),
    "SCALED_TANH": lambda x, a, b: a * torch.tanh(b * x),
    "THRESHOLDED_RELU": lambda x, a, b: F.threshold(x, a, 0.0),
    "GELU_ERF": lambda x, a, b: F.gelu(x),
    "GELU_TANH": lambda x, a, b: F.gelu(x, approximate="tanh"),
}


@pytest.mark.parametrize("name", sorted(EXPECTED))
@pytest.mark.parametrize("alpha,beta", [(0.2, 1.5), (1.6732632, 1.0507010), (-1.0, 0.5)])
def test_activation(net, name, alpha, beta):
    layer = net.network.add_activation(net.input("x", X), getattr(A, name))
    layer.alpha, layer.beta = alpha, beta
    alpha, beta = layer.alpha, layer.beta  # stored as float32
    expected = EXPECTED[name](torch.from_numpy(X).double(), alpha, beta)
    assert_close(net.run(layer.get_output(0)), expected)


def test_relu_on_int32(net):
    x = np.array([[-3, 0, 5]], np.int32)
    out = net.run(net.network.add_activation(net.input("x", x), A.RELU).get_output(0))
    assert out.dtype == torch.int32
    assert_close(out, np.maximum(x, 0))


def test_fp16_activation_rounds(net):
    x = np.linspace(-3, 3, 13, dtype=np.float16)
    out = net.run(net.network.add_activation(net.input("x", x), A.SIGMOID).get_output(0))
    assert out.dtype == torch.float16
    assert_close(out, torch.sigmoid(torch.from_numpy(x).float()).half(), tol=0)


def test_parametric_relu_broadcast(net):
    r = rng(8)
    x = r.standard_normal((2, 3, 4)).astype(np.float32)
    slope = r.standard_normal((1, 3, 1)).astype(np.float32)
    layer = net.network.add_parametric_relu(net.input("x", x), net.const(slope))
    expected = np.where(x >= 0, x, x * slope)
    assert_close(net.run(layer.get_output(0)), expected)
    assert math.isfinite(float(expected.sum()))
