"""interpolate / upsample (RESIZE); pixel_shuffle / pixel_unshuffle and channel_shuffle (two
SHUFFLEs each).

torch's sampling rules in TensorRT terms:
  nearest        src = floor(dst * in/out)           → ASYMMETRIC + FLOOR
  nearest-exact  src = floor((dst + 0.5) * in/out)    → HALF_PIXEL + HALF_UP
  (bi/tri)linear, bicubic: align_corners=True → ALIGN_CORNERS, else HALF_PIXEL;
  bicubic uses A = -0.75 and clamps taps to the edge (exclude_outside off).
  area           adaptive average pooling to the output size, as torch computes it.
``size`` sets the output shape; ``scale_factor`` sets ``scales`` (as TensorRT's ONNX parser does
for ONNX Resize scales). torch then maps coordinates by 1/scale_factor, TensorRT's documented
formulas by in/out: the same whenever in * scale_factor is whole (2x, 1.5x of an even size...).
For other sizes pass ``recompute_scale_factor=True`` (torch then uses in/out too) or ``size``.
With align_corners=True torch ignores the scale and maps by (in - 1) / (out - 1) of the floored
output size, so a fractional scale_factor is applied as that size.
"""

import math
from dataclasses import dataclass

from ..backend import trt
from ._common import network, output
from .pool import adaptive_avg_pool1d, adaptive_avg_pool2d, adaptive_avg_pool3d
from .shape import Dim, dim_entry, is_static, resolve, reshape_to, shape_tensor

__all__ = [
    "interpolate",
    "upsample",
    "upsample_nearest",
    "upsample_bilinear",
    "pixel_shuffle",
    "pixel_unshuffle",
    "channel_shuffle",
    "native_channel_shuffle",
]

_Mode = trt.InterpolationMode
_Coord = trt.ResizeCoordinateTransformation


@dataclass(frozen=True)
class _Rule:
    mode: object  # trt.InterpolationMode
    spatial: tuple  # numbers of resized dims torch accepts
    interpolating: bool  # takes align_corners


_RULES = {
    "nearest": _Rule(_Mode.NEAREST, (1, 2, 3), False),
    "nearest-exact": _Rule(_Mode.NEAREST, (1, 2, 3), False),
    "linear": _Rule(_Mode.LINEAR, (1,), True),
    "bilinear": _Rule(_Mode.LINEAR, (2,), True),
    "trilinear": _Rule(_Mode.LINEAR, (3,), True),
    "bicubic": _Rule(_Mode.CUBIC, (2,), True),
}


_AREA_POOLS = {1: adaptive_avg_pool1d, 2: adaptive_avg_pool2d, 3: adaptive_avg_pool3d}


def _per_dim(value, count, what):
    values = list(value) if isinstance(value, (tuple, list)) else [value] * count
    if len(values) != count:
        raise ValueError(f"interpolate: {what} needs {count} values, got {values}")
    return values


def interpolate(
    input,
    size=None,
    scale_factor=None,
    mode="nearest",
    align_corners=None,
    recompute_scale_factor=None,
    antialias=False,
):
    """F.interpolate as one RESIZE layer, sampling exactly like torch."""
    x = input
    if mode == "area":
        return _area(x, size, scale_factor, align_corners, antialias)
    if mode not in _RULES:
        raise NotImplementedError(
            f"interpolate: mode {mode!r} is not supported; use one of {sorted([*_RULES, 'area'])}"
        )
    rule = _RULES[mode]
    spatial = x.ndim - 2
    if spatial not in rule.spatial:
        raise ValueError(f"interpolate: mode {mode!r} does not take a {x.ndim}-D input")
    if align_corners is not None and not rule.interpolating:
        raise ValueError(
            "align_corners option can only be set with the interpolating modes: "
            "linear | bilinear | bicubic | trilinear"
        )
    if antialias:
        raise NotImplementedError("interpolate(antialias=True) is not supported")
    if (size is None) == (scale_factor is None):
        raise ValueError("interpolate: give exactly one of size and scale_factor")

    scales = shape = None
    factors = None if scale_factor is None else _per_dim(scale_factor, spatial, "scale_factor")
    # align_corners samples by (in - 1) / (out - 1) of the floored output size in torch, and by
    # the unfloored in * scale in TensorRT given scales: fractional scales go by size there
    by_size = recompute_scale_factor or (
        align_corners and factors is not None and not all(float(f).is_integer() for f in factors)
    )
    if factors is not None and not by_size:
        scales = [1.0, 1.0] + [float(s) for s in factors]
    else:
        if factors is not None:  # torch then samples by in/out of the rounded size
            if min(x.shape[2:]) < 0:
                reason = (
                    "recompute_scale_factor"
                    if recompute_scale_factor
                    else ("align_corners=True with a fractional scale_factor")
                )
                raise NotImplementedError(
                    f"interpolate: {reason} needs static spatial dims; pass size= instead"
                )
            size = [math.floor(n * float(s)) for n, s in zip(x.shape[2:], factors)]
        # sizes may be run-time sizes (`size=x.shape[-2:]` of a dynamic input)
        sizes = [dim_entry(s) for s in _per_dim(size, spatial, "size")]
        spec = resolve([Dim(x, 0), Dim(x, 1)] + sizes)
        shape = tuple(spec) if is_static(spec) else shape_tensor(spec)

    layer = network().add_resize(x.trt)
    if scales is not None:
        layer.scales = scales
    elif isinstance(shape, tuple):
        layer.shape = shape
    else:
        layer.set_input(1, shape.trt)
    layer.resize_mode = rule.mode
    if mode == "nearest":
        layer.coordinate_transformation = _Coord.ASYMMETRIC
        layer.nearest_rounding = trt.ResizeRoundMode.FLOOR
    elif mode == "nearest-exact":
        layer.coordinate_transformation = _Coord.HALF_PIXEL
        layer.nearest_rounding = trt.ResizeRoundMode.HALF_UP
    else:
        layer.coordinate_transformation = (
            _Coord.ALIGN_CORNERS if align_corners else _Coord.HALF_PIXEL
        )
    if rule.mode == _Mode.CUBIC:
        layer.cubic_coeff = -0.75
        layer.exclude_outside = False
    layer.selector_for_single_pixel = trt.ResizeSelector.FORMULA
    return output(layer, "interpolate")


def _area(x, size, scale_factor, align_corners, antialias):
    """mode="area": adaptive average pooling to ``size``, or to floor(in * scale_factor)."""
    spatial = x.ndim - 2
    if spatial not in _AREA_POOLS:
        raise ValueError(f"interpolate: mode 'area' does not take a {x.ndim}-D input")
    if align_corners is not None or antialias:
        raise ValueError("interpolate: mode 'area' takes neither align_corners nor antialias")
    if (size is None) == (scale_factor is None):
        raise ValueError("interpolate: give exactly one of size and scale_factor")
    if size is None:
        if min(x.shape[2:]) < 0:
            raise NotImplementedError(
                "interpolate(mode='area', scale_factor=...) needs static spatial dims; pass size"
            )
        factors = _per_dim(scale_factor, spatial, "scale_factor")
        size = [math.floor(n * float(s)) for n, s in zip(x.shape[2:], factors)]
    return _AREA_POOLS[spatial](x, tuple(_per_dim(size, spatial, "size")))


def upsample(input, size=None, scale_factor=None, mode="nearest", align_corners=None):
    return interpolate(input, size, scale_factor, mode, align_corners)


def upsample_nearest(input, size=None, scale_factor=None):
    return interpolate(input, size, scale_factor, "nearest")


def upsample_bilinear(input, size=None, scale_factor=None):
    """Deprecated torch alias: bilinear with align_corners=True."""
    return interpolate(input, size, scale_factor, "bilinear", align_corners=True)


def _lead(x, keep):
    """The leading (batch-like) dims of ``x`` before its last ``keep`` dims."""
    return [Dim(x, i) for i in range(x.ndim - keep)]


def pixel_shuffle(input, upscale_factor):
    """(*, C*r*r, H, W) → (*, C, H*r, W*r): one SHUFFLE reshaping to (*, C, r, r, H, W) and
    transposing to (*, C, H, r, W, r), then one SHUFFLE merging (H, r) and (W, r)."""
    x, r = input, int(upscale_factor)
    c, h, w = x.shape[-3:]
    if min(h, w) < 0:
        raise NotImplementedError("pixel_shuffle with dynamic H or W")
    if c >= 0 and c % (r * r):
        raise ValueError(f"pixel_shuffle: channels {c} are not divisible by {r * r}")
    lead = _lead(x, 3)
    k = len(lead)
    y = reshape_to(
        x,
        lead + [c // (r * r) if c >= 0 else -1, r, r, h, w],
        "pixel_shuffle",
        then_permute=list(range(k + 1)) + [k + 3, k + 1, k + 4, k + 2],
    )
    return reshape_to(y, _lead(y, 5) + [Dim(y, k), h * r, w * r], "pixel_shuffle")


def pixel_unshuffle(input, downscale_factor):
    """(*, C, H*r, W*r) → (*, C*r*r, H, W): the inverse pair of SHUFFLEs."""
    x, r = input, int(downscale_factor)
    c, h, w = x.shape[-3:]
    if min(h, w) < 0:
        raise NotImplementedError("pixel_unshuffle with dynamic H or W")
    if h % r or w % r:
        raise ValueError(f"pixel_unshuffle: H {h} and W {w} must be divisible by {r}")
    lead = _lead(x, 3)
    k = len(lead)
    y = reshape_to(
        x,
        lead + [Dim(x, k), h // r, r, w // r, r],
        "pixel_unshuffle",
        then_permute=list(range(k + 1)) + [k + 2, k + 4, k + 1, k + 3],
    )
    return reshape_to(
        y, _lead(y, 5) + [c * r * r if c >= 0 else -1, h // r, w // r], "pixel_unshuffle"
    )


def channel_shuffle(input, groups):
    """(N, C, *) → (N, C, *) with channel g * (C / groups) + i moved to i * groups + g: one
    SHUFFLE reshaping to (N, groups, C / groups, *) and swapping those two dims, then one
    SHUFFLE merging them back. C must be static."""
    x, g = input, int(groups)
    if x.ndim < 3:
        raise ValueError(f"channel_shuffle: expected at least 3 dims (N, C, *), got {x.ndim}")
    c = x.shape[1]
    if c < 0:
        raise NotImplementedError("channel_shuffle with a dynamic channel count")
    if g <= 0 or c % g:
        raise ValueError(f"channel_shuffle: {c} channels are not divisible by groups={g}")
    if g == 1 or g == c:
        return x
    rest = [Dim(x, i) for i in range(2, x.ndim)]
    y = reshape_to(
        x,
        [Dim(x, 0), g, c // g] + rest,
        "channel_shuffle",
        then_permute=[0, 2, 1] + list(range(3, x.ndim + 1)),
    )
    return reshape_to(y, [Dim(y, 0), c] + [Dim(y, i) for i in range(3, y.ndim)], "channel_shuffle")


native_channel_shuffle = channel_shuffle
