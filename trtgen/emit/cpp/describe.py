"""``--describe``: a network as JSON, written the same way from Python and from C++.

Both writers list every layer's type, name, inputs, output names/dtypes/shapes, the attributes
of its row in ``specs`` and a hash of each build-time weight, so a test can compare the network
``network.py`` builds with the one ``network.cpp`` builds, layer by layer.
"""

import numpy as np

from layers.backend import trt

from ...reference.registry import downcast, layer_type
from .literals import data_type_of
from .specs import SPECS

WEIGHT_GETTERS = {
    "kernel": "getKernelWeights",
    "bias": "getBiasWeights",
    "shift": "getShift",
    "scale": "getScale",
    "power": "getPower",
    "weights": "getWeights",
}
# attributes of rows that are not plain get<cpp>() values: written by hand on both sides
SPECIAL = {(trt.LayerType.RESIZE, "scales"), (trt.LayerType.RESIZE, "shape")}


def checksum(array):
    """sum of byte_i * (2 i + 1) mod 2**64 over the raw bytes: order-sensitive, vectorisable,
    and computed the same way by the C++ describer."""
    data = np.ascontiguousarray(array).view(np.uint8).reshape(-1)
    total = np.uint64(0)
    chunk = 1 << 22
    with np.errstate(over="ignore"):
        for start in range(0, data.size, chunk):
            part = data[start : start + chunk].astype(np.uint64)
            weights = np.arange(start, start + part.size, dtype=np.uint64) * np.uint64(
                2
            ) + np.uint64(1)
            total = total + np.sum(part * weights, dtype=np.uint64)
    return f"{int(total):016x}"


def _value(kind, value):
    if value is None:
        return None
    if kind in ("int", "axes"):
        return int(value)
    if kind == "float":
        return "%.9g" % float(np.float32(value))
    if kind == "double":
        return "%.17g" % float(value)
    if kind == "bool":
        return bool(value)
    if kind in ("dims", "perm"):
        values = [int(v) for v in value]
        return values if values or kind == "perm" else None
    if kind == "enum":
        return int(value)
    if kind == "str":
        return str(value)
    raise ValueError(kind)


def _tensor(tensor):
    return {
        "name": tensor.name,
        "dtype": int(tensor.dtype),
        "shape": [int(d) for d in tensor.shape],
    }


def _weights(array):
    if isinstance(array, trt.Weights) and array.size == 0:  # TensorRT hands back empty Weights
        return {"count": 0}
    array = np.asarray(array)
    if array.size == 0:
        return {"count": 0}
    return {"type": int(data_type_of(array)), "count": int(array.size), "checksum": checksum(array)}


def describe_layer(layer):
    layer = downcast(layer)
    kind = layer_type(layer)
    spec = SPECS.get(kind)
    entry = {
        "name": layer.name,
        "type": int(kind),
        "inputs": [
            None if layer.get_input(i) is None else layer.get_input(i).name
            for i in range(layer.num_inputs)
        ],
        "outputs": [_tensor(layer.get_output(i)) for i in range(layer.num_outputs)],
        "attrs": {},
        "weights": {},
    }
    if spec is None:
        return entry
    skip = spec.skip(layer) if spec.skip else ()
    for attr in spec.attrs:
        if (kind, attr.py) in SPECIAL:
            continue
        if attr.py in skip:  # not set on the layer: described as unset, as C++ reads it
            entry["attrs"][attr.py] = None
            continue
        value = _value(attr.kind, getattr(layer, attr.py))
        if attr.kind == "perm":  # only the entries within the input's rank mean anything
            tensor = layer.get_output(0) if attr.py == "second_transpose" else layer.get_input(0)
            value = value[: len(tensor.shape)]
        entry["attrs"][attr.py] = value
    if kind == trt.LayerType.RESIZE:
        entry["attrs"]["scales"] = ["%.9g" % float(np.float32(s)) for s in (layer.scales or [])]
    for role in spec.weights:
        entry["weights"][role] = _weights(getattr(layer, role))
    return entry


def describe_network(network):
    return {
        "inputs": [_tensor(network.get_input(i)) for i in range(network.num_inputs)],
        "outputs": [network.get_output(i).name for i in range(network.num_outputs)],
        "layers": [describe_layer(network.get_layer(i)) for i in range(network.num_layers)],
    }


# --------------------------------------------------------------------------- C++ writer
def _cpp_value(kind, expr):
    return {
        "int": f"out << {expr};",
        "axes": f"out << {expr};",
        "float": f"put_float(out, {expr});",
        "double": f"put_double(out, {expr});",
        "bool": f'out << ({expr} ? "true" : "false");',
        "dims": f"put_dims(out, {expr});",
        "perm": f"put_perm(out, {expr}, layer.getInput(0)->getDimensions().nbDims);",
        "enum": f"out << static_cast<int>({expr});",
        "str": f"put_string(out, {expr});",
    }[kind]


def cpp_describer(layer_types):
    """Source of ``trtgen_describe.h`` for networks made of ``layer_types``."""
    cases = []
    for kind in sorted(set(layer_types), key=int):
        spec = SPECS.get(kind)
        if spec is None:
            continue
        lines = [f"case nvinfer1::LayerType::k{kind.name}:", "{"]
        if spec.attrs or spec.weights or kind == trt.LayerType.RESIZE:
            lines.append(f"auto const& l = static_cast<nvinfer1::{spec.cpp_class} const&>(layer);")
        fields = []
        for attr in spec.attrs:
            if (kind, attr.py) in SPECIAL:
                continue
            statement = _cpp_value(attr.kind, f"l.{attr.cpp_getter}()")
            if attr.py == "second_transpose":
                statement = statement.replace("layer.getInput(0)", "layer.getOutput(0)")
            fields.append((attr.py, statement))
        if kind == trt.LayerType.RESIZE:
            fields.append(("scales", "put_scales(out, l);"))
        for k, (key, statement) in enumerate(fields):
            lines.append(f'out << "{", " if k else ""}\\"{key}\\": ";')
            lines.append(statement)
        lines.append('out << "}, \\"weights\\": {";')
        for k, role in enumerate(spec.weights):
            lines.append(f'out << "{", " if k else ""}\\"{role}\\": ";')
            lines.append(f"put_weights(out, l.{WEIGHT_GETTERS[role]}());")
        lines.append('out << "}";')
        lines.append("return;")
        lines.append("}")
        cases.append("\n".join(lines))
    return _CPP_TEMPLATE.replace("@CASES@", "\n".join(cases))


_CPP_TEMPLATE = r"""// --describe for trtgen's generated C++ builders: the network as JSON, in the same form as
// trtgen's Python describer writes, so the two builders can be compared layer by layer.
#pragma once

#include "trtgen_builder.h"

#include <NvInfer.h>

#include <cstdint>
#include <cstdio>
#include <ostream>
#include <string>

namespace trtgen
{
namespace describe_detail
{

inline void put_string(std::ostream& out, std::string const& text)
{
    out << '"';
    for (char c : text)
    {
        if (c == '"' || c == '\\')
        {
            out << '\\' << c;
        }
        else if (static_cast<unsigned char>(c) < 0x20)
        {
            char buffer[8];
            std::snprintf(buffer, sizeof(buffer), "\\u%04x", c);
            out << buffer;
        }
        else
        {
            out << c;
        }
    }
    out << '"';
}

inline void put_float(std::ostream& out, float value)
{
    char buffer[32];
    std::snprintf(buffer, sizeof(buffer), "%.9g", static_cast<double>(value));
    put_string(out, buffer);
}

inline void put_double(std::ostream& out, double value)
{
    char buffer[40];
    std::snprintf(buffer, sizeof(buffer), "%.17g", value);
    put_string(out, buffer);
}

inline void put_dims(std::ostream& out, nvinfer1::Dims const& dims)
{
    if (dims.nbDims <= 0)
    {
        out << "null";
        return;
    }
    out << '[';
    for (int32_t i = 0; i < dims.nbDims; ++i)
    {
        out << (i ? ", " : "") << dims.d[i];
    }
    out << ']';
}

inline void put_shape(std::ostream& out, nvinfer1::Dims const& dims)
{
    out << '[';
    for (int32_t i = 0; i < dims.nbDims; ++i)
    {
        out << (i ? ", " : "") << dims.d[i];
    }
    out << ']';
}

inline void put_perm(std::ostream& out, nvinfer1::Permutation const& perm, int32_t rank)
{
    out << '[';
    for (int32_t i = 0; i < rank; ++i)
    {
        out << (i ? ", " : "") << perm.order[i];
    }
    out << ']';
}

inline void put_weights(std::ostream& out, nvinfer1::Weights const& weights)
{
    if (weights.count == 0 || weights.values == nullptr)
    {
        out << "{\"count\": 0}";
        return;
    }
    // sum of byte_i * (2 i + 1) mod 2^64, as the Python describer computes it
    uint64_t hash = 0;
    auto const* bytes = static_cast<unsigned char const*>(weights.values);
    size_t const size = static_cast<size_t>(weights.count) * element_size(weights.type);
    for (size_t i = 0; i < size; ++i)
    {
        hash += static_cast<uint64_t>(bytes[i]) * (2 * static_cast<uint64_t>(i) + 1);
    }
    char buffer[24];
    std::snprintf(buffer, sizeof(buffer), "%016llx", static_cast<unsigned long long>(hash));
    out << "{\"type\": " << static_cast<int>(weights.type) << ", \"count\": " << weights.count
        << ", \"checksum\": \"" << buffer << "\"}";
}

inline void put_scales(std::ostream& out, nvinfer1::IResizeLayer const& layer)
{
    float scales[nvinfer1::Dims::MAX_DIMS];
    int32_t count = layer.getScales(0, nullptr); // copies only when asked for exactly that many
    if (count < 0 || count > nvinfer1::Dims::MAX_DIMS)
    {
        count = 0;
    }
    layer.getScales(count, scales);
    out << '[';
    for (int32_t i = 0; i < count; ++i)
    {
        out << (i ? ", " : "");
        put_float(out, scales[i]);
    }
    out << ']';
}

inline void put_tensor(std::ostream& out, nvinfer1::ITensor const& tensor)
{
    out << "{\"name\": ";
    put_string(out, tensor.getName());
    out << ", \"dtype\": " << static_cast<int>(tensor.getType()) << ", \"shape\": ";
    put_shape(out, tensor.getDimensions());
    out << '}';
}

// "attrs" and "weights" of one layer, by its type.
inline void put_attributes(std::ostream& out, nvinfer1::ILayer const& layer)
{
    out << "\"attrs\": {";
    switch (layer.getType())
    {
@CASES@
    default: break;
    }
    out << "}, \"weights\": {}";
}

} // namespace describe_detail

inline void describe_network(nvinfer1::INetworkDefinition const& net, std::ostream& out)
{
    using namespace describe_detail;
    out << "{\"inputs\": [";
    for (int32_t i = 0; i < net.getNbInputs(); ++i)
    {
        out << (i ? ", " : "");
        put_tensor(out, *net.getInput(i));
    }
    out << "], \"outputs\": [";
    for (int32_t i = 0; i < net.getNbOutputs(); ++i)
    {
        out << (i ? ", " : "");
        put_string(out, net.getOutput(i)->getName());
    }
    out << "], \"layers\": [\n";
    for (int32_t i = 0; i < net.getNbLayers(); ++i)
    {
        nvinfer1::ILayer const& layer = *net.getLayer(i);
        out << (i ? ",\n" : "") << "{\"name\": ";
        put_string(out, layer.getName());
        out << ", \"type\": " << static_cast<int>(layer.getType()) << ", \"inputs\": [";
        for (int32_t j = 0; j < layer.getNbInputs(); ++j)
        {
            out << (j ? ", " : "");
            nvinfer1::ITensor const* input = layer.getInput(j);
            if (input == nullptr)
            {
                out << "null";
            }
            else
            {
                put_string(out, input->getName());
            }
        }
        out << "], \"outputs\": [";
        for (int32_t j = 0; j < layer.getNbOutputs(); ++j)
        {
            out << (j ? ", " : "");
            put_tensor(out, *layer.getOutput(j));
        }
        out << "], ";
        put_attributes(out, layer);
        out << '}';
    }
    out << "\n]}\n";
}

} // namespace trtgen
"""
