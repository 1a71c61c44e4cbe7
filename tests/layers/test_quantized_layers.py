"""Explicit quantization in layers: F.quantize / dequantize / fake_quantize, quantized
Conv/ConvTranspose/Linear (``quant=``), nn.QuantDequant, weight-only Linear and load_scales.

Every case builds one real TensorRT-RTX network and runs it with the reference executor, which
implements QUANTIZE / DEQUANTIZE as TensorRT defines them. Per-tensor INT8 and FP8 Q/DQ equal
torch's fake quantization (round half to even, clamp [-128, 127]; E4M3 saturating at ±448);
per channel within 1e-6 (torch multiplies by 1 / scale). Quantized modules are compared
with the torch module run on fake-quantized input and weights, within 1e-4 of max |reference|;
weight-only Linear with torch computing on the dequantized weights, within 1e-5.
"""

import numpy as np
import pytest
import torch

import layers as nn
from helpers import assert_close, layer_types, rand, run_layers
from layers import functional as F
from layers.functional.qdq import _pack_int4
from trtgen.reference.registry import downcast, layer_type

LT = nn.trt.LayerType
QMAX = {"int8": 127.0, "fp8": 448.0}


def _fp8(x, scale):
    """torch's FP8 E4M3 fake quantization (saturating at ±448)."""
    return (x / scale).clamp(-448, 448).to(torch.float8_e4m3fn).float() * scale


def _fake_quant(quant, t, scale, axis=None):
    """torch's fake quantization of ``t`` by a 0-d ``scale`` or one per channel along ``axis``."""
    if axis is not None:
        scale_b = scale.reshape([-1 if i == axis else 1 for i in range(t.dim())])
    if quant == "fp8":
        return _fp8(t, scale if axis is None else scale_b)
    if axis is None:
        return torch.fake_quantize_per_tensor_affine(t, float(scale), 0, -128, 127)
    zeros = torch.zeros(len(scale), dtype=torch.int32)
    return torch.fake_quantize_per_channel_affine(t, scale, zeros, axis, -128, 127)


def _scale_param(name, value):
    p = nn.Parameter(np.shape(value), nn.float32, kind="scale")
    p.name = name
    p.set_value(np.asarray(value, np.float32))
    return p


def _layers(network):
    """Every layer as its own class (IQuantizeLayer...), so that ``axis`` reads."""
    return [downcast(network.get_layer(i)) for i in range(network.num_layers)]


def _layers_of(network, kind):
    return [layer for layer in _layers(network) if layer_type(layer) == kind]


def _producer(network, tensor):
    """The layer computing ``tensor``, looking through reshapes (SHUFFLE)."""
    by_output = {layer.get_output(0).name: layer for layer in _layers(network)}
    layer = by_output.get(tensor.name)
    while layer is not None and layer_type(layer) == LT.SHUFFLE:
        layer = by_output.get(layer.get_input(0).name)
    return layer


# --------------------------------------------------------------------------- functional


@pytest.mark.parametrize("form", ["float", "numpy", "parameter", "tensor"])
def test_fake_quantize_per_tensor_int8_equals_torch(form):
    scale = 0.25
    # every multiple of scale / 2 in [-40, 40): exact ties (round half to even) and clamping
    x = torch.arange(-320, 320, dtype=torch.float32) * 0.125

    def make_scale():
        return {
            "float": lambda: scale,
            "numpy": lambda: np.array(scale, np.float32),
            "parameter": lambda: _scale_param("x_scale", scale),
            "tensor": lambda: F.constant(np.array(scale, np.float32)),
        }[form]()

    got = run_layers(lambda t: F.fake_quantize(t, make_scale(), "int8"), x)
    assert torch.equal(got, torch.fake_quantize_per_tensor_affine(x, scale, 0, -128, 127))


def test_fake_quantize_per_channel_int8_matches_torch():
    x = rand(4, 6, 5, seed=1) * 3
    scale = torch.rand(6, generator=torch.Generator().manual_seed(2)) * 0.05 + 0.01
    # axis=-2 is dim 1: per-channel layers get the non-negative axis
    (got,), (_, network) = run_layers(
        lambda t: F.fake_quantize(t, scale.numpy(), nn.int8, axis=-2), x, return_network=True
    )
    want = torch.fake_quantize_per_channel_affine(
        x, scale, torch.zeros(6, dtype=torch.int32), 1, -128, 127
    )
    # torch multiplies by 1/scale, TensorRT divides: a rare half-way value may land one step off
    assert_close(got, want, rtol=1e-6)
    assert [layer.axis for layer in _layers_of(network, LT.QUANTIZE)] == [1]
    assert [layer.axis for layer in _layers_of(network, LT.DEQUANTIZE)] == [1]


@pytest.mark.parametrize("qtype", ["fp8", nn.fp8])
def test_fake_quantize_fp8_rounds_to_e4m3(qtype):
    x = rand(64, seed=3) * 100
    x[:4] = torch.tensor([1000.0, -1000.0, 224.0, 0.0])  # saturation at ±448 · scale
    got = run_layers(lambda t: F.fake_quantize(t, 0.5, qtype), x)
    assert torch.equal(got, _fp8(x, 0.5))


def test_fake_quantize_fp8_per_channel():
    x = rand(3, 8, seed=4) * 50
    scale = torch.tensor([0.1, 0.5, 1.0])
    got = run_layers(lambda t: F.fake_quantize(t, scale.numpy(), "fp8", axis=0), x)
    assert torch.equal(got, _fp8(x, scale[:, None]))


def test_quantize_and_dequantize_layers_types_and_names():
    x = rand(2, 8, seed=5)

    def fn(t):
        with nn.name_scope("block.quantizer"):
            q = F.quantize(t, 0.05, nn.int8)
            assert q.dtype == nn.int8
            return F.dequantize(q, 0.05, "float32")

    (got,), (_, network) = run_layers(fn, x, return_network=True)
    assert torch.equal(got, torch.fake_quantize_per_tensor_affine(x, 0.05, 0, -128, 127))
    assert [layer.name for layer in _layers_of(network, LT.QUANTIZE)] == [
        "block.quantizer/quantize"
    ]
    assert [layer.name for layer in _layers_of(network, LT.DEQUANTIZE)] == [
        "block.quantizer/dequantize"
    ]


@pytest.mark.parametrize(
    "scale, axis, message",
    [
        (np.ones(5, np.float32), None, "fits neither per tensor"),  # 1-D needs an axis
        (np.ones(5, np.float32), 1, "per-channel scale of 5 does not fit dim 1"),
        (np.ones((2, 3), np.float32), None, "fits neither"),  # 8 is not a multiple of 3
        (np.ones((1, 4), np.float32), None, "fits neither"),  # two dims blocked
        (np.array(0.0, np.float32), None, "strictly positive"),
        (np.array([0.1, -0.1, 0.1, 0.1, 0.1, 0.1], np.float32), 0, "strictly positive"),
    ],
)
def test_bad_scales_are_refused_with_a_message(scale, axis, message):
    builder, network = nn.create_network()
    with nn.net_guard(network), pytest.raises(ValueError, match=message):
        F.fake_quantize(nn.add_input("x", nn.float32, (2, 8)), scale, "int8", axis=axis)


def test_unknown_quant_types_are_refused():
    builder, network = nn.create_network()
    with nn.net_guard(network), pytest.raises(ValueError, match="unknown quantized type 'int2'"):
        F.quantize(nn.add_input("x", nn.float32, (2, 8)), 0.1, "int2")
    with pytest.raises(ValueError, match="quant must be None or one of \\['int8', 'fp8'\\]"):
        nn.Conv2d(3, 4, 3, quant="int4")


def test_reduced_precision_scales_follow_the_data_type():
    """FP16 data get FP16 scale constants (TensorRT-RTX refuses FP32 block scales there)."""
    x = rand(4, 16, seed=6).half()
    (got,), (_, network) = run_layers(
        lambda t: F.fake_quantize(t, 0.05, "int8"), x, return_network=True
    )
    assert got.dtype == torch.float16
    want = torch.fake_quantize_per_tensor_affine(x.float(), 0.05, 0, -128, 127)
    assert_close(got.float(), want, rtol=1e-3)  # 0.05 rounded to FP16, outputs in FP16
    for layer in _layers_of(network, LT.QUANTIZE) + _layers_of(network, LT.DEQUANTIZE):
        assert layer.get_input(1).dtype == nn.float16


# --------------------------------------------------------------------------- quantized modules


def _state(module):
    return {k: v.detach().numpy() for k, v in module.state_dict().items()}


@pytest.mark.parametrize("quant", ["int8", "fp8"])
@pytest.mark.parametrize(
    "make_torch, make_layers, shape, axis",
    [
        (
            lambda: torch.nn.Conv2d(4, 8, 3, padding=1),
            lambda q: nn.Conv2d(4, 8, 3, padding=1, quant=q),
            (2, 4, 7, 6),
            0,
        ),
        (
            lambda: torch.nn.Conv1d(4, 6, 3, stride=2, bias=False),
            lambda q: nn.Conv1d(4, 6, 3, stride=2, bias=False, quant=q),
            (1, 4, 11),
            0,
        ),
        (
            lambda: torch.nn.ConvTranspose2d(4, 6, 3, stride=2, padding=1, output_padding=1),
            lambda q: nn.ConvTranspose2d(4, 6, 3, stride=2, padding=1, output_padding=1, quant=q),
            (1, 4, 5, 5),
            1,
        ),
        (
            lambda: torch.nn.ConvTranspose3d(2, 4, 2, stride=2),
            lambda q: nn.ConvTranspose3d(2, 4, 2, stride=2, quant=q),
            (1, 2, 3, 3, 3),
            1,
        ),
        (lambda: torch.nn.Linear(16, 8), lambda q: nn.Linear(16, 8, quant=q), (3, 5, 16), 0),
    ],
    ids=["conv2d", "conv1d", "conv_transpose2d", "conv_transpose3d", "linear"],
)
def test_quantized_module_matches_torch_on_fake_quantized_operands(
    make_torch, make_layers, shape, axis, quant
):
    torch.manual_seed(0)
    reference = make_torch().eval()
    x = torch.randn(*shape)
    weight = reference.weight.detach().clone()
    others = tuple(i for i in range(weight.dim()) if i != axis)
    weight_scale = (weight.abs().amax(dim=others) / QMAX[quant]).float()
    input_scale = torch.tensor(float(x.abs().max()) / QMAX[quant])

    module = make_layers(quant)
    module.load_weights(_state(reference))  # the float weights: TensorRT quantizes them
    module.load_scales({"input_scale": input_scale.numpy(), "weight_scale": weight_scale.numpy()})
    (got,), (_, network) = run_layers(module, x, return_network=True)

    with torch.no_grad():
        reference.weight.copy_(_fake_quant(quant, weight, weight_scale, axis))
        want = reference(_fake_quant(quant, x, input_scale))
    assert_close(got, want, rtol=1e-4)

    # TensorRT's pattern: input → Q → DQ → layer input 0; weight CONSTANT → Q → DQ (per
    # channel) → the kernel / matmul operand; the bias stays float
    q_layers = _layers_of(network, LT.QUANTIZE)
    assert [layer.axis for layer in q_layers if layer.get_input(1).shape] == [axis]
    (consumer,) = [
        layer
        for layer in _layers(network)
        if layer_type(layer) in (LT.CONVOLUTION, LT.DECONVOLUTION, LT.MATRIX_MULTIPLY)
    ]
    quantizers = []
    for index in range(2):  # the input, then the kernel / weight operand
        dq = _producer(network, consumer.get_input(index))
        assert layer_type(dq) == LT.DEQUANTIZE
        quantizers.append(_producer(network, dq.get_input(0)))
        assert layer_type(quantizers[-1]) == LT.QUANTIZE
    assert quantizers[0].get_input(0).name == "input0"
    weight = _producer(network, quantizers[1].get_input(0))
    assert (layer_type(weight), weight.name) == (LT.CONSTANT, "weight")
    assert weight.get_output(0).dtype == nn.float32
    assert quantizers[1].axis == axis


def test_module_repr_and_scale_declarations():
    conv = nn.ConvTranspose2d(4, 6, 3, quant="int8")
    assert "quant='int8'" in repr(conv)
    assert "quant=" not in repr(nn.Conv2d(4, 6, 3))
    assert {k: (p.kind, p.shape) for k, p in conv.named_parameters()} == {
        "weight": ("weight", (4, 6, 3, 3)),
        "bias": ("weight", (6,)),
        "input_scale": ("scale", ()),
        "weight_scale": ("scale", (6,)),  # axis 1 of a transposed kernel
    }
    linear = nn.Linear(256, 4, weight_only="int4")
    assert repr(linear).endswith("weight_only='int4', block_size=128)")
    assert linear.weight_scale.shape == (4, 2) and linear.pre_quant_scale is None


class _Block(nn.Module):
    """ResNet-like: quantized convs, the skip branch through a QuantDequant."""

    def __init__(self, quant):
        super().__init__()
        self.conv1 = nn.Conv2d(4, 4, 3, padding=1, bias=False, quant=quant)
        self.conv2 = nn.Conv2d(4, 4, 3, padding=1, quant=quant)
        self.residual_quantizer = nn.QuantDequant(quant)

    def forward(self, x):
        out = self.conv2(self.conv1(x))
        return out + self.residual_quantizer(x)


class _Model(nn.Module):
    def __init__(self, quant="int8"):
        super().__init__()
        self.layer1 = nn.Sequential(_Block(quant), _Block(quant))

    def forward(self, x):
        return self.layer1(x)


def _model_weights(seed=0):
    rng = np.random.default_rng(seed)
    model = _Model()
    model._assign_names()
    return {
        k: (rng.standard_normal(p.shape) * 0.3).astype(np.float32)
        for k, p in model.named_parameters()
        if p.kind == "weight"
    }


def _model_scales(value=0.02):
    scales = {}
    for block in ("layer1.0", "layer1.1"):
        for conv in ("conv1", "conv2"):
            scales[f"{block}.{conv}.input_scale"] = np.array(value, np.float32)
            scales[f"{block}.{conv}.weight_scale"] = np.full(4, 0.01, np.float32)
        scales[f"{block}.residual_quantizer.input_scale"] = np.array(value, np.float32)
    return scales


def _torch_model(weights, scales, x):
    """The same model in torch on fake-quantized tensors."""
    w = {k: torch.from_numpy(v) for k, v in weights.items()}
    s = {k: torch.from_numpy(v) for k, v in scales.items()}
    fq = _fake_quant
    for block in ("layer1.0", "layer1.1"):

        def conv(name, t):
            key = f"{block}.{name}"
            weight = fq("int8", w[f"{key}.weight"], s[f"{key}.weight_scale"], 0)
            t = fq("int8", t, s[f"{key}.input_scale"])
            return torch.nn.functional.conv2d(t, weight, w.get(f"{key}.bias"), padding=1)

        skip = fq("int8", x, s[f"{block}.residual_quantizer.input_scale"])
        x = conv("conv2", conv("conv1", x)) + skip
    return x


def _run_model(weights, scales, x):
    model = _Model()
    model.load_weights(weights)
    model.load_scales(scales)
    return run_layers(lambda t: model(t), x)


def test_residual_model_matches_torch_and_scale_values_matter():
    weights, x = _model_weights(), rand(1, 4, 6, 6, seed=7)
    fine, coarse = _model_scales(0.02), _model_scales(0.25)
    got_fine, got_coarse = _run_model(weights, fine, x), _run_model(weights, coarse, x)
    assert_close(got_fine, _torch_model(weights, fine, x), rtol=1e-4)
    assert_close(got_coarse, _torch_model(weights, coarse, x), rtol=1e-4)
    # a different scale is a different network: the value is read when the network is built
    assert (got_fine - got_coarse).abs().max() > 0.01


# --------------------------------------------------------------------------- load_scales


def test_load_scales_keys_are_dotted_paths_and_strict():
    model = _Model()
    scales = _model_scales()
    assert "layer1.0.conv1.input_scale" in scales and "layer1.1.conv2.weight_scale" in scales

    missing = {k: v for k, v in scales.items() if k != "layer1.0.conv1.input_scale"}
    with pytest.raises(
        KeyError, match="scales are missing 1 key\\(s\\): layer1.0.conv1.input_scale"
    ):
        model.load_scales(missing)

    wrong = dict(scales, **{"layer1.1.conv2.weight_scale": np.ones(3, np.float32)})
    with pytest.raises(
        ValueError, match="'layer1.1.conv2.weight_scale': expected shape \\[4\\], got \\[3\\]"
    ):
        model.load_scales(wrong)

    unknown = dict(scales, **{"layer1.0.conv3.input_scale": np.array(0.1, np.float32)})
    with pytest.raises(KeyError, match="does not declare: layer1.0.conv3.input_scale"):
        model.load_scales(unknown)
    model.load_scales(unknown, strict=False)  # unknown keys ignored, every declared one set
    assert float(model.layer1[0].conv1.input_scale.numpy()) == pytest.approx(0.02)


def test_load_weights_does_not_ask_for_scales_and_scales_load_from_safetensors(tmp_path):
    from safetensors.numpy import save_file

    model = _Model()
    weights = _model_weights()
    assert not any(k.endswith("_scale") for k in weights)
    model.load_weights(weights)  # strict, yet no scale is demanded
    with pytest.raises(KeyError, match="does not declare: layer1.0.conv1.input_scale"):
        model.load_weights(dict(weights, **_model_scales()))  # scales are not weights

    path = tmp_path / "quant.safetensors"
    save_file(_model_scales(0.03), str(path))
    model.load_scales(path)
    assert float(model.layer1[1].residual_quantizer.input_scale.numpy()) == pytest.approx(0.03)


# --------------------------------------------------------------------------- weight-only


def _dequantized(weight, scale, low, high):
    """torch reference: round half to even, clamp, times the (row or block) scale."""
    expanded = scale.reshape(scale.shape[0], -1)
    expanded = expanded.repeat_interleave(weight.shape[1] // expanded.shape[1], dim=1)
    return torch.round(weight / expanded).clamp(low, high) * expanded


@pytest.mark.parametrize("weight_only", ["int8", "int4"])
@pytest.mark.parametrize("pre_quant_scale", [False, True])
def test_weight_only_linear_matches_torch_on_dequantized_weights(weight_only, pre_quant_scale):
    out_features, in_features, block = 8, 256, 128
    low, high = (-128, 127) if weight_only == "int8" else (-8, 7)
    weight = rand(out_features, in_features, seed=8)
    bias = rand(out_features, seed=9)
    if weight_only == "int8":
        scale = weight.abs().amax(dim=1) / high
    else:
        scale = weight.reshape(out_features, -1, block).abs().amax(dim=2) / high
    # row 0: a power-of-two scale, so that half steps are exact ties (rounded to even) and
    # most of the row clamps; row 1: one value far past the range
    scale[0] = 2.0**-4
    weight[0, :4] = torch.tensor([0.5, 1.5, 2.5, -3.5]) * 2.0**-4
    weight[1, 0] = 3 * high * scale[1].flatten()[0]
    pre = (torch.rand(in_features, generator=torch.Generator().manual_seed(10)) + 0.5).float()

    module = nn.Linear(in_features, out_features, weight_only=weight_only)
    if pre_quant_scale:
        module = nn.Linear(in_features, out_features, weight_only=weight_only, pre_quant_scale=True)
    module.load_weights({"weight": weight.numpy(), "bias": bias.numpy()})
    scales = {"weight_scale": scale.numpy()}
    if pre_quant_scale:
        scales["pre_quant_scale"] = pre.numpy()
    module.load_scales(scales)

    x = rand(3, in_features, seed=11)
    (got,), (_, network) = run_layers(module, x, return_network=True)
    x_in = x * pre if pre_quant_scale else x
    want = x_in @ _dequantized(weight, scale, low, high).T + bias
    assert_close(got, want, rtol=1e-5)

    # an INT8 / INT4 CONSTANT → DEQUANTIZE → the matmul's weight operand; no QUANTIZE
    constant = next(
        c for c in _layers_of(network, LT.CONSTANT) if c.get_output(0).dtype != nn.float32
    )
    assert constant.get_output(0).dtype == {"int8": nn.int8, "int4": nn.int4}[weight_only]
    assert tuple(constant.get_output(0).shape) == (out_features, in_features)
    assert LT.QUANTIZE not in layer_types(network)
    (dq,) = _layers_of(network, LT.DEQUANTIZE)
    assert dq.axis == 0 or weight_only == "int4"


def test_int4_packing_is_tensorrts_two_per_byte_low_nibble_first():
    q = np.array([[1, -2, 7, -8], [0, -1, 3, 4]], np.int8)
    assert _pack_int4(q).tolist() == [[0xE1, 0x87], [0xF0, 0x43]]


def test_weight_only_int4_needs_whole_blocks():
    with pytest.raises(ValueError, match="in_features 200 is not a multiple of block_size 128"):
        nn.Linear(200, 8, weight_only="int4")
    nn.Linear(192, 8, weight_only="int4", block_size=64)  # 3 blocks of 64


# --------------------------------------------------------------------------- engines


def _build(module, shape, dtype=nn.float32):
    builder, network = nn.create_network()
    with nn.net_guard(network):
        nn.mark_output(module(nn.add_input("x", dtype, shape)), "y")
    return nn.build_engine(builder, network)


def test_int8_conv_builds_an_engine():
    rng = np.random.default_rng(0)
    module = nn.Conv2d(8, 16, 3, padding=1, quant="int8")
    module.load_weights(
        {
            "weight": rng.standard_normal((16, 8, 3, 3)).astype(np.float32),
            "bias": np.zeros(16, np.float32),
        }
    )
    module.load_scales(
        {"input_scale": np.array(0.02, np.float32), "weight_scale": np.full(16, 0.01, np.float32)}
    )
    assert len(_build(module, (1, 8, 16, 16))) > 0


@pytest.mark.parametrize("dtype", [nn.float32, nn.float16])
def test_int4_weight_only_linear_builds_an_engine(dtype):
    rng = np.random.default_rng(1)
    module = nn.Linear(256, 32, weight_only="int4", pre_quant_scale=True)
    module.load_weights(
        {
            "weight": rng.standard_normal((32, 256)).astype(np.float32),
            "bias": np.zeros(32, np.float32),
        }
    )
    module.load_scales(
        {
            "weight_scale": np.full((32, 2), 0.4, np.float32),
            "pre_quant_scale": np.ones(256, np.float32),
        }
    )
    module.to(dtype)  # W4A16: FP16 block scales, which TensorRT-RTX requires there
    assert len(_build(module, (4, 256), dtype)) > 0
