"""Loops: TRIP_LIMIT (COUNT / WHILE), ITERATOR (forward / reverse, axis), RECURRENCE and
LOOP_OUTPUT (LAST_VALUE / CONCATENATE / REVERSE)."""

import numpy as np
import pytest

from layers.backend import trt
from reference_helpers import assert_close, rng

E = trt.ElementWiseOperation


@pytest.mark.parametrize("reverse", [False, True])
@pytest.mark.parametrize("axis", [0, 1])
def test_count_loop_running_sum(net, reverse, axis):
    x = rng(50).standard_normal((4, 3)).astype(np.float32)
    steps = x.shape[axis]
    xt = net.input("x", x)
    loop = net.network.add_loop()
    loop.add_trip_limit(net.const(np.array(steps, np.int32)), trt.TripLimit.COUNT)
    row = loop.add_iterator(xt, axis, reverse).get_output(0)
    acc = loop.add_recurrence(net.const(np.zeros(x.shape[1 - axis], np.float32)))
    total = net.network.add_elementwise(acc.get_output(0), row, E.SUM).get_output(0)
    acc.set_input(1, total)
    length = net.const(np.array(steps, np.int32))
    last = loop.add_loop_output(acc.get_output(0), trt.LoopOutput.LAST_VALUE).get_output(0)
    body_last = loop.add_loop_output(total, trt.LoopOutput.LAST_VALUE).get_output(0)
    scan = loop.add_loop_output(total, trt.LoopOutput.CONCATENATE, 1)
    scan.set_input(1, length)
    backwards = loop.add_loop_output(acc.get_output(0), trt.LoopOutput.REVERSE, 0)
    backwards.set_input(1, length)
    rows = np.moveaxis(x, axis, 0)
    if reverse:
        rows = rows[::-1]
    running = np.cumsum(rows, axis=0)
    starts = np.concatenate([np.zeros_like(running[:1]), running[:-1]])
    got = net.run(last, body_last, scan.get_output(0), backwards.get_output(0))
    assert_close(got[0], running[-1])  # a recurrence's last value is its final state
    assert_close(got[1], running[-1])
    assert_close(got[2], running.T)  # concatenated along axis 1
    assert_close(got[3], starts[::-1])  # recurrence values at the start of each iteration, reversed


def test_while_loop(net):
    limit = net.input("limit", np.array(5.0, np.float32))
    loop = net.network.add_loop()
    counter = loop.add_recurrence(net.const(np.array(0.0, np.float32)))
    keep_going = net.network.add_elementwise(counter.get_output(0), limit, E.LESS).get_output(0)
    loop.add_trip_limit(keep_going, trt.TripLimit.WHILE)
    step = net.network.add_elementwise(
        counter.get_output(0), net.const(np.array(1.5, np.float32)), E.SUM
    )
    counter.set_input(1, step.get_output(0))
    final = loop.add_loop_output(counter.get_output(0), trt.LoopOutput.LAST_VALUE).get_output(0)
    history = loop.add_loop_output(counter.get_output(0), trt.LoopOutput.CONCATENATE, 0)
    history.set_input(1, net.const(np.array(6, np.int32)))
    a, b = net.run(final, history.get_output(0))
    assert_close(a, np.array(6.0, np.float32))  # 0, 1.5, 3, 4.5 run; 6 stops the loop
    assert_close(b, np.array([0.0, 1.5, 3.0, 4.5, 0.0, 0.0], np.float32))  # zero-padded to 6
