"""NVIDIA ModelOpt quantized models (``mtq.quantize``) keep their scales: every enabled
TensorQuantizer's amax becomes ``amax / bound`` in quant.safetensors under ModelOpt's export
names, and the generated network computes what the ModelOpt model computes. The models are
quantized by the real ModelOpt package on the CPU."""

import pathlib
import re
import textwrap

import numpy as np
import pytest
import torch
from safetensors.numpy import load_file

from cli_helpers import generate_source as _generate, import_model_file, run_trtgen
from cpp_helpers import build_and_describe, require_toolchain

# conv → pool → linear: ModelOpt quantizes the conv and linear inputs and weights, and the pool's
# input; CFG picks the ModelOpt config
CONV_NET = textwrap.dedent("""
    import torch
    import modelopt.torch.quantization as mtq

    CFG = "{cfg}"

    class Net(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.conv = torch.nn.Conv2d(3, 8, 3, padding=1)
            self.pool = torch.nn.MaxPool2d(2)
            self.fc = torch.nn.Linear(8 * 4 * 4, 10)

        def forward(self, x):
            return self.fc(self.pool(torch.relu(self.conv(x))).flatten(1))

    def get_model():
        torch.manual_seed(0)
        data = [torch.randn(2, 3, 8, 8, generator=torch.Generator().manual_seed(i)) for i in range(4)]

        def forward_loop(model):
            for x in data:
                model(x)

        return mtq.quantize(Net().eval(), getattr(mtq, CFG), forward_loop)

    def get_example_inputs():
        return (torch.randn(2, 3, 8, 8, generator=torch.Generator().manual_seed(9)),)
    """)

MLP = textwrap.dedent("""
    import torch
    import modelopt.torch.quantization as mtq

    CFG = "{cfg}"

    def get_model():
        torch.manual_seed(0)
        net = torch.nn.Sequential(torch.nn.Linear(256, 64), torch.nn.GELU(), torch.nn.Linear(64, 8))
        data = [torch.randn(4, 256, generator=torch.Generator().manual_seed(i)) for i in range(4)]

        def forward_loop(model):
            for x in data:
                model(x)

        return mtq.quantize(net.eval(), getattr(mtq, CFG), forward_loop)

    def get_example_inputs():
        return (torch.randn(4, 256, generator=torch.Generator().manual_seed(9)),)
    """)

BOUND = {"INT8_DEFAULT_CFG": 127.0, "FP8_DEFAULT_CFG": 448.0}


def _quantized(model):
    return import_model_file(model, "modelopt_model_under_test").get_model()


def _scale(amax, bound):
    return (amax.detach().numpy().astype(np.float32) / np.float32(bound)).astype(np.float32)


@pytest.mark.parametrize("cfg", sorted(BOUND))
def test_conv_pool_linear_keep_their_amax_as_scales(tmp_path, cfg):
    model, out, result = _generate(tmp_path, CONV_NET.format(cfg=cfg))
    assert result.returncode == 0, result.stderr
    fmt = "int8" if cfg.startswith("INT8") else "fp8"
    source = (out / "network.py").read_text()
    assert f'self.conv = nn.Conv2d(3, 8, 3, padding=1, quant="{fmt}")' in source
    assert f'self.fc = nn.Linear(128, 10, quant="{fmt}")' in source
    assert f'self.pool_input_quantizer = nn.QuantDequant("{fmt}")' in source
    assert re.search(r"self\.pool\((self\.)?pool_input_quantizer\b", source)  # feeds the pool

    net, bound = _quantized(model), BOUND[cfg]
    scales = load_file(out / "quant.safetensors")
    assert sorted(scales) == [
        "conv.input_scale",
        "conv.weight_scale",
        "fc.input_scale",
        "fc.weight_scale",
        "pool_input_quantizer.input_scale",
    ]
    for module in ("conv", "fc"):
        quantizers = net.get_submodule(module)
        assert (
            scales[f"{module}.input_scale"].tobytes()
            == _scale(quantizers.input_quantizer.amax, bound).tobytes()
        )
        weight = _scale(quantizers.weight_quantizer.amax, bound).reshape(-1)
        channels = scales[f"{module}.weight_scale"]
        # INT8: one amax per output channel; FP8: one per tensor, repeated on every channel
        assert channels.shape == (len(quantizers.weight),)
        assert np.array_equal(channels, np.broadcast_to(weight, channels.shape))
    assert (
        scales["pool_input_quantizer.input_scale"].tobytes()
        == _scale(net.pool.input_quantizer.amax, bound).tobytes()
    )
    # against the ModelOpt model's own fake quantization
    check = run_trtgen("check", out, "--min-cosine", "0.9999")
    assert check.returncode == 0, check.stdout + check.stderr
    assert f"tolerance ({fmt})" in check.stdout


def test_smoothquant_keeps_pre_quant_scale(tmp_path):
    model, out, result = _generate(tmp_path, MLP.format(cfg="INT8_SMOOTHQUANT_CFG"))
    assert result.returncode == 0, result.stderr
    source = (out / "network.py").read_text()
    assert 'nn.Linear(256, 64, quant="int8", pre_quant_scale=True)' in source
    net = _quantized(model)
    scales = load_file(out / "quant.safetensors")
    smoothing = net[0].input_quantizer.pre_quant_scale.detach().numpy().astype(np.float32)
    assert scales["0.pre_quant_scale"].tobytes() == smoothing.tobytes()
    assert not np.allclose(smoothing, 1.0)  # SmoothQuant really moved scale into the weights
    check = run_trtgen("check", out, "--min-cosine", "0.9999")
    assert check.returncode == 0, check.stdout + check.stderr


def test_int4_awq_becomes_weight_only_int4_with_its_block_scales(tmp_path):
    model, out, result = _generate(tmp_path, MLP.format(cfg="INT4_AWQ_CFG"))
    assert result.returncode == 0, result.stderr
    source = (out / "network.py").read_text()
    # in_features 64 is one block shorter than 128: ModelOpt scales the whole row as a block
    assert 'nn.Linear(256, 64, weight_only="int4", pre_quant_scale=True)' in source
    assert 'nn.Linear(64, 8, weight_only="int4", block_size=64, pre_quant_scale=True)' in source
    net = _quantized(model)
    scales = load_file(out / "quant.safetensors")
    amax = net[0].weight_quantizer.amax
    assert scales["0.weight_scale"].shape == (64, 2)
    assert scales["0.weight_scale"].tobytes() == _scale(amax, 7.0).reshape(64, 2).tobytes()
    check = run_trtgen("check", out, "--min-cosine", "0.9999")
    assert check.returncode == 0, check.stdout + check.stderr
    assert "tolerance (weight-only int4)" in check.stdout


def test_weight_only_import_refuses_cpp(tmp_path):
    _, out, result = _generate(tmp_path, MLP.format(cfg="INT4_AWQ_CFG"), "--lang", "cpp")
    assert result.returncode != 0
    assert "--lang python" in result.stderr
    assert not out.exists()


OUTPUT_QUANTIZED = CONV_NET.replace(
    "return mtq.quantize(Net().eval(), getattr(mtq, CFG), forward_loop)",
    "net = mtq.quantize(Net().eval(), getattr(mtq, CFG), forward_loop)\n"
    "    net.fc.output_quantizer.enable()\n"
    "    net.fc.output_quantizer.amax = torch.tensor(4.0)\n"
    "    return net",
)


@pytest.mark.parametrize(
    "source, message",
    [
        (
            OUTPUT_QUANTIZED.format(cfg="INT8_DEFAULT_CFG"),
            "fc (QuantLinear): its output quantizer is enabled",
        ),
        (
            MLP.format(cfg="W4A8_AWQ_BETA_CFG"),
            "ModelOpt 0.weight_quantizer: a SequentialQuantizer",
        ),
    ],
    ids=["output_quantizer", "w4a8_sequential_quantizer"],
)
def test_what_tensorrt_cannot_express_is_refused_by_name(tmp_path, source, message):
    _, out, result = _generate(tmp_path, source)
    assert result.returncode != 0
    assert message in result.stderr
    assert not out.exists()


BERT = textwrap.dedent("""
    import sys
    import modelopt.torch.quantization as mtq

    sys.path.insert(0, {examples!r})
    import bert_encoder

    get_example_inputs = bert_encoder.get_example_inputs

    def get_model():
        inputs = get_example_inputs()
        return mtq.quantize(bert_encoder.get_model().eval(), mtq.INT8_DEFAULT_CFG, lambda m: m(*inputs))
    """)


def _expected_key(path, model):
    """Where an enabled ModelOpt quantizer's scale lands in quant.safetensors."""
    owner, _, role = path.rpartition(".")
    parent, _, child = owner.rpartition(".")
    weighted = isinstance(model.get_submodule(owner), (torch.nn.Linear, torch.nn.Conv2d))
    if weighted:
        return f"{owner}.{role.replace('_quantizer', '_scale')}"
    return (
        f"{parent}.{child}_input_quantizer.input_scale"
        if parent
        else f"{child}_input_quantizer.input_scale"
    )


def test_a_modelopt_bert_encoder_keeps_every_enabled_quantizer(tmp_path):
    """A transformers encoder: Linear layers quantized, LayerNorm inputs get Q/DQ pairs."""
    examples = str(pathlib.Path(__file__).parents[2] / "examples")
    model, out, result = _generate(tmp_path, BERT.format(examples=examples))
    assert result.returncode == 0, result.stderr
    net = _quantized(model)
    enabled = {
        path: quantizer
        for path, quantizer in net.named_modules()
        if type(quantizer).__name__ == "TensorQuantizer" and quantizer.is_enabled
    }
    scales = load_file(out / "quant.safetensors")
    assert len(enabled) > 20 and len(scales) == len(enabled)
    for path, quantizer in enabled.items():
        key = _expected_key(path, net)
        assert key in scales, f"{path} → {key} missing"
        assert np.array_equal(
            scales[key].reshape(-1),
            np.broadcast_to(
                _scale(quantizer.amax, 127.0).reshape(-1), scales[key].reshape(-1).shape
            ),
        )
    check = run_trtgen("check", out, "--min-cosine", "0.9999")
    assert check.returncode == 0, check.stdout + check.stderr


DECONV = textwrap.dedent("""
    import copy
    import torch
    import modelopt.torch.quantization as mtq

    AXIS = {axis}

    def get_model():
        torch.manual_seed(0)
        net = torch.nn.Sequential(torch.nn.Conv2d(3, 8, 3, padding=1), torch.nn.ConvTranspose2d(8, 4, 2, stride=2))
        data = [torch.randn(1, 3, 8, 8, generator=torch.Generator().manual_seed(i)) for i in range(4)]
        config = copy.deepcopy(mtq.INT8_DEFAULT_CFG)
        if AXIS is not None:
            config["quant_cfg"].append({{"quantizer_name": "*1.weight_quantizer", "cfg": {{"num_bits": 8, "axis": AXIS}}}})
        return mtq.quantize(net.eval(), config, lambda m: [m(x) for x in data])

    def get_example_inputs():
        return (torch.randn(1, 3, 8, 8, generator=torch.Generator().manual_seed(9)),)
    """)


def test_transposed_conv_weights_need_output_channel_scales(tmp_path):
    """ModelOpt's default scales a ConvTranspose weight per input channel (axis 0), which
    TensorRT cannot express: refused with the fix; with axis 1 it is kept."""
    _, out, result = _generate(tmp_path, DECONV.format(axis=None))
    assert result.returncode != 0
    assert "quantize this weight with axis 1" in result.stderr
    assert not out.exists()

    model, out, result = _generate(tmp_path, DECONV.format(axis=1))
    assert result.returncode == 0, result.stderr
    assert 'nn.ConvTranspose2d(8, 4, 2, stride=2, quant="int8")' in (out / "network.py").read_text()
    net = _quantized(model)
    scales = load_file(out / "quant.safetensors")
    want = _scale(net[1].weight_quantizer.amax, 127.0).reshape(-1)
    assert scales["1.weight_scale"].tobytes() == want.tobytes()
    check = run_trtgen("check", out, "--min-cosine", "0.9999")
    assert check.returncode == 0, check.stdout + check.stderr


def _smoothquant_cpp(tmp_path):
    _, out, result = _generate(
        tmp_path, MLP.format(cfg="INT8_SMOOTHQUANT_CFG"), "--lang", "python,cpp"
    )
    assert result.returncode == 0, result.stderr
    return out


def test_smoothquant_cpp_reads_pre_quant_scale_by_key(tmp_path):
    source = (_smoothquant_cpp(tmp_path) / "network.cpp").read_text()
    for key in ("0.pre_quant_scale", "0.input_scale", "2.pre_quant_scale"):
        assert f'w.get("{key}")' in source, key


def test_smoothquant_cpp_network_matches_python_layer_by_layer(tmp_path):
    require_toolchain()  # compiled where TensorRT C++ headers are
    cpp, python = build_and_describe(_smoothquant_cpp(tmp_path), tmp_path)
    assert cpp["layers"] == python["layers"]


def test_generating_one_loaded_model_twice_gives_the_same_network(tmp_path):
    """``trtgen bench --repeat`` generates the same loaded model again: the second generation
    must not lose the quantization the first one took over."""
    from trtgen.commands.generate import generate_loaded
    from trtgen.capture.load import load_model

    model = tmp_path / "model.py"
    model.write_text(CONV_NET.format(cfg="INT8_DEFAULT_CFG"))
    loaded = load_model(str(model), ())
    first, second = (generate_loaded(loaded, out_dir=str(tmp_path / "out")) for _ in range(2))
    assert second.files["network.py"] == first.files["network.py"]
    assert 'quant="int8"' in second.files["network.py"]
    assert sorted(second.scales) == sorted(first.scales)
    assert all(np.array_equal(second.scales[k], first.scales[k]) for k in first.scales)
