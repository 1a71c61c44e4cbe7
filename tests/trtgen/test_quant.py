"""`--quant int8|fp8`: post-training quantization with explicit Q/DQ, scales in quant.safetensors.

Numbers: the reference executor runs the quantized network (Q/DQ as TensorRT defines them) and
is compared with FP32 PyTorch on held-out inputs that were not calibrated on: cosine similarity
>= 0.99 per output and sample (64 ResNet-18 inputs, 16 BERT batches).
"""

import json
import os

import numpy as np
import pytest
import torch
from safetensors.numpy import load_file, save_file

import layers
from cli_helpers import EXAMPLES, TINY_MODEL, run_trtgen
from trtgen.commands.check import load_reference_model
from trtgen.emit.netfile import build_from_output
from trtgen.emit.output import read_manifest
from trtgen.reference import execute

_LT = layers.trt.LayerType
CALIBRATION_SAMPLES = 32
HELD_OUT = 64


def _resnet_inputs(count, seed):
    generator = torch.Generator().manual_seed(seed)
    return [(torch.randn(1, 3, 224, 224, generator=generator),) for _ in range(count)]


def _bert_inputs(count, seed):
    generator = torch.Generator().manual_seed(seed)
    samples = []
    for _ in range(count):
        ids = torch.randint(0, 1000, (2, 16), generator=generator)
        mask = torch.ones(2, 16, dtype=torch.int64)
        mask[1, int(torch.randint(4, 16, (1,), generator=generator)) :] = 0
        samples.append((ids, mask))
    return samples


EXAMPLE_INPUTS = {"resnet18.py": _resnet_inputs, "bert_encoder.py": _bert_inputs}


def _write_calibration(folder, samples):
    folder.mkdir()
    for i, sample in enumerate(samples):
        torch.save(sample, folder / f"{i:03d}.pt")
    return folder


@pytest.fixture(scope="module", params=["int8", "fp8"])
def quantized(request, tmp_path_factory):
    """Both examples quantized in one format: {example: OUT}."""
    outs = {}
    for example, make_inputs in EXAMPLE_INPUTS.items():
        root = tmp_path_factory.mktemp(f"{request.param}_{example[:-3]}")
        calib = _write_calibration(root / "calib", make_inputs(CALIBRATION_SAMPLES, seed=1))
        out = root / "out"
        model = os.path.join(EXAMPLES, example)
        result = run_trtgen(model, "-o", out, "--quant", request.param, "--calib", calib)
        assert result.returncode == 0, result.stderr
        outs[example] = out
    return request.param, outs


def _held_out_results(out, make_inputs):
    """(PyTorch FP32 outputs, executor outputs) per held-out sample, output by output."""
    manifest = read_manifest(str(out))
    loaded = load_reference_model(str(out), manifest)
    _, network = build_from_output(str(out))
    names = [i["name"] for i in manifest["inputs"]]
    outputs = [o["name"] for o in manifest["outputs"]]
    pairs = []
    for sample in make_inputs(HELD_OUT if "resnet" in str(out) else 16, seed=2):
        with torch.no_grad():
            want = loaded.model(*sample)
        want = (
            [want]
            if isinstance(want, torch.Tensor)
            else [want[k] for k in ("last_hidden_state", "pooler_output")]
        )
        got = execute(network, dict(zip(names, sample)))
        pairs.append([(w, got[name]) for w, name in zip(want, outputs)])
    return pairs


def _cosine(a, b):
    a, b = a.double().reshape(-1), b.double().reshape(-1)
    return float(a @ b / (a.norm() * b.norm()))


@pytest.mark.parametrize("example", list(EXAMPLE_INPUTS))
def test_quantized_examples_match_fp32_pytorch_on_held_out_inputs(quantized, example):
    quant, outs = quantized
    pairs = _held_out_results(outs[example], EXAMPLE_INPUTS[example])
    worst = min(_cosine(want, got) for sample in pairs for want, got in sample)
    assert worst >= 0.99, f"{quant} {example}: worst cosine {worst:.5f}"


def test_network_py_and_quant_safetensors(quantized):
    quant, outs = quantized
    out = outs["resnet18.py"]
    source = (out / "network.py").read_text()
    assert f'nn.Conv2d(3, 64, 7, stride=2, padding=3, bias=False, quant="{quant}")' in source
    assert "self.residual_quantizer(" in source
    assert "model.load_scales(scales)" in source
    scales = load_file(out / "quant.safetensors")
    assert scales["conv1.input_scale"].shape == ()
    assert scales["conv1.weight_scale"].shape == (64,)
    assert scales["fc.weight_scale"].shape == (1000,)
    assert "layer1.0.residual_quantizer.input_scale" in scales
    assert all(v.dtype == np.float32 and (v > 0).all() for v in scales.values())
    from safetensors import safe_open

    with safe_open(out / "quant.safetensors", "np") as f:
        metadata = f.metadata()
    assert metadata["format"] == quant
    assert metadata["calibrator"] == {"int8": "percentile", "fp8": "max"}[quant]
    assert ("percentile" in metadata) == (quant == "int8")
    assert metadata["calibration_samples"] == str(CALIBRATION_SAMPLES)
    assert metadata["generator"].startswith("trtgen ")
    manifest = json.loads((out / "trtgen.json").read_text())
    assert manifest["quant"] == quant


def _producer(network, tensor):
    for i in range(network.num_layers):
        layer = network.get_layer(i)
        if any(layer.get_output(k).name == tensor.name for k in range(layer.num_outputs)):
            return layer
    return None


def test_no_qdq_pair_between_a_conv_path_and_its_residual_add(quantized):
    quant, outs = quantized
    _, network = build_from_output(str(outs["resnet18.py"]))
    adds = quantized_skips = 0
    for i in range(network.num_layers):
        layer = network.get_layer(i)
        if layer.type != _LT.ELEMENTWISE or layer.num_inputs != 2:
            continue
        producers = [_producer(network, layer.get_input(k)) for k in range(2)]
        if not any(p is not None and p.type == _LT.SCALE for p in producers):
            continue  # not a residual add after a conv + batch norm
        adds += 1
        for p in producers:
            if p is not None and p.type == _LT.DEQUANTIZE:
                source = _producer(network, _producer(network, p.get_input(0)).get_input(0))
                assert source is None or source.type not in (_LT.CONVOLUTION, _LT.SCALE), layer.name
                quantized_skips += 1
    assert adds == 8  # resnet18's eight BasicBlocks
    assert quantized_skips == 5  # the three downsampling blocks add two conv paths


def test_editing_a_scale_changes_the_built_network(quantized, tmp_path):
    quant, outs = quantized
    out = outs["resnet18.py"]
    manifest = read_manifest(str(out))
    names = [i["name"] for i in manifest["inputs"]]
    sample = dict(zip(names, _resnet_inputs(1, seed=3)[0]))
    before = execute(build_from_output(str(out))[1], sample)["output"]
    path = out / "quant.safetensors"
    original = path.read_bytes()
    try:
        scales = load_file(path)
        scales["conv1.input_scale"] = np.asarray(scales["conv1.input_scale"] * 8, dtype=np.float32)
        save_file(scales, path)
        _, network = build_from_output(str(out))
        quantize = [
            network.get_layer(i)
            for i in range(network.num_layers)
            if network.get_layer(i).name == "conv1/quantize"
        ]
        assert quantize, "conv1 has no quantize layer"
        after = execute(network, sample)["output"]
    finally:
        path.write_bytes(original)
    assert not torch.equal(before, after)


def test_check_uses_the_quantized_tolerance(quantized):
    quant, outs = quantized
    result = run_trtgen("check", outs["bert_encoder.py"])
    assert result.returncode == 0, result.stdout + result.stderr
    assert f"tolerance ({quant}): cosine >= 0.99" in result.stdout


def test_a_model_with_nothing_to_quantize_is_refused(tmp_path):
    model = tmp_path / "conv.py"
    model.write_text(
        "import torch\n\ndef get_model():\n    return torch.nn.Conv2d(3, 4, 3)\n\n"
        "def get_example_inputs():\n    return (torch.randn(1, 3, 8, 8),)\n\n"
        "def get_calibration_data():\n    return [(torch.randn(1, 3, 8, 8),)]\n"
    )
    out = tmp_path / "out"
    result = run_trtgen(model, "-o", out, "--quant", "int8")
    assert result.returncode != 0
    assert "nothing in the model was quantized" in result.stderr
    assert not out.exists()


def test_skip_quant_leaves_a_module_in_float(tmp_path):
    model = tmp_path / "tiny.py"
    model.write_text(
        TINY_MODEL + "\ndef get_calibration_data():\n"
        "    g = torch.Generator().manual_seed(5)\n"
        "    return [(torch.randn(2, 4, generator=g),) for _ in range(4)]\n"
    )
    out = tmp_path / "out"
    result = run_trtgen(model, "-o", out, "--quant", "int8", "--skip-quant", "fc")
    assert result.returncode == 0, result.stderr
    assert "quant=" not in (out / "network.py").read_text()
    _, network = build_from_output(str(out))
    kinds = {network.get_layer(i).type for i in range(network.num_layers)}
    assert _LT.QUANTIZE not in kinds


@pytest.mark.parametrize(
    "args, message",
    [
        (["--quant", "int4"], "--quant 'int4': choose one of int8, fp8"),
        (["--quant", "fp8", "--calibrator", "entropy"], "entropy is TensorRT's INT8 algorithm"),
        (["--calibrator", "max"], "--calibrator needs --quant int8 or --quant fp8"),
        (
            ["--quant", "int8", "--skip-quant", "nope"],
            "--skip-quant 'nope': the network has no module",
        ),
        (["--quant", "int8", "--percentile", "0"], "--percentile 0.0: give a value in (0, 100]"),
        (["--quant", "int8"], "--quant needs calibration data: define get_calibration_data()"),
        (
            ["--weight-only", "int8", "--lang", "cpp"],
            "network.cpp cannot round weights to INT8/INT4 yet",
        ),
        (["--weight-only", "int2"], "--weight-only 'int2': choose one of int8, int4"),
        (
            ["--weight-only", "int8", "--quant", "int8"],
            "--weight-only and --quant exclude each other",
        ),
    ],
)
def test_bad_quant_arguments(tmp_path, args, message):
    model = tmp_path / "tiny.py"
    model.write_text(TINY_MODEL)
    out = tmp_path / "out"
    result = run_trtgen(model, "-o", out, *args)
    assert result.returncode != 0
    assert message in result.stderr
    assert not out.exists()


def test_layerwise_check_lists_modules_by_sqnr(quantized):
    quant, outs = quantized
    result = run_trtgen("check", outs["bert_encoder.py"], "--layerwise")
    assert result.returncode == 0, result.stdout + result.stderr
    lines = result.stdout.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("layerwise: SQNR of "))
    rows = [line.split() for line in lines[start + 2 : start + 12]]
    sqnr = [float(row[1]) for row in rows]
    assert len(rows) == 10 and sqnr == sorted(sqnr)  # the lowest first
    assert all(row[0].startswith(("encoder", "embeddings", "pooler")) for row in rows)


@pytest.mark.parametrize("weight_only", ["int8", "int4"])
def test_weight_only_bert_passes_check(tmp_path, weight_only):
    out = tmp_path / "out"
    example = os.path.join(EXAMPLES, "bert_encoder.py")
    result = run_trtgen(example, "-o", out, "--weight-only", weight_only, "--precision", "fp16")
    assert result.returncode == 0, result.stderr
    source = (out / "network.py").read_text()
    assert f'weight_only="{weight_only}"' in source
    scales = load_file(out / "quant.safetensors")
    key = "encoder.layer.0.output.dense.weight_scale"  # 128 inputs: the one INT4-blockable Linear
    assert scales[key].shape == ((64,) if weight_only == "int8" else (64, 1))
    check = run_trtgen("check", out)
    assert check.returncode == 0, check.stdout + check.stderr
    assert f"tolerance (weight-only {weight_only}): cosine >= 0.99" in check.stdout


EAGER_ATTENTION = """
import torch


class Attention(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.qkv = torch.nn.Linear(16, 48)
        self.mix = torch.nn.Parameter(torch.randn(16, 16) * 0.2)

    def forward(self, x):
        q, k, v = self.qkv(x).chunk(3, dim=-1)
        probs = torch.softmax(q @ k.transpose(-1, -2) * 0.25, dim=-1)
        return torch.matmul(probs, v) @ self.mix  # the last product has a weight


def get_model():
    torch.manual_seed(0)
    return Attention()


def get_example_inputs():
    return (torch.randn(2, 8, 16, generator=torch.Generator().manual_seed(1)),)


def get_calibration_data():
    g = torch.Generator().manual_seed(2)
    return [(torch.randn(2, 8, 16, generator=g),) for _ in range(8)]
"""


@pytest.mark.parametrize("quant", ["int8", "fp8"])
def test_products_of_two_activations_get_qdq_pairs(tmp_path, quant):
    """Attention's ``q @ kᵀ`` and ``probs @ v`` run quantized; a product with a weight does not."""
    model = tmp_path / "attention.py"
    model.write_text(EAGER_ATTENTION)
    out = tmp_path / "out"
    result = run_trtgen(model, "-o", out, "--quant", quant)
    assert result.returncode == 0, result.stderr
    scales = load_file(out / "quant.safetensors")
    products = sorted(k for k in scales if k.endswith("_quantizer.input_scale"))
    assert len(products) == 4, products  # q, kᵀ, probs, v; not the product with self.mix
    source = (out / "network.py").read_text()
    assert source.count(f'= nn.QuantDequant("{quant}")') == 4
    _, network = build_from_output(str(out))
    kinds = [network.get_layer(i).type for i in range(network.num_layers)]
    assert kinds.count(_LT.QUANTIZE) == 4 + 2  # and the qkv Linear's input and weight
    check = run_trtgen("check", out)
    assert check.returncode == 0, check.stdout + check.stderr
