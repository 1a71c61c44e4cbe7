"""The lowering registry: explicit entries, duplicate entries refused, argument validators whose
refusals are reported like unknown ops (generation and ``trtgen support``)."""

import types

import pytest
import torch

import layers
from layers import functional
from trtgen.plan import lowerings, rules
from trtgen.commands.cli import main
from trtgen.plan.normalize import ALIASES
from trtgen.plan.op import Op
from trtgen.plan.rules import (
    Registry,
    Rule,
    lowering,
    lowering_for,
    lowering_rule,
    unsupported_name,
)


def _node(name="x"):
    graph = torch.fx.Graph()
    return graph.placeholder(name)


def test_lookup_by_canonical_name():
    assert lowering_rule("gelu").kind == "call" and lowering_rule("gelu").target == "F.gelu"
    assert lowering_rule("float").target == "Tensor.float"
    assert lowering_rule("add").kind == "infix" and lowering_rule("add").symbol == "+"
    assert lowering_rule("dropout2d") is lowering_rule("detach")  # one identity entry
    assert lowering_rule("dropout2d").kind == "alias"
    assert lowering_rule("linalg_inv") is None
    # names of layers.functional modules or helpers are no ops
    assert lowering_rule("reduce") is None and lowering_rule("cast_layer") is None


def test_a_second_entry_for_an_op_is_refused():
    registry = Registry()
    registry.add(Rule("gelu", "call", target="F.gelu"))
    with pytest.raises(ValueError, match="gelu registered twice"):
        registry.add(Rule("gelu", "call", target="F.gelu"))
    with pytest.raises(ValueError, match="registered twice"):
        rules.register(Rule("relu", "call", target="F.relu"))  # the built-in table has it


def test_a_user_rule_replaces_the_builtin_and_may_validate(monkeypatch):
    monkeypatch.setattr(rules.REGISTRY, "_rules", dict(rules.REGISTRY._rules))

    def no_negative_beta(op):
        beta = op.kwargs.get("beta", 1.0)
        return f"beta={beta}: negative" if beta < 0 else None

    @lowering("softplus", validator=no_negative_beta)
    def softplus(x, beta=1.0):
        return x

    x = _node()
    assert lowering_for(Op("softplus", (x,), {"beta": 2.0}, False)).kind == "helper"
    refused = Op("softplus", (x,), {"beta": -1.0}, False)
    assert lowering_for(refused) is None
    assert unsupported_name(refused) == "softplus (beta=-1.0: negative)"


@pytest.mark.parametrize(
    "op, reason",
    [
        (Op("embedding", ("i", "w"), {"max_norm": 1.0}, False), "max_norm=1.0"),
        (Op("embedding", ("i", "w", None, 2.0), {}, False), "max_norm=2.0"),  # positional
        (
            Op(
                "embedding_bag", ("i", "w", "o"), {"mode": "mean", "per_sample_weights": "p"}, False
            ),
            "per_sample_weights with mode='mean'",
        ),
        (Op("max_pool2d", ("x", 2, 2, 0, 1, False, True), {}, False), "return_indices=True"),
        (
            Op("adaptive_max_pool1d", ("x", 4), {"return_indices": True}, False),
            "return_indices=True",
        ),
        (
            Op(
                "interpolate",
                ("x",),
                {"scale_factor": 2.0, "mode": "bilinear", "antialias": True},
                False,
            ),
            "antialias=True",
        ),
        (
            Op("to", ("x", torch.complex64), {}, True),
            "dtype=torch.complex64: TensorRT has no complex64",
        ),
        (Op("zeros", ((2, 3),), {"dtype": torch.float64}, False), "dtype=torch.float64"),
        (Op("add", ("x", "y"), {"out": "z"}, False), "out="),
        (Op("vector_norm", ("x", 0), {}, False), "ord=0"),
        (Op("norm", ("x", "nuc"), {}, False), "p='nuc'"),
        (Op("einsum", ("...ij,...jk", "a", "b"), {}, False), "ellipsis"),
        (Op("topk", ("x", 5000), {}, False), "k=5000"),
        (Op("multi_head_attention_forward", ("q",), {"static_k": "k"}, False), "static_k"),
    ],
)
def test_a_validator_refuses_with_the_reason(op, reason):
    assert lowering_rule(op.name) is not None  # the op itself is known
    assert lowering_for(op) is None
    assert unsupported_name(op).startswith(f"{op.name} (") and reason in unsupported_name(op)


@pytest.mark.parametrize(
    "op",
    [
        Op("embedding", ("i", "w"), {}, False),
        Op("max_pool2d", ("x", 2), {"return_indices": False}, False),
        Op("to", ("x", torch.float16), {}, True),
        Op("vector_norm", ("x", float("-inf")), {}, False),
        Op("norm", ("x",), {"p": "fro"}, False),
        Op("topk", ("x", 3), {}, False),
        Op("einsum", ("ij,jk", "a", "b"), {}, False),
    ],
)
def test_supported_arguments_pass(op):
    assert lowering_for(op) is lowering_rule(op.name)
    assert unsupported_name(op) == op.name


def test_an_integer_cumprod_is_refused_by_its_recorded_dtype():
    x = _node()
    x.meta["val"] = torch.zeros(3, dtype=torch.int64)
    assert "int64 input" in unsupported_name(Op("cumprod", (x, 0), {}, False))
    assert lowering_for(Op("cumprod", (x, 0), {"dtype": torch.float32}, False)) is not None
    x.meta["val"] = torch.zeros(3)
    assert lowering_for(Op("cumprod", (x, 0), {}, False)) is not None


# layers.functional names that are no torch op: helpers, or spellings normalize renames
NOT_OPS = {
    "ValuesIndices",
    "QUANT_TYPES",
    "cast_layer",
    "promote_pair",
    "constant",
    "scalar",
    "recurrent",
    "plugin",
    "getitem",
}


def test_the_table_names_real_layers_calls_and_misses_none():
    for rule in rules.REGISTRY.rules():
        if rule.kind != "call":
            continue
        spelling, name = rule.target.split(".")
        owner = functional if spelling == "F" else layers.Tensor
        assert callable(getattr(owner, name, None)), rule.target
    public = {
        n
        for n in dir(functional)
        if not n.startswith("_") and not isinstance(getattr(functional, n), types.ModuleType)
    }
    special = {n for r in rules.REGISTRY.rules() if r.kind != "call" for n in r.handles}
    missing = (
        public
        - NOT_OPS
        - set(ALIASES)
        - special
        - {n for r in rules.REGISTRY.rules() for n in r.handles}
    )
    assert not missing, f"layers.functional calls no lowering names: {sorted(missing)}"
    assert set(lowerings.VALIDATORS) <= {r.name for r in rules.REGISTRY.rules()}


MODEL = """\
import torch


class Widen(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = torch.nn.Linear(4, 4)

    def forward(self, x):
        y = self.fc(x).to(torch.float16)
        wide = y.to(torch.float64)
        return y + wide.sum()


def get_model():
    return Widen()


def get_example_inputs():
    return (torch.randn(2, 4),)
"""

REASON = "to (dtype=torch.float64: TensorRT has no float64 tensors)"


def test_support_names_the_refused_arguments_and_the_line(tmp_path, capsys):
    model = tmp_path / "widen.py"
    model.write_text(MODEL)
    assert main(["support", str(model)]) == 1
    out = capsys.readouterr().out
    rows = [line.split() for line in out.splitlines() if line.startswith("op ")]
    assert ["op", "to", "1", "Tensor.to", "<model>"] in rows  # the float16 cast lowers
    assert ["op", "to", "1", "UNSUPPORTED", "arguments", "<model>"] in rows
    assert "1 unsupported: to" in out
    assert f"{REASON}  x1  at <model> (Widen.forward at widen.py:11)" in out


def test_generation_refuses_the_arguments_with_module_op_and_line(tmp_path, capsys):
    model = tmp_path / "widen.py"
    model.write_text(MODEL)
    out = tmp_path / "out"
    assert main([str(model), "-o", str(out)]) == 2
    err = capsys.readouterr().err
    assert err.count("trtgen: error:") == 1 and err.startswith("trtgen: error: 1 unsupported op(s)")
    assert f"{REASON}  x1  at <model> (Widen.forward at widen.py:11)" in err
    assert "widen.py:10" not in err  # the float16 cast lowers
    assert "Traceback" not in err
    assert not out.exists()


# export renormalizes the weight in place (aten.embedding_renorm_), which no validator sees: the
# second lookup reads the renormalized weight. The size arithmetic makes symbolic tracing fail.
RENORM = """\
import torch
import torch.nn.functional as F


class Renorm(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.weight = torch.nn.Parameter(torch.randn(10, 4) * 3)

    def forward(self, ids):
        n = int(ids.shape[1] * 1.0)
        first = F.embedding(ids[:, :n], self.weight, max_norm=1.0)
        return first + F.embedding(ids, self.weight)


def get_model():
    torch.manual_seed(0)
    return Renorm()


def get_example_inputs():
    return (torch.tensor([[1, 2, 3]]),)
"""


def test_a_forward_that_writes_into_its_weight_is_refused_with_the_line(tmp_path, capsys):
    model = tmp_path / "renorm.py"
    model.write_text(RENORM)
    out = tmp_path / "out"
    assert main([str(model), "-o", str(out)]) == 2
    err = capsys.readouterr().err
    assert err.count("trtgen: error:") == 1, err
    assert "writes into its parameter 'weight'" in err and "renorm.py:12" in err, err
    assert "internal error" not in err and not out.exists()
