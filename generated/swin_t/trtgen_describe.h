// --describe for trtgen's generated C++ builders: the network as JSON, in the same form as
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
    out << "{\"type\": " << static_cast<int>(weights.type) << ", \"count\": " << weights.count << ", \"checksum\": \""
        << buffer << "\"}";
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
    case nvinfer1::LayerType::kCONVOLUTION:
    {
        auto const& l = static_cast<nvinfer1::IConvolutionLayer const&>(layer);
        out << "\"stride_nd\": ";
        put_dims(out, l.getStrideNd());
        out << ", \"pre_padding\": ";
        put_dims(out, l.getPrePadding());
        out << ", \"post_padding\": ";
        put_dims(out, l.getPostPadding());
        out << ", \"dilation_nd\": ";
        put_dims(out, l.getDilationNd());
        out << ", \"num_groups\": ";
        out << l.getNbGroups();
        out << ", \"padding_mode\": ";
        out << static_cast<int>(l.getPaddingMode());
        out << "}, \"weights\": {";
        out << "\"kernel\": ";
        put_weights(out, l.getKernelWeights());
        out << ", \"bias\": ";
        put_weights(out, l.getBiasWeights());
        out << "}";
        return;
    }
    case nvinfer1::LayerType::kCAST:
    {
        out << "}, \"weights\": {";
        out << "}";
        return;
    }
    case nvinfer1::LayerType::kACTIVATION:
    {
        auto const& l = static_cast<nvinfer1::IActivationLayer const&>(layer);
        out << "\"alpha\": ";
        put_float(out, l.getAlpha());
        out << ", \"beta\": ";
        put_float(out, l.getBeta());
        out << "}, \"weights\": {";
        out << "}";
        return;
    }
    case nvinfer1::LayerType::kSCALE:
    {
        auto const& l = static_cast<nvinfer1::IScaleLayer const&>(layer);
        out << "}, \"weights\": {";
        out << "\"shift\": ";
        put_weights(out, l.getShift());
        out << ", \"scale\": ";
        put_weights(out, l.getScale());
        out << ", \"power\": ";
        put_weights(out, l.getPower());
        out << "}";
        return;
    }
    case nvinfer1::LayerType::kSOFTMAX:
    {
        auto const& l = static_cast<nvinfer1::ISoftMaxLayer const&>(layer);
        out << "\"axes\": ";
        out << l.getAxes();
        out << "}, \"weights\": {";
        out << "}";
        return;
    }
    case nvinfer1::LayerType::kCONCATENATION:
    {
        auto const& l = static_cast<nvinfer1::IConcatenationLayer const&>(layer);
        out << "\"axis\": ";
        out << l.getAxis();
        out << "}, \"weights\": {";
        out << "}";
        return;
    }
    case nvinfer1::LayerType::kELEMENTWISE:
    {
        out << "}, \"weights\": {";
        out << "}";
        return;
    }
    case nvinfer1::LayerType::kSHUFFLE:
    {
        auto const& l = static_cast<nvinfer1::IShuffleLayer const&>(layer);
        out << "\"first_transpose\": ";
        put_perm(out, l.getFirstTranspose(), layer.getInput(0)->getDimensions().nbDims);
        out << ", \"reshape_dims\": ";
        put_dims(out, l.getReshapeDimensions());
        out << ", \"second_transpose\": ";
        put_perm(out, l.getSecondTranspose(), layer.getOutput(0)->getDimensions().nbDims);
        out << ", \"zero_is_placeholder\": ";
        out << (l.getZeroIsPlaceholder() ? "true" : "false");
        out << "}, \"weights\": {";
        out << "}";
        return;
    }
    case nvinfer1::LayerType::kREDUCE:
    {
        out << "}, \"weights\": {";
        out << "}";
        return;
    }
    case nvinfer1::LayerType::kGATHER:
    {
        auto const& l = static_cast<nvinfer1::IGatherLayer const&>(layer);
        out << "\"axis\": ";
        out << l.getGatherAxis();
        out << ", \"num_elementwise_dims\": ";
        out << l.getNbElementWiseDims();
        out << "}, \"weights\": {";
        out << "}";
        return;
    }
    case nvinfer1::LayerType::kMATRIX_MULTIPLY:
    {
        out << "}, \"weights\": {";
        out << "}";
        return;
    }
    case nvinfer1::LayerType::kCONSTANT:
    {
        auto const& l = static_cast<nvinfer1::IConstantLayer const&>(layer);
        out << "}, \"weights\": {";
        out << "\"weights\": ";
        put_weights(out, l.getWeights());
        out << "}";
        return;
    }
    case nvinfer1::LayerType::kSLICE:
    {
        auto const& l = static_cast<nvinfer1::ISliceLayer const&>(layer);
        out << "\"mode\": ";
        out << static_cast<int>(l.getMode());
        out << ", \"axes\": ";
        put_dims(out, l.getAxes());
        out << "}, \"weights\": {";
        out << "}";
        return;
    }
    case nvinfer1::LayerType::kNORMALIZATION:
    {
        auto const& l = static_cast<nvinfer1::INormalizationLayer const&>(layer);
        out << "\"epsilon\": ";
        put_float(out, l.getEpsilon());
        out << ", \"num_groups\": ";
        out << l.getNbGroups();
        out << "}, \"weights\": {";
        out << "}";
        return;
    }
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
