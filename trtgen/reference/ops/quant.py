"""QUANTIZE and DEQUANTIZE: per-tensor, per-channel (axis) and block scales.

quantize:   clamp(round_half_even(x / scale)) into INT8 [-128, 127], INT4 [-8, 7],
            FP8 E4M3 [-448, 448] (then rounded to the E4M3 grid) or FP4 E2M1 [-6, 6].
dequantize: x * scale. Zero points, when present, must be zero (symmetric only) and are ignored.
"""

import torch

from ..registry import handles
from ._util import channel_shape, normalize_axis

_INT_RANGE = {"INT8": (-128, 127), "INT4": (-8, 7)}
_FP4_GRID = torch.tensor([0.0, 0.5, 1.0, 1.5, 2.0, 3.0, 4.0, 6.0])


def _broadcast_scale(layer, x, scale):
    """Scale shaped to broadcast against x: scalar, 1-D along ``axis``, or blocked."""
    scale = scale.float()
    if scale.numel() == 1:
        return scale.reshape(())
    if scale.dim() == 1 and x.dim() != 1:
        axis = normalize_axis(layer.axis, x.dim())
        return scale.reshape(channel_shape(scale.numel(), axis, x.dim()))
    if scale.dim() != x.dim():
        raise ValueError(f"scale of shape {tuple(scale.shape)} does not fit input {tuple(x.shape)}")
    for axis, (n, s) in enumerate(zip(x.shape, scale.shape)):
        if n != s:  # blocked axis: each scale covers n // s consecutive elements
            scale = scale.repeat_interleave(n // s, dim=axis)
    return scale


def _round_fp4(v):
    """Nearest E2M1 value, ties to the even mantissa (RNE), saturating at 6."""
    mag = v.abs().clamp(max=6.0)
    dist = (mag.unsqueeze(-1) - _FP4_GRID).abs()
    best = dist.min(dim=-1, keepdim=True).values
    ties = dist == best
    # Among equidistant grid points prefer the one with an even code (index), i.e. even mantissa.
    codes = torch.arange(len(_FP4_GRID))
    score = ties.float() * 2 + (codes % 2 == 0).float()
    return _FP4_GRID[score.argmax(dim=-1)] * torch.sign(v)


@handles("QUANTIZE")
def quantize(layer, inputs, ctx):
    x, scale = inputs[0].float(), inputs[1]
    q = x / _broadcast_scale(layer, x, scale)
    kind = layer.get_output(0).dtype.name
    if kind in _INT_RANGE:
        low, high = _INT_RANGE[kind]
        return torch.round(q).clamp(low, high)
    if kind == "FP8":
        return q.clamp(-448.0, 448.0).to(torch.float8_e4m3fn)
    if kind == "FP4":
        return _round_fp4(q)
    raise ValueError(f"unsupported quantized type {kind}")


@handles("DEQUANTIZE")
def dequantize(layer, inputs, ctx):
    x, scale = inputs[0].float(), inputs[1]
    return x * _broadcast_scale(layer, x, scale)
