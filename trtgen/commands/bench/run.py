"""One benchmark run: both routes from the same loaded model and example inputs, in one process.

Order: the model is loaded once (untimed), the modules either route imports lazily are imported
(untimed), then each of the ``repeat`` rounds converts with the trtgen route and then the ONNX
route, each writing into a fresh folder after deleting its previous one (untimed). Nothing is
warmed up: the first round includes each route's first-call costs, and the
trtgen route, running first, also pays the ones both share. After the rounds, each route's
network is built from its last output and its layers counted; then, in ``repeat`` rounds, an
engine is built from each network (default build options, trtgen's first); when a GPU can run
them, the engines are timed.
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

from ... import __version__
from ...capture.load import load_model
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
    load_before = _load_average()
    status = gpu.gpu_status()
    work = tempfile.mkdtemp(prefix="trtgen-bench-")
    try:
        routes = [route(loaded, input_shapes, work) for route in ROUTES]
        for run in range(repeat):
            for route in routes:
                _convert(route, run, log)
        _measure_networks(routes, loaded, engine, repeat, status, iterations, log)
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
        load_average=[load_before, _load_average()],
    )


def _load_average():
    """The machine's 1-minute load average: other work on a shared machine stretches timings."""
    return round(os.getloadavg()[0], 2) if hasattr(os, "getloadavg") else None


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
    # a route keeps only its last output, so each run's writes reuse the page cache the previous
    # run's files held: growing it by a model's weights can cost more than the conversion itself
    route.discard()
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


def _network(route, log):
    """Build the route's network from its last conversion and count its layers; returns
    ``(builder, network, profiles, keep-alive)`` or None when it cannot be built."""
    result = route.result
    if result.error:
        return None
    try:
        built, result.network_s = timed(route.network)
    except Exception as exc:  # noqa: BLE001
        result.error = f"{route.stages[1]}: {exc_line(exc)}"
        log(f"{route.title}: {result.error}")
        return None
    result.layers, result.layer_types = layer_counts(built[1])
    log(f"{route.title}: {route.stages[1]} {result.network_s:.2f} s, {result.layers} layers")
    return built


def _engine(route, built, log):
    """One timed engine build; the serialized engine, or None when it failed."""
    result = route.result
    if built is None or result.error:
        return None
    builder, network, profiles, _ = built
    try:
        with quiet_fds():
            serialized, seconds = build_engine(builder, network, profiles)
    except Exception as exc:  # noqa: BLE001
        result.error = f"engine build: {exc_line(exc)}"
        log(f"{route.title}: {result.error}")
        return None
    result.engine_build_runs_s.append(seconds)
    result.engine_build_s = median(result.engine_build_runs_s)
    result.engine_bytes = len(serialized)
    log(f"{route.title}: engine build {seconds:.1f} s, {len(serialized) / 1e6:.1f} MB")
    return serialized


def _measure_networks(routes, loaded, engine, repeat, status, iterations, log):
    """Layers of both networks; then, in ``repeat`` rounds, an engine from each (trtgen's
    first); then, when a GPU can run them, the engines' latency."""
    built = {route.name: _network(route, log) for route in routes}
    engines = {}
    for _ in range(repeat if engine else 0):
        for route in routes:
            engines[route.name] = _engine(route, built[route.name], log)
    names = {
        name: [b[1].get_input(i).name for i in range(b[1].num_inputs)]
        for name, b in built.items()
        if b is not None
    }
    del built  # the networks and their weights; only the serialized engines are needed now
    gc.collect()
    for route in routes:
        result = route.result
        result.gpu = gpu.skipped(_gpu_skip_reason(status, engine, result))
        serialized = engines.get(route.name)
        if serialized is None or not status["available"]:
            continue
        inputs = {n: t.cuda() for n, t in zip(names[route.name], loaded.example_inputs)}
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
    return f"no engine ({result.error})" if result.error else "no engine"


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
        "tensorrt": layers.LIBRARY_VERSION,
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
