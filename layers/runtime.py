"""Run a serialized engine on a GPU: IO bound by tensor name, torch CUDA tensors in and out.

Needs a CUDA GPU that the installed TensorRT package supports (TensorRT-RTX: compute
capability 8.0/8.6/8.9/12.x). Imports torch lazily, so ``import layers`` stays torch-free.
"""

from .backend import trt
from .network import logger

_TORCH_DTYPES = {
    "FLOAT": "float32", "HALF": "float16", "BF16": "bfloat16", "INT8": "int8", "INT32": "int32",
    "INT64": "int64", "BOOL": "bool", "UINT8": "uint8", "FP8": "float8_e4m3fn",
}


def gpu_unavailable_reason():
    """None when an engine can run here, else why not (for messages and test skips)."""
    try:
        import torch
    except ImportError:
        return "torch is not installed (the runtime uses torch CUDA tensors)"
    if not torch.cuda.is_available():
        return "no CUDA GPU is available, so TensorRT engines cannot run on this machine"
    return None


class Engine:
    """A deserialized engine with one execution context."""

    def __init__(self, serialized):
        reason = gpu_unavailable_reason()
        if reason:
            raise RuntimeError(reason)
        self.runtime = trt.Runtime(logger())
        self.engine = self.runtime.deserialize_cuda_engine(serialized)
        if self.engine is None:
            raise RuntimeError("TensorRT could not deserialize the engine on this GPU; see the log above")
        self.context = self.engine.create_execution_context()
        names = [self.engine.get_tensor_name(i) for i in range(self.engine.num_io_tensors)]
        self.inputs = [n for n in names if self.engine.get_tensor_mode(n) == trt.TensorIOMode.INPUT]
        self.outputs = [n for n in names if self.engine.get_tensor_mode(n) == trt.TensorIOMode.OUTPUT]

    def __call__(self, inputs):
        """``{input name: tensor or array}`` → ``{output name: torch CUDA tensor}``."""
        import torch

        keep = []
        for name in self.inputs:
            tensor = torch.as_tensor(inputs[name]).cuda().contiguous()
            keep.append(tensor)
            self.context.set_input_shape(name, tuple(tensor.shape))
            self.context.set_tensor_address(name, tensor.data_ptr())
        results = {}
        for name in self.outputs:
            dtype = getattr(torch, _TORCH_DTYPES[self.engine.get_tensor_dtype(name).name])
            tensor = torch.empty(tuple(self.context.get_tensor_shape(name)), dtype=dtype, device="cuda")
            results[name] = tensor
            self.context.set_tensor_address(name, tensor.data_ptr())
        stream = torch.cuda.current_stream()
        if not self.context.execute_async_v3(stream.cuda_stream):
            raise RuntimeError("TensorRT execution failed; see the log above")
        stream.synchronize()
        return results
