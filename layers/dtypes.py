"""Dtype names as in torch (``layers.float16``) mapped onto ``trt.DataType``.

Type promotion for mixed-dtype ops mirrors torch's ordering closely enough for networks:
bool < integers < floating, wider wins inside a family.
"""

import numpy as np

from .backend import trt

float32 = trt.DataType.FLOAT
float16 = trt.DataType.HALF
bfloat16 = trt.DataType.BF16
int8 = trt.DataType.INT8
int32 = trt.DataType.INT32
int64 = trt.DataType.INT64
bool = trt.DataType.BOOL  # noqa: A001 - mirrors torch.bool
uint8 = trt.DataType.UINT8
float8_e4m3fn = trt.DataType.FP8
fp8 = float8_e4m3fn  # the quant="fp8" name
int4 = getattr(trt.DataType, "INT4", None)

_BY_NAME = {
    "float32": float32,
    "float": float32,
    "float16": float16,
    "half": float16,
    "bfloat16": bfloat16,
    "int8": int8,
    "int32": int32,
    "int64": int64,
    "long": int64,
    "bool": bool,
    "uint8": uint8,
    "float8_e4m3fn": float8_e4m3fn,
    "fp8": float8_e4m3fn,
}
if int4 is not None:
    _BY_NAME["int4"] = int4

_NUMPY = {
    float32: np.float32,
    float16: np.float16,
    int8: np.int8,
    int32: np.int32,
    int64: np.int64,
    bool: np.bool_,
    uint8: np.uint8,
}

_FROM_NUMPY = {np.dtype(v): k for k, v in _NUMPY.items()}

FLOATING = (float32, float16, bfloat16, float8_e4m3fn)
_RANK = {
    bool: 0,
    uint8: 1,
    int8: 1,
    int32: 2,
    int64: 3,
    float8_e4m3fn: 4,
    bfloat16: 5,
    float16: 5,
    float32: 6,
}


def to_trt(dtype):
    """Accept a ``trt.DataType``, a torch-style name, a numpy dtype or ``torch.dtype``."""
    if isinstance(dtype, trt.DataType):
        return dtype
    name = str(dtype).replace("torch.", "")
    if name in _BY_NAME:
        return _BY_NAME[name]
    try:
        return _FROM_NUMPY[np.dtype(dtype)]
    except (TypeError, KeyError):
        raise TypeError(f"unsupported dtype {dtype!r}; use one of {sorted(_BY_NAME)}") from None


def to_numpy(dtype):
    try:
        return _NUMPY[dtype]
    except KeyError:
        raise TypeError(f"{dtype} has no numpy equivalent") from None


def from_numpy(np_dtype):
    return _FROM_NUMPY[np.dtype(np_dtype)]


def is_floating(dtype):
    return dtype in FLOATING


def promote(a, b):
    """The dtype two operands meet at (torch-like, float16 vs bfloat16 goes to float32)."""
    if a == b:
        return a
    if {a, b} == {float16, bfloat16}:
        return float32
    return a if _RANK[a] >= _RANK[b] else b


def name_of(dtype):
    for name, value in _BY_NAME.items():
        if value == dtype:
            return name
    return str(dtype)
