"""Variables in generated forward bodies are the model's own names, never torch.fx's."""

import re
import textwrap

import pytest

from cli_helpers import REPO
from trtgen.commands.cli import main

# names torch.fx / torch.export make up, which network.py must not show
FX_RESIDUE = re.compile(
    r"\b(?:getitem|getattr)_\d+\b|\bself_(?:\b|\d)|\blifted_tensor_?\d*|_tensor_constant_?\d+"
    r"|\barg\d+_\d+\b|\bl__self___\w*"
)
# fx's numbered op names, wrong wherever the model's source names the value
NUMBERED_OPS = re.compile(r"\b(?:add|sub|mul|div|matmul|transpose|view|expand|relu|softmax)_\d+\b")

ATTENTION = """
import torch
from torch import nn


class SelfAttention(nn.Module):
    def __init__(self, hidden=16, heads=2):
        super().__init__()
        self.heads = heads
        self.query = nn.Linear(hidden, hidden)
        self.key = nn.Linear(hidden, hidden)
        self.value = nn.Linear(hidden, hidden)
        self.out = nn.Linear(hidden, hidden)

    def forward(self, h):
        b, s, d = h.shape
        query_layer = self.query(h).view(b, s, self.heads, -1).transpose(1, 2)
        key_layer = self.key(h).view(b, s, self.heads, -1).transpose(1, 2)
        value_layer = self.value(h).view(b, s, self.heads, -1).transpose(1, 2)
        scores = torch.matmul(query_layer, key_layer.transpose(-1, -2)) / 4.0
        probs = scores.softmax(dim=-1)
        context = torch.matmul(probs, value_layer)
        context = context.transpose(1, 2).reshape(b, s, d)
        x = self.out(context)
        x = x + h
        x = torch.relu(x) * 2
        return x


def get_model():
    torch.manual_seed(0)
    return SelfAttention()


def get_example_inputs():
    return (torch.randn(1, 4, 16),)
"""


def _forward_bodies(text):
    lines, inside = [], False
    for line in text.splitlines():
        stripped = line.strip()
        if stripped.startswith("def "):
            inside = stripped.startswith("def forward(")
        elif line and not line.startswith(" "):
            inside = False
        if inside:
            lines.append(line)
    return "\n".join(lines)


def test_assigned_names_come_from_the_model_source(tmp_path):
    model = tmp_path / "attention.py"
    model.write_text(textwrap.dedent(ATTENTION))
    assert main([str(model), "-o", str(tmp_path / "out")]) == 0
    body = _forward_bodies((tmp_path / "out" / "network.py").read_text())
    for name in ("query_layer", "key_layer", "value_layer", "scores", "context"):
        assert re.search(rf"^\s+{name} = ", body, re.M), (name, body)
    # ``b, s, d = h.shape`` names the sizes; x is reassigned as the model does once h is dead
    assert re.search(r"^\s+b = ", body, re.M) and re.search(r"^\s+d = ", body, re.M), body
    assert re.search(r"^\s+x = ", body, re.M), body
    assert not FX_RESIDUE.search(body) and not NUMBERED_OPS.search(body), body
    assert main(["check", str(tmp_path / "out")]) == 0


def test_names_that_stay_read_are_not_reassigned(tmp_path):
    model = tmp_path / "keep.py"
    model.write_text(textwrap.dedent("""
        import torch
        from torch import nn


        class Keep(nn.Module):
            def __init__(self):
                super().__init__()
                self.a = nn.Linear(8, 8)
                self.b = nn.Linear(8, 8)

            def forward(self, x):
                y = self.a(x)
                y2 = y
                y = self.b(y)
                y = torch.relu(y) + y2
                return y * x


        def get_model():
            torch.manual_seed(0)
            return Keep()


        def get_example_inputs():
            return (torch.randn(2, 8),)
        """))
    assert main([str(model), "-o", str(tmp_path / "out")]) == 0
    assert main(["check", str(tmp_path / "out")]) == 0  # numbers stay right with reused names


def test_bert_encoder_forward_bodies_have_no_fx_names():
    with open(f"{REPO}/generated/bert_encoder/network.py") as f:
        body = _forward_bodies(f.read())
    assert not FX_RESIDUE.search(body), FX_RESIDUE.findall(body)
    assert "attention_output" in body and "hidden_states" in body


@pytest.mark.parametrize("name", ["resnet18"])
def test_resnet_block_reads_like_the_model(name):
    with open(f"{REPO}/generated/{name}/network.py") as f:
        text = f.read()
    # one statement per statement of torchvision's BasicBlock.forward, named as it names them
    assert "out = self.conv2(out)\n        out = self.bn2(out)\n" in text
    assert "identity = x if self.downsample is None else self.downsample(x)" in text


DISCARDED_ITEM = """
import torch
from torch import nn


class Pair(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(8, 8)

    def forward(self, x):
        y = self.fc(x)
        return y, y.sum(-1)


class Outer(nn.Module):
    def __init__(self):
        super().__init__()
        self.pair = Pair()

    def forward(self, x):
        out, _ = self.pair(x)
        return torch.relu(out)


def get_model():
    torch.manual_seed(0)
    return Outer()


def get_example_inputs():
    return (torch.randn(2, 8),)
"""


def test_a_discarded_item_gives_no_name_to_the_whole_result(tmp_path):
    """``out, _ = self.pair(x)``: ``out`` names the item; the tuple is not ``out__``."""
    model = tmp_path / "discard.py"
    model.write_text(DISCARDED_ITEM)
    assert main([str(model), "-o", str(tmp_path / "out")]) == 0
    body = _forward_bodies((tmp_path / "out" / "network.py").read_text())
    assert re.search(r"^\s+out = ", body, re.M), body
    assert not re.search(r"\w__ = ", body), body
    assert main(["check", str(tmp_path / "out")]) == 0
