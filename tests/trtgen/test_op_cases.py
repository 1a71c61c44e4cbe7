"""Ops reached from model code through ``trtgen MODEL.py``: each case generates (symbolic trace,
or torch.export where the model forces it) and ``trtgen check`` matches PyTorch at the FP32
tolerance (max |trt - torch| <= 1e-4 x max(1, max |torch|))."""

import textwrap

import pytest

from trtgen.check import check
from trtgen.cli import main

# Python control flow on a shape: symbolic_trace fails, the module is captured with torch.export
EXPORTED = "if x.size(0) > 0:\n            pass\n        "

CASES = {
    # ~x on an integer tensor is -x - 1, never logical_not (which gave a bool tensor)
    "bitwise_not_int": """
        class M(nn.Module):
            def forward(self, x):
                return torch.bitwise_not(x) * 3 + (~x) + x.bitwise_not()

        INPUTS = (torch.tensor([[5, -6, 0, 7], [9, -1, 3, -2]], dtype=torch.int32),)
    """,
    "bitwise_not_int_exported": """
        class M(nn.Module):
            def forward(self, x):
                EXPORTED(~x) + torch.bitwise_not(x)

        INPUTS = (torch.tensor([[5, -6, 0, 7], [9, -1, 3, 4]]),)
    """,
    "bitwise_ops": """
        class M(nn.Module):
            def forward(self, x, y):
                a = (x & y) + (x | 12) - torch.bitwise_xor(x, y) + (x << 2) + (y >> 1)
                b = (x > 0) & (y > 0) | ~(x == y)
                return a, b

        INPUTS = (torch.randint(-1000, 1000, (2, 6)), torch.randint(-1000, 1000, (2, 6)))
    """,
    "bitwise_ops_exported": """
        class M(nn.Module):
            def forward(self, x, y):
                EXPORTED(x & y) + (x | 12) - torch.bitwise_xor(x, y) + (x << 2) + (y >> 1)

        INPUTS = (torch.randint(-1000, 1000, (2, 6)), torch.randint(-1000, 1000, (2, 6)))
    """,
}


def _source(body):
    body = textwrap.dedent(body).replace("EXPORTED(", EXPORTED + "return (")
    return HEADER + body + FOOTER


HEADER = "import torch\nfrom torch import nn\nimport torch.nn.functional as F\n"
FOOTER = (
    "\n\ndef get_model():\n    torch.manual_seed(0)\n    return M().eval()\n\n\n"
    "def get_example_inputs():\n    torch.manual_seed(1)\n    return INPUTS\n"
)


def generate(tmp_path, name, body, *args):
    model = tmp_path / f"{name}.py"
    model.write_text(_source(body))
    out = tmp_path / "out"
    assert main([str(model), "-o", str(out), *args]) == 0
    return out


@pytest.mark.parametrize("name", sorted(CASES))
def test_op_case_generates_and_matches(tmp_path, name):
    out = generate(tmp_path, name, CASES[name])
    lines = []
    assert check(str(out), log=lines.append), "\n".join(lines)
