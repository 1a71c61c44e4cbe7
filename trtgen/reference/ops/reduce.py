"""REDUCE (axes bitmask, keep_dims, every ReduceOperation), TOPK and CUMULATIVE."""

import torch

from layers.backend import trt

from ..registry import handles
from ._util import as_ints, as_scalar, axes_from_mask, normalize_axis

R = trt.ReduceOperation


def _prod(x, axes, keep):
    for axis in sorted(axes, reverse=True):
        x = torch.prod(x, dim=axis, keepdim=keep)
    return x


def _avg(x, axes, keep):
    if not x.is_floating_point():  # integer mean: TensorRT keeps the integer type
        return torch.div(
            torch.sum(x, dim=axes, keepdim=keep), _count(x, axes), rounding_mode="trunc"
        )
    return torch.mean(x, dim=axes, keepdim=keep)


def _count(x, axes):
    n = 1
    for axis in axes:
        n *= x.shape[axis]
    return n


_REDUCE = {
    R.SUM: lambda x, axes, keep: torch.sum(x, dim=axes, keepdim=keep),
    R.PROD: _prod,
    R.MAX: lambda x, axes, keep: torch.amax(x, dim=axes, keepdim=keep),
    R.MIN: lambda x, axes, keep: torch.amin(x, dim=axes, keepdim=keep),
    R.AVG: _avg,
}


@handles("REDUCE")
def reduce(layer, inputs, ctx):
    x = inputs[0]
    axes = axes_from_mask(layer.axes, x.dim())
    if not axes or layer.op == getattr(R, "NONE", None):
        return x
    return _REDUCE[layer.op](x, axes, layer.keep_dims)


@handles("TOPK")
def topk(layer, inputs, ctx):
    x = inputs[0]
    (axis,) = axes_from_mask(layer.axes, x.dim())
    k = as_scalar(inputs[1]) if len(inputs) > 1 and inputs[1] is not None else layer.k
    # ties go to the lower index (ONNX TopK's rule, and torch.argmax's), not torch.topk's whim
    largest = layer.op == trt.TopKOperation.MAX
    indices = torch.argsort(x, dim=axis, descending=largest, stable=True).narrow(axis, 0, int(k))
    return torch.gather(x, axis, indices), indices


@handles("CUMULATIVE")
def cumulative(layer, inputs, ctx):
    x, axis = inputs
    axis = normalize_axis(as_ints(axis)[0], x.dim())
    if layer.op != trt.CumulativeOperation.SUM:
        raise NotImplementedError(f"cumulative operation {layer.op}")
    if layer.reverse:
        x = x.flip(axis)
    y = torch.cumsum(x, dim=axis)
    if layer.exclusive:
        y = y - x
    if layer.reverse:
        y = y.flip(axis)
    return y.to(x.dtype)
