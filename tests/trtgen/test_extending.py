"""User lowering rules (--rules), the support report, and plugin placeholders."""

import json
import os

from cli_helpers import EXAMPLES, run_trtgen

MODEL = os.path.join(EXAMPLES, "custom_op.py")
RULES = os.path.join(EXAMPLES, "custom_op_rules.py")


def test_custom_op_is_reported_without_a_rule(tmp_path):
    result = run_trtgen(MODEL, "-o", tmp_path / "out")
    assert result.returncode != 0
    assert "scaled_tanh" in result.stderr and "--rules" in result.stderr
    assert not (tmp_path / "out").exists()
    support = run_trtgen("support", MODEL)
    assert support.returncode == 1
    assert "UNSUPPORTED" in support.stdout and "scaled_tanh" in support.stdout


def test_rule_file_lowers_the_custom_op(tmp_path):
    out = tmp_path / "out"
    result = run_trtgen(MODEL, "--rules", RULES, "-o", out)
    assert result.returncode == 0, result.stderr
    source = (out / "network.py").read_text()
    assert "def scaled_tanh(x, scale):" in source and "@lowering" not in source
    assert "scaled_tanh(" in source.split("def forward", 1)[1]
    assert "trtgen" not in source.split('"""', 2)[2]  # standalone: the rule was copied in
    check = run_trtgen("check", out)
    assert check.returncode == 0, check.stdout + check.stderr
    support = run_trtgen("support", MODEL, "--rules", RULES)
    assert support.returncode == 0 and "user lowering scaled_tanh()" in support.stdout


INVERSE = """
import torch

class Solve(torch.nn.Module):
    def forward(self, a, b):
        return torch.linalg.inv(a) @ b

def get_model():
    return Solve()

def get_example_inputs():
    return (torch.randn(3, 3), torch.randn(3, 2))
"""


def test_plugin_placeholder_for_an_op_without_a_layer(tmp_path):
    model = tmp_path / "solve.py"
    model.write_text(INVERSE)
    out = tmp_path / "out"
    result = run_trtgen(model, "--plugin-placeholders", "-o", out)
    assert result.returncode == 0, result.stderr
    assert "plugin placeholder: linalg_inv" in result.stdout
    source = (out / "network.py").read_text()
    assert 'F.plugin("linalg_inv", [a], fields={})' in source
    assert "PLUGIN PLACEHOLDERS" in source
    manifest = json.loads((out / "trtgen.json").read_text())
    assert manifest["plugin_placeholders"][0]["op"] == "linalg_inv"
    build = run_trtgen("build", out)  # TensorRT-RTX has no plugins: a clear refusal, no engine
    assert build.returncode != 0
    assert "TensorRT-RTX has no plugins" in build.stderr
    assert not (out / "model.engine").exists()
