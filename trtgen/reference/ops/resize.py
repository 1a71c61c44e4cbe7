"""RESIZE (NEAREST / LINEAR / CUBIC, every coordinate transformation, rounding mode, selector,
cubic coefficient, exclude_outside; output from scales, static shape or shape input 1) and
GRID_SAMPLE.

Interpolation is separable, so each resized axis is resampled in turn. Output coordinate x maps
to input coordinate (NvInfer.h ResizeCoordinateTransformation; L = lengths):
  ALIGN_CORNERS x * (L_in - 1) / (L_out - 1)   ASYMMETRIC x * L_in / L_out
  HALF_PIXEL    (x + 0.5) * L_in / L_out - 0.5
When the layer has explicit ``scales``, L_out in these formulas is L_in * scale, unfloored (ONNX
Resize semantics, which the ONNX parser relies on when it forwards ONNX scales; the same as the
lengths for integral output sizes).
With selector UPPER an output of length 1 reads input coordinate 0. Linear/cubic neighbours past
the edge repeat the edge value, unless exclude_outside drops them and renormalizes the weights.
"""

import math

import torch
import torch.nn.functional as F

from layers.backend import trt

from ..registry import handles
from ._util import as_ints, dims

C = trt.ResizeCoordinateTransformation
I = trt.InterpolationMode  # noqa: E741
R = trt.ResizeRoundMode


def _scales(layer, inputs):
    """The layer's static scales, or None when the output shape is given instead."""
    if len(inputs) > 1 and inputs[1] is not None:
        return None
    return list(layer.scales or []) or None


def _output_shape(layer, inputs, in_shape, scales):
    if len(inputs) > 1 and inputs[1] is not None:
        return as_ints(inputs[1])
    if scales:
        return [int(math.floor(d * s)) for d, s in zip(in_shape, scales)]
    return list(dims(layer.shape))


def _source_coords(layer, n_out, n_in, scale):
    x = torch.arange(n_out, dtype=torch.float32)
    if n_out == 1 and layer.selector_for_single_pixel == trt.ResizeSelector.UPPER:
        return torch.zeros(1)
    # With explicit scales the resized length is n_in * scale, not floored (ONNX Resize).
    resized = torch.tensor(n_in * scale if scale else n_out, dtype=torch.float32)
    mode = layer.coordinate_transformation
    if mode == C.ALIGN_CORNERS:
        if n_out == 1:
            return torch.zeros(1)
        return x * ((n_in - 1) / (resized - 1))
    ratio = n_in / resized
    if mode == C.HALF_PIXEL:
        return (x + 0.5) * ratio - 0.5
    return x * ratio


def _round(coords, mode):
    if mode == R.FLOOR:
        return torch.floor(coords)
    if mode == R.CEIL:
        return torch.ceil(coords)
    if mode == R.HALF_UP:
        return torch.floor(coords + 0.5)
    return torch.ceil(coords - 0.5)  # HALF_DOWN


def _cubic_weights(t, a):
    """Keys cubic kernel for the 4 taps at distances 1+t, t, 1-t, 2-t."""

    def near(d):
        return ((a + 2) * d - (a + 3)) * d * d + 1

    def far(d):
        return ((a * d - 5 * a) * d + 8 * a) * d - 4 * a

    return torch.stack([far(1 + t), near(t), near(1 - t), far(2 - t)], dim=-1)


def _resample_axis(x, axis, n_out, layer, scale):
    n_in = x.shape[axis]
    coords = _source_coords(layer, n_out, n_in, scale)
    mode = layer.resize_mode
    if mode == I.NEAREST:
        index = _round(coords, layer.nearest_rounding).long().clamp(0, n_in - 1)
        return x.index_select(axis, index)
    base = torch.floor(coords)
    t = coords - base
    base = base.long()
    if mode == I.LINEAR:
        taps = torch.stack([base, base + 1], dim=-1)
        weights = torch.stack([1 - t, t], dim=-1)
    else:
        taps = torch.stack([base - 1, base, base + 1, base + 2], dim=-1)
        weights = _cubic_weights(t, layer.cubic_coeff)
    if layer.exclude_outside:
        weights = weights * ((taps >= 0) & (taps < n_in))
        weights = weights / weights.sum(dim=-1, keepdim=True)
    taps = taps.clamp(0, n_in - 1)
    moved = x.movedim(axis, -1)
    picked = moved[..., taps]  # [..., n_out, n_taps]
    out = (picked * weights).sum(dim=-1)
    return out.movedim(-1, axis)


@handles("RESIZE")
def resize(layer, inputs, ctx):
    x = inputs[0]
    scales = _scales(layer, inputs)
    target = _output_shape(layer, inputs, x.shape, scales)
    out = x if layer.resize_mode == I.NEAREST else x.float()
    for axis, (n_in, n_out) in enumerate(zip(x.shape, target)):
        scale = scales[axis] if scales else None
        if n_in != n_out or (scale and scale != 1):
            out = _resample_axis(out, axis, n_out, layer, scale)
    return out


_GRID_MODES = {I.NEAREST: "nearest", I.LINEAR: "bilinear", I.CUBIC: "bicubic"}
_GRID_PADDING = {
    trt.SampleMode.FILL: "zeros",
    trt.SampleMode.CLAMP: "border",
    trt.SampleMode.REFLECT: "reflection",
}


@handles("GRID_SAMPLE")
def grid_sample(layer, inputs, ctx):
    x, grid = inputs
    return F.grid_sample(
        x.float(),
        grid.float(),
        mode=_GRID_MODES[layer.interpolation_mode],
        padding_mode=_GRID_PADDING[layer.sample_mode],
        align_corners=layer.align_corners,
    )
