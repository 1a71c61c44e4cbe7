"""F.grid_sample: one GRID_SAMPLE layer on a 4-D input; on a 5-D (volumetric) one, which
TensorRT's layer does not take, the trilinear / nearest sampling spelled out as torch computes
it.

4-D: torch's arguments map one to one: mode nearest / bilinear / bicubic → NEAREST / LINEAR /
CUBIC interpolation; padding_mode zeros / border / reflection → FILL / CLAMP / REFLECT
sampling; ``align_corners`` as is.

5-D (torch has bilinear, meaning trilinear, and nearest there): grid (x, y, z) → source
coordinates along W, H, D (unnormalized by ``align_corners``; clamped for border, reflected
then clamped for reflection), then the 8 corners (1 for nearest) of every sample read by one
ELEMENT GATHER over the flattened volume and summed with their weights; corners outside the
volume weigh 0 (zeros padding). The volume's D, H, W must be static.
"""

from .. import dtypes
from ..backend import trt
from ._common import network, output
from .cast import cast
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
    if input.ndim == 5:
        if mode == "bicubic":
            raise ValueError("grid_sample: bicubic interpolation only supports 4D input")
        return _volume(input, grid, mode, padding_mode, bool(align_corners))
    layer = network().add_grid_sample(input.trt, grid.trt)
    layer.interpolation_mode = _MODES[mode]
    layer.sample_mode = _PADDING[padding_mode]
    layer.align_corners = bool(align_corners)  # torch's default (None) is False
    return output(layer, "grid_sample")


# --------------------------------------------------------------------------- 5-D


def _source_coordinate(g, size, padding_mode, align_corners):
    """torch's grid_sampler_compute_source_index: normalized ``g`` → a position along a dim of
    ``size`` entries, with border / reflection padding applied to the position."""
    if align_corners:
        position = mul(add(g, 1.0), (size - 1) / 2)
    else:
        position = sub(mul(add(g, 1.0), size / 2), 0.5)
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


def _corners(coordinates, mode):
    """Per corner, per axis (x, y, z): (position, weight); nearest has one corner, weight 1."""
    if mode == "nearest":
        return [[(round_half_even(c), None) for c in coordinates]]
    lows = [floor(c) for c in coordinates]
    options = []
    for c, low in zip(coordinates, lows):
        high_weight = sub(c, low)
        options.append([(low, sub(1.0, high_weight)), (add(low, 1.0), high_weight)])
    return [
        [options[0][i], options[1][j], options[2][k]]
        for k in (0, 1)
        for j in (0, 1)
        for i in (0, 1)
    ]


def _corner_index_and_weight(corner, sizes):
    """A corner's flat index into the (D * H * W) volume and its weight, 0 outside the volume
    (where the index is made 0: read anything, weigh nothing)."""
    inside, flat, weight = None, None, None
    stride = 1
    for (position, w), n in zip(corner, sizes):
        ok = logical_and(ge(position, 0.0), lt(position, float(n)))
        inside = ok if inside is None else logical_and(inside, ok)
        term = mul(position, float(stride))
        flat = term if flat is None else add(flat, term)
        if w is not None:
            weight = w if weight is None else mul(weight, w)
        stride *= n
    if weight is None:  # nearest
        weight = add(mul(flat, 0.0), 1.0)
    weight = where(inside, weight, 0.0)
    flat = where(inside, flat, 0.0)
    return cast(flat, dtypes.int64), weight


def _volume(input, grid, mode, padding_mode, align_corners):
    depth, height, width = input.shape[2:]
    if min(depth, height, width) < 0:
        raise NotImplementedError("grid_sample on a volume of run-time size (D, H, W)")
    sizes = (width, height, depth)  # the grid's last dim holds (x, y, z)
    points = reshape_to(grid, [Dim(grid, 0), -1, 3])  # (N, P, 3)
    coordinates = [
        _source_coordinate(select(points, 2, k), n, padding_mode, align_corners)
        for k, n in enumerate(sizes)
    ]  # each (N, P)
    corners = _corners(coordinates, mode)
    indices, weights = zip(*(_corner_index_and_weight(c, sizes) for c in corners))
    index = cat(list(indices), 1)  # (N, K * P)
    volume = reshape_to(input, [Dim(input, 0), Dim(input, 1), depth * height * width])
    index = expand(unsqueeze(index, 1), [Dim(volume, 0), Dim(volume, 1), Dim(index, 1)])
    layer = network().add_gather_v2(volume.trt, index.trt, trt.GatherMode.ELEMENT)
    layer.axis = 2
    picked = output(layer, "grid_sample")  # (N, C, K * P)
    picked = reshape_to(picked, [Dim(picked, 0), Dim(picked, 1), len(corners), -1])
    weight = unsqueeze(stack(list(weights), 1), 1)  # (N, 1, K, P)
    sampled = reduce_sum(mul(picked, cast(weight, picked.dtype)), 2)  # (N, C, P)
    spatial = [Dim(grid, i) for i in (1, 2, 3)]
    return reshape_to(sampled, [Dim(sampled, 0), Dim(sampled, 1)] + spatial)
