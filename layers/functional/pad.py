"""torch.nn.functional.pad as one SLICE whose out-of-bounds sampling does the padding.

TensorRT's recommended padding: start = -pad_before, size = n + pad_before + pad_after, and the
slice's SampleMode says what lies outside the input (FILL = constant, REFLECT, CLAMP = replicate,
WRAP = circular). Negative pads crop. ``add_padding_nd`` would only zero-pad.
"""

from ..backend import trt
from ._common import scalar
from .shape import Dim, slice_layer

__all__ = ["pad"]

_MODES = {
    "constant": trt.SampleMode.FILL,
    "reflect": trt.SampleMode.REFLECT,
    "replicate": trt.SampleMode.CLAMP,
    "circular": trt.SampleMode.WRAP,
}


def pad(input, pad, mode="constant", value=None):
    """``pad`` lists (before, after) pairs starting from the LAST dim, as in torch."""
    x = input
    if mode not in _MODES:
        raise ValueError(f"pad: unsupported mode {mode!r}; use one of {sorted(_MODES)}")
    pad = [int(p) for p in pad]
    if len(pad) % 2 or len(pad) > 2 * x.ndim:
        raise ValueError(f"pad: expected an even number of values, at most {2 * x.ndim}, got {pad}")
    if mode == "circular" and min(pad) < 0 < max(pad):
        # torch crops first and wraps around the cropped tensor: two SLICEs
        x = _slice_pad(x, [min(p, 0) for p in pad], "constant", None)
        pad = [max(p, 0) for p in pad]
    return _slice_pad(x, pad, mode, value)


def _slice_pad(x, pad, mode, value):
    before, after = [0] * x.ndim, [0] * x.ndim
    for i in range(len(pad) // 2):
        before[x.ndim - 1 - i], after[x.ndim - 1 - i] = pad[2 * i], pad[2 * i + 1]
    if not any(before) and not any(after):
        return x
    sizes = [Dim(x, i, b + a) for i, (b, a) in enumerate(zip(before, after))]
    fill = None
    if mode == "constant" and value:  # FILL defaults to 0
        fill = scalar(value, x.dtype)
    elif mode != "constant" and value:
        raise ValueError(f"pad: a fill value only applies to mode='constant', got mode={mode!r}")
    return slice_layer(
        x, [-b for b in before], sizes, [1] * x.ndim, mode=_MODES[mode], fill=fill, op="pad"
    )
