"""Ops reached from model code through ``trtgen MODEL.py``: each case generates (symbolic trace,
or torch.export where the model forces it) and ``trtgen check`` matches PyTorch at the FP32
tolerance (max |trt - torch| <= 1e-4 x max(1, max |torch|))."""

import textwrap

import pytest
import torch

from trtgen.commands.check import check, load_reference_model, manifest_input_names
from trtgen.commands.cli import main
from trtgen.capture.iospec import flatten_outputs
from trtgen.emit.netfile import build_with_profiles
from trtgen.emit.output import read_manifest
from trtgen.reference import execute

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
    "scatter_family": """
        class M(nn.Module):
            def forward(self, x, index, src):
                a = torch.scatter(x, 1, index[:, :1], src[:, :1])
                b = x.clone().scatter_(1, index[:, :1], 2.5)
                c = torch.scatter_add(x, 1, index, src)
                d = x.scatter_reduce(1, index, src, "amax", include_self=False)
                e = x.scatter_reduce(1, index, src, reduce="mean")
                return a, b, c, d, e

        INPUTS = (torch.randn(3, 5), torch.randint(0, 5, (3, 7)), torch.randn(3, 7))
    """,
    "scatter_family_exported": """
        class M(nn.Module):
            def forward(self, x, index, src):
                EXPORTED(
                    torch.scatter_add(x, 1, index, src)
                    + x.scatter_reduce(1, index, src, "prod", include_self=False)
                    + x.scatter(1, index[:, :1], 1.0)
                )

        INPUTS = (torch.randn(3, 5), torch.randint(0, 5, (3, 7)), torch.randn(3, 7))
    """,
    # repeated (i, j) pairs add up, as in torch
    "index_put_accumulate": """
        class M(nn.Module):
            def forward(self, x, i, j, v):
                y = x.index_put((i, j), v, accumulate=True)
                return y.index_put_((i,), v[:, None], accumulate=True)

        INPUTS = (
            torch.randn(4, 6),
            torch.tensor([0, 3, 0, 3, 1]),
            torch.tensor([5, 1, 5, 1, 0]),
            torch.randn(5),
        )
    """,
    "index_put_accumulate_exported": """
        class M(nn.Module):
            def forward(self, x, i, j, v):
                y = x.clone()
                EXPORTED(torch.ops.aten.index_put(y, [None, i, j], v, True))

        INPUTS = (
            torch.randn(2, 4, 6),
            torch.tensor([0, 3, 0, 3, 1]),
            torch.tensor([5, 1, 5, 1, 0]),
            torch.randn(5),
        )
    """,
    "grid_sample": """
        class M(nn.Module):
            def forward(self, x, grid):
                a = F.grid_sample(x, grid, align_corners=False)
                b = F.grid_sample(x, grid, mode="nearest", padding_mode="border", align_corners=True)
                c = F.grid_sample(x, grid, mode="bicubic", padding_mode="reflection")
                return a, b, c

        INPUTS = (torch.randn(2, 3, 6, 5), torch.rand(2, 4, 7, 2) * 2.4 - 1.2)
    """,
    "grid_sample_exported": """
        class M(nn.Module):
            def forward(self, x, grid):
                EXPORTED(
                    F.grid_sample(x, grid, mode="bicubic", padding_mode="reflection", align_corners=True)
                    + F.grid_sample(x, grid, mode="nearest", padding_mode="border", align_corners=False)
                    + F.grid_sample(x, grid, align_corners=False)
                )

        INPUTS = (torch.randn(2, 3, 6, 5), torch.rand(2, 4, 7, 2) * 2.4 - 1.2)
    """,
    "atan2": """
        class M(nn.Module):
            def forward(self, y, x):
                return torch.atan2(y, x) + y.atan2(x[:1]) + torch.arctan2(y, 2.0 * x)

        INPUTS = (torch.randn(3, 4), torch.randn(3, 4))
    """,
    "atan2_exported": """
        class M(nn.Module):
            def forward(self, x, y):
                EXPORTED(torch.atan2(y, x) + y.atan2(x[:1]))

        INPUTS = (torch.randn(3, 4), torch.randn(3, 4))
    """,
    "cdist_pdist": """
        class M(nn.Module):
            def forward(self, x, y):
                a = torch.cdist(x, y)
                b = torch.cdist(x, y, p=1.0) + torch.cdist(x, y, p=float("inf"))
                c = torch.cdist(x, y, p=3.0, compute_mode="donot_use_mm_for_euclid_dist")
                return a, b, c, F.pdist(x[0]), F.pdist(x[1], p=1.0)

        INPUTS = (torch.randn(2, 6, 5), torch.randn(2, 30, 5))
    """,
    "cdist_pdist_exported": """
        class M(nn.Module):
            def forward(self, x, y):
                EXPORTED(
                    torch.cdist(x, y, compute_mode="use_mm_for_euclid_dist"),
                    torch.cdist(x, y, p=1.0),
                    F.pdist(x[0]),
                )

        INPUTS = (torch.randn(2, 6, 5), torch.randn(2, 7, 5))
    """,
    "diagonal_family": """
        class M(nn.Module):
            def forward(self, x):
                a = torch.diagonal(x, 1, 1, 2) + x.diagonal(offset=-1, dim1=-1, dim2=-2)
                b = torch.diag_embed(x[:, 0], offset=1)
                c = torch.diag(x[0, 0]) + torch.diag(x[0, 1, :3], -1)
                return a, b, c

        INPUTS = (torch.randn(2, 4, 4),)
    """,
    "diagonal_family_exported": """
        class M(nn.Module):
            def forward(self, x):
                EXPORTED(
                    torch.diagonal(x, 1, 1, 2),
                    torch.diag_embed(x[:, 0], offset=1),
                    torch.diag(x[0, 0]) + torch.diag(x[0, 1, :3], -1),
                )

        INPUTS = (torch.randn(2, 4, 4),)
    """,
    "as_strided": """
        class M(nn.Module):
            def forward(self, x):
                y = x * 2
                return torch.as_strided(y, (3, 4), (1, 3)) + y.as_strided((3, 4), (2, 1), 5)

        INPUTS = (torch.randn(4, 5),)
    """,
    "as_strided_exported": """
        class M(nn.Module):
            def forward(self, x):
                y = x * 2
                EXPORTED(torch.as_strided(y, (3, 4), (1, 3)) + y.as_strided((3, 4), (2, 1), 5))

        INPUTS = (torch.randn(4, 5),)
    """,
    "cross": """
        class M(nn.Module):
            def forward(self, a, b):
                return torch.linalg.cross(a, b) + torch.cross(a, b, dim=-1), a.cross(b, dim=2)

        INPUTS = (torch.randn(2, 5, 3), torch.randn(2, 5, 3))
    """,
    "cross_exported": """
        class M(nn.Module):
            def forward(self, a, b):
                x = a
                EXPORTED(torch.linalg.cross(a, b) + torch.cross(a, b, dim=-1))

        INPUTS = (torch.randn(2, 5, 3), torch.randn(2, 5, 3))
    """,
    "embedding_bag": """
        class M(nn.Module):
            def __init__(self):
                super().__init__()
                self.bag = nn.EmbeddingBag(20, 8, mode="max")
                self.rows = nn.EmbeddingBag(20, 8, mode="sum", padding_idx=0)
                self.weight = nn.Parameter(torch.randn(20, 8))
            def forward(self, ids, offsets, table):
                a = self.bag(ids, offsets)
                b = self.rows(table)
                c = F.embedding_bag(ids, self.weight, offsets, mode="mean")
                return a, b, c

        INPUTS = (
            torch.tensor([1, 5, 7, 7, 19, 3, 0, 2]),
            torch.tensor([0, 2, 2, 5]),
            torch.tensor([[0, 3, 3], [4, 0, 9]]),
        )
    """,
    "embedding_bag_exported": """
        class M(nn.Module):
            def __init__(self):
                super().__init__()
                self.weight = nn.Parameter(torch.randn(20, 8))
            def forward(self, x, offsets):
                EXPORTED(
                    F.embedding_bag(x, self.weight, offsets, mode="mean")
                    + F.embedding_bag(x, self.weight, offsets, mode="max")
                    + F.embedding_bag(x, self.weight, offsets, mode="sum")
                )

        INPUTS = (torch.tensor([1, 5, 7, 7, 19, 3, 0, 2]), torch.tensor([0, 2, 2, 5]))
    """,
    # aten spellings a model (or a decomposition) may call directly
    "aten_spellings": """
        aten = torch.ops.aten

        class M(nn.Module):
            def forward(self, x, y, i, v, g):
                a = aten._cdist_forward(x, y, 2.0, None) + aten._cdist_forward(x, y, 1.0, 2)
                b = aten._pdist_forward(x[0], 2.0)
                c = aten._unsafe_index_put(v, [i], v[:2], True)
                d = aten._index_put_impl_(v.clone(), [i], v[:2], True, True)
                e = aten.grid_sampler_2d(x[None], g, 1, 2, True)
                f = aten.embedding_bag.padding_idx(y[0], i, i[:1] * 0, False, 2, False, None, False, None)[0]
                return a, b, c, d, e, f

        INPUTS = (
            torch.randn(2, 6, 5),
            torch.randn(2, 4, 5),
            torch.tensor([3, 0]),
            torch.randn(5),
            torch.rand(1, 3, 4, 2) * 2 - 1,
        )
    """,
    "grid_sample_volume": """
        class M(nn.Module):
            def forward(self, x, grid):
                a = F.grid_sample(x, grid, align_corners=True)
                b = F.grid_sample(x, grid, mode="nearest", padding_mode="reflection", align_corners=False)
                return a, b, torch.ops.aten.grid_sampler_3d(x, grid, 0, 1, False)

        INPUTS = (torch.randn(2, 3, 4, 5, 6), torch.rand(2, 3, 2, 4, 3) * 2.4 - 1.2)
    """,
    "grid_sample_volume_exported": """
        class M(nn.Module):
            def forward(self, x, grid):
                EXPORTED(
                    F.grid_sample(x, grid, padding_mode="border", align_corners=True)
                    + F.grid_sample(x, grid, mode="nearest", align_corners=False)
                )

        INPUTS = (torch.randn(2, 3, 4, 5, 6), torch.rand(2, 3, 2, 4, 3) * 2.4 - 1.2)
    """,
    # a constant mask has a static shape: a constant list of positions
    "constant_boolean_mask": """
        class M(nn.Module):
            def forward(self, x):
                return x[:, [True, False, True, True]] * 2

        INPUTS = (torch.randn(2, 4, 3),)
    """,
    # the mask's count only decides which source entries are read: a static shape
    "masked_scatter": """
        class M(nn.Module):
            def forward(self, x, source):
                return x.masked_scatter(x > 0, source), torch.masked_scatter(x, x < -1, source * 2)

        INPUTS = (torch.randn(3, 4), torch.randn(20))
    """,
    "masked_scatter_exported": """
        class M(nn.Module):
            def forward(self, x, source):
                EXPORTED(x.masked_scatter(x > 0, source))

        INPUTS = (torch.randn(3, 4), torch.randn(20))
    """,
    "index_add_copy_fill_take": """
        class M(nn.Module):
            def forward(self, x, i, s):
                a = x.index_add(1, i, s) + torch.index_add(x, 1, i, s, alpha=0.5)
                b = x.index_fill(1, i[:2], -1.0) + x.index_copy(1, i[1:], s[:, 1:])
                return a, b, torch.take(x, i)

        INPUTS = (torch.randn(2, 5), torch.tensor([3, 0, 3]), torch.randn(2, 3))
    """,
    "index_add_copy_fill_take_exported": """
        class M(nn.Module):
            def forward(self, x, i, s):
                EXPORTED(
                    x.index_add(1, i, s) + x.index_fill(1, i[:2], -1.0),
                    x.index_copy(1, i[1:], s[:, 1:]),
                    torch.take(x, i),
                )

        INPUTS = (torch.randn(2, 5), torch.tensor([3, 0, 3]), torch.randn(2, 3))
    """,
    # contrastive losses mask self-similarity on the diagonal
    "fill_diagonal_and_diagonal_scatter": """
        class M(nn.Module):
            def forward(self, x):
                sim = x @ x.T
                sim.fill_diagonal_(-100.0)
                return sim.softmax(-1), torch.diagonal_scatter(x, x.diagonal() * 2)

        INPUTS = (torch.randn(5, 5),)
    """,
    "diagonal_write_exported": """
        class M(nn.Module):
            def forward(self, x):
                y = x.clone()
                y.diagonal().zero_()  # a write through a view: torch.export's diagonal_scatter
                EXPORTED(y * 2)

        INPUTS = (torch.randn(5, 5),)
    """,
    # int repeats, a size among them, keep repeat_interleave static (not refused as data-dependent)
    "repeat_interleave_int": """
        class M(nn.Module):
            def forward(self, x):
                a = x.repeat_interleave(2, dim=0) * x.repeat_interleave(x.size(0) - 1, dim=0)
                return a, torch.repeat_interleave(x, repeats=3, dim=1)

        INPUTS = (torch.randn(3, 4),)
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


def assert_integer_outputs_exact(out):
    """``check`` bounds every output relative to its largest value; integer and bool outputs
    (bitwise ops, indices) must be equal."""
    manifest = read_manifest(str(out))
    loaded = load_reference_model(str(out), manifest)
    builder, network, _ = build_with_profiles(str(out))
    names = manifest_input_names(manifest)
    values = execute(network, dict(zip(names, loaded.example_inputs)))
    with torch.no_grad():
        result = loaded.model(*[x.clone() for x in loaded.example_inputs])
    for _, name, want in flatten_outputs(result):
        if not want.is_floating_point():
            assert torch.equal(values[name].to(want.dtype), want), (name, values[name], want)


@pytest.mark.parametrize("name", sorted(CASES))
def test_op_case_generates_and_matches(tmp_path, name):
    out = generate(tmp_path, name, CASES[name])
    lines = []
    assert check(str(out), log=lines.append), "\n".join(lines)
    assert_integer_outputs_exact(out)


# (case, --dynamic specs, shapes checked besides the example's)
DYNAMIC = {
    "bitwise_ops": (["x:0=1:2:8", "y:0=1:2:8"], {"x": (5, 6), "y": (5, 6)}),
    "scatter_family": (
        ["x:0=1:3:8", "index:0=1:3:8", "src:0=1:3:8"],
        {"x": (6, 5), "index": (6, 7), "src": (6, 7)},
    ),
    "grid_sample": (["x:0=1:2:4", "grid:0=1:2:4"], {"x": (3, 3, 6, 5), "grid": (3, 4, 7, 2)}),
    "atan2": (["y:0=1:3:8", "x:0=1:3:8"], {"y": (7, 4), "x": (7, 4)}),
    "cdist_pdist": (["y:1=2:30:40"], {"y": (2, 11, 5)}),
    "cross": (["a:1=1:5:9", "b:1=1:5:9"], {"a": (2, 8, 3), "b": (2, 8, 3)}),
}


@pytest.mark.parametrize("name", sorted(DYNAMIC))
def test_op_case_with_dynamic_shapes(tmp_path, name):
    specs, shapes = DYNAMIC[name]
    args = [a for spec in specs for a in ("--dynamic", spec)]
    out = generate(tmp_path, name, CASES[name], *args)
    for checked in (None, shapes):
        lines = []
        assert check(str(out), log=lines.append, shapes=checked), "\n".join(lines)
