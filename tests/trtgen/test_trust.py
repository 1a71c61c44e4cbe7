"""Model code that once gave a wrong network or one that did not build, with exit 0.

Each case generates, builds at generation, and matches PyTorch (FP32: rel err <= 1e-4)."""

import json
import os

import pytest

from cli_helpers import EXAMPLES, TINY_MODEL, write_model
import torch

from trtgen.commands.check import check
from trtgen.commands.cli import main
from trtgen.commands.compare import Tolerance, compare, table

CASES = {
    # forward parameters named like names the generated file uses: same order, same names
    "parameters_named_like_generated_names": """
        class M(nn.Module):
            def __init__(self):
                super().__init__()
                self.fc = nn.Linear(4, 4)
            def forward(self, input, network, F, weights, model, outputs):
                return self.fc(input) * 2 + network - F * 3 + weights / (model.abs() + 1) - outputs

        INPUTS = tuple(torch.randn(2, 4) * (i + 1) for i in range(6))
    """,
    # a dict head named like its module, computed further (CenterNet's hm.sigmoid())
    "dict_output_named_like_a_module": """
        class M(nn.Module):
            def __init__(self):
                super().__init__()
                self.body = nn.Conv2d(3, 8, 3, padding=1)
                self.hm = nn.Sequential(nn.Conv2d(8, 8, 3, padding=1), nn.ReLU(), nn.Conv2d(8, 2, 1))
                self.wh = nn.Conv2d(8, 2, 1)
            def forward(self, x):
                y = torch.relu(self.body(x))
                return {"hm": self.hm(y).sigmoid(), "wh": self.wh(y)}

        INPUTS = (torch.randn(1, 3, 16, 16),)
    """,
    # an output key equal to an input's name
    "output_named_like_an_input": """
        class M(nn.Module):
            def forward(self, x, y):
                return {"x": x * 2, "y": y - 1}

        INPUTS = (torch.randn(2, 3), torch.randn(2, 3))
    """,
    # outputs that are inputs, views or copies of inputs, or the same tensor twice
    "outputs_that_are_inputs_or_repeated": """
        class M(nn.Module):
            def forward(self, x, y):
                z = torch.relu(x)
                return x, y.clone(), x.permute(0, 1), torch.split(y, 4, dim=1)[0], z, z

        INPUTS = (torch.randn(2, 4), torch.randn(2, 4))
    """,
    "output_is_the_input": """
        class M(nn.Module):
            def forward(self, x):
                return x

        INPUTS = (torch.randn(2, 4),)
    """,
    # forward(self, *args): one network input per argument, in order
    "var_positional_forward": """
        class M(nn.Module):
            def forward(self, *args):
                return args[0] + 2 * args[1] - args[2]

        INPUTS = (torch.randn(2, 4), torch.randn(2, 4), torch.randn(2, 4))
    """,
    # children taking *args and **kwargs
    "var_positional_and_keyword_children": """
        class Sum(nn.Module):
            def __init__(self):
                super().__init__()
                self.fc = nn.Linear(4, 4)
            def forward(self, *xs):
                return self.fc(xs[0]) + xs[1] * 2

        class Scaled(nn.Module):
            def __init__(self):
                super().__init__()
                self.fc = nn.Linear(4, 4)
            def forward(self, x, **kwargs):
                return self.fc(x) * kwargs["scale"] + kwargs.get("bias", 0)

        class M(nn.Module):
            def __init__(self):
                super().__init__()
                self.sum = Sum()
                self.scaled = Scaled()
            def forward(self, a, b):
                return self.scaled(self.sum(a, b), scale=b.sigmoid(), bias=a)

        INPUTS = (torch.randn(2, 4), torch.randn(2, 4))
    """,
    # the reference runs on copies of the inputs: x += y must not change what the network gets
    "writes_into_its_input": """
        class M(nn.Module):
            def forward(self, x, y):
                x += y
                return x * 2

        INPUTS = (torch.randn(2, 4), torch.randn(2, 4))
    """,
    # NaN and inf where PyTorch has them too (log and sqrt of negative numbers)
    "nan_and_inf_outputs": """
        class M(nn.Module):
            def forward(self, x):
                return torch.log(x), torch.sqrt(x), torch.asin(x * 2), 1 / (x * 0)

        INPUTS = (torch.randn(3, 5),)
    """,
    # an fp16 model: an fp16 network, judged at FP16 tolerance
    "half_precision_model": """
        class Net(nn.Module):
            def __init__(self):
                super().__init__()
                self.fc = nn.Linear(8, 8)
                self.norm = nn.LayerNorm(8)
            def forward(self, x):
                return self.norm(torch.relu(self.fc(x)))

        M = lambda: Net().half()
        INPUTS = (torch.randn(2, 8).half(),)
    """,
    # model classes named like network.py's own functions and constants (a class `main` once
    # replaced main(), and building the network ran the command line instead)
    "class_names_like_the_files_globals": """
        def block(name):
            def __init__(self):
                nn.Module.__init__(self)
                self.fc = nn.Linear(4, 4)
            return type(name, (nn.Module,), {"__init__": __init__, "forward": lambda self, x: torch.relu(self.fc(x))})

        class M(nn.Module):
            def __init__(self):
                super().__init__()
                names = ["main", "build_network", "load_network", "INPUTS", "OUTPUTS", "F", "nn", "int", "namespace"]
                self.blocks = nn.Sequential(*(block(name)() for name in names))
            def forward(self, x):
                return self.blocks(x)

        INPUTS = (torch.randn(2, 4),)
    """,
}


def _generate(tmp_path, name, *options):
    model = write_model(tmp_path, CASES[name], name)
    out = tmp_path / f"{name}_out"
    assert main([str(model), "-o", str(out), *options]) == 0
    return out


@pytest.mark.parametrize("name", sorted(CASES))
def test_case_generates_and_matches(tmp_path, name):
    out = _generate(tmp_path, name)
    lines = []
    assert check(str(out), log=lines.append), "\n".join(lines)


def test_input_names_and_order_are_the_models(tmp_path):
    out = _generate(tmp_path, "parameters_named_like_generated_names")
    manifest = json.loads((out / "trtgen.json").read_text())
    assert [i["name"] for i in manifest["inputs"]] == [
        "input",
        "network",
        "F",
        "weights",
        "model",
        "outputs",
    ]
    source = (out / "network.py").read_text()
    assert "def forward(self, input_, network, F_, weights, model, outputs):" in source
    assert "outputs = model(input_, network_, F_, weights_, model_, outputs_)" in source


def test_output_names_come_from_the_result(tmp_path):
    out = _generate(tmp_path, "dict_output_named_like_a_module")
    manifest = json.loads((out / "trtgen.json").read_text())
    assert [o["name"] for o in manifest["outputs"]] == ["hm", "wh"]
    out = _generate(tmp_path, "output_named_like_an_input")
    manifest = json.loads((out / "trtgen.json").read_text())
    assert [o["name"] for o in manifest["outputs"]] == ["x_out", "y_out"]


def test_var_positional_forward_keeps_its_form(tmp_path):
    out = _generate(tmp_path, "var_positional_forward")
    source = (out / "network.py").read_text()
    assert "def forward(self, *args):" in source
    manifest = json.loads((out / "trtgen.json").read_text())
    assert [i["name"] for i in manifest["inputs"]] == ["args_0", "args_1", "args_2"]


BROKEN_RULE = """
from trtgen.plan.rules import lowering


@lowering("scaled_tanh")
def scaled_tanh(x, scale):
    return F.matmul(x, x) * scale  # noqa: F821 - [2, 32] @ [2, 32] cannot multiply
"""


def test_a_network_that_does_not_build_is_refused_at_generation(tmp_path, capsys):
    """Generation builds the network once: a lowering whose layers TensorRT rejects is refused
    with the module and the generated line, and nothing is written."""
    rules = tmp_path / "broken_rules.py"
    rules.write_text(BROKEN_RULE)
    out = tmp_path / "out"
    status = main(["examples/custom_op.py", "--rules", str(rules), "-o", str(out)])
    error = capsys.readouterr().err
    assert status == 2
    assert error.startswith("trtgen: error: ")
    assert "the generated network does not build in module '<root>' (Net)" in error
    assert "at network.py:" in error and "`return F.matmul(x, x) * scale" in error
    assert not out.exists()


def test_a_half_precision_model_gives_an_fp16_network(tmp_path):
    out = _generate(tmp_path, "half_precision_model")
    manifest = json.loads((out / "trtgen.json").read_text())
    assert manifest["precision"] == "fp16"
    assert "PRECISION = nn.float16" in (out / "network.py").read_text()


def test_unseeded_models_generate_byte_identical_output(tmp_path):
    """TINY_MODEL seeds nothing: trtgen does, so generation and check see the same values."""
    model = tmp_path / "tiny.py"
    model.write_text(TINY_MODEL)
    for name in ("a", "b"):
        assert main([str(model), "-o", str(tmp_path / name)]) == 0
    for name in ("network.py", "weights.safetensors"):
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes(), name
    assert check(str(tmp_path / "a"), log=lambda line: None)


def test_nan_and_inf_match_only_at_the_same_positions():
    nan, inf = float("nan"), float("inf")
    want = torch.tensor([1.0, nan, inf, -inf, 2.0])
    same = compare("y", want.clone(), want, Tolerance(rtol=1e-4))
    assert same.ok and same.nonfinite_mismatches == 0 and same.max_abs == 0
    got = torch.tensor([1.0, 0.0, -inf, -inf, nan])  # three positions disagree
    different = compare("y", got, want, Tolerance(rtol=1e-4))
    assert not different.ok and different.nonfinite_mismatches == 3
    assert "3 positions NaN/inf on one side only" in table([different])


@pytest.mark.parametrize("example", ["centernet", "yolov8_c2f"])
def test_seed_networks_in_their_idiomatic_form(tmp_path, example):
    """The seed's showcase networks: a CenterNet returning dict heads named like its modules
    (``forward(self, input)``), and YOLOv8 C2f blocks whose bottlenecks run in a generator."""
    out = tmp_path / example
    assert main([os.path.join(EXAMPLES, f"{example}.py"), "-o", str(out)]) == 0
    lines = []
    assert check(str(out), log=lines.append), "\n".join(lines)
    if example == "centernet":
        manifest = json.loads((out / "trtgen.json").read_text())
        assert [o["name"] for o in manifest["outputs"]] == ["hm", "wh", "reg"]
        assert [i["name"] for i in manifest["inputs"]] == ["input"]


def test_integer_outputs_must_match_exactly():
    """Ids, indices and counts have no rounding: an off-by-one passes no relative bound."""
    want = torch.tensor([2**31 - 100, 7, 0], dtype=torch.int64)
    assert compare("ids", want.clone(), want, Tolerance(rtol=1e-4)).ok
    got = want + torch.tensor([32, 0, 0])
    assert not compare("ids", got, want, Tolerance(rtol=1e-4)).ok
    mask = torch.tensor([True, False])
    assert not compare("mask", ~mask, mask, Tolerance(rtol=1e-4, min_cosine=0.0)).ok
