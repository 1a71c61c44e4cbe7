"""REVERSE_SEQUENCE."""

import numpy as np
import pytest

from reference_helpers import assert_close, rng


@pytest.mark.parametrize("batch_axis,sequence_axis", [(1, 0), (0, 1)])
def test_reverse_sequence(net, batch_axis, sequence_axis):
    x = rng(48).standard_normal((4, 3, 2) if batch_axis == 1 else (3, 4, 2)).astype(np.float32)
    lengths = np.array([4, 1, 2], np.int32)
    layer = net.network.add_reverse_sequence(net.input("x", x), net.input("n", lengths))
    layer.batch_axis = batch_axis
    layer.sequence_axis = sequence_axis
    expected = x.copy()
    for b, n in enumerate(lengths):
        if batch_axis == 1:
            expected[:n, b] = x[:n, b][::-1]
        else:
            expected[b, :n] = x[b, :n][::-1]
    assert_close(net.run(layer.get_output(0)), expected)
