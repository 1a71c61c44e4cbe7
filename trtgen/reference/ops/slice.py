"""SLICE: start/size/stride (static or inputs 1-3), optional axes (input 5), every SampleMode.

Output coordinate y reads input coordinate x = start + y * stride, per axis; out-of-range x is
handled by the mode (formulas from the TensorRT Slice operator page):
  STRICT_BOUNDS error | WRAP x mod d | CLAMP clamp(x, 0, d-1) | FILL fill value (input 4, default 0)
  REFLECT c = |x| mod (2d-2), z = 2d-2-c if c >= d else c
"""

import torch

from layers.backend import trt

from ..registry import handles
from ._util import as_ints, dims, normalize_axis

S = trt.SampleMode


def _param(layer, inputs, index, attr):
    if len(inputs) > index and inputs[index] is not None:
        return as_ints(inputs[index])
    return dims(getattr(layer, attr))


def _source_index(coords, size, mode):
    """(index to read, in-bounds mask) for one axis."""
    inside = (coords >= 0) & (coords < size)
    everywhere = torch.ones_like(inside)
    if mode == S.WRAP:
        return coords.remainder(size), everywhere
    if mode == S.CLAMP:
        return coords.clamp(0, size - 1), everywhere
    if mode == S.REFLECT:
        if size == 1:
            return torch.zeros_like(coords), everywhere
        period = 2 * size - 2
        c = coords.abs().remainder(period)
        return torch.where(c >= size, period - c, c), everywhere
    if mode == S.FILL:
        return coords.clamp(0, max(size - 1, 0)), inside
    if not bool(inside.all()):
        raise IndexError(
            f"slice reads indices {coords.tolist()} outside [0, {size}) in STRICT_BOUNDS mode"
        )
    return coords, inside


@handles("SLICE")
def slice_(layer, inputs, ctx):
    x = inputs[0]
    rank = x.dim()
    start = _param(layer, inputs, 1, "start")
    size = _param(layer, inputs, 2, "shape")
    stride = _param(layer, inputs, 3, "stride")
    axes = _param(layer, inputs, 5, "axes")
    if axes is not None:  # start/size/stride name only these axes; the rest is taken whole
        full_start, full_size, full_stride = [0] * rank, list(x.shape), [1] * rank
        for i, axis in enumerate(axes):
            axis = normalize_axis(axis, rank)
            full_start[axis], full_size[axis], full_stride[axis] = start[i], size[i], stride[i]
        start, size, stride = full_start, full_size, full_stride
    mode = layer.mode
    out = x
    mask = None
    for axis in range(rank):
        coords = start[axis] + torch.arange(size[axis], dtype=torch.int64) * stride[axis]
        if x.shape[axis] == 0:  # nothing to read: only FILL (or an empty slice) is defined
            if size[axis] != 0 and mode != S.FILL:
                raise IndexError(f"cannot slice {size[axis]} elements from empty axis {axis}")
            shape = list(out.shape)
            shape[axis] = size[axis]
            out = out.new_zeros(shape)
            inside = torch.zeros(size[axis], dtype=torch.bool)
        else:
            index, inside = _source_index(coords, x.shape[axis], mode)
            out = out.index_select(axis, index)
        shaped = inside.reshape([-1 if d == axis else 1 for d in range(rank)])
        mask = shaped if mask is None else mask & shaped
    if mode == S.FILL and mask is not None:
        fill = (
            inputs[4].reshape(()) if len(inputs) > 4 and inputs[4] is not None else torch.zeros(())
        )
        out = torch.where(mask, out, fill.to(out.dtype))
    return out
