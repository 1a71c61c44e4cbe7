"""`--force` replaces OUT only when it is provably trtgen output: its manifest lists every file
in it, apart from the build products the docs put there (model.engine, build/, ...), which are
carried over. Foreign files are named and nothing is deleted; a symbolic link OUT keeps its link
and its target is replaced; what a killed run leaves is removed by the next run, or named."""

import json
import os
import shutil
import signal
import subprocess
import sys
import textwrap

import pytest

from cli_helpers import REPO, TINY_MODEL, run_trtgen

# a tiny model whose get_model() arranges a signal to itself when trtgen starts syncing OUT's
# files to disk: the run is interrupted mid-write
SIGNALLED_MODEL = TINY_MODEL.replace(
    "def get_model():\n    return Net()",
    textwrap.dedent("""
        def get_model():
            import os, signal
            sync = os.fsync

            def interrupted(fd):
                os.kill(os.getpid(), getattr(signal, os.environ["TEST_SIGNAL"]))
                return sync(fd)

            os.fsync = interrupted
            return Net()
        """),
)


@pytest.fixture(scope="module")
def model(tmp_path_factory):
    root = tmp_path_factory.mktemp("ownership")
    (root / "model.py").write_text(TINY_MODEL)
    (root / "signalled.py").write_text(SIGNALLED_MODEL)
    return root


@pytest.fixture(scope="module")
def pristine(model):
    """One generated OUT, copied by each test (generation is the slow part)."""
    out = model / "pristine"
    result = run_trtgen(model / "model.py", "-o", out)
    assert result.returncode == 0, result.stderr
    return out


def fresh(pristine, tmp_path, name="out"):
    out = tmp_path / name
    shutil.copytree(pristine, out)
    return out


def leftovers(folder):
    return sorted(n for n in os.listdir(folder) if n.startswith(".trtgen-"))


def test_manifest_lists_every_file_sorted(pristine):
    manifest = json.loads((pristine / "trtgen.json").read_text())
    assert manifest["files"] == sorted(os.listdir(pristine))
    assert manifest["files"] == ["README.md", "network.py", "trtgen.json", "weights.safetensors"]


def test_force_refuses_a_folder_with_foreign_files(model, pristine, tmp_path):
    out = fresh(pristine, tmp_path)
    (out / "src").mkdir()
    (out / "src" / "main.c").write_text("int main() { return 0; }\n")
    (out / "notes.txt").write_text("mine\n")
    before = sorted(p.relative_to(out).as_posix() for p in out.rglob("*"))
    result = run_trtgen(model / "model.py", "-o", out, "--force")
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "notes.txt" in lines[0] and "src/" in lines[0], result.stderr
    assert sorted(p.relative_to(out).as_posix() for p in out.rglob("*")) == before
    assert (out / "src" / "main.c").read_text() == "int main() { return 0; }\n"
    assert leftovers(tmp_path) == []


def test_force_refuses_a_folder_whose_manifest_is_not_one(model, tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    (out / "trtgen.json").write_text("my own settings, not JSON\n")
    result = run_trtgen(model / "model.py", "-o", out, "--force")
    assert result.returncode == 2 and "not a trtgen output" in result.stderr
    assert os.listdir(out) == ["trtgen.json"]


def test_force_keeps_build_products_of_an_old_output(model, pristine, tmp_path):
    """An output written before the manifest listed its files is judged by the names trtgen
    writes; model.engine and build/ (where the docs put them) survive --force, and an engine
    built from a different network is called stale."""
    out = fresh(pristine, tmp_path)
    manifest = json.loads((out / "trtgen.json").read_text())
    del manifest["files"]
    (out / "trtgen.json").write_text(json.dumps(manifest))
    (out / "network.py").write_text((out / "network.py").read_text() + "\n# edited\n")
    (out / "model.engine").write_bytes(b"vtrt engine bytes")
    (out / "build").mkdir()
    (out / "build" / "CMakeCache.txt").write_text("cache\n")
    result = run_trtgen(model / "model.py", "-o", out, "--force")
    assert result.returncode == 0, result.stderr
    assert (out / "model.engine").read_bytes() == b"vtrt engine bytes"
    assert (out / "build" / "CMakeCache.txt").read_text() == "cache\n"
    assert "# edited" not in (out / "network.py").read_text()
    assert "kept build/, model.engine" in result.stderr
    assert "model.engine was built from the previous network" in result.stderr
    assert json.loads((out / "trtgen.json").read_text())["files"] == sorted(
        n for n in os.listdir(pristine)
    )
    assert leftovers(tmp_path) == []


def test_symlinked_out_keeps_the_link_and_replaces_the_target(model, pristine, tmp_path):
    target = fresh(pristine, tmp_path, "real")
    (target / "network.py").write_text("stale\n")
    link = tmp_path / "out"
    link.symlink_to(target)
    result = run_trtgen(model / "model.py", "-o", link, "--force")
    assert result.returncode == 0, result.stderr
    assert link.is_symlink() and os.readlink(link) == str(target)
    assert (target / "network.py").read_text() == (pristine / "network.py").read_text()
    assert leftovers(tmp_path) == []


def test_out_under_a_file_is_one_error_line(model, tmp_path):
    (tmp_path / "file").write_text("x")
    result = run_trtgen(model / "model.py", "-o", tmp_path / "file" / "out")
    assert result.returncode == 2, result.stderr
    assert result.stderr.strip().splitlines() == [
        f"trtgen: error: cannot write {tmp_path / 'file' / 'out'}: {tmp_path / 'file'} is a file, not a folder"
    ]


def _dead_pid():
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return child.pid


def test_next_run_removes_staging_a_killed_run_left(model, tmp_path):
    """SIGKILL mid-write leaves the staging folder; the next run removes it and says so. An
    older, unattributable leftover is named, not removed."""
    out = tmp_path / "out"
    killed = subprocess.run(
        [sys.executable, "-m", "trtgen", str(model / "signalled.py"), "-o", str(out)],
        cwd=REPO,
        capture_output=True,
        text=True,
        env=dict(os.environ, TEST_SIGNAL="SIGKILL"),
    )
    assert killed.returncode == -signal.SIGKILL
    left = leftovers(tmp_path)
    assert len(left) == 1 and not out.exists(), left
    foreign = tmp_path / ".trtgen-abc123"  # no owner recorded: not provably stale
    foreign.mkdir()
    (foreign / "thesis.tex").write_text("mine\n")
    dead = tmp_path / f".trtgen-{_dead_pid()}-x1y2"  # a dead owner, but a file trtgen never writes
    dead.mkdir()
    (dead / "thesis.tex").write_text("mine\n")
    result = run_trtgen(model / "model.py", "-o", out)
    assert result.returncode == 0, result.stderr
    assert f"removed {tmp_path / left[0]}" in result.stderr
    assert f"{foreign} is left from an interrupted trtgen run" in result.stderr
    assert f"{dead} is left from an interrupted trtgen run" in result.stderr
    assert leftovers(tmp_path) == sorted([foreign.name, dead.name])
    assert (foreign / "thesis.tex").exists() and (dead / "thesis.tex").exists()
    assert sorted(os.listdir(out)) == [
        "README.md",
        "network.py",
        "trtgen.json",
        "weights.safetensors",
    ]


def test_sigterm_mid_write_leaves_nothing(model, pristine, tmp_path):
    """SIGTERM while OUT's files are being written: no staging folder, no OUT; with --force the
    previous OUT is untouched. (The command line turns SIGTERM into an exception in the main
    thread, so every writer's clean-up runs.)"""
    command = ["-m", "trtgen"]
    env = dict(os.environ, TEST_SIGNAL="SIGTERM")
    out = tmp_path / "out"
    result = subprocess.run(
        [sys.executable, *command, str(model / "signalled.py"), "-o", str(out)],
        cwd=REPO,
        capture_output=True,
        text=True,
        env=env,
    )
    assert result.returncode == 143, result.stderr
    assert result.stderr.strip() == "trtgen: stopped by SIGTERM; nothing was written"
    assert leftovers(tmp_path) == [] and not out.exists(), result.stderr
    previous = fresh(pristine, tmp_path, "previous")
    (previous / "model.engine").write_bytes(b"vtrt")
    before = {n: (previous / n).read_bytes() for n in os.listdir(previous)}
    result = subprocess.run(
        [sys.executable, *command, str(model / "signalled.py"), "-o", str(previous), "--force"],
        cwd=REPO,
        capture_output=True,
        text=True,
        env=env,
    )
    assert result.returncode == 143, result.stderr
    assert leftovers(tmp_path) == []
    assert {n: (previous / n).read_bytes() for n in os.listdir(previous)} == before
