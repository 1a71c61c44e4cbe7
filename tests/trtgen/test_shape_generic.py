"""Shapes in generated forwards come from tensors (``x.size(0)``), not from the example's sizes:
capture runs the model on a probe with its input dims resized, so a static network.py and a
``--dynamic`` one differ only in their INPUTS / PROFILES lines. Models that do not run on a
resized input, or whose export on the probe would differ at the example's sizes, still
convert and pass ``trtgen check``."""

import ast
import json
import re

import pytest

from cli_helpers import write_model
from trtgen.commands.cli import main

BATCH, LENGTH = 3, 12  # the example's sizes: no view / reshape / expand may spell them

GPT2 = f"""
import torch
import transformers


class GPT2(torch.nn.Module):
    def __init__(self, model):
        super().__init__()
        self.model = model

    def forward(self, input_ids, attention_mask):
        return self.model(input_ids=input_ids, attention_mask=attention_mask).last_hidden_state


def get_model():
    torch.manual_seed(0)
    config = transformers.GPT2Config(
        vocab_size=100, n_embd=32, n_layer=2, n_head=4, n_positions=64, use_cache=False
    )
    return GPT2(transformers.GPT2Model(config)).eval()


def get_example_inputs():
    g = torch.Generator().manual_seed(0)
    ids = torch.randint(0, 100, ({BATCH}, {LENGTH}), generator=g)
    mask = torch.ones({BATCH}, {LENGTH}, dtype=torch.int64)
    mask[1, {LENGTH} - 3 :] = 0  # padded: transformers drops an all-ones mask from the graph
    return ids, mask
"""

LLAMA = f"""
import torch
import transformers


def get_model():
    torch.manual_seed(0)
    config = transformers.LlamaConfig(
        vocab_size=100, hidden_size=32, intermediate_size=64, num_hidden_layers=2,
        num_attention_heads=4, num_key_value_heads=2, max_position_embeddings=64, use_cache=False,
    )
    return transformers.LlamaModel(config).eval()


def get_example_inputs():
    g = torch.Generator().manual_seed(0)
    return (torch.randint(0, 100, ({BATCH}, {LENGTH}), generator=g),)
"""

# a sliding window shorter than the example: the window mask is built from sizes too
MISTRAL = f"""
import torch
import transformers


def get_model():
    torch.manual_seed(0)
    config = transformers.MistralConfig(
        vocab_size=100, hidden_size=32, intermediate_size=64, num_hidden_layers=2,
        num_attention_heads=4, num_key_value_heads=2, max_position_embeddings=64,
        sliding_window=8, use_cache=False,
    )
    return transformers.MistralModel(config).eval()


def get_example_inputs():
    g = torch.Generator().manual_seed(0)
    return (torch.randint(0, 100, ({BATCH}, {LENGTH}), generator=g),)
"""

MODELS = {
    "gpt2": (GPT2, ("input_ids", "attention_mask")),
    "llama": (LLAMA, ("input_ids",)),
    "mistral": (MISTRAL, ("input_ids",)),
}


def _generate(model, out, *args):
    assert main([str(model), "-o", str(out), *map(str, args)]) == 0
    return (out / "network.py").read_text()


def _checks(out, *shapes):
    args = [a for shape in shapes for a in ("--shape", shape)]
    assert main(["check", str(out), *args]) == 0


def _capture_modes(out):
    return json.loads((out / "trtgen.json").read_text())["capture"]


def _without_io_lines(source):
    """network.py without what --dynamic adds: INPUTS, PROFILES (and its comment), and the
    ``profiles=PROFILES`` argument."""
    lines = [
        line
        for line in source.splitlines()
        if not line.startswith(("INPUTS = ", "PROFILES = ", "# optimization profiles"))
    ]
    return "\n".join(lines).replace(", profiles=PROFILES", "")


def _shape_literals(source, functions=("view", "reshape", "expand")):
    """Every int literal among the shape arguments of ``F.view`` / ``F.reshape`` / ``F.expand``
    calls, with the call's text."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr in functions
            and isinstance(node.func.value, ast.Name)
            and node.func.value.id == "F"
        ):
            for arg in node.args[1:]:
                for leaf in ast.walk(arg):
                    if isinstance(leaf, ast.Constant) and type(leaf.value) is int:
                        found.append((leaf.value, ast.unparse(node)))
    return found


@pytest.fixture(scope="module", params=sorted(MODELS))
def static_and_dynamic(request, tmp_path_factory):
    source, inputs = MODELS[request.param]
    root = tmp_path_factory.mktemp(request.param)
    model = root / "model.py"
    model.write_text(source)
    dynamic = [
        arg
        for name in inputs
        for spec in (f"{name}:0=1:{BATCH}:4", f"{name}:1=1:{LENGTH}:32")
        for arg in ("--dynamic", spec)
    ]
    static = _generate(model, root / "static")
    dyn = _generate(model, root / "dynamic", *dynamic)
    return root, inputs, static, dyn


def test_static_and_dynamic_differ_only_in_inputs_and_profiles(static_and_dynamic):
    root, _, static, dynamic = static_and_dynamic
    assert "torch.export" in _capture_modes(root / "static")
    assert "PROFILES = " in dynamic and "PROFILES" not in static
    assert _without_io_lines(static) == _without_io_lines(dynamic)


def test_no_view_spells_the_example_batch_or_length(static_and_dynamic):
    _, _, static, _ = static_and_dynamic
    literals = _shape_literals(static)
    assert literals, "the forwards reshape: their shape arguments are read"
    assert [call for value, call in literals if value in (BATCH, LENGTH)] == []
    assert ".size(0)" in static and ".size(1)" in static


def test_both_networks_check(static_and_dynamic):
    root, inputs, _, _ = static_and_dynamic
    _checks(root / "static")
    _checks(root / "dynamic")
    _checks(root / "dynamic", *(f"{name}=2x20" for name in inputs))


# symbolic tracing fails on Python math over a size, so these modules are torch.exported
FLATTEN_ALL = """
import math


class M(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(3, 4, 3, padding=1)
        self.fc = nn.Linear(2 * 4 * 8 * 8, 5)

    def forward(self, x):
        rows = int(math.ceil(x.shape[2] / 2) * 2)
        return self.fc(torch.flatten(self.conv(x[:, :, :rows])))  # the batch too


INPUTS = (torch.randn(2, 3, 8, 8),)
"""

FLATTEN_IMAGE = FLATTEN_ALL.replace(
    "torch.flatten(self.conv(x[:, :, :rows]))", "torch.flatten(self.conv(x[:, :, :rows]), 1)"
).replace("2 * 4 * 8 * 8", "4 * 8 * 8")


def test_a_model_that_runs_on_no_probe_converts_and_checks(tmp_path):
    """Every input dim feeds the Linear: no probe runs, the capture is the example's."""
    model = write_model(tmp_path, FLATTEN_ALL)
    _generate(model, tmp_path / "out")
    assert "torch.export" in _capture_modes(tmp_path / "out")
    _checks(tmp_path / "out")


def test_a_linear_after_flattening_an_image_keeps_a_symbolic_batch(tmp_path):
    """The channels and the image's sizes cannot change, the batch can."""
    model = write_model(tmp_path, FLATTEN_IMAGE)
    source = _generate(model, tmp_path / "out")
    assert "torch.export" in _capture_modes(tmp_path / "out")
    _checks(tmp_path / "out")
    dynamic = _generate(model, tmp_path / "dynamic", "--dynamic", "x:0=1:2:8")
    assert _without_io_lines(source) == _without_io_lines(dynamic)
    _checks(tmp_path / "dynamic", "x=5x3x8x8")


# symbolic tracing fails on a branch on a size, which torch.export follows on the probe
BRANCH_ON_SIZE = """
class M(nn.Module):
    def forward(self, x):
        if x.shape[1] > 6:  # the probe's doubled length takes the other branch
            return x * 2
        return x.reshape(x.shape[0], -1, 2) + 1


INPUTS = (torch.randn(2, 6),)
"""

SIZE_PASSED_AS_INT = """
class Inner(nn.Module):
    def forward(self, x, length):
        if x.shape[1] > 1:
            return x.reshape(x.shape[0], -1) * length
        return x


class M(nn.Module):
    def __init__(self):
        super().__init__()
        self.inner = Inner()

    def forward(self, x):
        return self.inner(x, x.shape[1])  # an int computed from a size: export bakes it


INPUTS = (torch.randn(2, 6, 4),)
"""


@pytest.mark.parametrize("body", [BRANCH_ON_SIZE, SIZE_PASSED_AS_INT], ids=["branch", "int"])
def test_an_export_that_differs_at_the_example_sizes_is_made_on_the_example(tmp_path, body):
    """What the probe's sizes decided (a branch, a Python int) never reaches the network."""
    model = write_model(tmp_path, body)
    source = _generate(model, tmp_path / "out")
    assert "torch.export" in _capture_modes(tmp_path / "out")
    assert not re.search(r"\b(12|24)\b", source.split("class ", 1)[1])  # no probe size
    _checks(tmp_path / "out")


# an export on the probe spells x.numel() as aten.sym_numel: at run time under --dynamic
NUMEL = """
class M(nn.Module):
    def forward(self, x):
        if x.dim() == 2:  # Python control flow on a shape: captured with torch.export
            x = x.unsqueeze(0)
        return x / x.numel()


INPUTS = (torch.randn(1, 3, 4),)
"""


def test_numel_follows_the_dynamic_dims(tmp_path):
    model = write_model(tmp_path, NUMEL)
    source = _generate(model, tmp_path / "out")
    assert "F.numel(x)" in source
    _checks(tmp_path / "out")
    _generate(model, tmp_path / "dynamic", "--dynamic", "x:0=1:1:8")
    _checks(tmp_path / "dynamic", "x=5x3x4")
