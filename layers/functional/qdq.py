"""Explicit quantization: QUANTIZE / DEQUANTIZE layers and the Q/DQ pair TensorRT fuses.

Scales are build-time constants (TensorRT wants constants) in the float type of the quantized
side: the input's for QUANTIZE, the output's for DEQUANTIZE (FP32 scale Parameters become FP16 /
BF16 constants in a reduced-precision network: TensorRT-RTX refuses FP32 block scales for FP16
and BF16 data). Symmetric (no zero point): a 0-d scale per tensor, a 1-D scale along ``axis``
per channel (weights), or a scale of the input's rank with one of its last two dims divided by
a block size (INT4 weight-only). Inside ``layers.quant_calibration.calibration_taps()`` an
activation quantizer adds no layers: it names its input for the calibrator instead.
"""

import numpy as np

from .. import dtypes
from ..module import Parameter
from ..quant_calibration import calibrating, tap
from ..tensor import Tensor
from ._common import cast_layer, constant, network, normalize_dim, output

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


def check_quant(quant, owner):
    """``quant`` if it names a Q/DQ type ("int8", "fp8") or is None, for module constructors."""
    if quant is not None and quant not in QUANT_TYPES:
        raise ValueError(
            f"{owner}: quant must be None or one of {list(QUANT_TYPES)}, got {quant!r}"
        )
    return quant


def _scale_tensor(scale, dtype):
    """``scale`` as a network tensor of the float type ``dtype``."""
    dtype = dtypes.to_trt(dtype)
    if isinstance(scale, Tensor) and not isinstance(scale, Parameter):
        return cast_layer(scale, dtype, "scale_cast")
    name = scale.name if isinstance(scale, Parameter) else None
    values = scale.numpy() if isinstance(scale, Parameter) else scale
    values = np.asarray(values, dtype=np.float32)
    if not np.all(values > 0):
        raise ValueError(
            f"scale{f' {name!r}' if name else ''} has values <= 0 (or NaN): TensorRT needs "
            "strictly positive scales"
        )
    if isinstance(scale, Parameter) and scale.dtype == dtype:
        return scale.tensor()  # one constant per network, named by its quant.safetensors key
    if dtype == dtypes.float16:  # keep tiny / huge scales positive and finite in FP16
        info = np.finfo(np.float16)
        values = np.clip(values, info.smallest_subnormal, info.max)
    return constant(values, name=name, dtype=dtype)


def _check_scale(x, scale, axis):
    """The axis to set on the layer (per channel), or None (per tensor or blocks)."""
    shape = tuple(scale.shape)
    if len(shape) == 0 or shape == (1,):
        return None
    if len(shape) == 1 and axis is not None:
        axis = normalize_dim(axis, x.ndim)
        if x.shape[axis] not in (-1, shape[0]):
            raise ValueError(
                f"a per-channel scale of {shape[0]} does not fit dim {axis} of {list(x.shape)}"
            )
        return axis
    # block scales: the input's shape with one of its last two dims divided by the block size
    blocked = [i for i, (n, s) in enumerate(zip(x.shape, shape)) if n not in (-1, s)]
    if (
        axis is None
        and len(shape) == x.ndim >= 2
        and len(blocked) == 1
        and blocked[0] >= x.ndim - 2
        and x.shape[blocked[0]] % shape[blocked[0]] == 0
    ):
        return None
    raise ValueError(
        f"scale of shape {list(shape)} fits neither per tensor (0-d), per channel (1-D along "
        f"axis={axis}) nor blocks (one of the last two dims divided) of an input of shape "
        f"{list(x.shape)}"
    )


def quantize(input, scale, dtype, axis=None):
    """One QUANTIZE layer: round_half_even(input / scale) clamped into ``dtype``."""
    scale = _scale_tensor(scale, input.dtype)
    axis = _check_scale(input, scale, axis)
    layer = network().add_quantize(input.trt, scale.trt, _quant_type(dtype))
    if axis is not None:
        layer.axis = axis
    return output(layer, "quantize")


def dequantize(input, scale, dtype, axis=None):
    """One DEQUANTIZE layer: input * scale, as ``dtype``."""
    scale = _scale_tensor(scale, dtype)
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
    scale = _scale_tensor(scale, input.dtype)  # one constant for both layers
    return dequantize(quantize(input, scale, qtype, axis), scale, input.dtype, axis)


# --------------------------------------------------------------------------- weight-only
# weight_only= names → (TensorRT type, clamp range)
WEIGHT_ONLY_TYPES = {"int8": ("INT8", -128, 127), "int4": ("INT4", -8, 7)}


def _round_to_int(values, low, high):
    """TensorRT's quantize, in numpy: round half to even, then clamp."""
    return np.clip(np.rint(values), low, high).astype(np.int8)


def _pack_int4(q):
    """Two INT4 values per byte along the last dim, the first in the low nibble."""
    low, high = q[..., 0::2].astype(np.uint8) & 0xF, q[..., 1::2].astype(np.uint8) & 0xF
    return (high << 4 | low).astype(np.uint8)


def quantized_weight(weight, scale, qtype, dtype):
    """The weight rounded at build time into an INT8 / INT4 CONSTANT, then a DEQUANTIZE to
    ``dtype``: per output row (``scale`` (out,)) or in blocks along the last dim (``scale``
    (out, in / block)). ``weight`` and ``scale`` are Parameters."""
    from ..backend import trt
    from ..network import as_weights, current_network, keep_alive

    kind, low, high = WEIGHT_ONLY_TYPES[qtype]
    values, scales = weight.stored().astype(np.float32), scale.numpy().astype(np.float32)
    expanded = scales.reshape(scales.shape[0], -1)
    expanded = np.repeat(expanded, values.shape[-1] // expanded.shape[-1], axis=-1)
    q = _round_to_int(values / expanded, low, high)
    if kind == "INT4":
        if values.shape[-1] % 2:
            raise ValueError(f"INT4 weights need an even number of columns, got {values.shape}")
        packed = keep_alive(np.ascontiguousarray(_pack_int4(q)))
        data = trt.Weights(trt.DataType.INT4, packed.ctypes.data, q.size)
    else:
        data = as_weights(q)
    layer = current_network().add_constant(tuple(q.shape), data)
    quantized = output(layer, f"{qtype}_weight")
    axis = 0 if scales.ndim == 1 else None
    return dequantize(quantized, scale, dtype, axis)
