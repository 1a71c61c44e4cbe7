"""TensorRT data types as torch storage dtypes, and the casts between them.

Values are *stored* in the tensor's TensorRT type (fp16 stays fp16, fp8 stays float8_e4m3fn).
Types torch cannot hold natively get the nearest faithful storage:
INT4 -> int8 holding values in [-8, 7]; FP4 (E2M1) -> float32 holding values on the FP4 grid.
"""

import torch

_STORAGE = {
    "FLOAT": torch.float32,
    "HALF": torch.float16,
    "BF16": torch.bfloat16,
    "INT8": torch.int8,
    "INT32": torch.int32,
    "INT64": torch.int64,
    "BOOL": torch.bool,
    "UINT8": torch.uint8,
    "FP8": torch.float8_e4m3fn,
    "INT4": torch.int8,
    "FP4": torch.float32,
    "E8M0": getattr(torch, "float8_e8m0fnu", torch.float32),
}

# Reduced-precision floats are widened to fp32 before a handler runs (see executor.to_working).
_WIDEN = {torch.float16, torch.bfloat16, torch.float8_e4m3fn}
if hasattr(torch, "float8_e8m0fnu"):
    _WIDEN.add(torch.float8_e8m0fnu)


def storage_dtype(trt_dtype):
    """torch dtype that holds a tensor of the given ``trt.DataType``."""
    try:
        return _STORAGE[trt_dtype.name]
    except KeyError:
        raise TypeError(f"no torch storage for TensorRT type {trt_dtype}") from None


def is_floating(trt_dtype):
    return trt_dtype.name in ("FLOAT", "HALF", "BF16", "FP8", "FP4", "E8M0")


def widen(t):
    """fp16/bf16/fp8 -> fp32 (exact), everything else unchanged."""
    return t.float() if t.dtype in _WIDEN else t


def to_storage(t, trt_dtype):
    """Cast a handler result to the tensor's declared TensorRT type (rounds reduced floats)."""
    name = trt_dtype.name
    if name == "INT4":
        return t.to(torch.int8)
    if name == "FP4":
        return t.to(torch.float32)
    if name == "FP8" and t.is_floating_point():
        # float -> float8_e4m3fn has no inf; TensorRT saturates, so clamp first.
        return t.float().clamp(-448.0, 448.0).to(torch.float8_e4m3fn)
    return t.to(storage_dtype(trt_dtype))
