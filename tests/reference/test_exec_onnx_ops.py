"""Op-level fidelity on networks built by NVIDIA's ONNX parser.

Part 1: small PyTorch snippets, exported to ONNX, parsed, executed, compared with PyTorch.
Part 2: hand-written ONNX graphs for ops PyTorch does not export directly (If, GridSample,
ReverseSequence, CumSum variants, Resize with fractional scales ...), compared with ONNX's own
reference evaluator (onnx.reference).
"""

import numpy as np
import pytest
import torch
import torch.nn as nn
import torch.nn.functional as F
from onnx import TensorProto, helper
from onnx.reference import ReferenceEvaluator

from onnx_helpers import ParsedNetwork, assert_relative, run_parsed
from trtgen.reference import execute


class Snippet(nn.Module):
    def __init__(self, fn, *modules, buffers=()):
        super().__init__()
        self.fn = fn
        self.mods = nn.ModuleList(modules)
        for i, b in enumerate(buffers):
            self.register_buffer(f"b{i}", b)

    def forward(self, *xs):
        return self.fn(self, *xs)


def _x(*shape, seed=0):
    return torch.randn(*shape, generator=torch.Generator().manual_seed(seed))


X4 = _x(2, 4, 9, 10)
GATHER_INDEX = torch.randint(0, 10, (2, 4, 9, 3), generator=torch.Generator().manual_seed(1))

SNIPPETS = {
    "resize_nearest_x2": (lambda s, x: F.interpolate(x, scale_factor=2, mode="nearest"), (X4,)),
    "resize_nearest_size": (lambda s, x: F.interpolate(x, size=(13, 7), mode="nearest"), (X4,)),
    "resize_nearest_exact": (
        lambda s, x: F.interpolate(x, size=(13, 7), mode="nearest-exact"),
        (X4,),
    ),
    "resize_bilinear_x1.5": (
        lambda s, x: F.interpolate(x, scale_factor=1.5, mode="bilinear"),
        (X4,),
    ),
    "resize_bilinear_align": (
        lambda s, x: F.interpolate(x, size=(5, 17), mode="bilinear", align_corners=True),
        (X4,),
    ),
    "resize_bicubic": (lambda s, x: F.interpolate(x, size=(14, 6), mode="bicubic"), (X4,)),
    "resize_bicubic_align_x2": (
        lambda s, x: F.interpolate(x, scale_factor=2, mode="bicubic", align_corners=True),
        (X4,),
    ),
    "resize_fractional_scale": (
        lambda s, x: F.interpolate(
            x, scale_factor=1.7, mode="bilinear", recompute_scale_factor=False
        ),
        (X4,),
    ),
    "conv_transpose_groups_output_padding": (
        lambda s, x: s.mods[0](x),
        (X4,),
        nn.ConvTranspose2d(4, 6, 3, stride=2, padding=1, output_padding=1, groups=2),
    ),
    "conv_transpose_dilated": (
        lambda s, x: s.mods[0](x),
        (X4,),
        nn.ConvTranspose2d(4, 4, (2, 3), stride=(1, 2), padding=(0, 1), dilation=2),
    ),
    "conv1d": (lambda s, x: s.mods[0](x), (_x(2, 3, 17),), nn.Conv1d(3, 5, 4, stride=2, padding=1)),
    "conv3d": (
        lambda s, x: s.mods[0](x),
        (_x(1, 2, 5, 6, 7),),
        nn.Conv3d(2, 3, 3, padding=(1, 0, 1), stride=(1, 2, 1)),
    ),
    "maxpool_ceil": (lambda s, x: F.max_pool2d(x, 3, 2, 1, ceil_mode=True), (X4,)),
    "avgpool_ceil": (lambda s, x: F.avg_pool2d(x, 3, 2, 1, ceil_mode=True), (X4,)),
    "avgpool_exclude_pad": (lambda s, x: F.avg_pool2d(x, 3, 2, 1, count_include_pad=False), (X4,)),
    "maxpool1d": (lambda s, x: F.max_pool1d(x, 3, 2), (_x(2, 3, 17),)),
    "avgpool3d": (lambda s, x: F.avg_pool3d(x, 2, 2), (_x(1, 2, 4, 6, 6),)),
    "adaptive_avgpool": (lambda s, x: F.adaptive_avg_pool2d(x, (3, 5)), (X4,)),
    "adaptive_maxpool": (lambda s, x: F.adaptive_max_pool2d(x, 1), (X4,)),
    "groupnorm": (lambda s, x: s.mods[0](x), (X4,), nn.GroupNorm(2, 4)),
    "instancenorm": (lambda s, x: s.mods[0](x), (X4,), nn.InstanceNorm2d(4, affine=True)),
    "layernorm": (lambda s, x: s.mods[0](x), (X4,), nn.LayerNorm([9, 10])),
    "lrn": (lambda s, x: s.mods[0](x), (X4,), nn.LocalResponseNorm(3, alpha=0.1, beta=0.75, k=2.0)),
    "pad_reflect": (lambda s, x: F.pad(x, (2, 1, 1, 3), mode="reflect"), (X4,)),
    "pad_replicate": (lambda s, x: F.pad(x, (2, 1, 1, 3), mode="replicate"), (X4,)),
    "pad_circular": (lambda s, x: F.pad(x, (2, 1, 1, 3), mode="circular"), (X4,)),
    "pad_constant": (lambda s, x: F.pad(x, (2, 1, 1, 3), value=1.5), (X4,)),
    "pixel_shuffle": (lambda s, x: F.pixel_shuffle(x, 2), (X4,)),
    "chunk_cat": (lambda s, x: torch.cat(list(reversed(x.chunk(3, dim=3))), dim=3), (X4,)),
    "stack_permute": (
        lambda s, x: torch.stack([x, x * 2], dim=2).permute(0, 2, 4, 1, 3).flatten(1, 2),
        (X4,),
    ),
    "topk": (
        lambda s, x: torch.cat(
            [x.topk(3, -1).values, x.topk(3, -1, largest=False).indices.float()], -1
        ),
        (X4,),
    ),
    "sort_argsort": (
        lambda s, x: torch.cat(
            [torch.sort(x, 2, descending=True).values, x.argsort(-1).float()], -1
        ),
        (X4,),
    ),
    "flip": (lambda s, x: x.flip(1, 3) + x.flip(-2), (X4,)),  # Slice with negative steps
    "tril_triu": (lambda s, x: torch.tril(x, -1) + torch.triu(x, 2), (X4,)),
    "cumsum": (lambda s, x: torch.cumsum(x, 2), (X4,)),
    "argmax": (lambda s, x: x.argmax(1).float(), (X4,)),
    "gather": (
        lambda s, x: torch.gather(x, 3, s.b0),
        (X4,),
    ),
    "index_select": (lambda s, x: x.index_select(2, torch.tensor([0, 5, 8, 3])), (X4,)),
    "masked_fill": (lambda s, x: x.masked_fill(x > 0.5, -2.0), (X4,)),
    "where": (lambda s, x: torch.where(x > 0, x, -0.3 * x), (X4,)),
    "one_hot": (
        lambda s, i: F.one_hot(i, 7).float(),
        (torch.randint(0, 7, (3, 4), generator=torch.Generator().manual_seed(2)),),
    ),
    "activations": (
        lambda s, x: F.elu(x)
        + F.selu(x)
        + F.softplus(x)
        + F.gelu(x)
        + F.gelu(x, approximate="tanh")
        + F.hardswish(x)
        + F.hardsigmoid(x)
        + F.leaky_relu(x, 0.1)
        + F.silu(x)
        + F.mish(x)
        + F.softsign(x)
        + F.celu(x, 0.5)
        + F.logsigmoid(x)
        + torch.tanh(x)
        + torch.sigmoid(x)
        + F.relu6(x)
        + F.hardtanh(x, -0.5, 0.7),
        (X4,),
    ),
    "prelu": (lambda s, x: s.mods[0](x), (X4,), nn.PReLU(4)),
    "math": (
        lambda s, x: torch.sqrt(x.abs())
        + torch.exp(x * 0.1)
        + torch.log(x.abs() + 1)
        + torch.reciprocal(x.abs() + 1)
        + torch.floor(x)
        + torch.ceil(x)
        + torch.round(x * 3)
        + torch.sign(x)
        + torch.clamp(x, -0.3, 0.4)
        + torch.erf(x)
        + torch.sin(x)
        + torch.cos(x)
        + torch.atan(x)
        + x.pow(2)
        + x.abs().pow(0.7),
        (X4,),
    ),
    "reductions": (
        lambda s, x: x.sum(1)
        + x.mean(1)
        + x.amax(1)
        + x.amin(1)
        + x.prod(1) * 0.01
        + x.var(1)
        + x.std(1)
        + torch.logsumexp(x, 1)
        + x.norm(dim=1),
        (X4,),
    ),
    "matmul_broadcast": (lambda s, a, b: torch.matmul(a, b), (_x(2, 1, 3, 4), _x(5, 4, 6, seed=1))),
    "einsum": (
        lambda s, a, b: torch.einsum("bij,bjk->bik", a, b),
        (_x(2, 3, 4), _x(2, 4, 5, seed=1)),
    ),
    "softmax_axes": (lambda s, x: F.softmax(x, 1) + F.log_softmax(x, -1) + F.softmax(x, 0), (X4,)),
    "expand_repeat_tile": (
        lambda s, x: x[:, :1].expand(2, 3, 9, 10)
        + x[:, :3].repeat(1, 1, 1, 1)
        + x[:1, :3].tile(2, 1, 1, 1),
        (X4,),
    ),
    "arange": (lambda s, x: x + torch.arange(10, dtype=torch.float32), (X4,)),
    "strided_slices": (lambda s, x: x[:, 1::2, ::3, 2:-1], (X4,)),
    "scatter": (
        lambda s, x: x.scatter(
            2, torch.tensor([[[[0, 1], [2, 3]]]]).expand(2, 4, 2, 2), torch.ones(2, 4, 2, 2)
        ),
        (X4,),
    ),
    "fake_quant_int8": (
        lambda s, x: torch.fake_quantize_per_tensor_affine(x, 0.05, 0, -128, 127),
        (X4,),
    ),
    "fake_quant_per_channel": (
        lambda s, x: torch.fake_quantize_per_channel_affine(
            x,
            torch.tensor([0.05, 0.1, 0.02, 0.07]),
            torch.zeros(4, dtype=torch.int32),
            1,
            -128,
            127,
        ),
        (X4,),
    ),
    "integer_div_mod": (
        lambda s, i: torch.stack(
            [
                i % 5,
                torch.div(i, 3, rounding_mode="trunc"),
                torch.div(i, 3, rounding_mode="floor"),
                torch.remainder(i, -3),
                torch.fmod(i, 3),
            ]
        ).float(),
        (torch.arange(-10, 10).reshape(4, 5),),
    ),
    # Recurrent layers become TensorRT loops (TRIP_LIMIT / ITERATOR / RECURRENCE / LOOP_OUTPUT).
    "lstm_bidirectional": (
        lambda s, x: torch.cat([t.flatten() for t in (s.mods[0](x)[0], *s.mods[0](x)[1])]),
        (_x(2, 5, 3),),
        nn.LSTM(3, 4, num_layers=2, batch_first=True, bidirectional=True),
    ),
    "gru": (
        lambda s, x: torch.cat([t.flatten() for t in s.mods[0](x)]),
        (_x(5, 2, 3),),
        nn.GRU(3, 4),
    ),
    "float_to_int_casts": (lambda s, x: (x * 10).long().float() + (x * 10).int().float(), (X4,)),
}


@pytest.mark.parametrize("name", sorted(SNIPPETS))
def test_pytorch_snippet(name):
    fn, args, *modules = SNIPPETS[name]
    torch.manual_seed(0)
    model = Snippet(fn, *modules, buffers=(GATHER_INDEX,) if name == "gather" else ())
    got, expected, _ = run_parsed(model, args, [f"in{i}" for i in range(len(args))])
    assert_relative(got.to(expected.dtype), expected)


# ---------------------------------------------------------------- hand-written ONNX graphs


def _onnx_case(nodes, inputs, outputs, initializers=(), opset=17):
    graph = helper.make_graph(
        nodes,
        "case",
        [helper.make_tensor_value_info(n, t, s) for n, t, s in inputs],
        [helper.make_tensor_value_info(n, t, None) for n, t in outputs],
        list(initializers),
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)])
    model.ir_version = 8
    return model


def _compare_with_onnx_reference(model, feeds, tol=1e-5):
    expected = ReferenceEvaluator(model).run(None, feeds)
    parsed = ParsedNetwork(model.SerializeToString())
    got = execute(parsed.network, feeds)
    for i, value in enumerate(expected):
        actual = got[parsed.network.get_output(i).name]
        assert_relative(actual.double(), torch.from_numpy(np.array(value)).double(), tol)
    return parsed


@pytest.mark.parametrize("flag", [True, False])
def test_onnx_if(flag):
    then_graph = helper.make_graph(
        [helper.make_node("Mul", ["x", "two"], ["t"])],
        "then",
        [],
        [helper.make_tensor_value_info("t", TensorProto.FLOAT, [2, 3])],
        [helper.make_tensor("two", TensorProto.FLOAT, [], [2.0])],
    )
    else_graph = helper.make_graph(
        [helper.make_node("Neg", ["x"], ["e"])],
        "else",
        [],
        [helper.make_tensor_value_info("e", TensorProto.FLOAT, [2, 3])],
    )
    node = helper.make_node("If", ["c"], ["y"], then_branch=then_graph, else_branch=else_graph)
    model = _onnx_case(
        [node],
        [("x", TensorProto.FLOAT, [2, 3]), ("c", TensorProto.BOOL, [])],
        [("y", TensorProto.FLOAT)],
    )
    x = np.arange(6, dtype=np.float32).reshape(2, 3) - 2
    parsed = _compare_with_onnx_reference(model, {"x": x, "c": np.array(flag)})
    assert "CONDITION" in parsed.layer_types()


@pytest.mark.parametrize(
    "mode,coord",
    [
        ("linear", "half_pixel"),
        ("nearest", "asymmetric"),
        ("cubic", "half_pixel"),
        ("linear", "align_corners"),
        ("cubic", "align_corners"),
    ],
)
@pytest.mark.parametrize("scales", [(1.0, 1.0, 1.7, 0.6), (1.0, 1.0, 2.5, 1.25)])
def test_onnx_resize_scales(mode, coord, scales):
    node = helper.make_node(
        "Resize", ["x", "", "scales"], ["y"], mode=mode, coordinate_transformation_mode=coord
    )
    init = helper.make_tensor("scales", TensorProto.FLOAT, [4], list(scales))
    model = _onnx_case(
        [node],
        [("x", TensorProto.FLOAT, [1, 2, 6, 7])],
        [("y", TensorProto.FLOAT)],
        [init],
        opset=13,
    )
    x = np.random.default_rng(0).standard_normal((1, 2, 6, 7)).astype(np.float32)
    _compare_with_onnx_reference(model, {"x": x})


@pytest.mark.parametrize("mode,torch_mode", [("linear", "bilinear"), ("cubic", "bicubic")])
def test_onnx_resize_sizes_align_corners_is_torch_fractional_scale(mode, torch_mode):
    """torch's align_corners=True with a fractional scale_factor maps by (in - 1) / (out - 1) of
    the floored size. torch.onnx.export writes it as Resize *scales*, which ONNX (and so the
    parser) maps by the unfloored in * scale: a different result. trtgen's network passes the
    floored sizes instead; the parser's network for that Resize matches both ONNX's reference
    and torch."""
    node = helper.make_node(
        "Resize",
        ["x", "", "", "sizes"],
        ["y"],
        mode=mode,
        coordinate_transformation_mode="align_corners",
        cubic_coeff_a=-0.75,
    )
    x = np.random.default_rng(0).standard_normal((1, 2, 6, 7)).astype(np.float32)
    scale = (1.7, 0.6)
    sizes = [1, 2] + [int(np.floor(n * f)) for n, f in zip(x.shape[2:], scale)]
    init = helper.make_tensor("sizes", TensorProto.INT64, [4], sizes)
    model = _onnx_case(
        [node],
        [("x", TensorProto.FLOAT, [1, 2, 6, 7])],
        [("y", TensorProto.FLOAT)],
        [init],
        opset=13,
    )
    parsed = _compare_with_onnx_reference(model, {"x": x})
    got = execute(parsed.network, {"x": x})[parsed.network.get_output(0).name]
    want = F.interpolate(
        torch.from_numpy(x), scale_factor=scale, mode=torch_mode, align_corners=True
    )
    assert_relative(got, want)


@pytest.mark.parametrize("exclusive", [0, 1])
@pytest.mark.parametrize("reverse", [0, 1])
def test_onnx_cumsum(exclusive, reverse):
    node = helper.make_node("CumSum", ["x", "axis"], ["y"], exclusive=exclusive, reverse=reverse)
    init = helper.make_tensor("axis", TensorProto.INT64, [], [1])
    model = _onnx_case(
        [node], [("x", TensorProto.FLOAT, [3, 5])], [("y", TensorProto.FLOAT)], [init]
    )
    _compare_with_onnx_reference(
        model, {"x": np.random.default_rng(1).standard_normal((3, 5)).astype(np.float32)}
    )


def test_onnx_reverse_sequence():
    node = helper.make_node("ReverseSequence", ["x", "lens"], ["y"], batch_axis=1, time_axis=0)
    init = helper.make_tensor("lens", TensorProto.INT64, [3], [4, 1, 2])
    model = _onnx_case(
        [node], [("x", TensorProto.FLOAT, [4, 3, 2])], [("y", TensorProto.FLOAT)], [init]
    )
    parsed = _compare_with_onnx_reference(
        model, {"x": np.arange(24, dtype=np.float32).reshape(4, 3, 2)}
    )
    assert "REVERSE_SEQUENCE" in parsed.layer_types()


# cubic + border is left out: PyTorch clamps each of the 16 taps, ONNX's reference clamps the
# sample point; TensorRT does not document which it does (the executor follows PyTorch).
@pytest.mark.parametrize(
    "mode,padding",
    [
        (m, p)
        for m in ("linear", "nearest", "cubic")
        for p in ("zeros", "border", "reflection")
        if (m, p) != ("cubic", "border")
    ],
)
@pytest.mark.parametrize("align_corners", [0, 1])
def test_onnx_grid_sample(mode, padding, align_corners):
    node = helper.make_node(
        "GridSample",
        ["x", "g"],
        ["y"],
        mode=mode,
        padding_mode=padding,
        align_corners=align_corners,
    )
    model = _onnx_case(
        [node],
        [("x", TensorProto.FLOAT, [1, 2, 5, 6]), ("g", TensorProto.FLOAT, [1, 3, 4, 2])],
        [("y", TensorProto.FLOAT)],
        opset=20,
    )
    rng = np.random.default_rng(2)
    feeds = {
        "x": rng.standard_normal((1, 2, 5, 6)).astype(np.float32),
        "g": rng.uniform(-1.1, 1.1, (1, 3, 4, 2)).astype(np.float32),
    }
    parsed = _compare_with_onnx_reference(model, feeds, tol=1e-4)
    assert "GRID_SAMPLE" in parsed.layer_types()


@pytest.mark.parametrize("axis", [0, 1, -1])
def test_onnx_scatter_elements(axis):
    """SCATTER in ELEMENT mode, what torch.scatter lowers to; some indices negative."""
    data_shape, index_shape = (4, 5, 3), [4, 5, 3]
    index_shape[axis] = 2  # fewer updates than positions; unique targets per line
    rng = np.random.default_rng(6)
    n = data_shape[axis]
    lines = np.moveaxis(np.zeros(index_shape, np.int64), axis, -1)
    for position in np.ndindex(lines.shape[:-1]):
        lines[position] = rng.permutation(n)[:2]
    indices = np.moveaxis(lines, -1, axis)
    node = helper.make_node("ScatterElements", ["x", "i", "u"], ["y"], axis=axis)
    model = _onnx_case(
        [node],
        [
            ("x", TensorProto.FLOAT, list(data_shape)),
            ("i", TensorProto.INT64, index_shape),
            ("u", TensorProto.FLOAT, index_shape),
        ],
        [("y", TensorProto.FLOAT)],
        opset=18,
    )
    feeds = {
        "x": rng.standard_normal(data_shape).astype(np.float32),
        "i": indices - n * (rng.random(index_shape) < 0.3),  # negatives count from the end
        "u": rng.standard_normal(index_shape).astype(np.float32),
    }
    parsed = _compare_with_onnx_reference(model, feeds, tol=0)
    assert "SCATTER" in parsed.layer_types()


def test_onnx_gather_nd_and_scatter_nd():
    gather = helper.make_node("GatherND", ["x", "i"], ["g"], batch_dims=1)
    scatter = helper.make_node("ScatterND", ["x", "j", "u"], ["s"])
    inits = [
        helper.make_tensor("i", TensorProto.INT64, [2, 2, 1], [1, 0, 2, 2]),
        helper.make_tensor("j", TensorProto.INT64, [2, 2], [0, 1, 1, 2]),
        helper.make_tensor("u", TensorProto.FLOAT, [2, 4], list(range(8))),
    ]
    model = _onnx_case(
        [gather, scatter],
        [("x", TensorProto.FLOAT, [2, 3, 4])],
        [("g", TensorProto.FLOAT), ("s", TensorProto.FLOAT)],
        inits,
    )
    _compare_with_onnx_reference(
        model, {"x": np.random.default_rng(3).standard_normal((2, 3, 4)).astype(np.float32)}
    )


def test_onnx_einsum_and_topk_min():
    einsum = helper.make_node("Einsum", ["a", "b"], ["e"], equation="bij,bkj->bik")
    topk = helper.make_node("TopK", ["a", "k"], ["v", "idx"], axis=1, largest=0)
    init = helper.make_tensor("k", TensorProto.INT64, [1], [2])
    model = _onnx_case(
        [einsum, topk],
        [("a", TensorProto.FLOAT, [2, 3, 4]), ("b", TensorProto.FLOAT, [2, 5, 4])],
        [("e", TensorProto.FLOAT), ("v", TensorProto.FLOAT), ("idx", TensorProto.INT64)],
        [init],
    )
    rng = np.random.default_rng(4)
    _compare_with_onnx_reference(
        model,
        {
            "a": rng.standard_normal((2, 3, 4)).astype(np.float32),
            "b": rng.standard_normal((2, 5, 4)).astype(np.float32),
        },
    )
