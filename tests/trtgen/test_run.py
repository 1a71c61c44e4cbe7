"""``trtgen run OUT``: argument and input-file errors are one ``trtgen: error:`` line and write
nothing, on any machine; without a GPU it stops with the reason after those checks. On a GPU
the outputs are compared with PyTorch (rtol = atol = 1e-2: TensorRT may run the float32
matmul in TF32)."""

import json
import os
import shutil
import textwrap

import numpy as np
import pytest
import torch
from safetensors.numpy import load_file

from cli_helpers import TINY_MODEL, run_trtgen
from layers.runtime import gpu_unavailable_reason
from trtgen.commands.run import example_like, table

REASON = gpu_unavailable_reason()
needs_gpu = pytest.mark.skipif(REASON is not None, reason=str(REASON))

MODEL = TINY_MODEL


@pytest.fixture(scope="module")
def out(tmp_path_factory):
    """A generated OUT (input x, batch dynamic in 1..8) with its engine built."""
    root = tmp_path_factory.mktemp("run")
    (root / "model.py").write_text(textwrap.dedent(MODEL))
    out = root / "out"
    generated = run_trtgen(root / "model.py", "-o", out, "--dynamic", "x:0=1:2:8")
    assert generated.returncode == 0, generated.stderr
    built = run_trtgen("build", out)
    assert built.returncode == 0, built.stderr
    return out


def reference(out, x):
    weights = load_file(str(out / "weights.safetensors"))
    return np.maximum(x @ weights["fc.weight"].T + weights["fc.bias"], 0)


def assert_refused(result, *phrases, exit_code=2):
    assert result.returncode == exit_code, result.stdout + result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("trtgen: error: "), result.stderr
    for phrase in phrases:
        assert phrase in lines[0], lines[0]


@pytest.fixture
def x_file(tmp_path):
    path = tmp_path / "x.npy"
    np.save(path, np.random.default_rng(0).standard_normal((5, 4)).astype(np.float32))
    return path


# --------------------------------------------------------------------------- no GPU needed
def test_bad_input_syntax(out, tmp_path):
    for bad in ("x", "=x.npy", "x="):
        result = run_trtgen("run", out, "--input", bad, "--output-dir", tmp_path / "res")
        assert_refused(result, f"--input {bad!r}: expected NAME=FILE")
    assert not (tmp_path / "res").exists()


def test_missing_input_file(out, tmp_path):
    missing = tmp_path / "nope.npy"
    assert_refused(run_trtgen("run", out, "--input", f"x={missing}"), "no such file", "nope.npy")


def test_unknown_input_name(out, x_file):
    result = run_trtgen("run", out, "--input", f"y={x_file}")
    assert_refused(result, "no input 'y'", "the inputs are x")


def test_input_given_twice(out, x_file):
    result = run_trtgen("run", out, "--input", f"x={x_file}", "--input", f"x={x_file}")
    assert_refused(result, "'x' is given twice")


def test_unreadable_input_files(out, tmp_path):
    text = tmp_path / "x.txt"
    text.write_text("1 2 3")
    assert_refused(run_trtgen("run", out, "--input", f"x={text}"), "use a .npy", ".pt")
    broken = tmp_path / "x.npy"
    broken.write_text("not an array")
    assert_refused(run_trtgen("run", out, "--input", f"x={broken}"), "not a readable .npy")
    several = tmp_path / "x.pt"
    torch.save({"x": torch.zeros(2, 4)}, several)
    assert_refused(run_trtgen("run", out, "--input", f"x={several}"), "holds a dict")


def test_missing_engine_says_to_build_it(out, tmp_path, x_file):
    copy = tmp_path / "out"
    shutil.copytree(out, copy, ignore=shutil.ignore_patterns("model.engine"))
    result = run_trtgen("run", copy, "--input", f"x={x_file}")
    assert_refused(result, "no engine at", f"run `trtgen build {copy}` first")
    elsewhere = tmp_path / "other.engine"
    result = run_trtgen("run", out, "--engine", elsewhere, "--input", f"x={x_file}")
    assert_refused(result, f"`trtgen build {out} -o {elsewhere}`")


def test_not_an_output_dir(tmp_path):
    assert_refused(run_trtgen("run", tmp_path), "not a trtgen output")


def test_existing_output_files_are_kept_without_force(out, tmp_path, x_file):
    results = tmp_path / "res"
    results.mkdir()
    (results / "output.npy").write_bytes(b"mine")
    result = run_trtgen("run", out, "--input", f"x={x_file}", "--output-dir", results)
    assert_refused(result, "output.npy already exists", "--force")
    assert (results / "output.npy").read_bytes() == b"mine"


def test_iterations_must_be_positive(out, x_file):
    result = run_trtgen("run", out, "--input", f"x={x_file}", "--iterations", "0")
    assert_refused(result, "--iterations 0")


def test_output_table_has_shape_dtype_and_statistics():
    text = table(
        {
            "logits": torch.tensor([[1.0, -2.0, 3.5]]),
            "mask": torch.tensor([True, False]),
            "none": torch.zeros(0, 3),
        }
    )
    header, logits, mask, empty = [line.split() for line in text.splitlines()]
    assert header == ["output", "shape", "dtype", "min", "max", "mean"]
    assert logits == ["logits", "1x3", "float32", "-2", "3.5", "0.833333"]
    assert mask == ["mask", "2", "bool", "0", "1", "0.5"]
    assert empty == ["none", "0x3", "float32", "-", "-", "-"]


def test_inputs_not_given_follow_the_manifest(out):
    entry = json.loads((out / "trtgen.json").read_text())["inputs"][0]
    values = example_like(entry)
    assert tuple(values.shape) == (2, 4) and values.dtype == torch.float32
    assert torch.equal(values, example_like(entry))  # seeded: the same values every run
    ids = example_like({"name": "ids", "dtype": "int64", "shape": [1, 7]})
    assert ids.dtype == torch.int64 and not ids.any()


@pytest.mark.skipif(REASON is None, reason="a GPU is available: engines run here")
def test_without_a_gpu_it_stops_with_the_reason_and_writes_nothing(out, tmp_path, x_file):
    results = tmp_path / "res"
    before = sorted(os.listdir(out))
    result = run_trtgen("run", out, "--input", f"x={x_file}", "--output-dir", results)
    assert_refused(result, REASON, f"trtgen check {out}", exit_code=1)
    assert not results.exists()
    assert sorted(os.listdir(out)) == before


# --------------------------------------------------------------------------- on a GPU
@needs_gpu
def test_run_matches_pytorch_and_saves_the_outputs(out, tmp_path, x_file):
    results = tmp_path / "res"
    result = run_trtgen("run", out, "--input", f"x={x_file}", "--output-dir", results)
    assert result.returncode == 0, result.stderr
    assert "output" in result.stdout and "5x3" in result.stdout and "float32" in result.stdout
    got = np.load(results / "output.npy")
    want = reference(out, np.load(x_file))
    np.testing.assert_allclose(got, want, rtol=1e-2, atol=1e-2)
    again = run_trtgen("run", out, "--input", f"x={x_file}", "--output-dir", results, "--force")
    assert again.returncode == 0, again.stderr


@needs_gpu
def test_cuda_graph_runs_give_the_plain_result(out, tmp_path, x_file):
    plain, graphed = tmp_path / "plain", tmp_path / "graphed"
    assert run_trtgen("run", out, "--input", f"x={x_file}", "--output-dir", plain).returncode == 0
    result = run_trtgen(
        "run",
        out,
        "--input",
        f"x={x_file}",
        "--output-dir",
        graphed,
        "--cuda-graph",
        "--iterations",
        "3",
    )
    assert result.returncode == 0, result.stderr
    assert "3 run(s), CUDA graph replay" in result.stdout
    np.testing.assert_allclose(
        np.load(graphed / "output.npy"), np.load(plain / "output.npy"), rtol=1e-5, atol=1e-5
    )


@needs_gpu
def test_inputs_not_given_use_the_example_shape(out):
    result = run_trtgen("run", out)
    assert result.returncode == 0, result.stderr
    assert "x: no --input given" in result.stdout and "2x4" in result.stdout
    assert "2x3" in result.stdout  # the output of a batch of 2


@needs_gpu
def test_input_outside_the_profile_is_refused(out, tmp_path):
    big = tmp_path / "big.npy"
    np.save(big, np.zeros((9, 4), np.float32))
    assert_refused(run_trtgen("run", out, "--input", f"x={big}"), "'x'", "dim 0 must be in 1..8")
    wide = tmp_path / "wide.npy"
    np.save(wide, np.zeros((2, 4)))
    assert_refused(run_trtgen("run", out, "--input", f"x={wide}"), "expected dtype float32")
