"""If-conditionals (CONDITION / CONDITIONAL_INPUT / CONDITIONAL_OUTPUT) and ASSERTION."""

import numpy as np
import pytest

from layers.backend import trt
from reference_helpers import assert_close, rng
from trtgen.reference import AssertionLayerError, execute


@pytest.mark.parametrize("flag", [True, False])
def test_if_conditional_selects_branch(net, flag):
    x = rng(47).standard_normal((2, 3)).astype(np.float32)
    xt = net.input("x", x)
    cond_in = net.input("c", np.array(flag))
    conditional = net.network.add_if_conditional()
    conditional.set_condition(cond_in)
    inside = conditional.add_input(xt).get_output(0)
    then_ = net.network.add_unary(inside, trt.UnaryOperation.EXP).get_output(0)
    else_ = net.network.add_unary(inside, trt.UnaryOperation.NEG).get_output(0)
    out = conditional.add_output(then_, else_).get_output(0)
    assert_close(net.run(out), np.exp(x) if flag else -x)


def test_condition_from_computation(net):
    x = np.array([1.0, -2.0], np.float32)
    xt = net.input("x", x)
    total = net.network.add_reduce(xt, trt.ReduceOperation.SUM, 1, False).get_output(0)
    positive = net.network.add_elementwise(
        total, net.const(np.array(0.0, np.float32)), trt.ElementWiseOperation.GREATER
    )
    conditional = net.network.add_if_conditional()
    conditional.set_condition(positive.get_output(0))
    inside = conditional.add_input(xt).get_output(0)
    out = conditional.add_output(
        inside, net.network.add_unary(inside, trt.UnaryOperation.ABS).get_output(0)
    )
    assert_close(net.run(out.get_output(0)), np.abs(x))  # sum is negative: false branch


def test_assertion(net):
    x = net.network.add_input("x", trt.float32, (-1, 3))
    rows = net.network.add_slice(
        net.network.add_shape(x).get_output(0), (0,), (1,), (1,)
    ).get_output(0)
    equal = net.network.add_elementwise(
        rows, net.const(np.array([2], np.int64)), trt.ElementWiseOperation.EQUAL
    )
    layer = net.network.add_assertion(equal.get_output(0), "x must have 2 rows")
    layer.name = "rows_check"
    y = net.network.add_identity(x).get_output(0)
    net.network.mark_output(y)
    value = np.ones((2, 3), np.float32)
    assert_close(execute(net.network, {"x": value})[y.name], value)
    with pytest.raises(AssertionLayerError, match="rows_check.*x must have 2 rows"):
        execute(net.network, {"x": np.ones((4, 3), np.float32)})
