"""End to end: generate, `trtgen check` against PyTorch, build an engine from network.py."""

import os
import subprocess
import sys

import pytest

from cli_helpers import EXAMPLES
from trtgen.check import check
from trtgen.cli import main
from zoo_models import model_file

TORCHVISION = ["resnet18", "resnet50", "mobilenet_v2", "vgg11_bn", "densenet121", "vit_b_16"]


def generate_and_check(model, out):
    assert main([str(model), "-o", str(out)]) == 0
    lines = []
    assert check(str(out), log=lines.append), "\n".join(lines)
    return out, lines


def build_engine_from_network_py(out):
    engine = out / "model.engine"
    result = subprocess.run(
        [sys.executable, str(out / "network.py"), "--engine", str(engine)],
        capture_output=True, text=True, timeout=900,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert engine.stat().st_size > 0
    # a real serialized engine: TensorRT(-RTX) reads back the header it wrote
    with open(engine, "rb") as f:
        assert len(f.read(16)) == 16


@pytest.mark.parametrize("name", TORCHVISION)
def test_torchvision_model(tmp_path, name):
    out, _ = generate_and_check(model_file(tmp_path, name), tmp_path / "out")
    build_engine_from_network_py(out)


def test_bert_encoder(tmp_path):
    out, _ = generate_and_check(os.path.join(EXAMPLES, "bert_encoder.py"), tmp_path / "out")
    build_engine_from_network_py(out)


def test_resnet50_is_compact(tmp_path):
    model = model_file(tmp_path, "resnet50")
    assert main([str(model), "-o", str(tmp_path / "out")]) == 0
    source = (tmp_path / "out" / "network.py").read_text()
    assert len(source.splitlines()) <= 200
    assert source.count("class Bottleneck(") == 1
    assert "class Bottleneck_" not in source
    assert source.count("Bottleneck(") >= 16  # one definition, sixteen uses
