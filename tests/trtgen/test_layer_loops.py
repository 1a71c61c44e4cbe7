"""A ModuleList whose children run one after another is written as the model's ``for`` loop."""

import pytest

from cli_helpers import generate_source, run_trtgen

MODEL = """
import torch
from torch import nn


class Block(nn.Module):
    def __init__(self, dim):
        super().__init__()
        self.fc = nn.Linear(dim, dim)

    def forward(self, x, mask):
        return torch.relu(self.fc(x)) * mask + x


class Net(nn.Module):
    def __init__(self, dim=8):
        super().__init__()
        self.stem = nn.Linear(dim, dim)
        self.blocks = nn.ModuleList([Block(dim) for _ in range(3)])

    def forward(self, x, mask):
        x = self.stem(x)
{body}


def get_model():
    torch.manual_seed(0)
    return Net()


def get_example_inputs():
    return (torch.randn(2, 8), torch.rand(2, 8))
"""

LOOP = """\
        for block in self.blocks:
            x = block(x, mask)
        return x"""

# the loop's input is read again afterwards: the carried value starts as a copy
REUSED = """\
        h = x
        for blk in self.blocks:
            h = blk(h, mask)
        return h + x"""

OUT_OF_ORDER = """\
        return self.blocks[1](self.blocks[2](self.blocks[0](x, mask), mask), mask)"""

# the chain skips blocks[1], which runs on its own
SKIPPED = """\
        return self.blocks[2](self.blocks[0](x, mask), mask) + self.blocks[1](x, mask)"""

DIFFERENT_ARGUMENT = """\
        x = self.blocks[0](x, mask)
        x = self.blocks[1](x, mask * 2)
        return self.blocks[2](x, mask)"""


def _generate(tmp_path, body):
    _, out, result = generate_source(tmp_path, MODEL.format(body=body))
    assert result.returncode == 0, result.stderr
    check = run_trtgen("check", out, "--layerwise")
    assert check.returncode == 0 and "PASS" in check.stdout, check.stdout + check.stderr
    text = (out / "network.py").read_text()
    return text[text.index("class Net(") :]


def test_loop_over_blocks(tmp_path):
    net = _generate(tmp_path, LOOP)
    assert (
        "        for block in self.blocks:\n            x = block(x, mask)\n        return x\n"
        in net
    )
    assert "self.blocks[" not in net


def test_loop_input_used_again(tmp_path):
    net = _generate(tmp_path, REUSED)
    assert "for blk in self.blocks:\n" in net
    assert "self.blocks[" not in net
    loop = net.index("for blk in self.blocks:")
    carried = net[loop:].splitlines()[1].split("=")[0].strip()
    assert f"{carried} = blk({carried}, mask)" in net
    assert f"{carried} = " in net[:loop]  # starts as a copy of the input, which is read later


@pytest.mark.parametrize(
    "body", [OUT_OF_ORDER, SKIPPED, DIFFERENT_ARGUMENT], ids=["order", "skip", "argument"]
)
def test_explicit_calls_kept(tmp_path, body):
    net = _generate(tmp_path, body)
    assert " for " not in net
    assert "self.blocks[0](" in net
