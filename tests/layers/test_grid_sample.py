"""F.grid_sample against torch: every mode x padding mode x align_corners on a 4-D input, grid
points beyond [-1, 1] so every padding rule is exercised, a dynamic batch and size; a 5-D input
is refused. fp32 tolerance: max |trt - torch| <= 1e-5 x max(1, max |torch|). The executor's
GRID_SAMPLE itself is proven against NVIDIA's ONNX parser in tests/reference."""

import pytest
import torch
import torch.nn.functional as TF

import layers
from layers import functional as F
from trtgen.reference import execute

from helpers import assert_close, check_and_build, layer_types, rand

X = rand(2, 3, 5, 7)
GRID = torch.rand(2, 4, 6, 2, generator=torch.Generator().manual_seed(1)) * 2.6 - 1.3


@pytest.mark.parametrize("mode", ["bilinear", "nearest", "bicubic"])
@pytest.mark.parametrize("padding_mode", ["zeros", "border", "reflection"])
@pytest.mark.parametrize("align_corners", [False, True])
def test_grid_sample(mode, padding_mode, align_corners):
    kwargs = dict(mode=mode, padding_mode=padding_mode, align_corners=align_corners)
    network = check_and_build(
        lambda x, g: F.grid_sample(x, g, **kwargs),
        lambda x, g: TF.grid_sample(x, g, **kwargs),
        X,
        GRID,
    )
    assert layer_types(network) == [layers.trt.LayerType.GRID_SAMPLE]


def test_grid_sample_defaults_are_torchs():
    check_and_build(F.grid_sample, lambda x, g: TF.grid_sample(x, g, align_corners=False), X, GRID)


def test_grid_sample_with_a_dynamic_batch_and_size():
    builder, network = layers.create_network()
    with layers.net_guard(network):
        x = layers.add_input("x", layers.float32, (-1, 3, -1, -1))
        g = layers.add_input("g", layers.float32, (-1, 4, 6, 2))
        layers.mark_output(F.grid_sample(x, g, padding_mode="border", align_corners=True), "y")
    profile = {
        "x": ((1, 3, 2, 2), (2, 3, 5, 7), (4, 3, 9, 9)),
        "g": ((1, 4, 6, 2), (2, 4, 6, 2), (4, 4, 6, 2)),
    }
    layers.build_engine(builder, network, profiles=[profile])
    got = execute(network, {"x": X, "g": GRID})["y"]
    assert_close(got, TF.grid_sample(X, GRID, padding_mode="border", align_corners=True))


def test_grid_sample_refuses_a_volume():
    builder, network = layers.create_network()
    with layers.net_guard(network):
        x = layers.add_input("x", layers.float32, (1, 2, 3, 4, 5))
        g = layers.add_input("g", layers.float32, (1, 2, 2, 2, 3))
        with pytest.raises(NotImplementedError, match="4-D only"):
            F.grid_sample(x, g)
