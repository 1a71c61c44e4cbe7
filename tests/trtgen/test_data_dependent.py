"""Ops whose output shape depends on input values are refused by ``trtgen MODEL.py`` itself
(the real command line): a ``trtgen: error:`` line, the op, the model's source line, the reason,
a non-zero exit, nothing written; never a network that fails later at build or check."""

import textwrap

import pytest

from cli_helpers import run_trtgen
from test_bad_input import assert_refused

# Python control flow on a shape: the module is captured with torch.export instead
EXPORTED = "if x.size(0) > 0:\n            pass\n        "

CASES = {
    "nonzero": ("y = torch.nonzero(x)", "nonzero"),
    "nonzero_method_as_tuple": ("y = x.nonzero(as_tuple=True)[0]", "nonzero"),
    "argwhere": ("y = torch.argwhere(x)", "argwhere"),
    "masked_select": ("y = torch.masked_select(x, x > 0)", "masked_select"),
    "unique": ("y = torch.unique(x)", "unique"),
    "repeat_interleave_tensor": (
        "y = x.repeat_interleave((x[:, 0] > 0).long() + 1, dim=0)",
        "repeat_interleave(tensor repeats)",
    ),
    "repeat_interleave_tensor_exported": (
        EXPORTED + "y = x.repeat_interleave((x[:, 0] > 0).long() + 1, dim=0)",
        "repeat_interleave(tensor repeats)",
    ),
    "bincount": ("y = torch.bincount((x.abs() * 3).long().flatten())", "bincount"),
    "where_condition_only": ("y = torch.where(x > 0)[1]", "where(condition)"),
    "where_condition_only_exported": (EXPORTED + "y = torch.where(x > 0)[0]", "where(condition)"),
    "boolean_mask": ("y = x[x > 0]", "boolean_mask_index"),
    "boolean_mask_combined": ("y = x[:, (x[0] > 0) & ~(x[1] < 1)]", "boolean_mask_index"),
    "boolean_mask_exported": (EXPORTED + "y = x[x > 0]", "boolean_mask_index"),
    "nonzero_exported": (EXPORTED + "y = torch.nonzero(x)", "nonzero"),
}

MODEL = """
import torch


class M(torch.nn.Module):
    def forward(self, x):
        x = x * 2
        {body}
        return y


def get_model():
    return M()


def get_example_inputs():
    return (torch.randn(3, 4),)
"""


@pytest.mark.parametrize("case", sorted(CASES))
def test_data_dependent_op_is_refused_at_generation(tmp_path, case):
    body, op = CASES[case]
    source = MODEL.format(body=body)
    model = tmp_path / "model.py"
    model.write_text(source)
    out = tmp_path / "out"
    result = run_trtgen(model, "-o", out)
    line = next(i for i, text in enumerate(source.splitlines(), 1) if "y = " in text)
    assert_refused(result, str(out), op, f"model.py:{line}", "data-dependent")


MASK_INPUT_MODEL = """
import torch


class M(torch.nn.Module):
    def forward(self, x, keep):
        return x[keep] * 2


def get_model():
    return M()


def get_example_inputs():
    return (torch.randn(3, 4), torch.tensor([True, False, True]))
"""


def test_a_boolean_model_input_as_a_mask_is_refused_at_generation(tmp_path):
    model = tmp_path / "model.py"
    model.write_text(MASK_INPUT_MODEL)
    out = tmp_path / "out"
    result = run_trtgen(model, "-o", out)
    assert_refused(result, str(out), "boolean_mask_index", "model.py:7", "data-dependent")
