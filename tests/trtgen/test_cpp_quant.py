"""A quantized network in C++: network.cpp reads its scales from quant.safetensors by key, as
network.py does, and builds the same network layer by layer (compiled where TensorRT C++
headers are available, see cpp_helpers)."""

import textwrap

import numpy as np

from safetensors.numpy import load_file, save_file

from cli_helpers import run_trtgen
from cpp_helpers import build_and_describe, compile_builder, require_toolchain, run_builder

MODEL = textwrap.dedent("""
    import torch

    class Net(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.conv = torch.nn.Conv2d(3, 8, 3, padding=1)
            self.bn = torch.nn.BatchNorm2d(8)
            self.conv2 = torch.nn.Conv2d(8, 8, 3, padding=1)
            self.bn2 = torch.nn.BatchNorm2d(8)
            self.fc = torch.nn.Linear(8, 4)

        def forward(self, x):
            y = torch.relu(self.bn(self.conv(x)))
            y = torch.relu(self.bn2(self.conv2(y)) + y)
            return self.fc(y.mean(dim=(2, 3)))

    def get_model():
        torch.manual_seed(0)
        return Net()

    def get_example_inputs():
        return (torch.randn(1, 3, 8, 8, generator=torch.Generator().manual_seed(1)),)

    def get_calibration_data():
        g = torch.Generator().manual_seed(2)
        return [(torch.randn(1, 3, 8, 8, generator=g),) for _ in range(8)]
    """)


def _generate(tmp_path):
    model = tmp_path / "model.py"
    model.write_text(MODEL)
    out = tmp_path / "out"
    result = run_trtgen(model, "-o", out, "--quant", "int8", "--lang", "python,cpp")
    assert result.returncode == 0, result.stderr
    return out


def test_network_cpp_reads_scales_by_key(tmp_path):
    out = _generate(tmp_path)
    source = (out / "network.cpp").read_text()
    for key in load_file(out / "quant.safetensors"):
        assert f'w.get("{key}")' in source or f'"{key.rsplit(".", 1)[0]}' in source, key
    assert 'w.get("conv.input_scale")' in source
    assert "addQuantize" in source and "addDequantize" in source
    assert "true);" in source  # builder_main reads quant.safetensors


def test_quantized_cpp_network_matches_python_layer_by_layer(tmp_path):
    out = _generate(tmp_path)
    cpp, python = build_and_describe(out, tmp_path)
    assert cpp["layers"] == python["layers"]


def test_an_edited_scale_reaches_the_cpp_network(tmp_path):
    require_toolchain()
    out = _generate(tmp_path)
    scales = load_file(out / "quant.safetensors")
    scales["conv.input_scale"] = np.asarray(scales["conv.input_scale"] * 4, dtype=np.float32)
    save_file(scales, out / "quant.safetensors")
    cpp, python = build_and_describe(out, tmp_path)
    assert cpp["layers"] == python["layers"]  # both read the edited file
    exe, lib = compile_builder(out, tmp_path / "build2")
    missing = run_builder(
        exe,
        lib,
        "--weights",
        out / "weights.safetensors",
        "--scales",
        tmp_path / "none.safetensors",
        "--engine",
        tmp_path / "e.engine",
        cwd=out,
    )
    assert missing.returncode != 0
    assert "none.safetensors" in missing.stderr
