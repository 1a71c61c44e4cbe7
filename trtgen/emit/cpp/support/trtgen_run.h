// build_engine --run: deserialize the engine just built, run it on random inputs and print the
// latency. Needs a GPU that the TensorRT package supports.
#pragma once

#include "trtgen_builder.h"

#include <NvInfer.h>
#include <cuda_runtime_api.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <iostream>
#include <memory>
#include <random>
#include <stdexcept>
#include <string>
#include <vector>

namespace trtgen
{

inline void cuda_check(cudaError_t status, char const* what)
{
    if (status != cudaSuccess)
    {
        throw std::runtime_error(std::string(what) + ": " + cudaGetErrorString(status));
    }
}

inline int run_engine(nvinfer1::ILogger& logger, void const* plan, size_t size, int iterations = 100)
{
    std::unique_ptr<nvinfer1::IRuntime> runtime{nvinfer1::createInferRuntime(logger)};
    std::unique_ptr<nvinfer1::ICudaEngine> engine{runtime->deserializeCudaEngine(plan, size)};
    if (!engine)
    {
        throw std::runtime_error("cannot deserialize the engine on this GPU");
    }
    std::unique_ptr<nvinfer1::IExecutionContext> context{engine->createExecutionContext()};
    cudaStream_t stream{};
    cuda_check(cudaStreamCreate(&stream), "cudaStreamCreate");
    std::vector<void*> buffers;
    std::mt19937 random(0);
    std::uniform_real_distribution<float> uniform(-1.F, 1.F);
    for (int32_t i = 0; i < engine->getNbIOTensors(); ++i)
    {
        char const* name = engine->getIOTensorName(i);
        nvinfer1::Dims const shape = engine->getTensorShape(name);
        int64_t count = 1;
        for (int32_t d = 0; d < shape.nbDims; ++d)
        {
            count *= std::max<int64_t>(shape.d[d], 1);
        }
        size_t const bytes = static_cast<size_t>(count) * element_size(engine->getTensorDataType(name));
        void* buffer = nullptr;
        cuda_check(cudaMalloc(&buffer, std::max<size_t>(bytes, 1)), "cudaMalloc");
        if (engine->getTensorIOMode(name) == nvinfer1::TensorIOMode::kINPUT)
        {
            std::vector<uint8_t> host(bytes, 0);
            if (engine->getTensorDataType(name) == nvinfer1::DataType::kFLOAT)
            {
                auto* values = reinterpret_cast<float*>(host.data());
                std::generate(values, values + count, [&] { return uniform(random); });
            }
            cuda_check(cudaMemcpy(buffer, host.data(), bytes, cudaMemcpyHostToDevice), "cudaMemcpy");
        }
        context->setTensorAddress(name, buffer);
        buffers.push_back(buffer);
    }
    for (int i = 0; i < 10; ++i) // warm-up
    {
        context->enqueueV3(stream);
    }
    cuda_check(cudaStreamSynchronize(stream), "warm-up");
    auto const start = std::chrono::steady_clock::now();
    for (int i = 0; i < iterations; ++i)
    {
        context->enqueueV3(stream);
    }
    cuda_check(cudaStreamSynchronize(stream), "run");
    double const ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
    std::cout << "latency: " << ms / iterations << " ms (mean of " << iterations << " runs)\n";
    for (void* buffer : buffers)
    {
        cudaFree(buffer);
    }
    cudaStreamDestroy(stream);
    return 0;
}

} // namespace trtgen
