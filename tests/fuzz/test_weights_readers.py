"""The C++ reader (trtgen_safetensors.h, through tests/fuzz/read_weights.cpp: no TensorRT needed)
and the Python one (layers/weights_file.py) enforce the same rules with the same messages."""

import json
import os
import struct
import subprocess

import numpy as np
import pytest

import weights_fuzz
from layers.weights_file import WeightsFileError, key_problems, read_tensors

F32 = {"dtype": "F32"}


def write(path, header, data, length_delta=0, pad=0):
    text = json.dumps(header, separators=(",", ":")).encode() + b" " * pad
    path.write_bytes(struct.pack("<Q", len(text) + length_delta) + text + data)
    return path


def both(binary, path, expect=None):
    """(C++ result, Python result): each ("ok", None) or ("error", message)."""
    command = [binary, str(path)]
    if expect is not None:
        keys = path.parent / "expect.txt"
        keys.write_text("".join(k + "\n" for k in expect))
        command += ["--expect", str(keys)]
    run = subprocess.run(command, capture_output=True, text=True, timeout=60)
    assert run.returncode in (0, 1) and not run.stderr, run.stderr
    lines = run.stdout.splitlines()
    cpp = ("ok", None) if run.returncode == 0 else ("error", lines[0][len("error: ") :])
    if run.returncode == 1:
        assert len(lines) == 1 and lines[0].startswith("error: ")
    try:
        tensors, _ = read_tensors(path)
        problem = None if expect is None else key_problems(tensors, expect)
        py = ("ok", None) if problem is None else ("error", f"{path}: {problem}")
    except WeightsFileError as exc:
        py = ("error", str(exc))
    return cpp, py


def tensors(*shapes):
    header, offset = {}, 0
    for i, shape in enumerate(shapes):
        size = 4 * int(np.prod(shape))
        header[f"t{i}"] = dict(F32, shape=list(shape), data_offsets=[offset, offset + size])
        offset += size
    return header, bytes(range(256)) * (offset // 256) + bytes(range(offset % 256))


def test_the_reader_needs_no_tensorrt(read_weights):
    # the fixture built read_weights.cpp from trtgen_safetensors.h with g++ alone
    with open(os.path.join(weights_fuzz.SUPPORT, "trtgen_safetensors.h")) as f:
        assert "#include <NvInfer" not in f.read()


@pytest.mark.parametrize("short", [1, 2, 3])
def test_a_header_length_a_few_bytes_short_is_rejected_by_both(read_weights, tmp_path, short):
    header, data = tensors((4, 8), (4,))
    good = write(tmp_path / "good.safetensors", header, data, pad=5)
    assert both(read_weights, good) == (("ok", None), ("ok", None))
    bad = write(tmp_path / "bad.safetensors", header, data, length_delta=-short, pad=5)
    message = (
        f"{bad}: the tensors end at byte {len(data)} of the {len(data) + short}-byte data section: "
        "the header length is wrong or the file has trailing bytes"
    )
    assert both(read_weights, bad) == (("error", message), ("error", message))


CASES = {
    "size": (
        {"fc.weight": dict(F32, shape=[4, 8], data_offsets=[0, 96])},
        96,
        "tensor 'fc.weight': data_offsets [0, 96) do not match its shape [4, 8] F32 (128 bytes)",
    ),
    "gap": (
        {
            "a": dict(F32, shape=[2], data_offsets=[0, 8]),
            "b": dict(F32, shape=[2], data_offsets=[12, 20]),
        },
        20,
        "bytes [8, 12) of the data section belong to no tensor: the file is corrupt",
    ),
    "overlap": (
        {
            "a": dict(F32, shape=[2], data_offsets=[0, 8]),
            "b": dict(F32, shape=[2], data_offsets=[4, 12]),
        },
        12,
        "tensors 'a' [0, 8) and 'b' [4, 12) overlap: the file is corrupt",
    ),
    "past the end": (
        {"a": dict(F32, shape=[4], data_offsets=[0, 16])},
        12,
        "tensor 'a': data_offsets [0, 16) run past the end of the 12-byte data section: "
        "the file is truncated or corrupt",
    ),
    "overflow": (
        {"a": dict(F32, shape=[2**32, 2**32, 0], data_offsets=[0, 0])},
        0,
        "tensor 'a': shape [4294967296, 4294967296, 0] of F32 is over 2^64 bytes",
    ),
    "negative": (
        {"a": dict(F32, shape=[-1], data_offsets=[0, 0])},
        0,
        "tensor 'a': shape is not a list of non-negative integers",
    ),
    "unknown dtype": (
        {"a": {"dtype": "F33", "shape": [1], "data_offsets": [0, 4]}},
        4,
        "tensor 'a': unknown dtype 'F33'",
    ),
    "metadata": (
        {"__metadata__": {"format": 1}},
        0,
        "__metadata__: the value of 'format' is not a string",
    ),
    "header cap": (
        None,
        0,
        "the header length field says 100000001 bytes, over the 100000000-byte limit: "
        "not a safetensors file, or corrupt",
    ),
}


@pytest.mark.parametrize("case", list(CASES))
def test_the_same_defect_gets_the_same_message(read_weights, tmp_path, case):
    header, size, message = CASES[case]
    path = tmp_path / "weights.safetensors"
    if header is None:
        path.write_bytes(struct.pack("<Q", 100_000_001) + b"{}")
    else:
        write(path, header, bytes(size))
    expected = ("error", f"{path}: {message}")
    assert both(read_weights, path) == (expected, expected)


def test_duplicate_keys_are_rejected_by_both(read_weights, tmp_path):
    path = tmp_path / "weights.safetensors"
    text = b'{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}'
    path.write_bytes(struct.pack("<Q", len(text)) + text + bytes(4))
    expected = ("error", f"{path}: duplicate key 'a' in the header")
    assert both(read_weights, path) == (expected, expected)


def test_the_extra_key_rule_is_the_same_on_both_sides(read_weights, tmp_path):
    declared = ["bn.weight", "bn.bias", "bn.running_mean", "bn.running_var"]
    header, data = {}, b""
    for key in declared + ["bn.num_batches_tracked"]:
        header[key] = dict(F32, shape=[1], data_offsets=[len(data), len(data) + 4])
        data += bytes(4)
    full = write(tmp_path / "full.safetensors", header, data)
    assert both(read_weights, full, declared) == (
        ("ok", None),
        ("ok", None),
    )  # a full state_dict drops in

    header["head.extra"] = dict(F32, shape=[1], data_offsets=[len(data), len(data) + 4])
    extra = write(tmp_path / "extra.safetensors", header, data + bytes(4))
    expected = (
        "error",
        f"{extra}: weights have 1 key(s) the model does not declare: head.extra "
        "(only *.num_batches_tracked may be left in)",
    )
    assert both(read_weights, extra, declared) == (expected, expected)

    missing = write(tmp_path / "missing.safetensors", header, data + bytes(4))
    expected = ("error", f"{missing}: weights are missing 1 key(s): bn.scale")
    assert both(read_weights, missing, declared + ["bn.scale", "head.extra"]) == (
        expected,
        expected,
    )
