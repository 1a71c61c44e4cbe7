"""C++ spelling of literal values, and the C++ parameter type that carries each kind."""

import math

import numpy as np

from layers.backend import trt

from .. import escape

PARAM_TYPES = {
    "int": "int64_t",
    "float": "float",
    "double": "double",
    "bool": "bool",
    "dims": "Dims const&",
    "perm": "Permutation const&",
    "axes": "uint32_t",
    "str": "std::string const&",
    "name": "std::string const&",
}

CPP_KEYWORDS = frozenset(
    "alignas alignof and and_eq asm auto bitand bitor bool break case catch char class compl "
    "const constexpr const_cast continue decltype default delete do double dynamic_cast else "
    "enum explicit export extern false float for friend goto if inline int long mutable "
    "namespace new noexcept not not_eq nullptr operator or or_eq private protected public "
    "register reinterpret_cast return short signed sizeof static static_assert static_cast "
    "struct switch template this thread_local throw true try typedef typeid typename union "
    "unsigned using virtual void volatile wchar_t while xor xor_eq main".split()
)


# file-scope functions of network.cpp and the support headers, called unqualified: no local
# variable or helper may take their names (an input named ``dims`` would hide dims(...))
SUPPORT_NAMES = frozenset(
    "build_network expected_weights named rename dims perm no_weights profiles main".split()
)


def cpp_string(text):
    return escape.cpp_string(text)


def cpp_float(value):
    value = float(np.float32(value))
    if math.isnan(value):
        return "std::numeric_limits<float>::quiet_NaN()"
    if math.isinf(value):
        return ("-" if value < 0 else "") + "std::numeric_limits<float>::infinity()"
    text = str(np.float32(value))  # shortest text that reads back as the same float32
    if "." not in text and "e" not in text:
        text += ".0"
    return text + "f"


def cpp_double(value):
    value = float(value)
    if math.isinf(value) or math.isnan(value):
        return "std::numeric_limits<double>::" + (
            "quiet_NaN()" if math.isnan(value) else "infinity()"
        )
    return repr(value)


def cpp_enum(value):
    return f"{type(value).__name__}::k{value.name}"


def cpp_dims(values):
    return "dims({" + ", ".join(str(int(v)) for v in values) + "})"


def cpp_perm(values):
    order = [int(v) for v in values]
    return "perm({" + ", ".join(map(str, order)) + "})"


def cpp_axes(mask):
    mask = int(mask)
    bits = [i for i in range(32) if mask >> i & 1]
    if not bits:
        return "0U"
    return " | ".join(f"1U << {b}" for b in bits)


def render_literal(kind, value):
    if kind == "int":
        return str(int(value))
    if kind == "float":
        return cpp_float(value)
    if kind == "double":
        return cpp_double(value)
    if kind == "bool":
        return "true" if value else "false"
    if kind == "dims":
        return cpp_dims(value)
    if kind == "perm":
        return cpp_perm(value)
    if kind == "enum":
        return cpp_enum(value)
    if kind == "axes":
        return cpp_axes(value)
    if kind in ("str",):
        return cpp_string(value)
    if kind == "name":
        relative, text = value
        if not relative:
            return cpp_string(text)
        return "name" if not text else f"name + {cpp_string(text)}"
    raise ValueError(f"unknown literal kind {kind!r}")


def param_type(kind, value):
    if kind == "enum":
        return type(value).__name__
    return PARAM_TYPES[kind]


def data_type_of(array):
    """The TensorRT DataType of a numpy array's element type."""
    return {
        np.dtype(np.float32): trt.float32,
        np.dtype(np.float16): trt.float16,
        np.dtype(np.int8): trt.int8,
        np.dtype(np.int32): trt.int32,
        np.dtype(np.int64): trt.int64,
        np.dtype(np.bool_): trt.bool,
        np.dtype(np.uint8): trt.uint8,
    }[np.dtype(array.dtype)]
