// Helpers shared by trtgen's generated C++ network builders (network.cpp).
//
// Spelling helpers (dims, perm, named, no_weights) keep generated code close to hand-written
// TensorRT, and WeightsFile hands out build-time weights by PyTorch state_dict key.
#pragma once

#include "trtgen_safetensors.h"

#include <NvInfer.h>

#include <cmath>
#include <cstdint>
#include <cstring>
#include <deque>
#include <initializer_list>
#include <limits>
#include <map>
#include <stdexcept>
#include <string>
#include <vector>

namespace trtgen
{

inline nvinfer1::Dims dims(std::initializer_list<int64_t> values)
{
    nvinfer1::Dims d{};
    if (values.size() > static_cast<size_t>(nvinfer1::Dims::MAX_DIMS))
    {
        throw std::invalid_argument("dims: more than Dims::MAX_DIMS values");
    }
    d.nbDims = static_cast<int32_t>(values.size());
    int32_t i = 0;
    for (int64_t v : values)
    {
        d.d[i++] = v;
    }
    return d;
}

// A permutation given by its leading entries; the rest is the identity.
inline nvinfer1::Permutation perm(std::initializer_list<int32_t> order)
{
    nvinfer1::Permutation p{};
    for (int32_t i = 0; i < nvinfer1::Dims::MAX_DIMS; ++i)
    {
        p.order[i] = i;
    }
    int32_t i = 0;
    for (int32_t v : order)
    {
        p.order[i++] = v;
    }
    return p;
}

// Name a new layer and its outputs as trtgen's Python layers do: outputs are "name", "name:1"...;
// `output` names the first output instead (a module's output carries the module path).
template <typename Layer> Layer* named(Layer* layer, std::string const& name, std::string const& output = "")
{
    if (layer == nullptr)
    {
        throw std::runtime_error("TensorRT rejected layer '" + name + "'; see the TensorRT error above");
    }
    layer->setName(name.c_str());
    for (int32_t i = 0; i < layer->getNbOutputs(); ++i)
    {
        std::string const text = i > 0 ? name + ":" + std::to_string(i) : output.empty() ? name : output;
        layer->getOutput(i)->setName(text.c_str());
    }
    return layer;
}

inline void rename(nvinfer1::ITensor* tensor, std::string const& name)
{
    tensor->setName(name.c_str());
}

inline size_t element_size(nvinfer1::DataType type)
{
    switch (type)
    {
    case nvinfer1::DataType::kINT64: return 8;
    case nvinfer1::DataType::kFLOAT:
    case nvinfer1::DataType::kINT32: return 4;
    case nvinfer1::DataType::kHALF:
    case nvinfer1::DataType::kBF16: return 2;
    default: return 1;
    }
}

inline nvinfer1::Weights no_weights(nvinfer1::DataType type)
{
    return nvinfer1::Weights{type, nullptr, 0};
}

// safetensors dtype name <-> TensorRT weight type, for the types a weight can have.
inline std::map<std::string, nvinfer1::DataType> const& weight_types()
{
    static std::map<std::string, nvinfer1::DataType> const types{
        {"F32", nvinfer1::DataType::kFLOAT}, {"F16", nvinfer1::DataType::kHALF},  {"BF16", nvinfer1::DataType::kBF16},
        {"I8", nvinfer1::DataType::kINT8},   {"U8", nvinfer1::DataType::kUINT8},  {"I32", nvinfer1::DataType::kINT32},
        {"I64", nvinfer1::DataType::kINT64}, {"BOOL", nvinfer1::DataType::kBOOL},
    };
    return types;
}

inline nvinfer1::DataType data_type(std::string const& dtype, std::string const& key)
{
    auto it = weight_types().find(dtype);
    if (it == weight_types().end())
    {
        throw WeightsError("weight '" + key + "': dtype " + dtype + " has no TensorRT weight type");
    }
    return it->second;
}

inline std::string dtype_name(nvinfer1::DataType type)
{
    for (auto const& entry : weight_types())
    {
        if (entry.second == type)
        {
            return entry.first;
        }
    }
    return "?";
}

// A weight the network reads: checked against the file before any layer is built.
struct ExpectedWeight
{
    char const* key;
    nvinfer1::DataType type;
    std::vector<int64_t> shape;
};

// The weights file, by state_dict key. TensorRT borrows weight memory until the engine is
// built, so the mapping and every derived array live as long as this object.
class WeightsFile
{
public:
    explicit WeightsFile(std::string const& path) : mFile(path) {}

    // Every expected key present with the expected dtype and shape, or a WeightsError naming it.
    void check(std::vector<ExpectedWeight> const& expected) const
    {
        for (ExpectedWeight const& e : expected)
        {
            TensorView const& t = mFile.at(e.key);
            if (data_type(t.dtype, e.key) != e.type || t.shape != e.shape)
            {
                throw WeightsError(mFile.path() + ": weight '" + e.key + "' is " + t.dtype + " " +
                                   safetensors_detail::list_text(t.shape) + ", the network expects " +
                                   dtype_name(e.type) + " " + safetensors_detail::list_text(e.shape));
            }
        }
    }

    nvinfer1::Weights get(std::string const& key)
    {
        TensorView const& t = mFile.at(key);
        nvinfer1::Weights weights{data_type(t.dtype, key), t.data, t.count()};
        mKeys[t.data] = key;
        return weights;
    }

    // Folded inference batch norm, computed in double as trtgen's Python layers do:
    // scale = weight / sqrt(running_var + eps), shift = bias - running_mean * scale.
    nvinfer1::Weights batch_norm_scale(std::string const& prefix, double eps)
    {
        return batch_norm(prefix, eps, false);
    }

    nvinfer1::Weights batch_norm_shift(std::string const& prefix, double eps)
    {
        return batch_norm(prefix, eps, true);
    }

    // Give convolution weights their state_dict keys, so a refitter can find them by name.
    void name_weights(nvinfer1::INetworkDefinition& net) const
    {
        for (int32_t i = 0; i < net.getNbLayers(); ++i)
        {
            nvinfer1::ILayer* layer = net.getLayer(i);
            if (layer->getType() == nvinfer1::LayerType::kCONVOLUTION)
            {
                auto* conv = static_cast<nvinfer1::IConvolutionLayer*>(layer);
                name(net, conv->getKernelWeights());
                name(net, conv->getBiasWeights());
            }
            else if (layer->getType() == nvinfer1::LayerType::kDECONVOLUTION)
            {
                auto* deconv = static_cast<nvinfer1::IDeconvolutionLayer*>(layer);
                name(net, deconv->getKernelWeights());
                name(net, deconv->getBiasWeights());
            }
        }
    }

    SafeTensors const& file() const
    {
        return mFile;
    }

private:
    void name(nvinfer1::INetworkDefinition& net, nvinfer1::Weights const& weights) const
    {
        auto it = mKeys.find(weights.values);
        if (weights.count > 0 && it != mKeys.end())
        {
            net.setWeightsName(weights, it->second.c_str());
        }
    }

    std::vector<double> floats(std::string const& key, int64_t count) const
    {
        TensorView const& t = mFile.at(key);
        if (t.dtype != "F32" || t.count() != count)
        {
            throw WeightsError(mFile.path() + ": batch norm weight '" + key + "' must be F32 with " +
                               std::to_string(count) + " values, the file has " + t.dtype + " " +
                               safetensors_detail::list_text(t.shape));
        }
        std::vector<float> values(static_cast<size_t>(count));
        std::memcpy(values.data(), t.data, values.size() * sizeof(float));
        return std::vector<double>(values.begin(), values.end());
    }

    nvinfer1::Weights batch_norm(std::string const& prefix, double eps, bool shift)
    {
        std::string const base = prefix.empty() ? "" : prefix + ".";
        int64_t const channels = mFile.at(base + "running_var").count();
        std::vector<double> const var = floats(base + "running_var", channels);
        std::vector<double> const mean = floats(base + "running_mean", channels);
        bool const hasWeight = mFile.contains(base + "weight");
        bool const hasBias = mFile.contains(base + "bias");
        std::vector<double> const weight = hasWeight ? floats(base + "weight", channels) : std::vector<double>{};
        std::vector<double> const bias = hasBias ? floats(base + "bias", channels) : std::vector<double>{};
        mDerived.emplace_back(static_cast<size_t>(channels));
        std::vector<float>& out = mDerived.back();
        for (size_t c = 0; c < out.size(); ++c)
        {
            double scale = 1.0 / std::sqrt(var[c] + eps);
            if (hasWeight)
            {
                scale = scale * weight[c];
            }
            double value = scale;
            if (shift)
            {
                value = -mean[c] * scale;
                if (hasBias)
                {
                    value = value + bias[c];
                }
            }
            out[c] = static_cast<float>(value);
        }
        return nvinfer1::Weights{nvinfer1::DataType::kFLOAT, out.data(), channels};
    }

    SafeTensors mFile;
    std::deque<std::vector<float>> mDerived;
    std::map<void const*, std::string> mKeys;
};

} // namespace trtgen
