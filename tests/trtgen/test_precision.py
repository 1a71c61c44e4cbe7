"""`--precision fp16|bf16` and `--keep-fp32`: the choice is written in network.py, the network is
strongly typed with FP32 islands, and `trtgen check` passes with the reduced-precision tolerance
(max |trt - torch| <= 1e-2 * max(1, max |torch|) and cosine >= 0.999 per output, against FP32
PyTorch, numbers from the reference executor)."""

import json
import os

import pytest

import layers
from cli_helpers import EXAMPLES, TINY_NET, run_trtgen
from trtgen.emit.netfile import build_from_output

_dt = layers.trt.DataType

# a model with every FP32-island family: layer norm, softmax, a mean, exp
ISLANDS_MODEL = """
import torch

class Net(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = torch.nn.Linear(8, 16)
        self.norm = torch.nn.LayerNorm(16)
        self.head = torch.nn.Linear(16, 4)

    def forward(self, x):
        h = self.norm(self.fc(x))
        p = torch.softmax(self.head(h), dim=-1)
        return p * torch.exp(-h.mean(dim=-1, keepdim=True))

def get_model():
    torch.manual_seed(0)
    return Net()

def get_example_inputs():
    return (torch.randn(2, 8, generator=torch.Generator().manual_seed(1)),)
"""


def _generate(tmp_path, model, *args):
    out = tmp_path / "out"
    result = run_trtgen(model, "-o", out, *args)
    assert result.returncode == 0, result.stderr
    return out


def _check(out, *args):
    result = run_trtgen("check", out, *args)
    return result


def _layers_by_type(out):
    _, network = build_from_output(str(out))
    found = {}
    for i in range(network.num_layers):
        layer = network.get_layer(i)
        found.setdefault(layer.type.name, []).append(layer)
    return found


@pytest.mark.parametrize("precision", ["fp16", "bf16"])
@pytest.mark.parametrize("example", ["resnet18.py", "bert_encoder.py"])
def test_examples_pass_check_in_reduced_precision(tmp_path, example, precision):
    out = _generate(tmp_path, os.path.join(EXAMPLES, example), "--precision", precision)
    manifest = json.loads((out / "trtgen.json").read_text())
    assert manifest["precision"] == precision
    result = _check(out)
    assert result.returncode == 0, result.stdout + result.stderr
    assert f"tolerance ({precision}): rel err <= 0.01 and cosine >= 0.999" in result.stdout
    assert "PASS" in result.stdout


def test_network_py_states_the_precision_and_its_islands(tmp_path):
    model = tmp_path / "islands.py"
    model.write_text(ISLANDS_MODEL)
    out = _generate(tmp_path, model, "--precision", "fp16", "--keep-fp32", "head")
    source = (out / "network.py").read_text()
    assert "PRECISION = nn.float16" in source
    assert 'FP32_OPS = ("softmax", "normalization", "reduction", "exp")' in source
    assert 'KEEP_FP32 = ("head",)' in source
    assert "model.to(PRECISION, keep_fp32=KEEP_FP32)" in source
    assert "outputs = model(x.to(PRECISION))" in source
    assert 'nn.mark_output(outputs.float(), "output")' in source

    found = _layers_by_type(out)
    fc = [l for l in found["MATRIX_MULTIPLY"] if l.name.startswith("fc/")]
    assert fc[0].get_output(0).dtype == _dt.HALF  # the bulk of the network is FP16
    for kind in ("NORMALIZATION", "SOFTMAX", "REDUCE"):  # islands compute in FP32
        assert all(l.get_output(0).dtype == _dt.FLOAT for l in found[kind]), kind
    exp = [l for l in found["UNARY"] if l.name == "exp"]
    assert exp and exp[0].get_output(0).dtype == _dt.FLOAT
    head = [l for l in found["MATRIX_MULTIPLY"] if l.name.startswith("head/")]
    assert head[0].get_output(0).dtype == _dt.FLOAT  # --keep-fp32 head
    casts = {l.name for l in found["CAST"]}
    assert {"norm/to_fp32", "norm/from_fp32", "head/to_fp32", "head/from_fp32"} <= casts

    result = _check(out)
    assert result.returncode == 0, result.stdout + result.stderr


def test_editing_fp32_ops_in_network_py_changes_the_network(tmp_path):
    model = tmp_path / "islands.py"
    model.write_text(ISLANDS_MODEL)
    out = _generate(tmp_path, model, "--precision", "fp16")
    path = out / "network.py"
    source = path.read_text()
    path.write_text(
        source.replace(
            'FP32_OPS = ("softmax", "normalization", "reduction", "exp")', "FP32_OPS = ()"
        )
    )
    found = _layers_by_type(out)
    assert all(l.get_output(0).dtype == _dt.HALF for l in found["SOFTMAX"] + found["NORMALIZATION"])
    assert not any(l.name.endswith("to_fp32") for l in found.get("CAST", []))


def test_check_tolerance_can_be_tightened(tmp_path):
    model = tmp_path / "islands.py"
    model.write_text(ISLANDS_MODEL)
    out = _generate(tmp_path, model, "--precision", "fp16")
    result = _check(out, "--rtol", "1e-9")  # FP16 cannot meet an FP32-exact bound
    assert result.returncode == 1
    assert "FAIL" in result.stdout


@pytest.mark.parametrize(
    "args, message",
    [
        (["--precision", "fp64"], "--precision 'fp64': choose one of fp32, fp16, bf16"),
        (["--keep-fp32", "fc"], "--keep-fp32 needs --precision fp16 or bf16"),
        (["--precision", "fp16", "--keep-fp32", "fcc"], "did you mean fc?"),
    ],
)
def test_bad_precision_arguments(tmp_path, args, message):
    model = tmp_path / "tiny.py"
    model.write_text(
        TINY_NET
        + "\ndef get_model():\n    return Net()\n\ndef get_example_inputs():\n"
        + "    return (torch.randn(2, 4),)\n"
    )
    out = tmp_path / "out"
    result = run_trtgen(model, "-o", out, *args)
    assert result.returncode != 0
    assert message in result.stderr
    assert not out.exists()
