"""ATen ops from torch.export reach a lowering through an adapter that binds their real schema,
never by name: each model here is captured with torch.export (Python control flow on a size),
some decomposed to core ATen (an in-place write), and must match PyTorch."""

import inspect
import textwrap

import pytest
import torch

import layers
from layers import functional
from trtgen.plan import aten
from trtgen.commands.check import check
from trtgen.commands.cli import main

HEADER = "import torch\nimport torch.nn.functional as F\nfrom torch import nn\n"
FOOTER = "\n\ndef get_model():\n    torch.manual_seed(0)\n    return M().eval()\n\n\ndef get_example_inputs():\n    torch.manual_seed(1)\n    return INPUTS\n"

EXPORTED = {
    # aten.batch_norm(input, weight, bias, running_mean, running_var, ...): the affine
    # parameters come before the statistics, unlike F.batch_norm
    "batch_norm": """
        class M(nn.Module):
            def __init__(self):
                super().__init__()
                self.w, self.b = nn.Parameter(torch.rand(3) + 0.5), nn.Parameter(torch.randn(3))
                self.register_buffer("mean", torch.randn(3))
                self.register_buffer("var", torch.rand(3) + 0.5)
            def forward(self, x):
                if x.size(0) > 0:
                    pass
                return F.batch_norm(x, self.mean, self.var, self.w, self.b, eps=1e-3)

        INPUTS = (torch.randn(2, 3, 4, 4),)
    """,
    "instance_norm": """
        class M(nn.Module):
            def __init__(self):
                super().__init__()
                self.w, self.b = nn.Parameter(torch.rand(3) + 0.5), nn.Parameter(torch.randn(3))
            def forward(self, x):
                if x.size(0) > 0:
                    pass
                return F.instance_norm(x, weight=self.w, bias=self.b)

        INPUTS = (torch.randn(2, 3, 4, 4),)
    """,
    # aten.embedding(weight, indices): the weight first
    "embedding": """
        class M(nn.Module):
            def __init__(self):
                super().__init__()
                self.w = nn.Parameter(torch.randn(10, 4))
            def forward(self, ids):
                if ids.size(0) > 0:
                    pass
                return F.embedding(ids, self.w)

        INPUTS = (torch.randint(0, 10, (2, 5)),)
    """,
    # aten pooling's stride=[] means "the kernel size", not 1
    "pooling_default_stride": """
        class M(nn.Module):
            def forward(self, x):
                if x.size(0) > 0:
                    pass
                return F.avg_pool2d(x, 2) + F.max_pool2d(x, 2) + F.max_pool2d(x, 2, return_indices=True)[0]

        INPUTS = (torch.randn(2, 3, 6, 6),)
    """,
    # decomposed: convolution, native_layer_norm, native_group_norm,
    # _native_batch_norm_legit_no_training, constant_pad_nd, reflection/replication pads
    "core_aten": """
        class M(nn.Module):
            def __init__(self):
                super().__init__()
                self.conv = nn.Parameter(torch.randn(4, 3, 3, 3))
                self.up = nn.Parameter(torch.randn(4, 2, 2, 2))
                self.register_buffer("mean", torch.randn(4))
                self.register_buffer("var", torch.rand(4) + 0.5)
            def forward(self, x):
                if x.size(0) > 0:
                    pass
                x = x.clone()
                x.mul_(1)  # an in-place write: the export is decomposed to core ATen
                y = F.conv2d(F.pad(x, (1, 2, 0, 1)), self.conv, stride=2)
                y = F.batch_norm(y, self.mean, self.var)
                y = F.group_norm(F.layer_norm(y, y.shape[-1:]), 2)
                y = F.pad(y, (1, 1, 1, 1), mode="reflect") + F.pad(y, (1, 1, 1, 1), mode="replicate")
                z = F.pad(y, (1, 1, 1, 1), mode="circular")
                return F.conv_transpose2d(z, self.up, stride=2), F.avg_pool2d(x, 2), F.dropout(y, 0.5, self.training)

        INPUTS = (torch.randn(2, 3, 7, 7),)
    """,
    # aten.var.default(x, unbiased) and aten.max.other(x, y) as written in a model
    "overloads_with_other_arguments": """
        class M(nn.Module):
            def forward(self, x):
                if x.size(0) > 0:
                    pass
                return torch.ops.aten.var.default(x, False) + torch.ops.aten.max.other(x, x.flip(0)).sum()

        INPUTS = (torch.randn(2, 3, 4),)
    """,
}


def _generate(tmp_path, name, source):
    model = tmp_path / f"{name}.py"
    model.write_text(HEADER + textwrap.dedent(source) + FOOTER)
    out = tmp_path / "out"
    return main([str(model), "-o", str(out)]), out


@pytest.mark.parametrize("name", sorted(EXPORTED))
def test_exported_op_matches_pytorch(tmp_path, name):
    code, out = _generate(tmp_path, name, EXPORTED[name])
    assert code == 0
    assert "torch.export" in (out / "trtgen.json").read_text()
    lines = []
    assert check(str(out), log=lines.append), "\n".join(lines)


def test_an_aten_op_whose_arguments_differ_is_refused_with_its_name_and_line(tmp_path, capsys):
    """aten.elu(x, alpha, scale, input_scale): F.elu has no scale; refused, never emitted."""
    source = """
        class M(nn.Module):
            def forward(self, x):
                if x.size(0) > 0:
                    pass
                return torch.ops.aten.elu.default(x, 1.0, 2.0)

        INPUTS = (torch.randn(2, 3),)
    """
    code, out = _generate(tmp_path, "elu_scale", source)
    assert code == 2 and not out.exists()
    err = capsys.readouterr().err
    assert "aten.elu.default (scale or input_scale other than 1)" in err
    assert "elu_scale.py:9" in err


def test_an_aten_op_without_an_adapter_keeps_its_full_name():
    graph = torch.fx.Graph()
    x = graph.placeholder("x")
    node = graph.call_function(torch.ops.aten.resize.default, (x, [4]))
    from trtgen.plan.normalize import normalize
    from trtgen.plan.rules import lowering_rule

    op = normalize(node)
    assert op.name == "aten.resize.default"
    assert lowering_rule(op.name) is None


def _positional(function):
    params = list(inspect.signature(function).parameters.values())
    if params and params[0].name == "self":
        params = params[1:]
    if any(p.kind is p.VAR_POSITIONAL for p in params):
        return None  # takes any number
    return sum(p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD) for p in params)


REWRITTEN = {"to"}  # normalize._to reads the dtype wherever it is


def test_same_signature_ops_fit_their_lowering():
    """Every positional argument of a SAME_SIGNATURE op's schema has a positional parameter in
    the layers function (or Tensor method) it is written as: none lands on a keyword-only or
    missing parameter."""
    from trtgen.plan.normalize import canonical

    checked, misfits = 0, []
    for schema in torch._C._jit_get_all_schemas():
        packet = schema.name.removeprefix("aten::")
        if not schema.name.startswith("aten::") or packet not in aten.SAME_SIGNATURE:
            continue
        if "out" in schema.overload_name or any(a.is_out for a in schema.arguments):
            continue
        if f"{packet}.{schema.overload_name}" in aten.ADAPTERS or packet in REWRITTEN:
            continue  # mapped by its own adapter, or rewritten by normalize from any position
        if not schema.arguments or "Tensor" not in str(schema.arguments[0].type):
            continue  # TorchScript's ops on Python scalars and lists: never in an fx graph
        name = canonical(packet)
        function = getattr(functional, name, None) or getattr(layers.Tensor, name, None)
        if function is None or not callable(function):
            continue
        limit = _positional(function)
        positional = [a for a in schema.arguments if not a.kwarg_only]
        checked += 1
        if limit is not None and len(positional) > limit:
            misfits.append(f"aten.{packet}.{schema.overload_name}: {len(positional)} > {limit}")
    assert not misfits
    assert checked > 150
