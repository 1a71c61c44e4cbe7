"""One benchmark run: both routes from the same loaded model and example inputs, in one process.

Order: the model is loaded once (untimed), the modules either route imports lazily are imported
(untimed), then each of the ``repeat`` rounds converts with the trtgen route and then the ONNX
route. Nothing is warmed up: the first round includes each route's first-call costs, and the
trtgen route, running first, also pays the ones both share. After the rounds, each route's
network is built from its last output, its layers counted, its engine built (default build
options) and, when a GPU can run it, timed.
"""

import gc
import importlib
import importlib.metadata
import os
import platform
import shutil
import sys
import tempfile

import torch

import layers

from .. import __version__
from ..load import load_model
from . import gpu
from .measure import build_engine, cpu_timed, layer_counts, median, timed
from .onnx_route import OnnxRoute
from .quiet import exc_line, quiet, quiet_fds
from .result import BenchResult
from .trtgen_route import TrtgenRoute

ROUTES = (TrtgenRoute, OnnxRoute)  # also the order they run in
# imported before timing, so neither route's first run pays for importing them
LAZY_IMPORTS = (
    "black",
    "onnx",
    "onnx_ir",
    "onnxscript",
    "torch.onnx",
    "torch.export",
    "torch._dynamo",
)
ENVIRONMENT_PACKAGES = ("torchvision", "onnx", "onnxscript", "transformers", "timm")


def bench(source, input_shapes=(), engine=True, repeat=1, iterations=100, log=None):
    """Benchmark the model ``source`` (a MODEL.py or ``package.module:factory``); a BenchResult."""
    log = log or (lambda message: print(message, file=sys.stderr, flush=True))
    loaded = load_model(source, input_shapes)  # bad input fails here, before any measurement
    _import_lazy_modules()
    status = gpu.gpu_status()
    work = tempfile.mkdtemp(prefix="trtgen-bench-")
    try:
        routes = [route(loaded, input_shapes, work) for route in ROUTES]
        for run in range(repeat):
            for route in routes:
                _convert(route, run, log)
        for route in routes:
            _measure_network(route, loaded, engine, status, iterations, log)
            gc.collect()
        pytorch = _pytorch_numbers(loaded, status, iterations)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return BenchResult(
        model=_model_name(source),
        source=source,
        inputs=[
            {"name": name, "shape": list(t.shape), "dtype": str(t.dtype).replace("torch.", "")}
            for name, t in zip(loaded.input_names, loaded.example_inputs)
        ],
        order=[route.name for route in routes],
        repeat=repeat,
        engine=engine,
        environment=environment(),
        gpu=status,
        routes={route.name: route.result for route in routes},
        pytorch=pytorch,
    )


def _model_name(source):
    if source.endswith(".py"):
        return os.path.splitext(os.path.basename(source))[0]
    return source.split(":")[-1]


def _import_lazy_modules():
    for module in LAZY_IMPORTS:
        try:
            with quiet():
                importlib.import_module(module)
        except Exception:  # noqa: BLE001 - the route that needs it reports the failure
            pass


def _convert(route, run, log):
    result = route.result
    if result.error:
        return
    try:
        _, seconds, cpu_seconds = cpu_timed(route.convert, run)
    except Exception as exc:  # noqa: BLE001 - recorded; the other route still runs
        result.error = f"{route.stages[0]}: {exc_line(exc)}"
        log(f"{route.title}: {result.error}")
        return
    result.convert_runs_s.append(seconds)
    result.convert_s = median(result.convert_runs_s)
    result.convert_cpu_runs_s.append(cpu_seconds)
    result.convert_cpu_s = median(result.convert_cpu_runs_s)
    log(f"{route.title}: {route.stages[0]} {seconds:.2f} s")


def _measure_network(route, loaded, engine, status, iterations, log):
    result = route.result
    result.gpu = gpu.skipped(_gpu_skip_reason(status, engine, result))
    if result.error:
        return
    network_stage = route.stages[1]
    try:
        (builder, network, profiles, keep), result.network_s = timed(route.network)
    except Exception as exc:  # noqa: BLE001
        result.error = f"{network_stage}: {exc_line(exc)}"
        log(f"{route.title}: {result.error}")
        return
    result.layers, result.layer_types = layer_counts(network)
    log(f"{route.title}: {network_stage} {result.network_s:.2f} s, {result.layers} layers")
    names = [network.get_input(i).name for i in range(network.num_inputs)]
    serialized = None
    if engine:
        try:
            with quiet_fds():
                serialized, result.engine_build_s = build_engine(builder, network, profiles)
            result.engine_bytes = len(serialized)
            log(
                f"{route.title}: engine build {result.engine_build_s:.1f} s, "
                f"{result.engine_bytes / 1e6:.1f} MB"
            )
        except Exception as exc:  # noqa: BLE001
            result.error = f"engine build: {exc_line(exc)}"
            result.gpu = gpu.skipped(_gpu_skip_reason(status, engine, result))
            log(f"{route.title}: {result.error}")
    del builder, network, keep
    if serialized is not None and status["available"]:
        inputs = {name: t.cuda() for name, t in zip(names, loaded.example_inputs)}
        try:
            result.gpu = gpu.engine_numbers(serialized, inputs, iterations, _batch(loaded))
        except Exception as exc:  # noqa: BLE001
            result.gpu = gpu.skipped(f"engine run failed: {exc_line(exc)}")


def _gpu_skip_reason(status, engine, result):
    """Why this route has no GPU numbers (replaced by the numbers when they are measured)."""
    if not status["available"]:
        return status["reason"]
    if not engine:
        return "engine not built (--no-engine)"
    return f"no engine ({result.error})" if result.error else "engine not run yet"


def _pytorch_numbers(loaded, status, iterations):
    if not status["available"]:
        return {"eager": gpu.skipped(status["reason"]), "compile": gpu.skipped(status["reason"])}
    numbers = {}
    for kind, compile_model in (("eager", False), ("compile", True)):
        try:
            numbers[kind] = gpu.torch_numbers(
                loaded.model, loaded.example_inputs, iterations, _batch(loaded), compile_model
            )
        except Exception as exc:  # noqa: BLE001
            numbers[kind] = gpu.skipped(f"{kind} failed: {exc_line(exc)}")
    return numbers


def _batch(loaded):
    first = loaded.example_inputs[0]
    return int(first.shape[0]) if first.dim() else 1


def environment():
    """Versions and machine facts that the numbers depend on (no timestamps)."""
    versions = {
        "python": platform.python_version(),
        "torch": torch.__version__,
        "tensorrt": f"{layers.BACKEND_NAME} {layers.trt.__version__}",
        "trtgen": __version__,
    }
    for package in ENVIRONMENT_PACKAGES:
        try:
            versions[package] = importlib.metadata.version(package)
        except importlib.metadata.PackageNotFoundError:  # not installed: not part of it
            pass
    machine = {"platform": platform.machine(), "cpu_count": _cpu_count()}
    return {"versions": versions, "machine": machine}


def _cpu_count():
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
