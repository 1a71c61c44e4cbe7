"""A network that does not read an input the model's output depends on is refused.

transformers drops an all-ones attention mask from the graph it traces (``is_causal`` SDPA
instead of a mask): a GPT-2 captured on such an example ignores ``attention_mask`` and would be
wrong for every padded batch. With a padded example the mask is part of the network.
"""

import os

import pytest
import torch

from cli_helpers import EXAMPLES, generate_source, run_trtgen
from trtgen.commands.unread_inputs import changed

# examples/gpt2_tiny.py's model with an example mask that is all ones, or padded
GPT2 = """
import sys

import torch

sys.path.insert(0, {examples!r})
from gpt2_tiny import get_model  # noqa: E402


def get_example_inputs():
    mask = torch.ones(2, 16, dtype=torch.int64)
    {padding}
    return torch.randint(0, 100, (2, 16), generator=torch.Generator().manual_seed(0)), mask
"""


def _model(padding):
    return GPT2.replace("{examples!r}", repr(EXAMPLES)).replace("{padding}", padding)


def test_an_ignored_mask_the_output_depends_on_is_refused(tmp_path):
    _, out, result = generate_source(tmp_path, _model("pass"))
    assert result.returncode == 2, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("trtgen: error: input 'attention_mask'")
    assert "padded attention mask" in lines[0]
    assert not os.path.exists(out)


def test_a_padded_example_mask_is_read_by_the_network(tmp_path):
    _, out, result = generate_source(tmp_path, _model("mask[1, 12:] = 0"))
    assert result.returncode == 0, result.stderr
    assert "attention_mask.to(" in (out / "network.py").read_text()
    checked = run_trtgen("check", out)
    assert checked.returncode == 0, checked.stdout + checked.stderr


def test_an_input_the_model_ignores_is_accepted(tmp_path):
    source = """
import torch


class M(torch.nn.Module):
    def forward(self, x, unused):
        return x * 2


def get_model():
    return M()


def get_example_inputs():
    return torch.randn(2, 3), torch.ones(2, 3)
"""
    _, out, result = generate_source(tmp_path, source)
    assert result.returncode == 0, result.stderr


@pytest.mark.parametrize(
    "tensor",
    [
        torch.ones(2, 6, dtype=torch.int64),
        torch.ones(2, 6, dtype=torch.bool),
        torch.tensor([[True, True, False, True]]),  # a mixed mask: flipped where it is kept
        torch.arange(6).reshape(2, 3),
        torch.zeros(3),
        torch.randn(2, 2),
    ],
)
def test_changed_values_keep_dtype_shape_and_range(tensor):
    other = changed(tensor)
    assert other.dtype == tensor.dtype and other.shape == tensor.shape
    assert not torch.equal(other, tensor)
    if (
        not tensor.is_floating_point()
        and tensor.dtype != torch.bool
        and tensor.min() != tensor.max()
    ):
        assert other.min() >= tensor.min() and other.max() <= tensor.max()
