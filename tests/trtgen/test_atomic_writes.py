"""Every file trtgen writes goes to a temporary sibling, is flushed and fsynced, then renamed:
a write that fails (a full disk, here an fsync failing with ENOSPC, or a file where a folder
should be) is one `trtgen: error:` line naming the path and the reason, exit 2, and leaves no
partial file. No command overwrites its own inputs."""

import errno
import os
import stat
import shutil
import subprocess
import sys

import numpy as np
import pytest
import torch

import layers
from cli_helpers import TINY_MODEL
from layers.atomic import atomic_write, looks_like_engine, save_engine
from layers.build_options import save_timing_cache
from trtgen.commands.bench.write import check_bench_target
from trtgen.commands.cli import main
from trtgen.errors import TrtgenError
from trtgen.commands.run import save_outputs

ENOSPC = "No space left on device"


def full_device():
    """Whether /dev/full is the character device that fails every write with ENOSPC."""
    try:
        return stat.S_ISCHR(os.stat("/dev/full").st_mode)
    except OSError:
        return False


def full_disk(monkeypatch):
    """Every fsync fails as on a full disk (data that did not fit is reported at fsync)."""

    def fsync(fd):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(os, "fsync", fsync)


def entries(folder):
    return sorted(os.listdir(folder))


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    """A generated OUT with its engine, copied by tests that change it."""
    root = tmp_path_factory.mktemp("atomic")
    (root / "model.py").write_text(TINY_MODEL)
    out = root / "out"
    assert main([str(root / "model.py"), "-o", str(out)]) == 0
    assert main(["build", str(out)]) == 0
    return root


def copy(built, tmp_path):
    out = tmp_path / "out"
    shutil.copytree(built / "out", out)
    return out


def error_lines(capsys):
    return capsys.readouterr().err.strip().splitlines()


def test_out_on_a_full_disk(built, tmp_path, monkeypatch, capsys):
    full_disk(monkeypatch)
    out = tmp_path / "new"
    assert main([str(built / "model.py"), "-o", str(out)]) == 2
    assert error_lines(capsys) == [f"trtgen: error: cannot write {out}: {ENOSPC}"]
    assert entries(tmp_path) == []


def test_force_on_a_full_disk_keeps_the_previous_out(built, tmp_path, monkeypatch, capsys):
    out = copy(built, tmp_path)
    before = {n: (out / n).read_bytes() for n in entries(out)}
    full_disk(monkeypatch)
    assert main([str(built / "model.py"), "-o", str(out), "--force"]) == 2
    assert error_lines(capsys) == [f"trtgen: error: cannot write {out}: {ENOSPC}"]
    assert entries(tmp_path) == ["out"]
    assert {n: (out / n).read_bytes() for n in entries(out)} == before


def test_build_on_a_full_disk(built, tmp_path, monkeypatch, capsys):
    out = copy(built, tmp_path)
    os.unlink(out / "model.engine")
    before = entries(out)
    full_disk(monkeypatch)
    assert main(["build", str(out)]) == 2
    assert error_lines(capsys) == [f"trtgen: error: cannot write {out / 'model.engine'}: {ENOSPC}"]
    assert entries(out) == before  # no model.engine, no partial or temporary file


def test_build_keeps_the_previous_engine_when_the_write_fails(built, tmp_path, monkeypatch, capsys):
    out = copy(built, tmp_path)
    engine = (out / "model.engine").read_bytes()
    full_disk(monkeypatch)
    assert main(["build", str(out)]) == 2
    assert (out / "model.engine").read_bytes() == engine
    assert entries(out) == entries(built / "out")


def test_build_under_a_file_is_one_error_line(built, tmp_path, capsys):
    (tmp_path / "file").write_text("x")
    engine = tmp_path / "file" / "model.engine"
    assert main(["build", str(built / "out"), "-o", str(engine)]) == 2
    assert error_lines(capsys) == [f"trtgen: error: cannot write {engine}: Not a directory"]


@pytest.mark.parametrize(
    "source", ["network.py", "weights.safetensors", "trtgen.json", "README.md"]
)
def test_build_refuses_to_overwrite_a_source(built, source, capsys):
    path = built / "out" / source
    before = path.read_bytes()
    assert main(["build", str(built / "out"), "-o", str(path)]) == 2
    (line,) = error_lines(capsys)
    assert f"-o {path} is one of" in line and "refusing to overwrite" in line
    assert path.read_bytes() == before


def test_build_refuses_an_existing_file_that_is_not_an_engine(built, tmp_path, capsys):
    notes = tmp_path / "notes.txt"
    notes.write_text("mine\n")
    assert main(["build", str(built / "out"), "-o", str(notes)]) == 2
    assert "is not a serialized engine" in capsys.readouterr().err
    assert notes.read_text() == "mine\n"


def test_build_replaces_an_engine(built, tmp_path):
    engine = tmp_path / "other.engine"
    shutil.copy(built / "out" / "model.engine", engine)
    assert looks_like_engine(engine)
    assert main(["build", str(built / "out"), "-o", str(engine)]) == 0
    assert engine.read_bytes() == (built / "out" / "model.engine").read_bytes()
    assert entries(tmp_path) == ["other.engine"]


def test_save_engine_refuses_a_network_file(built, tmp_path):
    """What ``python network.py --engine PATH`` writes through."""
    network = tmp_path / "network.py"
    network.write_text("source\n")
    with pytest.raises(FileExistsError, match="not a serialized engine"):
        save_engine(network, b"vtrt...")
    assert network.read_text() == "source\n"
    save_engine(tmp_path / "model.engine", (built / "out" / "model.engine").read_bytes())
    assert entries(tmp_path) == ["model.engine", "network.py"]


@pytest.mark.skipif(not full_device(), reason="/dev/full is not the full device here")
def test_a_device_is_written_directly_and_a_full_one_fails():
    with pytest.raises(OSError) as info:
        atomic_write("/dev/full", b"x" * 100000)
    assert info.value.errno == errno.ENOSPC and info.value.filename == "/dev/full"
    atomic_write("/dev/null", b"x")
    assert full_device() and full_device.__doc__  # still the device: written, never replaced


def test_timing_cache_on_a_full_disk(tmp_path, monkeypatch):
    builder, _ = layers.create_network()
    cache = builder.create_builder_config().create_timing_cache(b"")
    path = tmp_path / "timing.cache"
    path.write_bytes(b"previous")
    full_disk(monkeypatch)
    with pytest.raises(OSError, match=ENOSPC):
        save_timing_cache(cache, str(path))
    assert path.read_bytes() == b"previous" and entries(tmp_path) == ["timing.cache"]
    monkeypatch.undo()
    save_timing_cache(cache, str(path))
    assert path.read_bytes() == bytes(cache.serialize())


def test_run_outputs_on_a_full_disk(tmp_path, monkeypatch):
    full_disk(monkeypatch)
    with pytest.raises(TrtgenError, match=f"cannot write {tmp_path / 'y.npy'}: {ENOSPC}"):
        save_outputs({"y": torch.ones(3)}, str(tmp_path), force=False, log=lambda _: None)
    assert entries(tmp_path) == []
    monkeypatch.undo()
    save_outputs({"y": torch.ones(3)}, str(tmp_path), force=False, log=lambda _: None)
    assert np.load(tmp_path / "y.npy").tolist() == [1.0, 1.0, 1.0]


def test_run_outputs_never_overwrite_an_input(tmp_path):
    given = tmp_path / "y.npy"
    np.save(given, np.zeros(2))
    with pytest.raises(TrtgenError, match="is an input of this command"):
        save_outputs(
            {"y": torch.ones(3)},
            str(tmp_path),
            force=True,
            log=lambda _: None,
            protected=[str(given)],
        )
    assert np.load(given).tolist() == [0.0, 0.0]


def test_bench_force_refuses_foreign_files(tmp_path):
    out = tmp_path / "bench"
    out.mkdir()
    (out / "bench.json").write_text("{}")
    (out / "bench.md").write_text("# bench\n")
    check_bench_target(str(out), force=True)  # a bench output: may be replaced
    (out / "notes.txt").write_text("mine\n")
    with pytest.raises(TrtgenError, match=r"holds files trtgen did not write \(notes.txt\)"):
        check_bench_target(str(out), force=True)


def test_weights_cut_short_by_a_full_disk(built, tmp_path, monkeypatch, capsys):
    """The safetensors writer drops the error of a write that did not fit (it writes /dev/full
    without complaint); what it left is checked against its own header."""
    import trtgen.emit.output

    save_file = trtgen.emit.output.save_file

    def cut_short(tensors, path, metadata=None):
        save_file(tensors, path, metadata=metadata)
        with open(path, "r+b") as f:
            f.truncate(os.path.getsize(path) - 4)

    monkeypatch.setattr(trtgen.emit.output, "save_file", cut_short)
    out = tmp_path / "new"
    assert main([str(built / "model.py"), "-o", str(out)]) == 2
    (line,) = error_lines(capsys)
    assert line.startswith(f"trtgen: error: cannot write {out}: weights.safetensors was cut short")
    assert entries(tmp_path) == []


def test_build_removes_the_temporary_a_killed_build_left(built, tmp_path, capsys):
    out = copy(built, tmp_path)
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    left = out / f".trtgen-{child.pid}-k1ll.model.engine.tmp"  # as a SIGKILLed build leaves it
    left.write_bytes(b"vtrt, cut short")
    assert main(["build", str(out)]) == 0
    assert f"removed {left}, left by an interrupted trtgen run" in capsys.readouterr().err
    assert entries(out) == entries(built / "out")
