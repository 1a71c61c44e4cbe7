"""Models that are already quantized keep their own scales: fake-quantize ops (QAT) and a
torch.ao FX reference model (quantize/dequantize pairs). Each quantizer becomes an
``nn.QuantDequant`` whose scale lands bit-exactly (as float32) in quant.safetensors; the check
is exact, since the reference executor and torch both round half to even and clamp to INT8."""

import textwrap

import numpy as np
import pytest
import torch
from safetensors.numpy import load_file

from cli_helpers import generate_source as _generate, import_model_file, run_trtgen

FAKE_QUANT_MODEL = textwrap.dedent("""
    import torch

    class Net(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.conv = torch.nn.Conv2d(3, 8, 3, padding=1)
            self.fc = torch.nn.Linear(8, 4)
            self.register_buffer("act_scale", torch.tensor(0.0213))
            self.register_buffer("w_scale", torch.rand(8) * 0.01 + 0.001)

        def forward(self, x):
            zero = torch.tensor(0, dtype=torch.int32)
            x = torch.fake_quantize_per_tensor_affine(x, self.act_scale, zero, -128, 127)
            zeros = torch.zeros(8, dtype=torch.int32)
            w = torch.fake_quantize_per_channel_affine(self.conv.weight, self.w_scale, zeros, 0, -128, 127)
            y = torch.relu(torch.nn.functional.conv2d(x, w, self.conv.bias, padding=1))
            y = torch.fake_quantize_per_tensor_affine(y.mean(dim=(2, 3)), 0.05, 0, -128, 127)
            return self.fc(y)

    def get_model():
        torch.manual_seed(0)
        return Net()

    def get_example_inputs():
        return (torch.randn(1, 3, 8, 8, generator=torch.Generator().manual_seed(1)),)
    """)

AO_MODEL = textwrap.dedent("""
    import torch
    from torch.ao.quantization import QConfig, QConfigMapping
    from torch.ao.quantization.backend_config import get_tensorrt_backend_config
    from torch.ao.quantization.observer import MinMaxObserver, PerChannelMinMaxObserver
    from torch.ao.quantization.quantize_fx import convert_to_reference_fx, prepare_fx

    SYMMETRIC = QConfig(
        activation=MinMaxObserver.with_args(dtype=torch.qint8, qscheme=torch.per_tensor_symmetric),
        weight=PerChannelMinMaxObserver.with_args(dtype=torch.qint8, qscheme=torch.per_channel_symmetric),
    )

    class Net(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.conv = torch.nn.Conv2d(3, 8, 3, padding=1)
            self.fc = torch.nn.Linear(8, 4)

        def forward(self, x):
            return self.fc(torch.relu(self.conv(x)).mean(dim=(2, 3)))

    def get_model(qconfig=SYMMETRIC):
        torch.manual_seed(0)
        backend = get_tensorrt_backend_config()
        prepared = prepare_fx(Net().eval(), QConfigMapping().set_global(qconfig), get_example_inputs(), backend_config=backend)
        with torch.no_grad():
            for _ in range(4):
                prepared(torch.randn(1, 3, 8, 8))
        return convert_to_reference_fx(prepared, backend_config=backend)

    def get_example_inputs():
        return (torch.randn(1, 3, 8, 8, generator=torch.Generator().manual_seed(1)),)
    """)


def _load(model):
    return import_model_file(model, "quantized_model_under_test")


def _bits(array):
    return np.asarray(array, dtype=np.float32).tobytes()


def test_fake_quantize_scales_are_kept_bit_exactly(tmp_path):
    model, out, result = _generate(tmp_path, FAKE_QUANT_MODEL)
    assert result.returncode == 0, result.stderr
    source = (out / "network.py").read_text()
    assert 'self.x_quantizer = nn.QuantDequant("int8")' in source
    assert 'self.conv_weight_quantizer = nn.QuantDequant("int8", axis=0, channels=8)' in source
    net = _load(model).get_model()
    scales = load_file(out / "quant.safetensors")
    assert _bits(scales["x_quantizer.input_scale"]) == _bits(net.act_scale.numpy())
    assert _bits(scales["conv_weight_quantizer.input_scale"]) == _bits(net.w_scale.numpy())
    assert _bits(scales["mean_quantizer.input_scale"]) == _bits(np.float32(0.05))
    assert "act_scale" not in load_file(out / "weights.safetensors")  # a scale, not a weight
    check = run_trtgen("check", out, "--rtol", "0")  # Q/DQ as torch computes them: exact
    assert check.returncode == 0, check.stdout + check.stderr


def test_torch_ao_reference_model_keeps_its_scales(tmp_path):
    model, out, result = _generate(tmp_path, AO_MODEL)
    assert result.returncode == 0, result.stderr
    net = _load(model).get_model()
    scales = load_file(out / "quant.safetensors")
    assert _bits(scales["x_quantizer.input_scale"]) == _bits(net.conv_input_scale_0.numpy())
    assert _bits(scales["conv.weight_quantizer.input_scale"]) == _bits(
        net.conv.weight_scale.numpy()
    )
    assert _bits(scales["fc.weight_quantizer.input_scale"]) == _bits(net.fc.weight_scale.numpy())
    assert len(scales) == 7  # five activation quantizers, two per-channel weight quantizers
    check = run_trtgen("check", out, "--rtol", "1e-6")
    assert check.returncode == 0, check.stdout + check.stderr
    assert "tolerance (int8)" in check.stdout


ASYMMETRIC_MODEL = textwrap.dedent("""
    import torch

    class Net(torch.nn.Module):
        def forward(self, x):
            return torch.relu(torch.quantize_per_tensor(x, 0.1, 128, torch.quint8).dequantize())

    def get_model():
        return Net()

    def get_example_inputs():
        return (torch.randn(2, 4),)
    """)


def test_an_asymmetric_quantize_dequantize_pair_is_refused(tmp_path):
    _, out, result = _generate(tmp_path, ASYMMETRIC_MODEL)
    assert result.returncode != 0
    assert "TensorRT quantization is symmetric INT8" in result.stderr
    assert not out.exists()


def test_quant_flag_on_an_already_quantized_model_is_refused(tmp_path):
    calib = tmp_path / "calib"
    calib.mkdir()
    torch.save((torch.randn(1, 3, 8, 8),), calib / "0.pt")
    _, out, result = _generate(tmp_path, FAKE_QUANT_MODEL, "--quant", "int8", "--calib", calib)
    assert result.returncode != 0
    assert "already quantized" in result.stderr
    assert not out.exists()
