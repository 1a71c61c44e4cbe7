"""max/avg pooling (stride, padding, ceil_mode, count_include_pad) and adaptive pools vs torch."""

import pytest
import torch
import torch.nn.functional as TF

import layers
from layers import functional as F

from helpers import check_and_build, layer_types, rand, run_layers


def check_op(*args, **kwargs):
    """check_and_build, returning the layer types (these tests also assert what was built)."""
    return layer_types(check_and_build(*args, **kwargs))


LT = layers.trt.LayerType


WINDOWS = [  # kernel, stride, padding
    (2, None, 0),
    (3, 2, 1),
    (3, 1, 1),
    ((3, 2), (2, 1), (1, 0)),
    (2, 3, 1),
    (4, 3, 2),
]


@pytest.mark.parametrize("kernel,stride,padding", WINDOWS)
@pytest.mark.parametrize("ceil_mode", [False, True])
@pytest.mark.parametrize("size", [(7, 8), (6, 9)])
def test_max_pool2d(kernel, stride, padding, ceil_mode, size):
    x = rand(2, 3, *size)
    check_op(
        lambda h: F.max_pool2d(h, kernel, stride, padding, ceil_mode=ceil_mode),
        lambda t: TF.max_pool2d(t, kernel, stride, padding, ceil_mode=ceil_mode),
        x,
    )


@pytest.mark.parametrize("kernel,stride,padding", WINDOWS)
@pytest.mark.parametrize("ceil_mode", [False, True])
@pytest.mark.parametrize("count_include_pad", [True, False])
@pytest.mark.parametrize("size", [(7, 8), (6, 9)])
def test_avg_pool2d(kernel, stride, padding, ceil_mode, count_include_pad, size):
    x = rand(2, 3, *size)
    check_op(
        lambda h: F.avg_pool2d(h, kernel, stride, padding, ceil_mode, count_include_pad),
        lambda t: TF.avg_pool2d(t, kernel, stride, padding, ceil_mode, count_include_pad),
        x,
    )


@pytest.mark.parametrize("ceil_mode", [False, True])
@pytest.mark.parametrize("count_include_pad", [True, False])
def test_pool1d(ceil_mode, count_include_pad):
    x = rand(2, 3, 11)
    check_op(
        lambda h: F.max_pool1d(h, 3, 2, 1, ceil_mode=ceil_mode),
        lambda t: TF.max_pool1d(t, 3, 2, 1, ceil_mode=ceil_mode),
        x,
    )
    check_op(
        lambda h: F.avg_pool1d(h, 4, 3, 2, ceil_mode, count_include_pad),
        lambda t: TF.avg_pool1d(t, 4, 3, 2, ceil_mode, count_include_pad),
        x,
    )


def test_pool3d_and_unbatched():
    x = rand(1, 2, 5, 6, 7)
    check_op(
        lambda h: F.max_pool3d(h, 2, ceil_mode=True),
        lambda t: TF.max_pool3d(t, 2, ceil_mode=True),
        x,
    )
    check_op(lambda h: F.avg_pool3d(h, 3, 2, 1), lambda t: TF.avg_pool3d(t, 3, 2, 1), x)
    u = rand(3, 7, 7)
    check_op(lambda h: F.max_pool2d(h, 3, 2), lambda t: TF.max_pool2d(t, 3, 2), u)
    check_op(lambda h: F.avg_pool1d(h, 2), lambda t: TF.avg_pool1d(t, 2), rand(3, 8))


@pytest.mark.parametrize("divisor", [1, 5])
@pytest.mark.parametrize("padding", [0, 1])
def test_avg_pool2d_divisor_override(divisor, padding):
    x = rand(2, 3, 7, 7)
    check_op(
        lambda h: F.avg_pool2d(h, 3, 2, padding, divisor_override=divisor),
        lambda t: TF.avg_pool2d(t, 3, 2, padding, divisor_override=divisor),
        x,
    )


@pytest.mark.parametrize(
    "kernel,stride,padding,dilation", [(2, None, 0, 2), (3, 2, 1, 2), ((2, 3), 1, (1, 1), (3, 1))]
)
@pytest.mark.parametrize("ceil_mode", [False, True])
def test_max_pool2d_dilation(kernel, stride, padding, dilation, ceil_mode):
    """TensorRT pooling has no dilation: the max over strided taps of the -inf padded input."""
    x = rand(2, 3, 9, 8)
    check_op(
        lambda h: F.max_pool2d(h, kernel, stride, padding, dilation, ceil_mode),
        lambda t: TF.max_pool2d(t, kernel, stride, padding, dilation, ceil_mode),
        x,
    )


def test_max_pool1d_dilation():
    x = rand(2, 3, 11)
    check_op(lambda h: F.max_pool1d(h, 3, 2, 1, 2), lambda t: TF.max_pool1d(t, 3, 2, 1, 2), x)


def test_pool_errors():
    x = rand(1, 2, 6, 6)
    with pytest.raises(NotImplementedError, match="indices"):
        run_layers(lambda h: F.max_pool2d(h, 2, return_indices=True), x)
    with pytest.raises(ValueError, match="half"):
        run_layers(lambda h: F.max_pool2d(h, 2, padding=2), x)


@pytest.mark.parametrize(
    "output_size,kind",
    [
        ((1, 1), LT.REDUCE),
        (1, LT.REDUCE),
        ((3, 4), LT.POOLING),
        ((4, 3), LT.MATRIX_MULTIPLY),
        ((5, 5), LT.MATRIX_MULTIPLY),
        ((None, 3), LT.MATRIX_MULTIPLY),
        ((2, 8), LT.POOLING),
    ],
)
def test_adaptive_avg_pool2d(output_size, kind):
    x = rand(2, 3, 6, 8)
    kinds = check_op(
        lambda h: F.adaptive_avg_pool2d(h, output_size),
        lambda t: TF.adaptive_avg_pool2d(t, output_size),
        x,
    )
    assert kind in kinds


def test_adaptive_pool_to_input_size_adds_nothing():
    def fn(h):
        assert F.adaptive_avg_pool2d(h, (6, 8)) is h and F.adaptive_max_pool2d(h, (None, 8)) is h
        return F.relu(h)

    check_op(fn, TF.relu, rand(1, 2, 6, 8))


@pytest.mark.parametrize(
    "output_size,kind",
    [
        ((1, 1), LT.REDUCE),
        ((3, 4), LT.POOLING),
        ((4, 3), LT.CONCATENATION),
        ((5, 5), LT.CONCATENATION),
        ((None, 3), LT.CONCATENATION),
    ],
)
def test_adaptive_max_pool2d(output_size, kind):
    x = rand(2, 3, 6, 8)
    kinds = check_op(
        lambda h: F.adaptive_max_pool2d(h, output_size),
        lambda t: TF.adaptive_max_pool2d(t, output_size),
        x,
    )
    assert kind in kinds


@pytest.mark.parametrize("output_size", [1, 2, 3, 5])
def test_adaptive_pool1d(output_size):
    x = rand(2, 3, 10)
    check_op(
        lambda h: F.adaptive_avg_pool1d(h, output_size),
        lambda t: TF.adaptive_avg_pool1d(t, output_size),
        x,
    )
    check_op(
        lambda h: F.adaptive_max_pool1d(h, output_size),
        lambda t: TF.adaptive_max_pool1d(t, output_size),
        x,
    )


@pytest.mark.parametrize("output_size", [(1, 1, 1), (2, 3, 4), (3, 2, 5)])
def test_adaptive_pool3d(output_size):
    x = rand(1, 2, 5, 6, 8)
    check_op(
        lambda h: F.adaptive_avg_pool3d(h, output_size),
        lambda t: TF.adaptive_avg_pool3d(t, output_size),
        x,
    )
    check_op(
        lambda h: F.adaptive_max_pool3d(h, output_size),
        lambda t: TF.adaptive_max_pool3d(t, output_size),
        x,
    )


def test_adaptive_pool_unbatched():
    x = rand(3, 6, 8)
    check_op(
        lambda h: F.adaptive_avg_pool2d(h, (3, 4)), lambda t: TF.adaptive_avg_pool2d(t, (3, 4)), x
    )
    check_op(
        lambda h: F.adaptive_max_pool2d(h, (4, 3)), lambda t: TF.adaptive_max_pool2d(t, (4, 3)), x
    )
    check_op(lambda h: F.adaptive_avg_pool2d(h, 1), lambda t: TF.adaptive_avg_pool2d(t, 1), x)


def test_pool_fp16():
    x = rand(2, 3, 7, 7, dtype=torch.float16)
    got = run_layers(lambda h: F.avg_pool2d(h, 3, 2, 1, ceil_mode=True), x)
    assert got.dtype == torch.float16
    assert (got.float() - TF.avg_pool2d(x.float(), 3, 2, 1, ceil_mode=True)).abs().max() < 1e-2
    got = run_layers(lambda h: F.adaptive_avg_pool2d(h, (3, 5)), x)
    assert (got.float() - TF.adaptive_avg_pool2d(x.float(), (3, 5))).abs().max() < 1e-2
