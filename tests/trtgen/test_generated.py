"""generated/ holds the current output of trtgen for the examples; output is deterministic and black-clean."""

import filecmp
import json
import os
import subprocess
import sys

import black
import pytest

from cli_helpers import REPO
from trtgen.commands.cli import main

EXAMPLES = {
    "resnet18": "examples/resnet18.py",
    "bert_encoder": "examples/bert_encoder.py",
    "gpt2_tiny": "examples/gpt2_tiny.py",
    "llama_tiny": "examples/llama_tiny.py",
    "swin_t": "examples/swin_t.py",
}
SMALL_WEIGHTS = ("bert_encoder", "gpt2_tiny", "llama_tiny")  # checked in; the others are recreated
TEXT_FILES = ("network.py", "README.md", "network.cpp", "CMakeLists.txt", "trtgen_describe.h")


def _manifest(path):
    with open(path) as f:
        manifest = json.load(f)
    manifest.pop("source_from_output")  # depends on where OUT is, by design
    return manifest


def _generate(model, out, langs="python"):
    cwd = os.getcwd()
    os.chdir(REPO)  # the manifest records the model path as given, relative to the repo
    try:
        assert main([model, "-o", str(out), "--lang", langs]) == 0
    finally:
        os.chdir(cwd)


@pytest.mark.parametrize("name", sorted(EXAMPLES))
def test_generated_examples_are_fresh(tmp_path, name):
    checked_in = os.path.join(REPO, "generated", name)
    langs = ",".join(_manifest(os.path.join(checked_in, "trtgen.json"))["languages"])
    _generate(EXAMPLES[name], tmp_path / name, langs)
    for file in TEXT_FILES:
        if not os.path.exists(os.path.join(checked_in, file)):
            assert not (tmp_path / name / file).exists(), f"generated/{name}/{file} is missing"
            continue
        with open(os.path.join(checked_in, file)) as f:
            assert (
                tmp_path / name / file
            ).read_text() == f.read(), f"generated/{name}/{file} is stale: run `trtgen {EXAMPLES[name]} --lang {langs} --force`"
    assert _manifest(tmp_path / name / "trtgen.json") == _manifest(
        os.path.join(checked_in, "trtgen.json")
    )
    weights = os.path.join(checked_in, "weights.safetensors")
    if os.path.exists(weights) and name in SMALL_WEIGHTS:
        assert filecmp.cmp(weights, tmp_path / name / "weights.safetensors", shallow=False)


def test_output_is_byte_identical_across_runs(tmp_path):
    _generate(EXAMPLES["bert_encoder"], tmp_path / "a")
    _generate(EXAMPLES["bert_encoder"], tmp_path / "b")
    for file in sorted(os.listdir(tmp_path / "a")):
        assert filecmp.cmp(tmp_path / "a" / file, tmp_path / "b" / file, shallow=False), file


@pytest.mark.parametrize("name", sorted(EXAMPLES))
def test_generated_python_is_black_clean(name):
    path = os.path.join(REPO, "generated", name, "network.py")
    with open(path) as f:
        source = f.read()
    assert black.format_str(source, mode=black.Mode(line_length=100)) == source
    result = subprocess.run(
        [sys.executable, "-m", "black", "--check", "--line-length", "100", path],
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stderr


def test_generated_network_imports_no_torch():
    for name in EXAMPLES:
        code = (
            "import sys, runpy; sys.argv = ['x']; "
            f"module = runpy.run_path({os.path.join(REPO, 'generated', name, 'network.py')!r}, run_name='not_main'); "
            "assert 'torch' not in sys.modules, 'network.py imported torch'; "
            "assert 'trtgen' not in sys.modules, 'network.py imported trtgen'"
        )
        result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
        assert result.returncode == 0, result.stderr
