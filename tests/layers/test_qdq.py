"""Q/DQ ops and quantized modules against torch's fake quantization (reference executor).

A Q/DQ pair is exactly torch's fake_quantize for INT8 (round half to even, clamp to
[-128, 127]): compared with equality. Quantized conv/linear modules are compared with the torch
module run on fake-quantized input and weights, within 1e-4 of max |reference|.
"""

import numpy as np
import pytest
import torch

import layers as nn
from helpers import assert_close, run_layers
from layers import functional as F
from layers.quant_calibration import calibration_taps


def _fp8(x, scale):
    return (x / scale).clamp(-448, 448).to(torch.float8_e4m3fn).float() * scale


def test_per_tensor_int8_is_torch_fake_quantize():
    x = torch.randn(4, 33) * 3
    got = run_layers(lambda t: F.fake_quantize(t, 0.05, "int8"), x)
    assert torch.equal(got, torch.fake_quantize_per_tensor_affine(x, 0.05, 0, -128, 127))


def test_per_channel_int8_is_torch_fake_quantize():
    x = torch.randn(6, 5, 3)
    scale = torch.rand(6) * 0.05 + 0.01
    got = run_layers(lambda t: F.fake_quantize(t, scale.numpy(), "int8", axis=0), x)
    want = torch.fake_quantize_per_channel_affine(
        x, scale, torch.zeros(6, dtype=torch.int32), 0, -128, 127
    )
    assert_close(got, want, rtol=1e-6)


def test_fp8_rounds_to_e4m3():
    x = torch.randn(64) * 100
    got = run_layers(lambda t: F.fake_quantize(t, 0.5, "fp8"), x)
    assert torch.equal(got, _fp8(x, 0.5))


def _weights(module):
    return {k: v.detach().numpy() for k, v in module.state_dict().items()}


@pytest.mark.parametrize("quant", ["int8", "fp8"])
@pytest.mark.parametrize(
    "make_torch, make_layers, shape, axis",
    [
        (
            lambda: torch.nn.Conv2d(4, 8, 3, padding=1),
            lambda q: nn.Conv2d(4, 8, 3, padding=1, quant=q),
            (1, 4, 6, 6),
            0,
        ),
        (
            lambda: torch.nn.ConvTranspose2d(4, 6, 2, stride=2),
            lambda q: nn.ConvTranspose2d(4, 6, 2, stride=2, quant=q),
            (1, 4, 5, 5),
            1,
        ),
        (lambda: torch.nn.Linear(16, 8), lambda q: nn.Linear(16, 8, quant=q), (3, 16), 0),
    ],
)
def test_quantized_modules_match_torch_on_fake_quantized_operands(
    make_torch, make_layers, shape, axis, quant
):
    torch.manual_seed(0)
    reference = make_torch().eval()
    x = torch.randn(*shape)
    weight = reference.weight.detach()
    others = tuple(i for i in range(weight.dim()) if i != axis)
    qmax = {"int8": 127.0, "fp8": 448.0}[quant]
    weight_scale = (weight.abs().amax(dim=others) / qmax).float()
    input_scale = torch.tensor(float(x.abs().max()) / qmax)

    def fq(t, s, ax=None):
        if quant == "fp8":
            return _fp8(
                t, s if ax is None else s.reshape([-1 if i == ax else 1 for i in range(t.dim())])
            )
        if ax is None:
            return torch.fake_quantize_per_tensor_affine(t, float(s), 0, -128, 127)
        return torch.fake_quantize_per_channel_affine(
            t, s, torch.zeros(len(s), dtype=torch.int32), ax, -128, 127
        )

    with torch.no_grad():
        reference.weight.copy_(fq(weight, weight_scale, axis))
        want = reference(fq(x, input_scale))
    module = make_layers(quant)
    module.load_weights({k: v for k, v in _weights(make_torch_like(reference, weight)).items()})
    module.load_scales({"input_scale": input_scale.numpy(), "weight_scale": weight_scale.numpy()})
    got = run_layers(module, x)
    assert_close(got, want, rtol=1e-4)


def make_torch_like(reference, weight):
    """``reference`` with its original (not fake-quantized) weight back."""
    with torch.no_grad():
        reference.weight.copy_(weight)
    return reference


def test_load_scales_checks_keys_and_shapes():
    module = nn.Linear(4, 2, quant="int8")
    with pytest.raises(KeyError, match="scales are missing 1 key"):
        module.load_scales({"input_scale": np.float32(0.1)})
    with pytest.raises(ValueError, match="expected shape \\[2\\], got \\[3\\]"):
        module.load_scales(
            {"input_scale": np.array(0.1, np.float32), "weight_scale": np.ones(3, np.float32)}
        )
    with pytest.raises(KeyError, match="the model does not declare: bogus"):
        module.load_scales(
            {
                "input_scale": np.array(0.1, np.float32),
                "weight_scale": np.ones(2, np.float32),
                "bogus": np.ones(1, np.float32),
            }
        )
    # weights do not include scales, and loading them never asks for any
    module.load_weights({"weight": np.ones((2, 4), np.float32), "bias": np.zeros(2, np.float32)})


def test_calibration_mode_names_activation_inputs_and_adds_no_qdq():
    module = nn.Linear(4, 2, quant="int8")
    module.load_weights({"weight": np.ones((2, 4), np.float32), "bias": np.zeros(2, np.float32)})
    builder, network = nn.create_network()
    with calibration_taps() as taps, nn.net_guard(network):
        x = nn.add_input("x", nn.float32, (3, 4))
        nn.mark_output(module(x), "y")
    assert {k: t.name for k, t in taps.items()} == {"input_scale": "x"}
    kinds = {network.get_layer(i).type.name for i in range(network.num_layers)}
    assert "QUANTIZE" not in kinds and "DEQUANTIZE" not in kinds


def test_a_quantized_conv_builds_an_engine():
    module = nn.Conv2d(4, 8, 3, quant="int8")
    rng = np.random.default_rng(0)
    module.load_weights(
        {
            "weight": rng.standard_normal((8, 4, 3, 3)).astype(np.float32),
            "bias": np.zeros(8, np.float32),
        }
    )
    module.load_scales(
        {"input_scale": np.array(0.02, np.float32), "weight_scale": np.full(8, 0.01, np.float32)}
    )
    builder, network = nn.create_network()
    with nn.net_guard(network):
        nn.mark_output(module(nn.add_input("x", nn.float32, (1, 4, 8, 8))), "y")
    assert len(nn.build_engine(builder, network)) > 0


@pytest.mark.parametrize("weight_only, block", [("int8", None), ("int4", 128)])
@pytest.mark.parametrize("pre_quant_scale", [False, True])
def test_weight_only_linear_matches_torch_with_dequantized_weights(
    weight_only, block, pre_quant_scale
):
    rng = np.random.default_rng(0)
    weight = rng.standard_normal((8, 256)).astype(np.float32)
    bias = rng.standard_normal(8).astype(np.float32)
    qmax, low = (127, -128) if weight_only == "int8" else (7, -8)
    blocks = weight.reshape(8, -1, block) if block else weight[:, None, :]
    scale = (np.abs(blocks).max(axis=-1) / qmax).astype(np.float32)
    scale = scale if block else scale[:, 0]
    expanded = np.repeat(scale.reshape(8, -1), 256 // scale.reshape(8, -1).shape[1], axis=1)
    dequantized = np.clip(np.rint(weight / expanded), low, qmax) * expanded
    pre = (rng.random(256) + 0.5).astype(np.float32)
    module = nn.Linear(256, 8, weight_only=weight_only, pre_quant_scale=pre_quant_scale)
    module.load_weights({"weight": weight, "bias": bias})
    scales = {"weight_scale": scale} | ({"pre_quant_scale": pre} if pre_quant_scale else {})
    module.load_scales(scales)
    x = torch.randn(3, 256)
    (got,), (_, network) = run_layers(module, x, return_network=True)
    x_in = x * torch.from_numpy(pre) if pre_quant_scale else x
    want = x_in @ torch.from_numpy(dequantized.astype(np.float32)).T + torch.from_numpy(bias)
    assert_close(got, want, rtol=1e-5)
    constants = [
        network.get_layer(i)
        for i in range(network.num_layers)
        if network.get_layer(i).type.name == "CONSTANT"
    ]
    kinds = {c.get_output(0).dtype.name for c in constants}
    assert {"int8": "INT8", "int4": "INT4"}[weight_only] in kinds


def test_weight_only_int4_needs_whole_blocks():
    with pytest.raises(ValueError, match="in_features 200 is not a multiple of block_size 128"):
        nn.Linear(200, 8, weight_only="int4")
