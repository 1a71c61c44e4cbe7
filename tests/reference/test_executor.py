"""execute(): inputs, outputs, keep, errors, dtype handling, weights of every type."""

import numpy as np
import pytest
import torch

from layers.backend import trt
from reference_helpers import assert_close, rng
from trtgen.reference import (
    HANDLERS,
    LayerExecutionError,
    NetworkInputError,
    UnsupportedLayerError,
    execute,
)


def _exp_net(net):
    x = net.input("x", rng().standard_normal((2, 3)).astype(np.float32))
    e = net.network.add_unary(x, trt.UnaryOperation.EXP)
    e.get_output(0).name = "e"
    n = net.network.add_unary(e.get_output(0), trt.UnaryOperation.NEG)
    n.get_output(0).name = "y"
    net.network.mark_output(n.get_output(0))
    return net.feeds["x"]


def test_outputs_only_by_default(net):
    x = _exp_net(net)
    out = execute(net.network, {"x": x})
    assert set(out) == {"y"}
    assert_close(out["y"], -np.exp(x))


def test_keep_names_and_all(net):
    x = _exp_net(net)
    out = execute(net.network, {"x": torch.from_numpy(x)}, keep=["e"])
    assert set(out) == {"y", "e"}
    assert_close(out["e"], np.exp(x))
    everything = execute(net.network, {"x": x}, keep="all")
    assert {"x", "e", "y"} <= set(everything)


def test_keep_unknown_name(net):
    x = _exp_net(net)
    with pytest.raises(Exception, match="nope"):
        execute(net.network, {"x": x}, keep=["nope"])


def test_missing_input_names_it(net):
    _exp_net(net)
    with pytest.raises(NetworkInputError, match="'x'"):
        execute(net.network, {})


def test_wrong_shape_names_input(net):
    _exp_net(net)
    with pytest.raises(NetworkInputError, match="'x'.*\\(2, 3\\)"):
        execute(net.network, {"x": np.zeros((3, 2), np.float32)})


def test_unknown_input_name(net):
    x = _exp_net(net)
    with pytest.raises(NetworkInputError, match="typo"):
        execute(net.network, {"x": x, "typo": x})


def test_wrong_dtype_kind(net):
    _exp_net(net)
    with pytest.raises(NetworkInputError, match="'x'"):
        execute(net.network, {"x": np.zeros((2, 3), np.int32)})


def test_float64_input_is_converted(net):
    x = _exp_net(net)
    out = execute(net.network, {"x": x.astype(np.float64)})
    assert out["y"].dtype == torch.float32


def test_dynamic_input_dims(net):
    x = net.network.add_input("x", trt.float32, (-1, 3))
    y = net.network.add_unary(x, trt.UnaryOperation.ABS).get_output(0)
    net.network.mark_output(y)
    value = rng().standard_normal((5, 3)).astype(np.float32)
    assert_close(execute(net.network, {"x": value})[y.name], np.abs(value))
    with pytest.raises(NetworkInputError):
        execute(net.network, {"x": np.zeros((5, 4), np.float32)})


def test_unsupported_layer_names_layer_and_type(net, monkeypatch):
    _exp_net(net)
    net.network.get_layer(0).name = "my_exp"
    monkeypatch.delitem(HANDLERS, trt.LayerType.UNARY)
    with pytest.raises(UnsupportedLayerError, match="my_exp.*UNARY"):
        execute(net.network, net.feeds)


def test_handler_failure_names_layer(net):
    x = net.input("x", np.zeros((2, 2), np.float32))
    layer = net.network.add_slice(x, (0, 0), (4, 2), (1, 1))  # reads past the end: STRICT_BOUNDS
    layer.name = "too_far"
    with pytest.raises(LayerExecutionError, match="too_far"):
        net.run(layer.get_output(0))


def test_fp16_rounding_through_casts(net):
    value = np.array([1.0001, 3.14159265, 65519.0, 1e-8], np.float32)
    x = net.input("x", value)
    half = net.network.add_cast(x, trt.float16).get_output(0)
    back = net.network.add_cast(half, trt.float32).get_output(0)
    h, b = net.run(half, back)
    assert h.dtype == torch.float16 and b.dtype == torch.float32
    assert_close(b, torch.from_numpy(value).half().float(), tol=0)


def test_fp16_arithmetic_rounds_each_layer(net):
    value = np.array([1.0, 2.0, 3.0], np.float16)
    x = net.input("x", value)
    third = net.const(np.full(3, 1 / 3, np.float16))
    y = net.network.add_elementwise(x, third, trt.ElementWiseOperation.PROD).get_output(0)
    out = net.run(y)
    assert out.dtype == torch.float16
    assert_close(
        out, (torch.from_numpy(value).float() * torch.tensor(1 / 3).half().float()).half(), tol=0
    )


@pytest.mark.parametrize("kind", ["BF16", "FP8", "INT4"])
def test_constant_weights_of_non_numpy_types(net, kind):
    if kind == "BF16":
        ref = torch.tensor([1.5, -2.25, 3.0, 1e-3], dtype=torch.bfloat16)
        raw = ref.view(torch.int16).numpy().copy()
        count, dtype = 4, trt.DataType.BF16
    elif kind == "FP8":
        ref = torch.tensor([0.5, -3.0, 448.0, 0.0136], dtype=torch.float8_e4m3fn)
        raw = ref.view(torch.uint8).numpy().copy()
        count, dtype = 4, trt.DataType.FP8
    else:
        ref = torch.tensor([-8, 7, 0, -1, 3], dtype=torch.int8)
        codes = (ref.numpy().astype(np.int16) & 0xF).astype(np.uint8)
        codes = np.append(codes, 0)
        raw = (codes[0::2] | (codes[1::2] << 4)).astype(np.uint8)
        count, dtype = 5, trt.DataType.INT4
    net._alive.append(raw)
    layer = net.network.add_constant((count,), trt.Weights(dtype, raw.ctypes.data, count))
    out = execute(net.network, {}, keep=[layer.get_output(0).name])[layer.get_output(0).name]
    assert torch.equal(out.float(), ref.float())


def test_bf16_arithmetic_rounds_each_layer(net):
    value = np.array([1.0, 3.14159, -2.71828, 100.3], np.float32)
    x = net.input("x", value)
    bf = net.network.add_cast(x, trt.bfloat16).get_output(0)
    doubled = net.network.add_elementwise(bf, bf, trt.ElementWiseOperation.SUM).get_output(0)
    root = net.network.add_unary(doubled, trt.UnaryOperation.SQRT).get_output(0)
    out = net.run(net.network.add_cast(root, trt.float32).get_output(0))
    step = torch.from_numpy(value).bfloat16()
    step = (step.float() * 2).bfloat16()
    expected = torch.sqrt(step.float()).bfloat16().float()
    assert_close(out, expected, tol=0)  # (sqrt of the negative entry is NaN on both sides)


def test_layers_out_of_creation_order(net):
    # The kernel constant is created after the convolution that consumes it.
    x = np.ones((1, 1, 3, 3), np.float32)
    conv = net.network.add_convolution_nd(
        net.input("x", x), 1, (3, 3), trt.Weights(), trt.Weights()
    )
    conv.set_input(1, net.const(np.full((1, 1, 3, 3), 2.0, np.float32)))
    assert_close(net.run(conv.get_output(0)), np.full((1, 1, 1, 1), 18.0, np.float32))


def test_layer_classes_restored(net):
    x = net.input("x", np.ones((1, 1, 4, 4), np.float32))
    net.network.add_pooling_nd(x, trt.PoolingType.MAX, (2, 2))
    held = net.network.get_layer(0)  # the same wrapper the executor will see
    net.run(held.get_output(0))
    assert held.type == trt.LayerType.POOLING
