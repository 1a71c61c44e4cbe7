"""Latency and throughput on a GPU: TensorRT engines of both routes, PyTorch eager and
torch.compile. Only measured when an engine can run here; otherwise every number stays None
and the reason is recorded."""

import copy
import statistics
import time

from layers.runtime import Engine, gpu_unavailable_reason

WARMUP = 10


def gpu_status():
    """``{"available", "reason", "device"}`` for bench.json."""
    reason = gpu_unavailable_reason()
    device = None
    if reason is None:
        import torch

        device = torch.cuda.get_device_name()
    return {"available": reason is None, "reason": reason, "device": device}


def _median_ms(call, iterations, synchronize):
    for _ in range(WARMUP):
        call()
    synchronize()
    times = []
    for _ in range(iterations):
        start = time.perf_counter()
        call()
        synchronize()
        times.append((time.perf_counter() - start) * 1e3)
    return statistics.median(times)


def numbers(latency_ms, batch):
    """The gpu dict of a route: median latency and the samples per second it gives."""
    return {"latency_ms": latency_ms, "throughput_per_s": batch * 1e3 / latency_ms, "skipped": None}


def engine_numbers(serialized, inputs, iterations, batch):
    """Run the engine on ``inputs`` ({name: tensor}), already on the GPU, ``iterations`` times."""
    import torch

    engine = Engine(serialized)
    return numbers(_median_ms(lambda: engine(inputs), iterations, torch.cuda.synchronize), batch)


def torch_numbers(model, inputs, iterations, batch, compile_model=False):
    """PyTorch on the GPU, eager or through torch.compile (compiled during the warm-up)."""
    import torch

    try:
        return numbers(
            _median_ms(
                _torch_call(model, inputs, compile_model), iterations, torch.cuda.synchronize
            ),
            batch,
        )
    finally:
        torch.cuda.empty_cache()  # the GPU copy is gone; give its memory back for the next run


def _torch_call(model, inputs, compile_model):
    import torch

    module = copy.deepcopy(model).cuda().eval()  # the CPU model stays as the routes saw it
    args = tuple(t.cuda() for t in inputs)
    run = torch.compile(module) if compile_model else module

    def call():
        with torch.no_grad():
            run(*args)

    return call


def skipped(reason):
    return {"latency_ms": None, "throughput_per_s": None, "skipped": reason}
