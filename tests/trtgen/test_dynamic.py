"""`--dynamic NAME:DIM=MIN:OPT:MAX`: -1 input dims, an optimization profile in network.py and
network.cpp, and `trtgen check --shape` at shapes inside the profile (reference executor, within
the fp32 tolerance of `trtgen check`: max|trt - torch| <= 1e-4 * max(1, max|torch|))."""

import json
import os
import sys

import pytest

from cli_helpers import EXAMPLES, REPO, run_trtgen
from cpp_helpers import build_and_describe

sys.path.insert(0, os.path.join(REPO, "benchmarks"))
import corpus  # noqa: E402
from trtgen.emit.netfile import build_from_output  # noqa: E402


@pytest.fixture(scope="module")
def resnet18(tmp_path_factory):
    out = tmp_path_factory.mktemp("dynamic") / "out"
    result = run_trtgen(
        os.path.join(EXAMPLES, "resnet18.py"),
        "-o",
        out,
        "--dynamic",
        "x:0=1:8:32",
        "--lang",
        "python,cpp",
    )
    assert result.returncode == 0, result.stderr
    return out


def test_network_py_declares_the_dynamic_input_and_its_profile(resnet18):
    source = (resnet18 / "network.py").read_text()
    assert 'INPUTS = {"x": (nn.float32, (-1, 3, 224, 224))}' in source
    assert 'PROFILES = [{"x": ((1, 3, 224, 224), (8, 3, 224, 224), (32, 3, 224, 224))}]' in source
    manifest = json.loads((resnet18 / "trtgen.json").read_text())
    assert manifest["inputs"][0]["dynamic"] == {"0": [1, 8, 32]}


@pytest.mark.parametrize("batch", [1, 7, 32])
def test_resnet18_checks_at_any_batch_in_the_profile(resnet18, batch):
    result = run_trtgen("check", resnet18, "--shape", f"x={batch}x3x224x224")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "PASS" in result.stdout


def test_network_py_builds_an_engine_with_the_profile(resnet18, tmp_path):
    import subprocess

    engine = tmp_path / "model.engine"
    result = subprocess.run(
        [sys.executable, str(resnet18 / "network.py"), "--engine", str(engine)],
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert result.returncode == 0, result.stderr
    assert engine.stat().st_size > 0


def test_vit_b_16_checks_at_another_batch(tmp_path):
    out = tmp_path / "out"
    model = corpus.model_file("vit_b_16", str(tmp_path))
    assert run_trtgen(model, "-o", out, "--dynamic", "x:0=1:8:32").returncode == 0
    result = run_trtgen("check", out, "--shape", "x=7x3x224x224")
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize(
    "args, message",
    [
        (["--dynamic", "x:0=1:8"], "expected NAME:DIM=MIN:OPT:MAX"),
        (["--dynamic", "y:0=1:8:32"], "no input 'y'; the inputs are x"),
        (["--dynamic", "x:4=1:8:32"], "input 'x' has 4 dims"),
        (["--dynamic", "x:0=2:8:32"], "the example input has 1 there, outside 2..32"),
        (["--dynamic", "x:0=8:4:32"], "need 1 <= MIN <= OPT <= MAX"),
    ],
)
def test_bad_dynamic_specs_are_refused(tmp_path, args, message):
    out = tmp_path / "out"
    result = run_trtgen(os.path.join(EXAMPLES, "resnet18.py"), "-o", out, *args)
    assert result.returncode == 2
    assert message in result.stderr
    assert not out.exists()


def test_check_refuses_shapes_outside_the_profile(resnet18):
    result = run_trtgen("check", resnet18, "--shape", "x=33x3x224x224")
    assert result.returncode == 2
    assert "dim 0 is 33, the network has dynamic 1..32" in result.stderr


def test_cpp_builder_adds_the_profile(resnet18, tmp_path):
    cpp, python = build_and_describe(resnet18, tmp_path)
    assert cpp["inputs"] == python["inputs"] and cpp["inputs"][0]["shape"] == [-1, 3, 224, 224]
    assert cpp["layers"] == python["layers"]


def generate_with_length_profile(model, out, profile, *options):
    """``trtgen MODEL -o OUT`` with input_ids and attention_mask dynamic in dim 1."""
    dynamic = ["--dynamic", f"input_ids:1={profile}", "--dynamic", f"attention_mask:1={profile}"]
    result = run_trtgen(model, "-o", out, *dynamic, *options)
    assert result.returncode == 0, result.stderr
    return out


def assert_checks_at_length(out, length):
    shape = f"2x{length}"
    result = run_trtgen(
        "check", out, "--shape", f"input_ids={shape}", "--shape", f"attention_mask={shape}"
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "PASS" in result.stdout


BERT = os.path.join(EXAMPLES, "bert_encoder.py")


@pytest.fixture(scope="module")
def bert_dynamic_length(tmp_path_factory):
    """The example BERT encoder with a dynamic sequence length (torch.export keeps it symbolic)."""
    out = tmp_path_factory.mktemp("dynamic_bert") / "out"
    return generate_with_length_profile(BERT, out, "4:16:64", "--lang", "python,cpp")


def test_bert_reads_the_sequence_length_at_run_time(bert_dynamic_length):
    source = (bert_dynamic_length / "network.py").read_text()
    assert "input_ids_size1 = input_ids.size(1)" in source
    assert "[2, 16" not in source  # no shape of the example baked in


@pytest.mark.parametrize("length", [9, 40])
def test_bert_checks_at_two_sequence_lengths(bert_dynamic_length, length):
    assert_checks_at_length(bert_dynamic_length, length)


def test_a_profile_below_the_example_length_keeps_the_mask(tmp_path):
    """OPT 8 < the example's 16: the probe thins the padded mask out instead of cutting its
    padding off (a mask of ones makes transformers leave the mask out of the graph)."""
    assert_checks_at_length(generate_with_length_profile(BERT, tmp_path / "out", "4:8:16"), 5)


LLAMA = """
import torch
import transformers


def get_model():
    torch.manual_seed(0)
    config = transformers.LlamaConfig(
        vocab_size=100, hidden_size=32, num_hidden_layers=2, num_attention_heads=4,
        num_key_value_heads=2, intermediate_size=64, max_position_embeddings=64, use_cache=False,
    )
    return transformers.LlamaModel(config).eval()


def get_example_inputs():
    ids = torch.randint(0, 100, (2, 16), generator=torch.Generator().manual_seed(1))
    mask = torch.ones(2, 16, dtype=torch.long)
    mask[1, 11:] = 0
    return ids, mask
"""


def test_llama_with_a_dynamic_length(tmp_path):
    """A decoder whose layer calls export flattens: RoPE's cos and sin (same shape) are told
    apart by value, and position_ids, which the layers never read, is passed as None."""
    model = tmp_path / "llama.py"
    model.write_text(LLAMA)
    out = generate_with_length_profile(model, tmp_path / "out", "4:8:16")
    for length in (5, 12):
        assert_checks_at_length(out, length)


def test_bert_cpp_builder_matches_with_a_dynamic_length(bert_dynamic_length, tmp_path):
    """Run-time sizes in C++: FILL and SLICE read shape tensors, slices leave whole dims out."""
    cpp, python = build_and_describe(bert_dynamic_length, tmp_path)
    assert cpp["inputs"] == python["inputs"] and cpp["inputs"][0]["shape"] == [2, -1]
    assert cpp["layers"] == python["layers"]


SMALL_CNN = """
import torch
from torch.export import Dim


def get_model():
    torch.manual_seed(0)
    return torch.nn.Sequential(
        torch.nn.Conv2d(3, 8, 3, padding=1), torch.nn.ReLU(), torch.nn.AdaptiveAvgPool2d(1),
        torch.nn.Flatten(), torch.nn.Linear(8, 4),
    ).eval()


def get_example_inputs():
    return (torch.randn(2, 3, 16, 16),)


def get_dynamic_shapes():
    return {SHAPES}
"""


def test_get_dynamic_shapes_in_the_model_file(tmp_path):
    """torch.export-style Dims (OPT = the example's size) and (min, opt, max) tuples."""
    model = tmp_path / "model.py"
    model.write_text(
        SMALL_CNN.replace("{SHAPES}", '{"input": {0: Dim("batch", min=1, max=8), 2: (8, 16, 32)}}')
    )
    out = tmp_path / "out"
    assert run_trtgen(model, "-o", out).returncode == 0
    source = (out / "network.py").read_text()
    assert 'INPUTS = {"input": (nn.float32, (-1, 3, -1, 16))}' in source
    assert 'PROFILES = [{"input": ((1, 3, 8, 16), (2, 3, 16, 16), (8, 3, 32, 16))}]' in source
    result = run_trtgen("check", out, "--shape", "input=5x3x24x16")
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize(
    "shapes, message",
    [
        ('{"input": {0: Dim.DYNAMIC}}', "give bounds, as Dim('name', min=1, max=32)"),
        ('{"y": {0: (1, 2, 8)}}', "no input 'y'; the inputs are input"),
        ("[1, 2]", "must return a dict"),
    ],
)
def test_bad_get_dynamic_shapes_is_refused(tmp_path, shapes, message):
    model = tmp_path / "model.py"
    model.write_text(SMALL_CNN.replace("{SHAPES}", shapes))
    out = tmp_path / "out"
    result = run_trtgen(model, "-o", out)
    assert result.returncode == 2 and message in result.stderr, result.stderr
    assert not out.exists()


@pytest.fixture(scope="module")
def two_profiles(tmp_path_factory):
    folder = tmp_path_factory.mktemp("profiles")
    model = folder / "model.py"
    model.write_text(SMALL_CNN.replace("{SHAPES}", "{}"))
    out = folder / "out"
    result = run_trtgen(
        model,
        "-o",
        out,
        "--dynamic",
        "input:0=1:2:4",
        "--profile",
        "input:0=5:8:16,input:3=16:24:32",
        "--lang",
        "python,cpp",
    )
    assert result.returncode == 0, result.stderr
    return out


def test_several_optimization_profiles(two_profiles):
    """--dynamic makes profile 0, each --profile group one more; dims a group leaves out stay at
    the example's size; check takes shapes inside any one profile; the engine has them all."""
    out = two_profiles
    source = (out / "network.py").read_text()
    assert 'INPUTS = {"input": (nn.float32, (-1, 3, 16, -1))}' in source
    assert '{"input": ((1, 3, 16, 16), (2, 3, 16, 16), (4, 3, 16, 16))}' in source
    assert '{"input": ((5, 3, 16, 16), (8, 3, 16, 24), (16, 3, 16, 32))}' in source
    for shape in ("3x3x16x16", "12x3x16x30"):
        result = run_trtgen("check", out, "--shape", f"input={shape}")
        assert result.returncode == 0, result.stdout + result.stderr
    result = run_trtgen("check", out, "--shape", "input=3x3x16x30")
    assert result.returncode == 2 and "is in no optimization profile" in result.stderr
    assert run_trtgen("build", out).returncode == 0


def test_cpp_builder_adds_every_profile(two_profiles, tmp_path):
    cpp, python = build_and_describe(two_profiles, tmp_path)
    assert cpp["layers"] == python["layers"] and cpp["inputs"] == python["inputs"]
    source = (two_profiles / "network.cpp").read_text()
    assert '{"input", dims({5, 3, 16, 16}), dims({8, 3, 16, 24}), dims({16, 3, 16, 32})}' in source


SEGMENTATION_LIKE = """
import torch
import torch.nn as nn
import torch.nn.functional as F


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.down = nn.Conv2d(3, 8, 3, stride=2, padding=1)
        self.mid = nn.Conv2d(8, 8, 3, padding=1)
        self.head = nn.Conv2d(16, 4, 1)

    def forward(self, x):
        h, w = x.shape[-2:]
        y = F.relu(self.down(x))
        up = F.interpolate(self.mid(y), scale_factor=2, mode="bilinear", align_corners=False)
        z = self.head(torch.cat([up, F.interpolate(y, size=(h, w), mode="nearest")], 1))
        return z.flatten(2).mean(-1), z.view(x.size(0), 4, -1)


def get_model():
    torch.manual_seed(0)
    return Net()


def get_example_inputs():
    return (torch.randn(2, 3, 32, 32),)
"""


def test_batch_and_resolution_dynamic_through_interpolate_and_view(tmp_path):
    """Interpolate by scale factor and to ``x.shape[-2:]``, ``view(x.size(0), ...)``, flatten."""
    model = tmp_path / "model.py"
    model.write_text(SEGMENTATION_LIKE)
    out = tmp_path / "out"
    dims = ["--dynamic", "x:0=1:2:8", "--dynamic", "x:2=16:32:64", "--dynamic", "x:3=16:32:64"]
    assert run_trtgen(model, "-o", out, *dims).returncode == 0
    for shape in ("1x3x16x48", "5x3x64x32"):
        result = run_trtgen("check", out, "--shape", f"x={shape}")
        assert result.returncode == 0, result.stdout + result.stderr
    static = tmp_path / "static"
    assert run_trtgen(model, "-o", static).returncode == 0
    builder, network = build_from_output(static)
    assert "SHAPE" not in {
        str(network.get_layer(i).type).split(".")[-1] for i in range(network.num_layers)
    }


# transformers models captured with torch.export: whisper's example has batch 1 (export
# specializes size-1 dims, so it runs on the probe), t5 builds full_like masks from run-time
# sizes and calls its blocks with flattened signatures, gpt2 has left-padded causal rows whose
# keys are all masked in a random batch (sdpa gives zeros there, not NaN).
TRANSFORMERS_DYNAMIC = {
    "whisper_encoder": (["input_features:0=1:2:8"], ["input_features=3x16x64"]),
    "t5_encoder": (
        [
            "input_ids:0=1:2:8",
            "input_ids:1=4:16:32",
            "attention_mask:0=1:2:8",
            "attention_mask:1=4:16:32",
        ],
        ["input_ids=3x20", "attention_mask=3x20"],
    ),
    "gpt2": (
        ["input_ids:1=4:16:32", "attention_mask:1=4:16:32"],
        ["input_ids=2x20", "attention_mask=2x20"],
    ),
}


@pytest.mark.parametrize("name", sorted(TRANSFORMERS_DYNAMIC))
def test_transformers_models_check_at_another_shape(name, tmp_path):
    dynamic, shapes = TRANSFORMERS_DYNAMIC[name]
    out = tmp_path / "out"
    model = corpus.model_file(name, str(tmp_path))
    result = run_trtgen(model, "-o", out, *[a for d in dynamic for a in ("--dynamic", d)])
    assert result.returncode == 0, result.stderr
    result = run_trtgen("check", out, *[a for s in shapes for a in ("--shape", s)])
    assert result.returncode == 0, result.stdout + result.stderr


EXPORTED_WITH_SEQUENTIAL = """
import math
import torch


class Block(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = torch.nn.Linear(8, 8)

    def forward(self, x):
        return self.fc(x).reshape(x.shape[0], -1, 8) + x  # reads its input's batch size


class Outer(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.blocks = torch.nn.Sequential(Block(), Block())

    def forward(self, x):
        rows = int(math.ceil(x.shape[1] / 2) * 2)  # Python math on a size: symbolic tracing fails
        return self.blocks(x[:, :rows])


def get_model():
    torch.manual_seed(0)
    return Outer()


def get_example_inputs():
    return (torch.randn(2, 6, 8),)
"""


def test_a_sequential_of_blocks_inside_an_exported_module_takes_a_dynamic_batch(tmp_path):
    """torch.export passes the Sequential the tensor its blocks read sizes from; the generated
    call passes the Sequential its one input."""
    model = tmp_path / "model.py"
    model.write_text(EXPORTED_WITH_SEQUENTIAL)
    out = tmp_path / "out"
    result = run_trtgen(model, "-o", out, "--dynamic", "x:0=1:2:8")
    assert result.returncode == 0, result.stderr
    assert "torch.export" in json.loads((out / "trtgen.json").read_text())["capture"]
    for batch in (1, 5):
        result = run_trtgen("check", out, "--shape", f"x={batch}x6x8")
        assert result.returncode == 0, result.stdout + result.stderr


ENCODER_LAYER_WITH_PADDING_MASK = """
import torch


class Model(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.layer = torch.nn.TransformerEncoderLayer(16, 2, 32, batch_first=True)

    def forward(self, x, mask):
        return self.layer(x, src_key_padding_mask=mask)


def get_model():
    torch.manual_seed(0)
    return Model().eval()


def get_example_inputs():
    torch.manual_seed(1)
    mask = torch.zeros(2, 5, dtype=torch.bool)
    mask[1, 3:] = True
    return (torch.randn(2, 5, 16), mask)
"""


def test_an_attention_call_inside_an_export_takes_a_dynamic_length(tmp_path):
    """torch.export passes the preserved self_attn call the mask whose size its graph reads,
    before query, key and value; the generated call passes the attention its own arguments."""
    model = tmp_path / "model.py"
    model.write_text(ENCODER_LAYER_WITH_PADDING_MASK)
    out = tmp_path / "out"
    dims = ["--dynamic", "x:1=2:5:8", "--dynamic", "mask:1=2:5:8"]
    result = run_trtgen(model, "-o", out, *dims)
    assert result.returncode == 0, result.stderr
    assert "torch.export" in json.loads((out / "trtgen.json").read_text())["capture"]
    for length in (3, 8):
        result = run_trtgen(
            "check", out, "--shape", f"x=2x{length}x16", "--shape", f"mask=2x{length}"
        )
        assert result.returncode == 0, result.stdout + result.stderr
