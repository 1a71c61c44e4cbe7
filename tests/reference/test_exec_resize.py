"""RESIZE against ONNX's reference Resize (onnx.reference), and GRID_SAMPLE against torch.

ONNX Resize given ``sizes`` maps coordinates with the length ratio, exactly as TensorRT documents;
TensorRT's HALF_DOWN / HALF_UP nearest rounding are ONNX round_prefer_floor / round_prefer_ceil.
"""

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from onnx import TensorProto, helper
from onnx.reference import ReferenceEvaluator

from layers.backend import trt
from reference_helpers import assert_close, rng

I = trt.InterpolationMode  # noqa: E741
C = trt.ResizeCoordinateTransformation
R = trt.ResizeRoundMode

_ONNX_COORD = {
    C.ALIGN_CORNERS: "align_corners",
    C.ASYMMETRIC: "asymmetric",
    C.HALF_PIXEL: "half_pixel",
}
_ONNX_ROUND = {
    R.FLOOR: "floor",
    R.CEIL: "ceil",
    R.HALF_UP: "round_prefer_ceil",
    R.HALF_DOWN: "round_prefer_floor",
}
_ONNX_MODE = {I.NEAREST: "nearest", I.LINEAR: "linear", I.CUBIC: "cubic"}


def onnx_resize(x, sizes, mode, coord, rounding=R.FLOOR, cubic_a=-0.75, exclude_outside=False):
    node = helper.make_node(
        "Resize",
        ["x", "", "", "sizes"],
        ["y"],
        mode=_ONNX_MODE[mode],
        coordinate_transformation_mode=_ONNX_COORD[coord],
        nearest_mode=_ONNX_ROUND[rounding],
        cubic_coeff_a=cubic_a,
        exclude_outside=int(exclude_outside),
    )
    graph = helper.make_graph(
        [node],
        "resize",
        [
            helper.make_tensor_value_info("x", TensorProto.FLOAT, None),
            helper.make_tensor_value_info("sizes", TensorProto.INT64, None),
        ],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, None)],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 19)])
    return ReferenceEvaluator(model).run(None, {"x": x, "sizes": np.array(sizes, np.int64)})[0]


X = rng(42).standard_normal((1, 2, 5, 6)).astype(np.float32)
SIZES = [(1, 2, 10, 12), (1, 2, 7, 4), (1, 2, 3, 9), (1, 2, 1, 1)]


def _resize(net, x, sizes, mode, coord, rounding=R.FLOOR):
    layer = net.network.add_resize(net.input("x", x))
    layer.shape = sizes
    layer.resize_mode = mode
    layer.coordinate_transformation = coord
    layer.nearest_rounding = rounding
    return layer


@pytest.mark.parametrize("sizes", SIZES, ids=str)
@pytest.mark.parametrize("coord", [C.ALIGN_CORNERS, C.ASYMMETRIC, C.HALF_PIXEL])
@pytest.mark.parametrize("rounding", [R.FLOOR, R.CEIL, R.HALF_UP, R.HALF_DOWN])
def test_nearest(net, sizes, coord, rounding):
    layer = _resize(net, X, sizes, I.NEAREST, coord, rounding)
    assert_close(net.run(layer.get_output(0)), onnx_resize(X, sizes, I.NEAREST, coord, rounding))


@pytest.mark.parametrize("sizes", SIZES, ids=str)
@pytest.mark.parametrize("coord", [C.ALIGN_CORNERS, C.ASYMMETRIC, C.HALF_PIXEL])
def test_linear(net, sizes, coord):
    layer = _resize(net, X, sizes, I.LINEAR, coord)
    assert_close(net.run(layer.get_output(0)), onnx_resize(X, sizes, I.LINEAR, coord))


@pytest.mark.parametrize("sizes", SIZES[:3], ids=str)
@pytest.mark.parametrize("coord", [C.ALIGN_CORNERS, C.ASYMMETRIC, C.HALF_PIXEL])
@pytest.mark.parametrize("cubic_a,exclude", [(-0.75, False), (-0.5, True), (-0.5, False)])
def test_cubic(net, sizes, coord, cubic_a, exclude):
    layer = _resize(net, X, sizes, I.CUBIC, coord)
    layer.cubic_coeff = cubic_a
    layer.exclude_outside = exclude
    expected = onnx_resize(X, sizes, I.CUBIC, coord, cubic_a=cubic_a, exclude_outside=exclude)
    assert_close(net.run(layer.get_output(0)), expected)


def test_torch_bilinear_and_bicubic(net):
    xt = torch.from_numpy(X)
    lin = _resize(net, X, (1, 2, 10, 12), I.LINEAR, C.HALF_PIXEL)
    cub = net.network.add_resize(net.network.get_input(0))
    cub.shape = (1, 2, 10, 12)
    cub.resize_mode = I.CUBIC
    cub.coordinate_transformation = C.ALIGN_CORNERS
    a, b = net.run(lin.get_output(0), cub.get_output(0))
    assert_close(a, F.interpolate(xt, size=(10, 12), mode="bilinear", align_corners=False))
    assert_close(b, F.interpolate(xt, size=(10, 12), mode="bicubic", align_corners=True))


def test_scales(net):
    layer = net.network.add_resize(net.input("x", X))
    layer.scales = [1.0, 1.0, 2.0, 1.5]
    out = net.run(layer.get_output(0))
    assert tuple(out.shape) == (1, 2, 10, 9)  # floor(in * scale)
    assert_close(out, onnx_resize(X, (1, 2, 10, 9), I.NEAREST, C.ASYMMETRIC))


def test_shape_input(net):
    layer = net.network.add_resize(net.input("x", X))
    layer.set_input(1, net.const(np.array([1, 2, 4, 4], np.int64)))
    layer.resize_mode = I.LINEAR
    layer.coordinate_transformation = C.HALF_PIXEL
    assert_close(net.run(layer.get_output(0)), onnx_resize(X, (1, 2, 4, 4), I.LINEAR, C.HALF_PIXEL))


def test_resize_3d_trilinear(net):
    x = rng(43).standard_normal((1, 1, 3, 4, 5)).astype(np.float32)
    layer = net.network.add_resize(net.input("x", x))
    layer.shape = (1, 1, 6, 3, 7)
    layer.resize_mode = I.LINEAR
    layer.coordinate_transformation = C.HALF_PIXEL
    expected = F.interpolate(
        torch.from_numpy(x), size=(6, 3, 7), mode="trilinear", align_corners=False
    )
    assert_close(net.run(layer.get_output(0)), expected)


@pytest.mark.parametrize("coord", [C.HALF_PIXEL, C.ALIGN_CORNERS])
def test_single_pixel_selector_upper(net, coord):
    layer = _resize(net, X, (1, 2, 1, 1), I.LINEAR, coord)
    layer.selector_for_single_pixel = trt.ResizeSelector.UPPER
    assert_close(net.run(layer.get_output(0)), X[:, :, :1, :1])


@pytest.mark.parametrize("mode", [I.NEAREST, I.LINEAR, I.CUBIC])
@pytest.mark.parametrize(
    "sample", [trt.SampleMode.FILL, trt.SampleMode.CLAMP, trt.SampleMode.REFLECT]
)
@pytest.mark.parametrize("align", [False, True])
def test_grid_sample(net, mode, sample, align):
    r = rng(44)
    x = r.standard_normal((1, 2, 5, 6)).astype(np.float32)
    grid = r.uniform(-1.2, 1.2, (1, 3, 4, 2)).astype(np.float32)
    layer = net.network.add_grid_sample(net.input("x", x), net.input("g", grid))
    layer.interpolation_mode = mode
    layer.sample_mode = sample
    layer.align_corners = align
    names = {I.NEAREST: "nearest", I.LINEAR: "bilinear", I.CUBIC: "bicubic"}
    pads = {
        trt.SampleMode.FILL: "zeros",
        trt.SampleMode.CLAMP: "border",
        trt.SampleMode.REFLECT: "reflection",
    }
    expected = F.grid_sample(
        torch.from_numpy(x), torch.from_numpy(grid), names[mode], pads[sample], align
    )
    assert_close(net.run(layer.get_output(0)), expected)
