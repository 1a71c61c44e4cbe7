"""The generated C++ builder writes --describe, the engine and the timing cache through a
temporary sibling: a failed write is one `error: cannot write PATH: REASON` line, a non-zero
exit, and no partial file. Compiles against TensorRT headers; skips without them (cpp_helpers)."""

import os
import stat

import pytest

from cli_helpers import TINY_MODEL, run_trtgen
from cpp_helpers import compile_builder, require_toolchain, run_builder


def full_device():
    """Whether /dev/full is the character device that fails every write with ENOSPC."""
    try:
        return stat.S_ISCHR(os.stat("/dev/full").st_mode)
    except OSError:
        return False


@pytest.fixture(scope="module")
def builder(tmp_path_factory):
    require_toolchain()
    root = tmp_path_factory.mktemp("cpp_atomic")
    (root / "model.py").write_text(TINY_MODEL)
    out = root / "out"
    result = run_trtgen(root / "model.py", "-o", out, "--lang", "cpp")
    assert result.returncode == 0, result.stderr
    exe, lib = compile_builder(out, root / "build")
    return out, exe, lib


def run(builder, *args, cwd):
    out, exe, lib = builder
    return run_builder(exe, lib, "--weights", out / "weights.safetensors", *args, cwd=cwd)


def leftovers(folder):
    return sorted(n for n in os.listdir(folder) if n.startswith(".trtgen-"))


@pytest.mark.skipif(not full_device(), reason="/dev/full is not the full device here")
def test_describe_onto_a_full_device_fails(builder, tmp_path):
    result = run(
        builder, "--engine", tmp_path / "model.engine", "--describe", "/dev/full", cwd=tmp_path
    )
    assert result.returncode != 0
    assert (
        result.stderr.strip().splitlines()[-1]
        == "error: cannot write /dev/full: No space left on device"
    )
    assert "wrote" not in result.stdout
    assert os.listdir(tmp_path) == []


def test_describe_under_a_file_fails_cleanly(builder, tmp_path):
    (tmp_path / "file").write_text("x")
    path = tmp_path / "file" / "net.json"
    result = run(builder, "--engine", tmp_path / "model.engine", "--describe", path, cwd=tmp_path)
    assert result.returncode != 0
    assert result.stderr.strip().splitlines()[-1] == f"error: cannot write {path}: Not a directory"
    assert sorted(os.listdir(tmp_path)) == ["file"]


@pytest.mark.skipif(not full_device(), reason="/dev/full is not the full device here")
def test_engine_onto_a_full_device_fails(builder, tmp_path):
    result = run(builder, "--engine", "/dev/full", cwd=tmp_path)
    assert result.returncode != 0
    assert (
        result.stderr.strip().splitlines()[-1]
        == "error: cannot write /dev/full: No space left on device"
    )
    assert "wrote" not in result.stdout


def test_describe_and_engine_are_written_whole(builder, tmp_path):
    (tmp_path / "net.json").write_text("previous")
    result = run(
        builder,
        "--engine",
        tmp_path / "model.engine",
        "--describe",
        tmp_path / "net.json",
        cwd=tmp_path,
    )
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "net.json").read_text().lstrip().startswith("{")
    assert (tmp_path / "model.engine").read_bytes()[1:4] == b"trt"
    assert leftovers(tmp_path) == []
