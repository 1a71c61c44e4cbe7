"""ELEMENTWISE (every operation, broadcasting of size-1 dims, integer semantics) and SELECT."""

import numpy as np
import pytest
import torch

from layers.backend import trt
from reference_helpers import assert_close, rng

E = trt.ElementWiseOperation

FLOAT_OPS = {
    "SUM": np.add,
    "PROD": np.multiply,
    "MAX": np.maximum,
    "MIN": np.minimum,
    "SUB": np.subtract,
    "DIV": np.divide,
    "POW": lambda a, b: np.power(np.abs(a), b),
    "FLOOR_DIV": lambda a, b: np.floor(a / b),
    "EQUAL": np.equal,
    "GREATER": np.greater,
    "LESS": np.less,
}

SHAPES = [
    ((2, 3, 4), (2, 3, 4)),
    ((2, 1, 4), (1, 3, 1)),
    ((1, 1, 1), (2, 3, 4)),
    ((2, 3, 1), (2, 3, 5)),
]


@pytest.mark.parametrize("name", sorted(FLOAT_OPS))
@pytest.mark.parametrize("shapes", SHAPES, ids=str)
def test_float_ops_broadcast(net, name, shapes):
    r = rng(9)
    a = r.standard_normal(shapes[0]).astype(np.float32)
    b = r.uniform(0.5, 2.0, shapes[1]).astype(np.float32)
    if name == "POW":
        a = np.abs(a)
    if name in ("EQUAL", "GREATER", "LESS"):
        b = np.round(b)
        a = np.round(a * 2)
    layer = net.network.add_elementwise(net.input("a", a), net.input("b", b), getattr(E, name))
    out = net.run(layer.get_output(0))
    expected = FLOAT_OPS[name](a, b)
    if expected.dtype == np.bool_:
        assert out.dtype == torch.bool
    assert_close(out, expected)


@pytest.mark.parametrize("name", ["AND", "OR", "XOR"])
def test_logical(net, name):
    a = np.array([[True, True, False, False]])
    b = np.array([[True], [False]])
    a2 = np.broadcast_to(a, (2, 4)).copy()
    layer = net.network.add_elementwise(net.input("a", a2), net.input("b", b), getattr(E, name))
    expected = {"AND": np.logical_and, "OR": np.logical_or, "XOR": np.logical_xor}[name](a2, b)
    assert_close(net.run(layer.get_output(0)), expected)


@pytest.mark.parametrize("dtype", [np.int32, np.int64])
def test_integer_division(net, dtype):
    a = np.array([7, -7, 7, -7, 6], dtype)
    b = np.array([2, 2, -2, -2, 3], dtype)
    div = net.network.add_elementwise(net.input("a", a), net.input("b", b), E.DIV).get_output(0)
    fdiv = net.network.add_elementwise(
        net.network.get_input(0), net.network.get_input(1), E.FLOOR_DIV
    ).get_output(0)
    d, f = net.run(div, fdiv)
    assert d.dtype == torch.from_numpy(a).dtype
    assert_close(d, np.trunc(a / b).astype(dtype))  # C semantics: toward zero
    assert_close(f, np.floor_divide(a, b))


def test_integer_pow_and_minmax(net):
    a = np.array([2, 3, -4], np.int32)
    b = np.array([3, 2, 1], np.int32)
    p = net.network.add_elementwise(net.input("a", a), net.input("b", b), E.POW).get_output(0)
    m = net.network.add_elementwise(
        net.network.get_input(0), net.network.get_input(1), E.MAX
    ).get_output(0)
    pv, mv = net.run(p, m)
    assert_close(pv, a**b)
    assert_close(mv, np.maximum(a, b))


def test_rank_mismatch_is_an_error(net):
    a = net.input("a", np.zeros((2, 3), np.float32))
    b = net.input("b", np.zeros((3,), np.float32))
    layer = net.network.add_elementwise(a, b, E.SUM)
    if layer is None:  # TensorRT itself rejects unequal ranks
        return
    with pytest.raises(Exception):
        net.run(layer.get_output(0))


def test_select_broadcast(net):
    r = rng(10)
    cond = r.standard_normal((2, 1, 4)) > 0
    a = r.standard_normal((2, 3, 4)).astype(np.float32)
    b = r.standard_normal((1, 3, 1)).astype(np.float32)
    layer = net.network.add_select(net.input("c", cond), net.input("a", a), net.input("b", b))
    assert_close(net.run(layer.get_output(0)), np.where(cond, a, b))
