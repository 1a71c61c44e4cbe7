"""F.grid_sample against torch: every mode x padding mode x align_corners on a 4-D input (one
GRID_SAMPLE, but bicubic + border spelled out) and on a 5-D one (spelled out: TensorRT's layer
is 4-D only); the spelled-out form for every 4-D case too; grid points beyond [-1, 1] so every
padding rule is exercised, exact half positions, dynamic batches. fp32 tolerance:
max |trt - torch| <= 1e-5 x max(1, max |torch|). The executor's GRID_SAMPLE itself is proven
against NVIDIA's ONNX parser in tests/reference."""

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
    types = layer_types(network)
    if (mode, padding_mode) == ("bicubic", "border"):  # spelled out: torch clamps every tap
        assert layers.trt.LayerType.GRID_SAMPLE not in types
    else:
        assert types == [layers.trt.LayerType.GRID_SAMPLE]


@pytest.mark.parametrize("mode", ["bilinear", "nearest", "bicubic"])
@pytest.mark.parametrize("padding_mode", ["zeros", "border", "reflection"])
@pytest.mark.parametrize("align_corners", [False, True])
def test_spelled_out_form_on_images(mode, padding_mode, align_corners):
    from layers.functional.sampling import _spelled_out

    check_and_build(
        lambda x, g: _spelled_out(x, g, mode, padding_mode, align_corners),
        lambda x, g: TF.grid_sample(x, g, mode, padding_mode, align_corners),
        X,
        GRID,
    )


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


VOLUME = rand(2, 3, 4, 5, 6, seed=2)
VOLUME_GRID = torch.rand(2, 3, 2, 4, 3, generator=torch.Generator().manual_seed(3)) * 2.8 - 1.4


@pytest.mark.parametrize("mode", ["bilinear", "nearest"])
@pytest.mark.parametrize("padding_mode", ["zeros", "border", "reflection"])
@pytest.mark.parametrize("align_corners", [False, True])
def test_grid_sample_on_a_volume(mode, padding_mode, align_corners):
    kwargs = dict(mode=mode, padding_mode=padding_mode, align_corners=align_corners)
    check_and_build(
        lambda x, g: F.grid_sample(x, g, **kwargs),
        lambda x, g: TF.grid_sample(x, g, **kwargs),
        VOLUME,
        VOLUME_GRID,
    )


@pytest.mark.parametrize("align_corners", [False, True])
def test_grid_sample_on_a_volume_at_exact_halves_and_a_flat_dim(align_corners):
    # nearest rounds half to even, as torch; a dim of one entry reflects onto itself
    x = rand(1, 2, 1, 4, 6, seed=4)
    steps = torch.linspace(-1.2, 1.2, 13)
    grid = torch.stack(torch.meshgrid(steps, steps[:5], steps[:3], indexing="ij"), -1)[None]
    for mode in ("nearest", "bilinear"):
        for padding_mode in ("zeros", "reflection", "border"):
            kwargs = dict(mode=mode, padding_mode=padding_mode, align_corners=align_corners)
            check_and_build(
                lambda a, g: F.grid_sample(a, g, **kwargs),
                lambda a, g: TF.grid_sample(a, g, **kwargs),
                x,
                grid,
            )


def test_grid_sample_on_a_volume_with_a_dynamic_batch():
    builder, network = layers.create_network()
    with layers.net_guard(network):
        x = layers.add_input("x", layers.float32, (-1, 3, 4, 5, 6))
        g = layers.add_input("g", layers.float32, (-1, 3, 2, 4, 3))
        layers.mark_output(F.grid_sample(x, g, padding_mode="reflection"), "y")
    profile = {
        "x": ((1, 3, 4, 5, 6), (2, 3, 4, 5, 6), (4, 3, 4, 5, 6)),
        "g": ((1, 3, 2, 4, 3), (2, 3, 2, 4, 3), (4, 3, 2, 4, 3)),
    }
    layers.build_engine(builder, network, profiles=[profile])
    got = execute(network, {"x": VOLUME, "g": VOLUME_GRID})["y"]
    want = TF.grid_sample(VOLUME, VOLUME_GRID, padding_mode="reflection", align_corners=False)
    assert_close(got, want)


def test_grid_sample_refuses_bicubic_on_a_volume_like_torch():
    builder, network = layers.create_network()
    with layers.net_guard(network):
        x = layers.add_input("x", layers.float32, (1, 2, 3, 4, 5))
        g = layers.add_input("g", layers.float32, (1, 2, 2, 2, 3))
        with pytest.raises(ValueError, match="bicubic interpolation only supports 4D"):
            F.grid_sample(x, g, mode="bicubic")


def test_grid_sample_on_an_fp16_volume_larger_than_fp16_counts():
    """16^3 = 4096 positions: the flat indices are computed in float32 (fp16 stops being
    exact at 2048). fp16 tolerance: 1e-2 x max(1, max |torch|), torch computing in float32."""
    x = rand(1, 2, 16, 16, 16, seed=6).half()
    g = (torch.rand(1, 4, 4, 4, 3, generator=torch.Generator().manual_seed(7)) * 2 - 1).half()
    check_and_build(
        lambda a, b: F.grid_sample(a, b, align_corners=False),
        lambda a, b: TF.grid_sample(a.float(), b.float(), align_corners=False).half(),
        x,
        g,
        rtol=1e-2,
    )
