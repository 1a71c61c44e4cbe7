"""F.grid_sample as one GRID_SAMPLE layer.

torch's arguments map one to one: mode nearest / bilinear / bicubic → NEAREST / LINEAR / CUBIC
interpolation; padding_mode zeros / border / reflection → FILL / CLAMP / REFLECT sampling;
``align_corners`` as is. TensorRT's layer is 4-D only (input (N, C, H, W), grid
(N, H_out, W_out, 2)) and float only: a 5-D (volumetric) grid_sample is refused.
"""

from .. import dtypes
from ..backend import trt
from ._common import network, output
from .cast import cast

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
    if input.ndim != 4 or grid.ndim != 4:
        raise NotImplementedError(
            f"grid_sample on a {input.ndim}-D input: TensorRT's GridSample layer is 4-D only "
            "(N, C, H, W)"
        )
    if not dtypes.is_floating(input.dtype):
        raise TypeError("grid_sample: input must be a float tensor")
    grid = cast(grid, input.dtype)
    layer = network().add_grid_sample(input.trt, grid.trt)
    layer.interpolation_mode = _MODES[mode]
    layer.sample_mode = _PADDING[padding_mode]
    layer.align_corners = bool(align_corners)  # torch's default (None) is False
    return output(layer, "grid_sample")
