"""Run a serialized engine on a GPU: IO bound by tensor name, torch CUDA tensors in and out.

    engine = Engine("out/model.engine")            # or Engine(serialized_bytes)
    outputs = engine({"x": torch.randn(8, 3, 224, 224)})   # {output name: torch CUDA tensor}
    arrays = to_numpy(outputs)

Needs a CUDA GPU that the installed TensorRT package supports (TensorRT-RTX: compute
capability 8.0/8.6/8.9/12.x). Imports torch lazily, so ``import layers`` stays torch-free.
"""

import os

import numpy as np

from .backend import IS_RTX, trt
from .network import logger

# trt.DataType member name → torch dtype name
_TORCH_DTYPES = {
    "FLOAT": "float32",
    "HALF": "float16",
    "BF16": "bfloat16",
    "INT8": "int8",
    "INT32": "int32",
    "INT64": "int64",
    "BOOL": "bool",
    "UINT8": "uint8",
    "FP8": "float8_e4m3fn",
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


def check_input_shape(name, shape, low, high, profile=0):
    """Raise ValueError unless ``shape`` has the rank of ``low`` and lies within low..high."""
    shape, low, high = tuple(shape), tuple(low), tuple(high)
    allowed = " x ".join(str(lo) if lo == hi else f"{lo}..{hi}" for lo, hi in zip(low, high))
    where = f" (optimization profile {profile})" if low != high else ""
    if len(shape) != len(low):
        raise ValueError(
            f"input {name!r}: expected {len(low)} dims, {allowed}{where}; got shape {shape}"
        )
    for dim, (got, lo, hi) in enumerate(zip(shape, low, high)):
        if not lo <= got <= hi:
            need = str(lo) if lo == hi else f"in {lo}..{hi}"
            raise ValueError(
                f"input {name!r}: expected shape {allowed}{where}; got {shape}, "
                f"dim {dim} must be {need}"
            )


def to_numpy(outputs):
    """``{name: tensor}`` → ``{name: numpy array}``; bfloat16 and fp8 become float32 (numpy
    has neither)."""
    import torch

    arrays = {}
    for name, tensor in outputs.items():
        if tensor.dtype in (torch.bfloat16, torch.float8_e4m3fn):
            tensor = tensor.float()
        arrays[name] = tensor.detach().cpu().numpy()
    return arrays


class Engine:
    """A deserialized engine with one execution context; inputs and outputs by tensor name.

    ``profile`` selects the optimization profile input shapes are checked against and run with
    (see ``select_profile``). With ``cuda_graph=True`` each run replays a CUDA graph over static
    input and output buffers, captured again whenever the input shapes change.
    """

    def __init__(self, engine, *, profile=0, cuda_graph=False):
        if isinstance(engine, (str, os.PathLike)):
            with open(engine, "rb") as f:
                engine = f.read()
        reason = gpu_unavailable_reason()
        if reason:
            raise RuntimeError(reason)
        import torch

        runtime = trt.Runtime(logger())
        cuda_engine = runtime.deserialize_cuda_engine(engine)
        if cuda_engine is None:
            raise RuntimeError(
                "TensorRT could not deserialize the engine on this GPU; see the log above"
            )
        self.runtime, self.engine = runtime, cuda_engine  # the engine needs its runtime alive
        names = [cuda_engine.get_tensor_name(i) for i in range(cuda_engine.num_io_tensors)]
        self.inputs = [n for n in names if cuda_engine.get_tensor_mode(n) == trt.TensorIOMode.INPUT]
        self.outputs = [n for n in names if n not in self.inputs]
        self.dtypes = {}
        for name in names:
            if cuda_engine.get_tensor_location(name) == trt.TensorLocation.HOST:
                raise ValueError(
                    f"tensor {name!r} is a host (shape) tensor; Engine binds GPU memory only"
                )
            dtype = cuda_engine.get_tensor_dtype(name)
            if dtype.name not in _TORCH_DTYPES:
                raise ValueError(f"tensor {name!r} has dtype {dtype.name}, which torch cannot hold")
            self.dtypes[name] = getattr(torch, _TORCH_DTYPES[dtype.name])
        self.num_profiles = cuda_engine.num_optimization_profiles
        self.cuda_graph = cuda_graph
        # TensorRT-RTX compiles shape-specialized kernels lazily, which would invalidate a graph
        # captured by hand, and its engines are stream-capturable only when built with
        # REQUIRE_USER_ALLOCATION; its own CUDA-graph strategy handles both.
        self._graph_by_tensorrt = cuda_graph and IS_RTX
        if cuda_graph and IS_RTX:
            config = cuda_engine.create_runtime_config()
            config.cuda_graph_strategy = trt.CudaGraphStrategy.WHOLE_GRAPH_CAPTURE
            self.context = cuda_engine.create_execution_context(config)
        else:
            self.context = cuda_engine.create_execution_context()
        self.device = torch.device("cuda", torch.cuda.current_device())
        # TensorRT documents the default stream as a source of extra synchronization
        self.stream = torch.cuda.Stream(self.device)
        self._graph = None
        self._static = None  # {name: tensor}: the CUDA-graph buffers, inputs and outputs
        self._static_shapes = None
        self.profile = None
        self.select_profile(profile)

    # ------------------------------------------------------------------ shapes
    def select_profile(self, index):
        """Run with optimization profile ``index`` from now on."""
        if not 0 <= index < self.num_profiles:
            raise ValueError(
                f"optimization profile {index} does not exist; the engine has "
                f"{self.num_profiles} (0..{self.num_profiles - 1})"
            )
        if index != self.profile:
            if not self.context.set_optimization_profile_async(index, self.stream.cuda_stream):
                raise RuntimeError(
                    f"TensorRT refused optimization profile {index}; see the log above"
                )
            self.stream.synchronize()
            self.profile = index
            self._static_shapes = None  # bindings of the previous profile are invalid

    def shape_range(self, name):
        """``(min, max)`` shapes input ``name`` accepts under the current profile."""
        declared = tuple(self.engine.get_tensor_shape(name))
        if -1 not in declared:
            return declared, declared
        low, _, high = self.engine.get_tensor_profile_shape(name, self.profile)
        return tuple(low), tuple(high)

    def set_input_shapes(self, shapes):
        """Check and set ``{input name: shape}`` (all inputs); return ``{output name: shape}``."""
        self._check_names(shapes)
        self._static_shapes = None  # a captured graph no longer matches the context
        for name in self.inputs:
            low, high = self.shape_range(name)
            check_input_shape(name, shapes[name], low, high, self.profile)
            if not self.context.set_input_shape(name, tuple(shapes[name])):
                shape = tuple(shapes[name])
                raise ValueError(
                    f"input {name!r}: TensorRT refused shape {shape}; see the log above"
                )
        result = {name: tuple(self.context.get_tensor_shape(name)) for name in self.outputs}
        for name, shape in result.items():
            if any(d < 0 for d in shape):
                raise ValueError(
                    f"output {name!r} has a data-dependent shape {shape}; Engine cannot allocate it"
                )
        return result

    def _check_names(self, given):
        missing = [n for n in self.inputs if n not in given]
        unknown = [n for n in given if n not in self.inputs]
        if missing or unknown:
            problem = f"missing input(s) {missing}" if missing else f"unknown input(s) {unknown}"
            raise ValueError(f"{problem}; the engine's inputs are {self.inputs}")

    # ------------------------------------------------------------------ running
    def __call__(self, inputs):
        """``{input name: torch tensor (CPU or CUDA) or numpy array}`` → ``{output name: torch
        CUDA tensor}``. Inputs must have the engine's dtypes; nothing is converted silently."""
        import torch

        self._check_names(inputs)
        tensors = {name: self._as_input(name, inputs[name]) for name in self.inputs}
        shapes = {name: tuple(t.shape) for name, t in tensors.items()}
        # the host-to-device copies above were queued on the caller's stream
        self.stream.wait_stream(torch.cuda.current_stream(self.device))
        if not self.cuda_graph:
            outputs = self._run_once(tensors, shapes)
            self.stream.synchronize()
            return outputs
        self._replay(tensors, shapes)
        self.stream.synchronize()
        # copies on the caller's stream, which the next replay waits for before overwriting
        return {name: self._static[name].clone() for name in self.outputs}

    def _as_input(self, name, value):
        import torch

        if isinstance(value, np.ndarray):
            value = torch.from_numpy(value if value.flags.writeable else value.copy())
        elif not isinstance(value, torch.Tensor):
            kind = type(value).__name__
            raise ValueError(f"input {name!r}: expected a torch tensor or numpy array, got {kind}")
        if value.dtype != self.dtypes[name]:
            want, got = _short(self.dtypes[name]), _short(value.dtype)
            raise ValueError(f"input {name!r}: expected dtype {want}, got {got}")
        return value.to(self.device).contiguous()

    def _run_once(self, tensors, shapes):
        import torch

        output_shapes = self.set_input_shapes(shapes)
        outputs = {
            name: torch.empty(shape, dtype=self.dtypes[name], device=self.device)
            for name, shape in output_shapes.items()
        }
        self._bind({**tensors, **outputs})
        self._execute()
        return outputs

    def _replay(self, tensors, shapes):
        """New inputs into the static buffers, then the graph (captured again for new shapes)."""
        import torch

        with torch.cuda.stream(self.stream):
            if shapes != self._static_shapes:
                self._capture(shapes)
            for name, tensor in tensors.items():
                self._static[name].copy_(tensor)
            if self._graph is not None:
                self._graph.replay()
            else:  # TensorRT-RTX replays its own graph
                self._execute()

    def _capture(self, shapes):
        """Static buffers for ``shapes``, one warm-up run, then (TensorRT) a captured graph."""
        import torch

        self._graph = None
        output_shapes = self.set_input_shapes(shapes)
        self._static = {
            name: torch.zeros(shape, dtype=self.dtypes[name], device=self.device)
            for name, shape in {**shapes, **output_shapes}.items()
        }
        self._bind(self._static)
        # TensorRT finishes deferred work for new shapes in the first run, outside any capture
        self._execute()
        self.stream.synchronize()
        if not self._graph_by_tensorrt:
            graph = torch.cuda.CUDAGraph()
            with torch.cuda.graph(graph, stream=self.stream):
                self._execute()
            self._graph = graph
        self._static_shapes = shapes

    def _bind(self, tensors):
        for name, tensor in tensors.items():
            if not self.context.set_tensor_address(name, tensor.data_ptr()):
                raise RuntimeError(f"TensorRT refused the buffer of {name!r}; see the log above")

    def _execute(self):
        if not self.context.execute_async_v3(self.stream.cuda_stream):
            raise RuntimeError("TensorRT execution failed; see the log above")


def _short(dtype):
    return str(dtype).replace("torch.", "")
