"""End to end over the model corpus: generate, `trtgen check` against PyTorch, build an engine.

The corpus (benchmarks/corpus.py) covers torchvision classification and segmentation,
detection-style nets, timm and transformers models, with random non-trivial weights.
"""

import os
import subprocess
import sys

import pytest

import layers
from cli_helpers import REPO
from trtgen.commands.check import check
from trtgen.commands.cli import main
from trtgen.emit.netfile import build_from_output

sys.path.insert(0, os.path.join(REPO, "benchmarks"))
import corpus  # noqa: E402


def generate_and_check(model, out):
    assert main([str(model), "-o", str(out)]) == 0
    lines = []
    assert check(str(out), log=lines.append), "\n".join(lines)


@pytest.mark.parametrize("name", sorted(corpus.CORPUS))
def test_corpus_model(tmp_path, name):
    out = tmp_path / "out"
    generate_and_check(corpus.model_file(name, str(tmp_path)), out)
    builder, network = build_from_output(str(out))
    assert len(layers.build_engine(builder, network)) > 0


@pytest.mark.parametrize(
    "name", ["resnet18", "resnet50", "mobilenet_v2", "vgg11_bn", "densenet121", "vit_b_16", "bert"]
)
def test_network_py_builds_an_engine_by_itself(tmp_path, name):
    """`python OUT/network.py --engine E` on its own, as a user runs it."""
    out = tmp_path / "out"
    assert main([corpus.model_file(name, str(tmp_path)), "-o", str(out)]) == 0
    engine = out / "model.engine"
    result = subprocess.run(
        [sys.executable, str(out / "network.py"), "--engine", str(engine)],
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert engine.stat().st_size > 0


def test_resnet50_is_compact(tmp_path):
    model = corpus.model_file("resnet50", str(tmp_path))
    assert main([str(model), "-o", str(tmp_path / "out")]) == 0
    source = (tmp_path / "out" / "network.py").read_text()
    assert len(source.splitlines()) <= 200
    assert source.count("class Bottleneck(") == 1
    assert "class Bottleneck_" not in source
    assert source.count("Bottleneck(") >= 16  # one definition, sixteen uses
