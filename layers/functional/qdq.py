"""Explicit quantization: QUANTIZE / DEQUANTIZE layers and the Q/DQ pair TensorRT fuses.

Scales are FP32 build-time constants (TensorRT wants constants; FP32 scales work for FP32,
FP16 and BF16 tensors alike), symmetric (no zero point): a 0-d scale per tensor, a 1-D scale
along ``axis`` per channel (weights), or a scale of the input's rank with one dim divided by a
block size (INT4 weight-only). Inside ``layers.quant_calibration.calibration_taps()`` an
activation quantizer adds no layers: it names its input for the calibrator instead.
"""

import numpy as np

from .. import dtypes
from ..module import Parameter
from ..quant_calibration import calibrating, tap
from ..tensor import Tensor
from ._common import network, output
from .constant import constant

__all__ = ["quantize", "dequantize", "fake_quantize", "QUANT_TYPES"]

# quant= names → the quantized TensorRT type
QUANT_TYPES = {"int8": dtypes.int8, "fp8": dtypes.float8_e4m3fn}


def _quant_type(qtype):
    if isinstance(qtype, str):
        if qtype not in QUANT_TYPES:
            raise ValueError(
                f"unknown quantized type {qtype!r}; choose one of {', '.join(QUANT_TYPES)}"
            )
        return QUANT_TYPES[qtype]
    return dtypes.to_trt(qtype)


def _scale_tensor(scale):
    if isinstance(scale, Parameter):  # one constant per network, named by its quant.safetensors key
        return scale.tensor()
    if isinstance(scale, Tensor):
        return scale
    return constant(np.asarray(scale, dtype=np.float32))


def _check_scale(x, scale, axis):
    shape = tuple(scale.shape)
    if len(shape) == 0 or shape == (1,):
        return None
    if len(shape) == 1 and axis is not None:
        if x.shape[axis] not in (-1, shape[0]):
            raise ValueError(
                f"a per-channel scale of {shape[0]} does not fit dim {axis} of {x.shape}"
            )
        return axis
    if len(shape) == x.ndim and all(-1 in (n, s) or n % s == 0 for n, s in zip(x.shape, shape)):
        return None  # block scales: each covers a block of consecutive elements
    raise ValueError(
        f"scale of shape {list(shape)} fits neither per tensor, per channel (axis) nor blocks "
        f"of an input of shape {list(x.shape)}"
    )


def quantize(input, scale, dtype, axis=None):
    """One QUANTIZE layer: round_half_even(input / scale) clamped into ``dtype``."""
    scale = _scale_tensor(scale)
    axis = _check_scale(input, scale, axis)
    layer = network().add_quantize(input.trt, scale.trt, _quant_type(dtype))
    if axis is not None:
        layer.axis = axis
    return output(layer, "quantize")


def dequantize(input, scale, dtype, axis=None):
    """One DEQUANTIZE layer: input * scale, as ``dtype``."""
    scale = _scale_tensor(scale)
    axis = _check_scale(input, scale, axis)
    layer = network().add_dequantize(input.trt, scale.trt, dtypes.to_trt(dtype))
    if axis is not None:
        layer.axis = axis
    return output(layer, "dequantize")


def fake_quantize(input, scale, qtype, axis=None):
    """A Q/DQ pair back to ``input``'s dtype. While calibrating, an activation (per-tensor)
    quantizer returns ``input`` and records it under its scale's key; a weight one, just input."""
    if calibrating():
        if axis is None and isinstance(scale, Parameter):
            tap(scale.name, input)
        return input
    scale = _scale_tensor(scale)
    return dequantize(quantize(input, scale, qtype, axis), scale, input.dtype, axis)
