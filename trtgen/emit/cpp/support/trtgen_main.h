// The command line of trtgen's generated C++ builders:
//
//   build_engine [--weights W] [--engine E] [--describe FILE] [--run]
//                [--workspace MiB] [--opt-level 0-5] [--refittable] [--strip-weights]
//                [--compute-capability smXY ...]                  (TensorRT-RTX)
//                [--timing-cache FILE] [--hardware-compatible] [--version-compatible]  (TensorRT)
//
// reads the weights, builds the network, optionally writes its JSON description (for comparing
// with network.py's), and writes the serialized engine; --run also times it on a GPU. The build
// options are those of network.py (layers/build_options.py).
#pragma once

#include "trtgen_builder.h"

#include <NvInfer.h>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <iterator>
#include <map>
#include <iostream>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#ifdef TRTGEN_WITH_CUDA_RUNTIME
#include "trtgen_run.h"
#endif

namespace trtgen
{

class Logger : public nvinfer1::ILogger
{
public:
    void log(Severity severity, char const* msg) noexcept override
    {
        // Without a CUDA driver TensorRT-RTX still builds ahead-of-time; say so once.
        if (std::string(msg).find("CUDA driver version is insufficient") != std::string::npos)
        {
            if (!mNoDriverSeen)
            {
                std::cerr << "[TRT] note: no usable CUDA driver; building ahead-of-time without a GPU\n";
            }
            mNoDriverSeen = true;
            return;
        }
        if (severity <= Severity::kWARNING)
        {
            std::cerr << "[TRT] " << msg << "\n";
        }
    }

private:
    bool mNoDriverSeen{false};
};

struct Options
{
    std::string weights{"weights.safetensors"};
    std::string scales; // quantized networks only; default: quant.safetensors beside the weights
    std::string engine{"model.engine"};
    std::string describe;
    bool run{false};
    int64_t workspaceMiB{-1};
    int32_t optimizationLevel{-1};
    bool refittable{false};
    bool stripWeights{false};
    std::vector<std::string> computeCapabilities;
    std::string timingCache;
    bool hardwareCompatible{false};
    bool versionCompatible{false};
};

inline char const* kUsage =
    "usage: build_engine [--weights W] [--scales S] [--engine E] [--describe FILE] [--run] [--workspace MiB] "
    "[--opt-level 0-5] [--refittable] [--strip-weights] [--compute-capability smXY] [--timing-cache FILE] "
    "[--hardware-compatible] [--version-compatible]";

inline Options parse_options(int argc, char** argv)
{
    Options options;
    for (int i = 1; i < argc; ++i)
    {
        std::string const arg = argv[i];
        auto value = [&]() -> std::string
        {
            if (i + 1 >= argc)
            {
                throw std::invalid_argument(arg + " needs a value");
            }
            return argv[++i];
        };
        if (arg == "--weights")
        {
            options.weights = value();
        }
        else if (arg == "--engine")
        {
            options.engine = value();
        }
        else if (arg == "--scales")
        {
            options.scales = value();
        }
        else if (arg == "--describe")
        {
            options.describe = value();
        }
        else if (arg == "--run")
        {
            options.run = true;
        }
        else if (arg == "--workspace")
        {
            options.workspaceMiB = std::stoll(value());
        }
        else if (arg == "--opt-level")
        {
            options.optimizationLevel = std::stoi(value());
        }
        else if (arg == "--refittable")
        {
            options.refittable = true;
        }
        else if (arg == "--strip-weights")
        {
            options.stripWeights = true;
        }
        else if (arg == "--compute-capability")
        {
            options.computeCapabilities.push_back(value());
        }
        else if (arg == "--timing-cache")
        {
            options.timingCache = value();
        }
        else if (arg == "--hardware-compatible")
        {
            options.hardwareCompatible = true;
        }
        else if (arg == "--version-compatible")
        {
            options.versionCompatible = true;
        }
        else
        {
            throw std::invalid_argument("unknown argument '" + arg + "'; " + kUsage);
        }
    }
    return options;
}

// Write `size` bytes to `path` all at once: a temporary sibling (.trtgen-<pid>-<name>.tmp),
// fsynced and checked, renamed over `path`. A path that exists and is not a regular file
// (/dev/stdout) is written directly. On failure the temporary is removed and the error names
// `path` and the system's reason; the previous file, if any, is left as it was.
inline void write_file(std::string const& path, void const* data, size_t size)
{
    auto const fail = [&path](int err) { throw std::runtime_error("cannot write " + path + ": " + std::strerror(err)); };
    struct stat st{};
    bool const exists = ::stat(path.c_str(), &st) == 0;
    if (exists && S_ISDIR(st.st_mode))
    {
        fail(EISDIR);
    }
    bool const special = exists && !S_ISREG(st.st_mode);
    auto const slash = path.find_last_of('/');
    std::string const temp = special ? path
                                     : path.substr(0, slash == std::string::npos ? 0 : slash + 1) + ".trtgen-" +
            std::to_string(::getpid()) + "-" +
            path.substr(slash == std::string::npos ? 0 : slash + 1) + ".tmp";
    int const fd = special ? ::open(path.c_str(), O_WRONLY | O_CLOEXEC)
                           : ::open(temp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0666);
    if (fd < 0)
    {
        fail(errno);
    }
    auto const abandon = [&](int err) {
        ::close(fd);
        if (!special)
        {
            ::unlink(temp.c_str());
        }
        fail(err);
    };
    char const* bytes = static_cast<char const*>(data);
    size_t done = 0;
    while (done < size)
    {
        ssize_t const n = ::write(fd, bytes + done, size - done);
        if (n < 0 && errno == EINTR)
        {
            continue;
        }
        if (n <= 0)
        {
            abandon(n < 0 ? errno : EIO);
        }
        done += static_cast<size_t>(n);
    }
    if (!special && ::fsync(fd) != 0)
    {
        abandon(errno);
    }
    if (::close(fd) != 0)
    {
        int const err = errno;
        if (!special)
        {
            ::unlink(temp.c_str());
        }
        fail(err);
    }
    if (!special && std::rename(temp.c_str(), path.c_str()) != 0)
    {
        int const err = errno;
        ::unlink(temp.c_str());
        fail(err);
    }
}

// The build options on a builder config (the same choices as network.py's command line).
inline void configure(nvinfer1::IBuilderConfig& config, Options const& options)
{
    if (options.workspaceMiB >= 0)
    {
        config.setMemoryPoolLimit(nvinfer1::MemoryPoolType::kWORKSPACE, static_cast<size_t>(options.workspaceMiB)
                                                                            << 20);
    }
    if (options.optimizationLevel >= 0)
    {
        config.setBuilderOptimizationLevel(options.optimizationLevel);
    }
    if (options.refittable)
    {
        config.setFlag(nvinfer1::BuilderFlag::kREFIT);
    }
    if (options.stripWeights)
    {
        // a stripped plan is refitted with the same weights unless it is also refittable
        config.setFlag(nvinfer1::BuilderFlag::kSTRIP_PLAN);
        config.setFlag(options.refittable ? nvinfer1::BuilderFlag::kREFIT : nvinfer1::BuilderFlag::kREFIT_IDENTICAL);
    }
#if defined(TRT_MAJOR_RTX)
    if (!options.timingCache.empty() || options.hardwareCompatible || options.versionCompatible)
    {
        throw std::invalid_argument("--timing-cache, --hardware-compatible and --version-compatible are TensorRT "
                                    "settings; TensorRT-RTX builds for the GPUs named by --compute-capability");
    }
    static std::map<std::string, nvinfer1::ComputeCapability> const targets{
        {"sm75", nvinfer1::ComputeCapability::kSM75},
        {"sm80", nvinfer1::ComputeCapability::kSM80},
        {"sm86", nvinfer1::ComputeCapability::kSM86},
        {"sm89", nvinfer1::ComputeCapability::kSM89},
        {"sm120", nvinfer1::ComputeCapability::kSM120}};
    if (!options.computeCapabilities.empty())
    {
        config.setNbComputeCapabilities(static_cast<int32_t>(options.computeCapabilities.size()));
        for (size_t i = 0; i < options.computeCapabilities.size(); ++i)
        {
            auto it = targets.find(options.computeCapabilities[i]);
            if (it == targets.end())
            {
                throw std::invalid_argument("--compute-capability " + options.computeCapabilities[i] +
                                            ": choose from sm75, sm80, sm86, sm89, sm120");
            }
            config.setComputeCapability(it->second, static_cast<int32_t>(i));
        }
    }
#else
    if (!options.computeCapabilities.empty())
    {
        throw std::invalid_argument("--compute-capability is a TensorRT-RTX setting");
    }
    if (options.hardwareCompatible)
    {
        config.setHardwareCompatibilityLevel(nvinfer1::HardwareCompatibilityLevel::kAMPERE_PLUS);
    }
    if (options.versionCompatible)
    {
        config.setFlag(nvinfer1::BuilderFlag::kVERSION_COMPATIBLE);
    }
#endif
}

#if !defined(TRT_MAJOR_RTX)
// Read the timing cache file if present; write it back after the build.
inline std::unique_ptr<nvinfer1::ITimingCache> load_timing_cache(nvinfer1::IBuilderConfig& config,
                                                                 std::string const& path)
{
    if (path.empty())
    {
        return nullptr;
    }
    std::ifstream in(path, std::ios::binary);
    std::vector<char> blob((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    std::unique_ptr<nvinfer1::ITimingCache> cache{config.createTimingCache(blob.data(), blob.size())};
    if (!cache || !config.setTimingCache(*cache, false))
    {
        throw std::runtime_error("cannot use timing cache " + path);
    }
    return cache;
}
#endif

// The shapes one dynamic input may take in an optimization profile.
struct InputProfile
{
    char const* name;
    nvinfer1::Dims min;
    nvinfer1::Dims opt;
    nvinfer1::Dims max;
};

using Profile = std::vector<InputProfile>;

inline void add_profiles(nvinfer1::IBuilder& builder, nvinfer1::IBuilderConfig& config,
                         std::vector<Profile> const& profiles)
{
    for (Profile const& profile : profiles)
    {
        nvinfer1::IOptimizationProfile* p = builder.createOptimizationProfile();
        for (InputProfile const& input : profile)
        {
            bool const ok = p->setDimensions(input.name, nvinfer1::OptProfileSelector::kMIN, input.min) &&
                            p->setDimensions(input.name, nvinfer1::OptProfileSelector::kOPT, input.opt) &&
                            p->setDimensions(input.name, nvinfer1::OptProfileSelector::kMAX, input.max);
            if (!ok)
            {
                throw std::invalid_argument(std::string("bad optimization profile for input ") + input.name);
            }
        }
        config.addOptimizationProfile(p);
    }
}

// `name` in the folder of `path` (a path with no folder: the working folder).
inline std::string beside(std::string const& path, std::string const& name)
{
    auto const slash = path.find_last_of('/');
    return slash == std::string::npos ? name : path.substr(0, slash + 1) + name;
}

using BuildFn = void (*)(nvinfer1::INetworkDefinition&, WeightsFile&);
using DescribeFn = void (*)(nvinfer1::INetworkDefinition const&, std::ostream&);

inline int builder_main(int argc, char** argv, BuildFn build, std::vector<ExpectedWeight> const& expected,
                        DescribeFn describe, std::vector<Profile> const& profiles = {}, bool quantized = false)
{
    try
    {
        Options const options = parse_options(argc, argv);
        WeightsFile weights(options.weights);
        if (quantized)
        {
            weights.add_scales(options.scales.empty() ? beside(options.weights, "quant.safetensors") : options.scales);
        }
        weights.check(expected);

        Logger logger;
        std::unique_ptr<nvinfer1::IBuilder> builder{nvinfer1::createInferBuilder(logger)};
        if (!builder)
        {
            throw std::runtime_error("cannot create a TensorRT builder");
        }
#if defined(TRT_MAJOR_RTX) || NV_TENSORRT_MAJOR >= 11
        uint32_t const flags = 0; // always strongly typed
#else
        auto const flags = 1U << static_cast<uint32_t>(nvinfer1::NetworkDefinitionCreationFlag::kSTRONGLY_TYPED);
#endif
        std::unique_ptr<nvinfer1::INetworkDefinition> network{builder->createNetworkV2(flags)};
        build(*network, weights);
        weights.name_weights(*network);

        if (!options.describe.empty())
        {
            std::ostringstream text;
            describe(*network, text);
            std::string const json = text.str();
            write_file(options.describe, json.data(), json.size());
        }
        std::unique_ptr<nvinfer1::IBuilderConfig> config{builder->createBuilderConfig()};
        configure(*config, options);
        add_profiles(*builder, *config, profiles);
#if !defined(TRT_MAJOR_RTX)
        auto timingCache = load_timing_cache(*config, options.timingCache);
#endif
        std::unique_ptr<nvinfer1::IHostMemory> plan{builder->buildSerializedNetwork(*network, *config)};
        if (!plan)
        {
            throw std::runtime_error("TensorRT failed to build the engine; see the TensorRT log above");
        }
#if !defined(TRT_MAJOR_RTX)
        if (timingCache)
        {
            std::unique_ptr<nvinfer1::IHostMemory> saved{config->getTimingCache()->serialize()};
            write_file(options.timingCache, saved->data(), saved->size());
        }
#endif
        write_file(options.engine, plan->data(), plan->size());
        std::cout << "wrote " << options.engine << "\n";
        if (options.run)
        {
#ifdef TRTGEN_WITH_CUDA_RUNTIME
            return run_engine(logger, plan->data(), plan->size());
#else
            std::cerr << "--run needs the CUDA runtime; rebuild with it found by CMake (CUDA_LIB_DIR)\n";
            return 1;
#endif
        }
        return 0;
    }
    catch (std::exception const& e)
    {
        std::cerr << "error: " << e.what() << "\n";
        return 1;
    }
}

} // namespace trtgen
