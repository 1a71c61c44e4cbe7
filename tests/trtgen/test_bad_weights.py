"""`trtgen check OUT` with a missing, truncated or corrupt OUT/weights.safetensors: one
`trtgen: error:` line naming the file (exit 2), not an internal error."""

import shutil
import struct

import pytest

from cli_helpers import TINY_MODEL, generate_source, run_trtgen


@pytest.fixture(scope="module")
def generated(tmp_path_factory):
    _, out, result = generate_source(tmp_path_factory.mktemp("tiny"), TINY_MODEL)
    assert result.returncode == 0, result.stderr
    return out


def _refused(out, *phrases):
    result = run_trtgen("check", out)
    lines = result.stderr.strip().splitlines()
    assert result.returncode == 2, result.stdout + result.stderr
    assert len(lines) == 1 and lines[0].startswith("trtgen: error: "), result.stderr
    for phrase in phrases:
        assert phrase in lines[0], lines[0]
    return lines[0]


def _copy(generated, tmp_path):
    out = tmp_path / "out"
    shutil.copytree(generated, out)
    return out, out / "weights.safetensors"


def test_missing_weights_file(generated, tmp_path):
    out, weights = _copy(generated, tmp_path)
    weights.unlink()
    _refused(out, f"{weights}: cannot open the weights file: No such file or directory")


def test_truncated_weights_file(generated, tmp_path):
    out, weights = _copy(generated, tmp_path)
    weights.write_bytes(weights.read_bytes()[:-5])
    _refused(out, f"{weights}: tensor ", "run past the end of the", "truncated or corrupt")


def test_header_length_short_by_two(generated, tmp_path):
    out, weights = _copy(generated, tmp_path)
    raw = weights.read_bytes()
    length = struct.unpack("<Q", raw[:8])[0]
    header = raw[8 : 8 + length].rstrip(b" ") + b"   "  # writers pad the JSON with spaces
    weights.write_bytes(struct.pack("<Q", len(header) - 2) + header + raw[8 + length :])
    _refused(out, f"{weights}: the tensors end at byte", "the header length is wrong")
