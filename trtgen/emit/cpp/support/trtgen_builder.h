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
#include <memory>
#include <set>
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

// Float conversions for weights an FP16 / BF16 network reads from an FP32 state_dict. They round
// to nearest, ties to even, as numpy's astype does for the Python builder: subnormals are kept,
// values past the largest finite one become infinity, NaN stays NaN. Portable: no CUDA headers.
namespace float_detail
{

// `value` in a binary float format with `exponentBits` and `mantissaBits` (half: 5, 10; bfloat16:
// 8, 7), as its bits. Rounding from double is one rounding for a float or a double value alike.
inline uint32_t narrow(double value, int exponentBits, int mantissaBits)
{
    uint64_t bits = 0;
    std::memcpy(&bits, &value, sizeof bits);
    uint32_t const sign = static_cast<uint32_t>(bits >> 63) << (exponentBits + mantissaBits);
    uint32_t const infinity = ((uint32_t{1} << exponentBits) - 1) << mantissaBits;
    int const exponent = static_cast<int>(bits >> 52 & 0x7FF);
    uint64_t const fraction = bits & ((uint64_t{1} << 52) - 1);
    if (exponent == 0x7FF)
    {
        if (fraction == 0)
        {
            return sign | infinity;
        }
        // NaN: a quiet NaN with the sign and the leading payload bits
        return sign | infinity | static_cast<uint32_t>(fraction >> (52 - mantissaBits)) |
               uint32_t{1} << (mantissaBits - 1);
    }
    if (exponent == 0)
    {
        return sign; // zero, or a double subnormal: far below the smallest subnormal of the format
    }
    int const bias = (1 << (exponentBits - 1)) - 1;
    int const e = exponent - 1023; // value = 1.fraction * 2^e
    if (e > bias)
    {
        return sign | infinity;
    }
    // keep mantissaBits fraction bits, fewer for a result below the smallest normal (subnormal)
    int const shift = 52 - mantissaBits + (e < 1 - bias ? 1 - bias - e : 0);
    if (shift > 53)
    {
        return sign; // below half the smallest subnormal
    }
    uint64_t const significand = fraction | uint64_t{1} << 52;
    uint64_t rounded = significand >> shift;
    uint64_t const rest = significand & ((uint64_t{1} << shift) - 1);
    uint64_t const halfway = uint64_t{1} << (shift - 1);
    if (rest > halfway || (rest == halfway && (rounded & 1) != 0))
    {
        ++rounded; // may carry into the exponent: still the right bits, up to infinity
    }
    // a normal result's implicit bit in `rounded` adds the 1 to the biased exponent e + bias - 1;
    // rounding up from the largest finite value carries into exactly the bits of infinity
    uint64_t const result = e >= 1 - bias ? (static_cast<uint64_t>(e + bias - 1) << mantissaBits) + rounded : rounded;
    return sign | static_cast<uint32_t>(result);
}

// The value of `bits` in that format (exact in double).
inline double widen(uint32_t bits, int exponentBits, int mantissaBits)
{
    int const bias = (1 << (exponentBits - 1)) - 1;
    uint32_t const maxExponent = (uint32_t{1} << exponentBits) - 1;
    uint32_t const exponent = bits >> mantissaBits & maxExponent;
    uint32_t const fraction = bits & ((uint32_t{1} << mantissaBits) - 1);
    double magnitude = 0.0;
    if (exponent == maxExponent)
    {
        magnitude = fraction == 0 ? std::numeric_limits<double>::infinity() : std::numeric_limits<double>::quiet_NaN();
    }
    else if (exponent == 0)
    {
        magnitude = std::ldexp(static_cast<double>(fraction), 1 - bias - mantissaBits);
    }
    else
    {
        magnitude = std::ldexp(static_cast<double>(fraction | uint32_t{1} << mantissaBits),
                               static_cast<int>(exponent) - bias - mantissaBits);
    }
    return (bits >> (exponentBits + mantissaBits) & 1) != 0 ? -magnitude : magnitude;
}

} // namespace float_detail

// IEEE half (FP16) bits of `value`, rounded to nearest even.
inline uint16_t half_bits(double value)
{
    return static_cast<uint16_t>(float_detail::narrow(value, 5, 10));
}

// bfloat16 bits of `value`, rounded to nearest even.
inline uint16_t bfloat16_bits(double value)
{
    return static_cast<uint16_t>(float_detail::narrow(value, 8, 7));
}

inline float half_value(uint16_t bits)
{
    return static_cast<float>(float_detail::widen(bits, 5, 10));
}

inline float bfloat16_value(uint16_t bits)
{
    return static_cast<float>(float_detail::widen(bits, 8, 7));
}

inline bool is_float_type(nvinfer1::DataType type)
{
    return type == nvinfer1::DataType::kFLOAT || type == nvinfer1::DataType::kHALF || type == nvinfer1::DataType::kBF16;
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

    // A second file read by key too: a quantized network's scales (quant.safetensors).
    void add_scales(std::string const& path)
    {
        mScales = std::make_unique<SafeTensors>(path);
    }

    // Every expected key present with the expected dtype and shape, and no key the network does not declare
    // but PyTorch bookkeeping (key_problems: the rule network.py's load_weights follows), or a WeightsError
    // naming the file and the key(s).
    void check(std::vector<ExpectedWeight> const& expected) const
    {
        std::set<std::string> declared;
        for (ExpectedWeight const& e : expected)
        {
            declared.insert(e.key);
        }
        std::vector<std::string> const weightKeys = mFile.keys();
        std::set<std::string> keys(weightKeys.begin(), weightKeys.end());
        if (mScales)
        {
            // a quantized network: the scales file holds its own keys, checked the same way
            std::vector<std::string> const scaleKeys = mScales->keys();
            std::set<std::string> const scales(scaleKeys.begin(), scaleKeys.end());
            std::set<std::string> declaredScales;
            for (std::string const& key : declared)
            {
                if (scales.count(key) != 0 && keys.count(key) == 0)
                {
                    declaredScales.insert(key);
                }
            }
            for (std::string const& key : declaredScales)
            {
                declared.erase(key);
            }
            std::string const problem = key_problems(scales, declaredScales, "scales");
            if (!problem.empty())
            {
                throw WeightsError(mScales->path() + ": " + problem);
            }
        }
        std::string const problem = key_problems(keys, declared);
        if (!problem.empty())
        {
            throw WeightsError(mFile.path() + ": " + problem);
        }
        for (ExpectedWeight const& e : expected)
        {
            TensorView const& t = at(e.key);
            if (data_type(t.dtype, e.key) != e.type || t.shape != e.shape)
            {
                throw WeightsError(source(e.key).path() + ": weight '" + e.key + "' is " + t.dtype + " " +
                                   safetensors_detail::list_text(t.shape) + ", the network expects " +
                                   dtype_name(e.type) + " " + safetensors_detail::list_text(e.shape));
            }
        }
    }

    nvinfer1::Weights get(std::string const& key)
    {
        TensorView const& t = at(key);
        nvinfer1::Weights weights{data_type(t.dtype, key), t.data, t.count()};
        mKeys[t.data] = key;
        return weights;
    }

    // The tensor converted to `type` (between F32, F16 and BF16, rounding to nearest even): an
    // FP16 network's weights from an FP32 weights file. The converted copy lives as long as this object.
    nvinfer1::Weights get(std::string const& key, nvinfer1::DataType type)
    {
        TensorView const& t = at(key);
        if (data_type(t.dtype, key) == type)
        {
            return get(key);
        }
        if (!is_float_type(data_type(t.dtype, key)) || !is_float_type(type))
        {
            throw WeightsError(source(key).path() + ": weight '" + key + "' is " + t.dtype +
                               ", which cannot be converted to " + dtype_name(type) +
                               " (only between F32, F16 and BF16)");
        }
        nvinfer1::Weights weights = store(t.count(), type, [&t](int64_t i) { return element(t, i); });
        mKeys[weights.values] = key;
        return weights;
    }

    // Folded inference batch norm, computed in double as trtgen's Python layers do:
    // scale = weight / sqrt(running_var + eps), shift = bias - running_mean * scale,
    // then rounded to `type` (kHALF for an FP16 network).
    nvinfer1::Weights batch_norm_scale(std::string const& prefix, double eps,
                                       nvinfer1::DataType type = nvinfer1::DataType::kFLOAT)
    {
        return batch_norm(prefix, eps, false, type);
    }

    nvinfer1::Weights batch_norm_shift(std::string const& prefix, double eps,
                                       nvinfer1::DataType type = nvinfer1::DataType::kFLOAT)
    {
        return batch_norm(prefix, eps, true, type);
    }

    // A batch norm (state_dict prefix `bn`) folded into the convolution before it, in double
    // and then rounded to `type`, as trtgen's Python layers do: the kernel `kernel` times the
    // batch norm's scale per output channel; the bias `bias` (zeros when empty) times that
    // scale, plus its shift.
    nvinfer1::Weights conv_batch_norm_kernel(std::string const& kernel, std::string const& bn, double eps,
                                             nvinfer1::DataType type = nvinfer1::DataType::kFLOAT)
    {
        std::vector<double> const scale = folded_batch_norm(bn, eps).scale;
        int64_t const count = mFile.at(kernel).count();
        int64_t const perChannel = count / static_cast<int64_t>(scale.size());
        std::vector<double> const values = floats(kernel, count);
        return store(count, type, [&values, &scale, perChannel](int64_t i) {
            return values[static_cast<size_t>(i)] * scale[static_cast<size_t>(i / perChannel)];
        });
    }

    nvinfer1::Weights conv_batch_norm_bias(std::string const& bias, std::string const& bn, double eps,
                                           nvinfer1::DataType type = nvinfer1::DataType::kFLOAT)
    {
        FoldedBatchNorm const folded = folded_batch_norm(bn, eps);
        std::vector<double> const& scale = folded.scale;
        std::vector<double> const& shift = folded.shift;
        int64_t const channels = static_cast<int64_t>(scale.size());
        std::vector<double> const values = bias.empty() ? std::vector<double>{} : floats(bias, channels);
        return store(channels, type, [&values, &scale, &shift](int64_t c) {
            size_t const i = static_cast<size_t>(c);
            return values.empty() ? shift[i] : values[i] * scale[i] + shift[i];
        });
    }

    // `total` values: the tensor `key` (ones when `key` is empty) with its first `rows` values
    // times `factor`, in double and then rounded to `type`, as trtgen's Python layers do: an
    // attention's 1/sqrt(head_dim) folded into the q rows of its in-projection's SCALE layer.
    nvinfer1::Weights rows_scaled(std::string const& key, int64_t rows, double factor, int64_t total,
                                  nvinfer1::DataType type = nvinfer1::DataType::kFLOAT)
    {
        std::vector<double> const values =
            key.empty() ? std::vector<double>(static_cast<size_t>(total), 1.0) : floats(key, total);
        return store(total, type, [&values, rows, factor](int64_t i) {
            double const value = values[static_cast<size_t>(i)];
            return i < rows ? value * factor : value;
        });
    }

    // A one-element constant of `rank` dims that many modules read (`shared/one_3d`): made by
    // the first that asks, found by name after that, as trtgen's Python layers do.
    nvinfer1::ITensor* shared_scalar(nvinfer1::INetworkDefinition& net, char const* name, double value,
                                     int32_t rank, nvinfer1::DataType type)
    {
        for (int32_t i = 0; i < net.getNbLayers(); ++i)
        {
            if (std::strcmp(net.getLayer(i)->getName(), name) == 0)
            {
                return net.getLayer(i)->getOutput(0);
            }
        }
        nvinfer1::Dims shape{};
        shape.nbDims = rank;
        for (int32_t d = 0; d < rank; ++d)
        {
            shape.d[d] = 1;
        }
        nvinfer1::IConstantLayer* layer = net.addConstant(shape, store(1, type, [value](int64_t) { return value; }));
        layer->setName(name);
        layer->getOutput(0)->setName(name);
        return layer->getOutput(0);
    }

    // Give convolution and SCALE-layer weights read as they are stored their state_dict keys,
    // so a refitter can find them by name (derived ones, like folded batch norm, keep none).
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
            else if (layer->getType() == nvinfer1::LayerType::kSCALE)
            {
                auto* scale = static_cast<nvinfer1::IScaleLayer*>(layer);
                name(net, scale->getScale());
                name(net, scale->getShift());
            }
        }
    }

    SafeTensors const& file() const
    {
        return mFile;
    }

private:
    // The file holding `key`: the scales file for keys only it has, else the weights file.
    SafeTensors const& source(std::string const& key) const
    {
        return mScales && !mFile.contains(key) && mScales->contains(key) ? *mScales : mFile;
    }

    TensorView const& at(std::string const& key) const
    {
        return source(key).at(key);
    }

    void name(nvinfer1::INetworkDefinition& net, nvinfer1::Weights const& weights) const
    {
        auto it = mKeys.find(weights.values);
        if (weights.count > 0 && it != mKeys.end())
        {
            net.setWeightsName(weights, it->second.c_str());
        }
    }

    // Element `i` of an F32, F16 or BF16 tensor (the mapping may be unaligned: memcpy).
    static double element(TensorView const& t, int64_t i)
    {
        auto const* bytes = static_cast<unsigned char const*>(t.data);
        if (t.dtype == "F32")
        {
            float value = 0.0f;
            std::memcpy(&value, bytes + i * 4, sizeof value);
            return value;
        }
        uint16_t bits = 0;
        std::memcpy(&bits, bytes + i * 2, sizeof bits);
        return t.dtype == "F16" ? half_value(bits) : bfloat16_value(bits);
    }

    // `count` values, value(i) each, rounded to `type` in a buffer this object keeps.
    template <typename Value> nvinfer1::Weights store(int64_t count, nvinfer1::DataType type, Value value)
    {
        if (type == nvinfer1::DataType::kFLOAT)
        {
            mDerived.emplace_back(static_cast<size_t>(count));
            std::vector<float>& out = mDerived.back();
            for (size_t i = 0; i < out.size(); ++i)
            {
                out[i] = static_cast<float>(value(static_cast<int64_t>(i)));
            }
            return nvinfer1::Weights{type, out.data(), count};
        }
        if (type != nvinfer1::DataType::kHALF && type != nvinfer1::DataType::kBF16)
        {
            throw WeightsError("weights cannot be converted to " + dtype_name(type));
        }
        mDerived16.emplace_back(static_cast<size_t>(count));
        std::vector<uint16_t>& out = mDerived16.back();
        bool const half = type == nvinfer1::DataType::kHALF;
        for (size_t i = 0; i < out.size(); ++i)
        {
            double const v = value(static_cast<int64_t>(i));
            out[i] = half ? half_bits(v) : bfloat16_bits(v);
        }
        return nvinfer1::Weights{type, out.data(), count};
    }

    std::vector<double> floats(std::string const& key, int64_t count) const
    {
        TensorView const& t = mFile.at(key);
        if ((t.dtype != "F32" && t.dtype != "F16" && t.dtype != "BF16") || t.count() != count)
        {
            throw WeightsError(mFile.path() + ": weight '" + key + "' must be F32, F16 or BF16 with " +
                               std::to_string(count) + " values, the file has " + t.dtype + " " +
                               safetensors_detail::list_text(t.shape));
        }
        std::vector<double> values(static_cast<size_t>(count));
        for (size_t i = 0; i < values.size(); ++i)
        {
            values[i] = element(t, static_cast<int64_t>(i));
        }
        return values;
    }

    nvinfer1::Weights batch_norm(std::string const& prefix, double eps, bool shift, nvinfer1::DataType type)
    {
        FoldedBatchNorm const folded = folded_batch_norm(prefix, eps);
        std::vector<double> const& out = shift ? folded.shift : folded.scale;
        return store(static_cast<int64_t>(out.size()), type,
                     [&out](int64_t c) { return out[static_cast<size_t>(c)]; });
    }

    struct FoldedBatchNorm
    {
        std::vector<double> scale;
        std::vector<double> shift;
    };

    // Per channel: scale = weight / sqrt(running_var + eps), shift = bias - running_mean * scale,
    // for the batch norm with state_dict prefix `prefix`.
    FoldedBatchNorm folded_batch_norm(std::string const& prefix, double eps) const
    {
        std::string const base = prefix.empty() ? "" : prefix + ".";
        int64_t const channels = mFile.at(base + "running_var").count();
        std::vector<double> const var = floats(base + "running_var", channels);
        std::vector<double> const mean = floats(base + "running_mean", channels);
        bool const hasWeight = mFile.contains(base + "weight");
        bool const hasBias = mFile.contains(base + "bias");
        std::vector<double> const weight = hasWeight ? floats(base + "weight", channels) : std::vector<double>{};
        std::vector<double> const bias = hasBias ? floats(base + "bias", channels) : std::vector<double>{};
        FoldedBatchNorm out{std::vector<double>(static_cast<size_t>(channels)),
                            std::vector<double>(static_cast<size_t>(channels))};
        for (size_t c = 0; c < out.scale.size(); ++c)
        {
            double scale = 1.0 / std::sqrt(var[c] + eps);
            if (hasWeight)
            {
                scale = scale * weight[c];
            }
            double shift = -mean[c] * scale;
            if (hasBias)
            {
                shift = shift + bias[c];
            }
            out.scale[c] = scale;
            out.shift[c] = shift;
        }
        return out;
    }

    SafeTensors mFile;
    std::unique_ptr<SafeTensors> mScales;
    std::deque<std::vector<float>> mDerived;
    std::deque<std::vector<uint16_t>> mDerived16; // F16 / BF16 bits
    std::map<void const*, std::string> mKeys;
};

} // namespace trtgen
