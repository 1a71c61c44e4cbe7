"""Weights files are untrusted input: layers.weights_file checks them, and load_weights takes a
full PyTorch state_dict (its *.num_batches_tracked bookkeeping included) but no other extra key."""

import struct

import numpy as np
import pytest
import torch
from safetensors.torch import save_file

import layers
from helpers import assert_close
from layers.weights_file import WeightsFileError, load_file
from test_module import Block, TorchBlock, torch_weights
from trtgen.reference import execute


def _run(model, x):
    builder, network = layers.create_network()
    with layers.net_guard(network):
        a, b = model(layers.add_input("x", layers.float32, tuple(x.shape)))
        layers.mark_output(a, "a")
        layers.mark_output(b, "b")
    return execute(network, {"x": x})


def test_a_full_state_dict_file_loads_and_builds(tmp_path):
    torch.manual_seed(0)
    reference = TorchBlock().eval()
    torch_weights(reference)
    path = tmp_path / "checkpoint.safetensors"
    save_file(reference.state_dict(), str(path))  # bn.num_batches_tracked included
    assert "bn.num_batches_tracked" in load_file(path)
    x = torch.randn(1, 3, 8, 8)
    got = _run(Block().load_weights(str(path)), x)
    with torch.no_grad():
        want = reference(x)
    assert_close(got["a"], want[0])
    assert_close(got["b"], want[1])


def test_other_extra_and_missing_keys_name_the_file_and_keys(tmp_path):
    state = TorchBlock().state_dict()
    extra = tmp_path / "extra.safetensors"
    save_file(
        dict(state, **{"head.extra": torch.zeros(2), "bn.num_batches_tracked": torch.tensor(3)}),
        str(extra),
    )
    with pytest.raises(KeyError) as caught:
        Block().load_weights(str(extra))
    assert caught.value.args[0] == (
        f"{extra}: weights have 1 key(s) the model does not declare: head.extra "
        "(only *.num_batches_tracked may be left in) (pass strict=False to ignore them)"
    )
    missing = tmp_path / "missing.safetensors"
    save_file({k: v for k, v in state.items() if k != "heads.0.bias"}, str(missing))
    with pytest.raises(KeyError) as caught:
        Block().load_weights(str(missing))
    assert caught.value.args[0] == f"{missing}: weights are missing 1 key(s): heads.0.bias"


def _padded(tensors, pad):
    """A safetensors file whose header JSON ends in ``pad`` spaces (as writers align it)."""
    header, data, offset = {}, b"", 0
    for key, array in tensors.items():
        raw = np.ascontiguousarray(array, "<f4").tobytes()
        header[key] = {
            "dtype": "F32",
            "shape": list(array.shape),
            "data_offsets": [offset, offset + len(raw)],
        }
        data, offset = data + raw, offset + len(raw)
    text = json_bytes(header) + b" " * pad
    return text, data


def json_bytes(value):
    import json

    return json.dumps(value, separators=(",", ":")).encode()


@pytest.mark.parametrize("short", [1, 2, 3])
def test_a_header_length_a_few_bytes_short_is_rejected_not_read_shifted(tmp_path, short):
    weights = torch_weights(TorchBlock())
    header, data = _padded(weights, pad=4)
    good = tmp_path / "good.safetensors"
    good.write_bytes(struct.pack("<Q", len(header)) + header + data)
    assert np.array_equal(load_file(good)["conv.weight"], weights["conv.weight"])
    bad = tmp_path / "bad.safetensors"
    bad.write_bytes(struct.pack("<Q", len(header) - short) + header + data)
    with pytest.raises(WeightsFileError) as caught:
        Block().load_weights(str(bad))
    assert str(caught.value) == (
        f"{bad}: the tensors end at byte {len(data)} of the {len(data) + short}-byte data section: "
        "the header length is wrong or the file has trailing bytes"
    )


def test_a_tensor_whose_bytes_do_not_match_its_shape_is_named(tmp_path):
    header = {"fc.weight": {"dtype": "F32", "shape": [4, 8], "data_offsets": [0, 96]}}
    path = tmp_path / "weights.safetensors"
    text = json_bytes(header)
    path.write_bytes(struct.pack("<Q", len(text)) + text + bytes(96))
    with pytest.raises(WeightsFileError) as caught:
        load_file(path)
    assert str(caught.value) == (
        f"{path}: tensor 'fc.weight': data_offsets [0, 96) do not match its shape [4, 8] F32 (128 bytes)"
    )


def test_missing_and_truncated_files_are_named(tmp_path):
    with pytest.raises(
        WeightsFileError, match=r"nothing\.safetensors: cannot open the weights file: No such file"
    ):
        load_file(tmp_path / "nothing.safetensors")
    short = tmp_path / "short.safetensors"
    short.write_bytes(b"\x10\x00\x00")
    with pytest.raises(WeightsFileError, match=r"short\.safetensors: truncated: 3 bytes"):
        load_file(short)
