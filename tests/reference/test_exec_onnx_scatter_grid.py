"""The executor's GRID_SAMPLE (with align_corners, which test_exec_onnx_ops leaves at 0) and
SCATTER in ELEMENT mode (what torch.scatter lowers to) on networks NVIDIA's ONNX parser builds
from hand-written GridSample / ScatterElements graphs, compared with ONNX's own reference
evaluator (onnx.reference). Tolerance: max |executor - onnx| <= tol x max(1, max |onnx|)."""

import numpy as np
import pytest
import torch
from onnx import TensorProto, helper
from onnx.reference import ReferenceEvaluator

from onnx_helpers import ParsedNetwork, assert_relative
from trtgen.reference import execute


def _model(node, inputs, opset):
    graph = helper.make_graph(
        [node],
        "case",
        [helper.make_tensor_value_info(n, t, s) for n, t, s in inputs],
        [helper.make_tensor_value_info("y", inputs[0][1], None)],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)])
    model.ir_version = 8
    return model


def _compare(model, feeds, layer_type, tol):
    expected = ReferenceEvaluator(model).run(None, feeds)[0]
    parsed = ParsedNetwork(model.SerializeToString())
    assert layer_type in parsed.layer_types()
    got = execute(parsed.network, feeds)[parsed.network.get_output(0).name]
    assert_relative(got, torch.from_numpy(np.array(expected)), tol)


# cubic + border is left out for the reason test_exec_onnx_ops gives (PyTorch and ONNX's
# reference clamp different things; TensorRT does not document which it does)
@pytest.mark.parametrize(
    "mode,padding",
    [
        (m, p)
        for m in ("linear", "nearest", "cubic")
        for p in ("zeros", "border", "reflection")
        if (m, p) != ("cubic", "border")
    ],
)
def test_grid_sample_with_align_corners(mode, padding):
    node = helper.make_node(
        "GridSample", ["x", "g"], ["y"], mode=mode, padding_mode=padding, align_corners=1
    )
    model = _model(
        node, [("x", TensorProto.FLOAT, [2, 3, 5, 6]), ("g", TensorProto.FLOAT, [2, 4, 3, 2])], 20
    )
    rng = np.random.default_rng(5)
    feeds = {
        "x": rng.standard_normal((2, 3, 5, 6)).astype(np.float32),
        "g": rng.uniform(-1.3, 1.3, (2, 4, 3, 2)).astype(np.float32),
    }
    _compare(model, feeds, "GRID_SAMPLE", 1e-4)


@pytest.mark.parametrize("axis", [0, 1, -1])
def test_scatter_elements(axis):
    data_shape, index_shape = (4, 5, 3), [4, 5, 3]
    index_shape[axis] = 2  # fewer updates than positions; unique targets per line
    rng = np.random.default_rng(6)
    n = data_shape[axis]
    lines = np.moveaxis(np.zeros(index_shape, np.int64), axis, -1)
    for position in np.ndindex(lines.shape[:-1]):
        lines[position] = rng.permutation(n)[:2]
    indices = np.moveaxis(lines, -1, axis)
    node = helper.make_node("ScatterElements", ["x", "i", "u"], ["y"], axis=axis)
    model = _model(
        node,
        [
            ("x", TensorProto.FLOAT, list(data_shape)),
            ("i", TensorProto.INT64, index_shape),
            ("u", TensorProto.FLOAT, index_shape),
        ],
        18,
    )
    feeds = {
        "x": rng.standard_normal(data_shape).astype(np.float32),
        "i": indices
        - n * (rng.random(index_shape) < 0.3),  # some negative: they count from the end
        "u": rng.standard_normal(index_shape).astype(np.float32),
    }
    _compare(model, feeds, "SCATTER", 0)
