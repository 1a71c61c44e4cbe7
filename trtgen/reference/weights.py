"""Read ``trt.Weights`` (kernels, biases, constants) into torch tensors.

``Weights.numpy()`` covers numpy-representable types. For BF16, FP8, INT4 and FP4 the Python
bindings return the ``Weights`` object itself and expose no pointer, so we read the underlying
``nvinfer1::Weights {DataType type; void const* values; int64_t count;}`` through the pybind11
instance (value pointer right after the PyObject header) and cross-check type and count against
the binding's own ``dtype``/``size`` before trusting it.
"""

import ctypes

import numpy as np
import torch

from .dtypes import storage_dtype

# E2M1 magnitudes indexed by the 3 low bits of an FP4 code.
_FP4_VALUES = torch.tensor([0.0, 0.5, 1.0, 1.5, 2.0, 3.0, 4.0, 6.0])


def _raw_bytes(weights):
    """(bytes, count) of a Weights object whose type numpy cannot represent."""
    holder = ctypes.c_void_p.from_address(id(weights) + 2 * ctypes.sizeof(ctypes.c_void_p)).value
    if not holder:
        raise TypeError("cannot locate the data of a TensorRT Weights object")
    dtype_code = ctypes.c_int32.from_address(holder).value
    values = ctypes.c_void_p.from_address(holder + 8).value
    count = ctypes.c_int64.from_address(holder + 16).value
    if dtype_code != int(weights.dtype) or count != weights.size:
        raise TypeError(
            f"unexpected layout of TensorRT Weights ({weights.dtype}, {weights.size} values); "
            "cannot read BF16/FP8/INT4/FP4 weights with this version of the bindings"
        )
    nbytes = {"BF16": 2 * count, "FP8": count, "INT4": (count + 1) // 2, "FP4": (count + 1) // 2}
    name = weights.dtype.name
    if name not in nbytes:
        raise TypeError(f"cannot read TensorRT weights of type {weights.dtype}")
    if count == 0 or not values:
        return b"", count
    return ctypes.string_at(values, nbytes[name]), count


def _unpack_nibbles(raw, count):
    """Two 4-bit codes per byte, first element in the low nibble."""
    packed = torch.frombuffer(bytearray(raw), dtype=torch.uint8)
    codes = torch.stack([packed & 0xF, packed >> 4], dim=-1).reshape(-1)[:count]
    return codes


def weights_to_torch(weights, shape=None):
    """A torch tensor (storage dtype, see dtypes.py) holding ``weights``, reshaped to ``shape``.

    Layer attributes already hand out numpy arrays for numpy-representable types and the
    ``Weights`` object otherwise; both are accepted.
    """
    if isinstance(weights, np.ndarray):
        array = weights
    else:
        array = weights.numpy() if weights.size else None
    if isinstance(array, np.ndarray):
        out = torch.from_numpy(np.array(array, copy=True))
    elif weights.size == 0:
        out = torch.zeros(0, dtype=storage_dtype(weights.dtype))
    else:
        raw, count = _raw_bytes(weights)
        name = weights.dtype.name
        if name == "BF16":
            out = torch.frombuffer(bytearray(raw), dtype=torch.int16).view(torch.bfloat16)
        elif name == "FP8":
            out = torch.frombuffer(bytearray(raw), dtype=torch.uint8).view(torch.float8_e4m3fn)
        elif name == "INT4":
            codes = _unpack_nibbles(raw, count).to(torch.int8)
            out = torch.where(codes >= 8, codes - 16, codes)  # two's complement nibble
        else:  # FP4 E2M1: sign bit 3, magnitude index bits 0-2
            codes = _unpack_nibbles(raw, count).long()
            out = _FP4_VALUES[codes & 7] * torch.where(codes >= 8, -1.0, 1.0)
        out = out.clone()
    if shape is not None:
        out = out.reshape(tuple(shape))
    return out
