"""F.grid_sample: one GRID_SAMPLE layer on a 4-D input; spelled out as torch computes it
where TensorRT's layer cannot be trusted to: a 5-D (volumetric) input, which the layer does
not take, and bicubic with border padding, where torch clamps each of the 16 taps and ONNX's
GridSample (which TensorRT's layer implements) clamps the sample point instead, and TensorRT
does not document which it does.

The layer: torch's arguments map one to one: mode nearest / bilinear / bicubic → NEAREST /
LINEAR / CUBIC interpolation; padding_mode zeros / border / reflection → FILL / CLAMP / REFLECT
sampling; ``align_corners`` as is.

Spelled out: grid (x, y[, z]) → source coordinates along W, H[, D] (unnormalized by
``align_corners``; clamped for border, reflected then clamped for reflection: for nearest and
linear the sample point, for cubic each tap), the taps of every sample (1 per axis for
nearest, 2 for linear, 4 for cubic with torch's A = -0.75) read by one ELEMENT GATHER over the
flattened spatial dims (static sizes) and summed with their weights; taps outside weigh 0.
"""

import itertools

import numpy as np

from .. import dtypes
from ..backend import trt
from ._common import cast, network, output
from .elementwise import add, clamp, div, eq, fmod, ge, logical_and, lt, mul, remainder, sub, where
from .indexing import select
from .join import cat, stack
from .reduce import sum as reduce_sum
from .shape import Dim, expand, reshape_to, unsqueeze
from .unary import abs as magnitude
from .unary import floor
from .unary import round as round_half_even

__all__ = ["grid_sample"]

_MODES = {
    "nearest": trt.InterpolationMode.NEAREST,
    "bilinear": trt.InterpolationMode.LINEAR,
    "bicubic": trt.InterpolationMode.CUBIC,
}
_PADDING = {
    "zeros": trt.SampleMode.FILL,
    "border": trt.SampleMode.CLAMP,
    "reflection": trt.SampleMode.REFLECT,
}


def grid_sample(input, grid, mode="bilinear", padding_mode="zeros", align_corners=None):
    """F.grid_sample: ``input`` sampled at the normalized (x, y) positions of ``grid``."""
    if mode not in _MODES:
        raise ValueError(f"grid_sample: mode must be one of {sorted(_MODES)}, got {mode!r}")
    if padding_mode not in _PADDING:
        raise ValueError(
            f"grid_sample: padding_mode must be one of {sorted(_PADDING)}, got {padding_mode!r}"
        )
    if input.ndim != grid.ndim or input.ndim not in (4, 5):
        raise ValueError(
            f"grid_sample: expected a 4-D or 5-D input and a grid of the same rank, got "
            f"{input.ndim}-D and {grid.ndim}-D"
        )
    if not dtypes.is_floating(input.dtype):
        raise TypeError("grid_sample: input must be a float tensor")
    grid = cast(grid, input.dtype)
    if input.ndim == 5 and mode == "bicubic":
        raise ValueError("grid_sample: bicubic interpolation only supports 4D input")
    if input.ndim == 5 or (mode, padding_mode) == ("bicubic", "border"):
        return _spelled_out(input, grid, mode, padding_mode, bool(align_corners))
    layer = network().add_grid_sample(input.trt, grid.trt)
    layer.interpolation_mode = _MODES[mode]
    layer.sample_mode = _PADDING[padding_mode]
    layer.align_corners = bool(align_corners)  # torch's default (None) is False
    return output(layer, "grid_sample")


# --------------------------------------------------------------------------- spelled out

_CUBIC_A = -0.75  # torch's bicubic coefficient


def _unnormalized(g, size, align_corners):
    """torch's grid_sampler_unnormalize: [-1, 1] → a position along a dim of ``size``."""
    if align_corners:
        return mul(add(g, 1.0), (size - 1) / 2)
    return sub(mul(add(g, 1.0), size / 2), 0.5)


def _padded(position, size, padding_mode, align_corners):
    """torch's compute_coordinates: border clamps, reflection mirrors then clamps, zeros
    leaves the position (taps outside then weigh 0)."""
    if padding_mode == "border":
        return clamp(position, 0.0, float(size - 1))
    if padding_mode == "reflection":
        low, high = (0, 2 * (size - 1)) if align_corners else (-1, 2 * size - 1)
        return clamp(_reflect(position, low, high), 0.0, float(size - 1))
    return position


def _reflect(position, twice_low, twice_high):
    """Fold ``position`` into [low, high] by mirroring at the bounds (given doubled, as torch's
    reflect_coordinates takes them)."""
    if twice_low == twice_high:  # a dim of one entry
        return mul(position, 0.0)
    low, span = twice_low / 2, (twice_high - twice_low) / 2
    distance = magnitude(sub(position, low))
    extra = fmod(distance, span)
    even = eq(remainder(floor(div(distance, span)), 2.0), 0.0)
    return where(even, add(extra, low), add(sub(span, extra), low))


def _cubic_weights(t):
    """torch's cubic convolution weights of the taps at -1, 0, 1, 2 for fraction ``t``."""
    a = _CUBIC_A

    def near(x):  # |x| <= 1: ((a + 2) x - (a + 3)) x^2 + 1
        return add(mul(mul(sub(mul(x, a + 2), a + 3), x), x), 1.0)

    def far(x):  # 1 < |x| < 2: ((a x - 5a) x + 8a) x - 4a
        return sub(mul(add(mul(sub(mul(x, a), 5 * a), x), 8 * a), x), 4 * a)

    return [far(add(t, 1.0)), near(t), near(sub(1.0, t)), far(sub(2.0, t))]


def _axis_taps(g, size, mode, padding_mode, align_corners):
    """[(position, weight or None)] of one axis: where each tap reads, and how much it counts."""
    position = _unnormalized(g, size, align_corners)
    if mode == "bicubic":  # padding applies to every tap
        low = floor(position)
        weights = _cubic_weights(sub(position, low))
        return [
            (_padded(add(low, float(i - 1)), size, padding_mode, align_corners), w)
            for i, w in enumerate(weights)
        ]
    position = _padded(position, size, padding_mode, align_corners)
    if mode == "nearest":
        return [(round_half_even(position), None)]
    low = floor(position)
    high_weight = sub(position, low)
    return [(low, sub(1.0, high_weight)), (add(low, 1.0), high_weight)]


def _tap_index_and_weight(tap, sizes):
    """A tap's flat index into the spatial dims and its weight, 0 outside them (where the
    index is made 0: read anything, weigh nothing). ``tap``: (position, weight) per axis."""
    inside, flat, weight = None, None, None
    stride = 1
    for (position, w), n in zip(tap, sizes):
        ok = logical_and(ge(position, 0.0), lt(position, float(n)))
        inside = ok if inside is None else logical_and(inside, ok)
        term = mul(position, float(stride))
        flat = term if flat is None else add(flat, term)
        if w is not None:
            weight = w if weight is None else mul(weight, w)
        stride *= n
    if weight is None:  # nearest
        weight = add(mul(flat, 0.0), 1.0)
    return cast(where(inside, flat, 0.0), dtypes.int64), where(inside, weight, 0.0)


def _spelled_out(input, grid, mode, padding_mode, align_corners):
    spatial = input.shape[2:]
    if min(spatial) < 0:
        raise NotImplementedError("grid_sample spelled out needs static spatial sizes")
    sizes = tuple(reversed(spatial))  # the grid's last dim holds (x, y[, z]): W first
    # positions in float32: flat indices stay exact past fp16's 2048
    points = reshape_to(cast(grid, dtypes.float32), [Dim(grid, 0), -1, len(sizes)])  # (N, P, k)
    axes = [
        _axis_taps(select(points, 2, k), n, mode, padding_mode, align_corners)
        for k, n in enumerate(sizes)
    ]
    taps = [list(tap) for tap in itertools.product(*reversed(axes))]
    taps = [list(reversed(tap)) for tap in taps]  # per tap: (x, y[, z]) entries
    indices, weights = zip(*(_tap_index_and_weight(tap, sizes) for tap in taps))
    index = cat(list(indices), 1)  # (N, taps * P)
    flat = reshape_to(input, [Dim(input, 0), Dim(input, 1), int(np.prod(spatial))])
    index = expand(unsqueeze(index, 1), [Dim(flat, 0), Dim(flat, 1), Dim(index, 1)])
    layer = network().add_gather_v2(flat.trt, index.trt, trt.GatherMode.ELEMENT)
    layer.axis = 2
    picked = output(layer, "grid_sample")  # (N, C, taps * P)
    picked = reshape_to(picked, [Dim(picked, 0), Dim(picked, 1), len(taps), -1])
    weight = unsqueeze(stack(list(weights), 1), 1)  # (N, 1, taps, P)
    sampled = reduce_sum(mul(picked, cast(weight, picked.dtype)), 2)  # (N, C, P)
    out_dims = [Dim(grid, i) for i in range(1, grid.ndim - 1)]
    return reshape_to(sampled, [Dim(sampled, 0), Dim(sampled, 1)] + out_dims)
