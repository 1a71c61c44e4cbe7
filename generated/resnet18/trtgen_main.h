// The command line of trtgen's generated C++ builders:
//
//   build_engine [--weights W] [--engine E] [--describe FILE] [--run]
//
// reads the weights, builds the network, optionally writes its JSON description (for comparing
// with network.py's), and writes the serialized engine; --run also times it on a GPU.
#pragma once

#include "trtgen_builder.h"

#include <NvInfer.h>

#include <cstdio>
#include <fstream>
#include <iostream>
#include <memory>
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
    std::string engine{"model.engine"};
    std::string describe;
    bool run{false};
};

inline Options parse_options(int argc, char** argv)
{
    Options options;
    for (int i = 1; i < argc; ++i)
    {
        std::string const arg = argv[i];
        auto value = [&]() -> std::string {
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
        else if (arg == "--describe")
        {
            options.describe = value();
        }
        else if (arg == "--run")
        {
            options.run = true;
        }
        else
        {
            throw std::invalid_argument("unknown argument '" + arg
                + "'; usage: build_engine [--weights W] [--engine E] [--describe FILE] [--run]");
        }
    }
    return options;
}

// Write through a temporary file so a failed build never leaves a partial engine behind.
inline void write_file(std::string const& path, void const* data, size_t size)
{
    std::string const partial = path + ".partial";
    {
        std::ofstream out(partial, std::ios::binary);
        out.write(static_cast<char const*>(data), static_cast<std::streamsize>(size));
        if (!out)
        {
            std::remove(partial.c_str());
            throw std::runtime_error("cannot write " + path);
        }
    }
    if (std::rename(partial.c_str(), path.c_str()) != 0)
    {
        std::remove(partial.c_str());
        throw std::runtime_error("cannot write " + path);
    }
}

using BuildFn = void (*)(nvinfer1::INetworkDefinition&, WeightsFile&);
using DescribeFn = void (*)(nvinfer1::INetworkDefinition const&, std::ostream&);

inline int builder_main(
    int argc, char** argv, BuildFn build, std::vector<ExpectedWeight> const& expected, DescribeFn describe)
{
    try
    {
        Options const options = parse_options(argc, argv);
        WeightsFile weights(options.weights);
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
            std::ofstream out(options.describe);
            describe(*network, out);
            if (!out)
            {
                throw std::runtime_error("cannot write " + options.describe);
            }
        }
        std::unique_ptr<nvinfer1::IBuilderConfig> config{builder->createBuilderConfig()};
        std::unique_ptr<nvinfer1::IHostMemory> plan{builder->buildSerializedNetwork(*network, *config)};
        if (!plan)
        {
            throw std::runtime_error("TensorRT failed to build the engine; see the TensorRT log above");
        }
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
