"""Activations (functional and nn modules) against torch."""

import numpy as np
import pytest
import torch
import torch.nn.functional as TF

import layers
from layers import functional as F

from helpers import assert_close, rand, run_layers


def check(layers_fn, torch_fn, *inputs, rtol=1e-5):
    """Compare with torch through the reference executor, then let TensorRT build the engine."""
    got, (builder, network) = run_layers(layers_fn, *inputs, return_network=True)
    want = torch_fn(*inputs)
    assert got[0].dtype == want.dtype, (got[0].dtype, want.dtype)
    assert_close(got[0], want, rtol)
    layers.build_engine(builder, network)


X = rand(2, 3, 4, 5) * 3

FUNCTIONAL = [
    ("relu", lambda x: F.relu(x), lambda x: TF.relu(x)),
    ("relu6", lambda x: F.relu6(x), lambda x: TF.relu6(x)),
    ("leaky_relu", lambda x: F.leaky_relu(x), lambda x: TF.leaky_relu(x)),
    ("leaky_relu_0.2", lambda x: F.leaky_relu(x, 0.2), lambda x: TF.leaky_relu(x, 0.2)),
    ("elu", lambda x: F.elu(x), lambda x: TF.elu(x)),
    ("elu_0.5", lambda x: F.elu(x, alpha=0.5), lambda x: TF.elu(x, alpha=0.5)),
    ("selu", lambda x: F.selu(x), lambda x: TF.selu(x)),
    ("celu", lambda x: F.celu(x), lambda x: TF.celu(x)),
    ("celu_2", lambda x: F.celu(x, 2.0), lambda x: TF.celu(x, 2.0)),
    ("gelu", lambda x: F.gelu(x), lambda x: TF.gelu(x)),
    (
        "gelu_tanh",
        lambda x: F.gelu(x, approximate="tanh"),
        lambda x: TF.gelu(x, approximate="tanh"),
    ),
    ("silu", lambda x: F.silu(x), lambda x: TF.silu(x)),
    ("mish", lambda x: F.mish(x), lambda x: TF.mish(x)),
    ("sigmoid", lambda x: F.sigmoid(x), lambda x: torch.sigmoid(x)),
    ("tanh", lambda x: F.tanh(x), lambda x: torch.tanh(x)),
    ("hardswish", lambda x: F.hardswish(x), lambda x: TF.hardswish(x)),
    ("hardsigmoid", lambda x: F.hardsigmoid(x), lambda x: TF.hardsigmoid(x)),
    ("hardtanh", lambda x: F.hardtanh(x), lambda x: TF.hardtanh(x)),
    ("hardtanh_args", lambda x: F.hardtanh(x, -2.0, 0.5), lambda x: TF.hardtanh(x, -2.0, 0.5)),
    ("softplus", lambda x: F.softplus(x), lambda x: TF.softplus(x)),
    ("softplus_beta", lambda x: F.softplus(x, beta=2.0), lambda x: TF.softplus(x, beta=2.0)),
    ("softplus_threshold", lambda x: F.softplus(x, 0.5, 1.0), lambda x: TF.softplus(x, 0.5, 1.0)),
    ("softsign", lambda x: F.softsign(x), lambda x: TF.softsign(x)),
    ("logsigmoid", lambda x: F.logsigmoid(x), lambda x: TF.logsigmoid(x)),
    ("threshold", lambda x: F.threshold(x, 0.5, -1.0), lambda x: TF.threshold(x, 0.5, -1.0)),
    ("hardshrink", lambda x: F.hardshrink(x, 0.7), lambda x: TF.hardshrink(x, 0.7)),
    ("softshrink", lambda x: F.softshrink(x), lambda x: TF.softshrink(x)),
    ("tanhshrink", lambda x: F.tanhshrink(x), lambda x: TF.tanhshrink(x)),
    ("inplace_ignored", lambda x: F.relu(x, inplace=True), lambda x: TF.relu(x)),
    ("method", lambda x: x.relu().sigmoid(), lambda x: x.relu().sigmoid()),
]


@pytest.mark.parametrize("name,fn,ref", FUNCTIONAL, ids=[c[0] for c in FUNCTIONAL])
def test_functional(name, fn, ref):
    check(fn, ref, X)


def test_relu_integer_keeps_dtype():
    x = torch.randint(-5, 6, (2, 3)).int()
    check(F.relu, torch.relu, x)


@pytest.mark.parametrize("dim", [0, 1, 2, 3, -1, -3])
def test_softmax(dim):
    check(lambda x: F.softmax(x, dim), lambda x: TF.softmax(x, dim), X)
    check(lambda x: F.log_softmax(x, dim=dim), lambda x: TF.log_softmax(x, dim=dim), X)
    check(lambda x: F.softmin(x, dim), lambda x: TF.softmin(x, dim), X)


def test_softmax_method_and_dtype():
    check(lambda x: x.softmax(-1), lambda x: x.softmax(-1), X)
    check(
        lambda x: F.softmax(x, 1, dtype=layers.float32),
        lambda x: TF.softmax(x, 1, dtype=torch.float32),
        X.half(),
    )


def test_log_softmax_large_logits_stay_finite():
    x = torch.tensor([[0.0, 200.0, -200.0]])
    check(lambda t: F.log_softmax(t, -1), lambda t: TF.log_softmax(t, -1), x)


@pytest.mark.parametrize("channels", [1, 3])
def test_prelu(channels):
    weight = rand(channels, seed=5)
    check(F.prelu, TF.prelu, X, weight)


# --------------------------------------------------------------------------- nn modules

MODULES = [
    ("ReLU", {}),
    ("ReLU6", {"inplace": True}),
    ("LeakyReLU", {"negative_slope": 0.1}),
    ("ELU", {"alpha": 0.7}),
    ("CELU", {"alpha": 1.5}),
    ("SELU", {}),
    ("GELU", {}),
    ("GELU", {"approximate": "tanh"}),
    ("SiLU", {}),
    ("Mish", {}),
    ("Sigmoid", {}),
    ("Tanh", {}),
    ("Softsign", {}),
    ("LogSigmoid", {}),
    ("Hardswish", {}),
    ("Hardsigmoid", {}),
    ("Hardtanh", {"min_val": -0.5, "max_val": 2.0}),
    ("Threshold", {"threshold": 0.1, "value": 20.0}),
    ("Softplus", {"beta": 1.5, "threshold": 10.0}),
    ("Softmax", {"dim": 1}),
    ("LogSoftmax", {"dim": -1}),
    ("Softmin", {"dim": 2}),
]


@pytest.mark.parametrize("name,kwargs", MODULES, ids=[f"{n}{k or ''}" for n, k in MODULES])
def test_module(name, kwargs):
    ours = getattr(layers, name)(**kwargs)
    theirs = getattr(torch.nn, name)(**kwargs)
    check(ours, theirs, X)


@pytest.mark.parametrize("num_parameters", [1, 3])
def test_prelu_module(num_parameters):
    torch.manual_seed(0)
    theirs = torch.nn.PReLU(num_parameters)
    with torch.no_grad():
        theirs.weight.uniform_(-1, 1)
    ours = layers.PReLU(num_parameters)
    ours.load_weights({k: v.detach().numpy() for k, v in theirs.state_dict().items()})
    got, (builder, network) = run_layers(ours, X, return_network=True)
    assert_close(got[0], theirs(X).detach())
    assert any(network.get_layer(i).name == "weight" for i in range(network.num_layers))
    assert isinstance(ours.weight.numpy(), np.ndarray)


@pytest.mark.parametrize("approximate", ["none", "tanh"])
def test_gelu_formula_without_gelu_activation(monkeypatch, approximate):
    """TensorRT versions without GELU_ERF / GELU_TANH get the formula in elementwise layers."""
    from layers.functional import activation as A

    monkeypatch.setitem(A._GELU, approximate, None)
    check(lambda x: F.gelu(x, approximate), lambda x: TF.gelu(x, approximate=approximate), X)
