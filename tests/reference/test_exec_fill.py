"""FILL: LINSPACE (static and dynamic alpha/beta/shape), random fills (shape and dtype only)."""

import numpy as np
import pytest
import torch

from layers.backend import trt
from reference_helpers import assert_close

Fill = trt.FillOperation


@pytest.mark.parametrize(
    "dtype,np_dtype", [(trt.float32, np.float32), (trt.int32, np.int32), (trt.int64, np.int64)]
)
def test_linspace_static(net, dtype, np_dtype):
    layer = net.network.add_fill((5,), Fill.LINSPACE, dtype)
    layer.alpha = 2.0
    layer.beta = 3.0
    out = net.run(layer.get_output(0))
    assert out.dtype == torch.from_numpy(np.zeros(1, np_dtype)).dtype
    assert_close(out, (2 + 3 * np.arange(5)).astype(np_dtype))


def test_linspace_dynamic_2d(net):
    layer = net.network.add_fill((1,), Fill.LINSPACE, trt.float32)
    layer.set_input(0, net.const(np.array([3, 4], np.int64)))
    layer.set_input(1, net.const(np.array(1.0, np.float32)))
    layer.set_input(2, net.const(np.array([100.0, 10.0], np.float32)))
    expected = 1 + 100 * np.arange(3)[:, None] + 10 * np.arange(4)[None, :]
    assert_close(net.run(layer.get_output(0)), expected.astype(np.float32))


@pytest.mark.parametrize("op", [Fill.RANDOM_UNIFORM, Fill.RANDOM_NORMAL])
@pytest.mark.parametrize("dtype", [trt.float32, trt.float16])
def test_random_shape_and_dtype(net, op, dtype):
    layer = net.network.add_fill((2, 3, 4), op, dtype)
    layer.alpha = 5.0
    layer.beta = 6.0
    out = net.run(layer.get_output(0))
    assert tuple(out.shape) == (2, 3, 4)
    assert out.dtype == (torch.float32 if dtype == trt.float32 else torch.float16)
    if op == Fill.RANDOM_UNIFORM:
        assert bool(((out >= 5) & (out <= 6)).all())
