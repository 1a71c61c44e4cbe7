"""F.pad against torch: every mode, torch's pad order, nonzero fill, negative pads (crop)."""

import pytest
import torch
import torch.nn.functional as TF

import layers
from layers import functional as F

from helpers import assert_close, rand
from test_shape import check, layer_types, run_dynamic

LT = layers.trt.LayerType
X = rand(2, 3, 4, 5)

PADS = [(1, 2), (2, 1, 0, 3), (1, 0, 2, 1, 1, 1)]


@pytest.mark.parametrize("pad", PADS, ids=str)
@pytest.mark.parametrize("mode", ["constant", "reflect", "replicate", "circular"])
def test_pad_modes(mode, pad):
    x = (
        X if len(pad) > 2 or mode == "constant" else X[0]
    )  # torch: 1-dim non-constant pads need 2-D/3-D
    network = check(lambda a: F.pad(a, pad, mode=mode), lambda t: TF.pad(t, pad, mode=mode), x)
    assert layer_types(network) == [LT.SLICE]


def test_pad_reflect_largest():
    # torch's limit for reflect is pad < dim size (here H = 4)
    check(
        lambda a: F.pad(a, (1, 1, 3, 3), mode="reflect"),
        lambda t: TF.pad(t, (1, 1, 3, 3), mode="reflect"),
        X,
    )


@pytest.mark.parametrize("value", [1.5, -2.0])
def test_pad_constant_value(value):
    check(
        lambda x: F.pad(x, (1, 1, 2, 0), value=value),
        lambda t: TF.pad(t, (1, 1, 2, 0), value=value),
        X,
    )
    check(
        lambda x: x.pad((0, 0, 1, 1), "constant", value),
        lambda t: TF.pad(t, (0, 0, 1, 1), value=value),
        X,
    )


def test_pad_int_tensor():
    x = torch.arange(12, dtype=torch.int32).reshape(3, 4)
    check(lambda a: F.pad(a, (1, 2), value=7), lambda t: TF.pad(t, (1, 2), value=7), x)


@pytest.mark.parametrize("pad", [(-1, 2, 1, -2), (-2, -1, 0, 0), (2, -1, -1, 1)], ids=str)
@pytest.mark.parametrize("mode", ["constant", "reflect", "replicate", "circular"])
def test_negative_pad_crops(mode, pad):
    check(lambda x: F.pad(x, pad, mode=mode), lambda t: TF.pad(t, pad, mode=mode), X)


def test_zero_pad_is_no_layer():
    builder, network = layers.create_network()
    with layers.net_guard(network):
        x = layers.add_input("x", layers.float32, (2, 3))
        assert F.pad(x, (0, 0, 0, 0)) is x
    assert network.num_layers == 0


@pytest.mark.parametrize("mode", ["constant", "reflect"])
def test_dynamic_batch(mode):
    got, network = run_dynamic(lambda x: F.pad(x, (1, 2, 2, 1), mode=mode), X)
    assert_close(got, TF.pad(X, (1, 2, 2, 1), mode=mode))
    assert layer_types(network) == [LT.SLICE]


def test_dynamic_padded_dim():
    got, network = run_dynamic(lambda x: F.pad(x, (1, 0, 0, 0, 0, 0, 2, 1)), X, dynamic=(0,))
    assert_close(got, TF.pad(X, (1, 0, 0, 0, 0, 0, 2, 1)))
