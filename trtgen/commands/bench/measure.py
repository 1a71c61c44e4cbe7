"""What is measured on a network, the same way for both routes: layers by type, engine build."""

import statistics
import time

import layers
from layers.build_options import BuildOptions

# The layers a converter adds around the math; reports show these counts for both routes.
PLUMBING = ("SHAPE", "CAST", "SHUFFLE", "CONSTANT", "IDENTITY")


def layer_counts(network):
    """``(number of layers, {layer type name: count})`` of a TensorRT network."""
    counts = {}
    for i in range(network.num_layers):
        kind = network.get_layer(i).type.name
        counts[kind] = counts.get(kind, 0) + 1
    return network.num_layers, dict(sorted(counts.items()))


def timed(function, *args, **kwargs):
    """``(result, wall-clock seconds)`` of one call."""
    result, wall, _ = cpu_timed(function, *args, **kwargs)
    return result, wall


def cpu_timed(function, *args, **kwargs):
    """``(result, wall-clock seconds, CPU seconds of this process)`` of one call. The CPU
    seconds add up all threads; far fewer than the wall clock means the call waited (on disk,
    or on other work of a shared machine)."""
    start, cpu_start = time.perf_counter(), time.process_time()
    result = function(*args, **kwargs)
    return result, time.perf_counter() - start, time.process_time() - cpu_start


def median(values):
    return statistics.median(values) if values else None


def build_engine(builder, network, profiles=()):
    """``(serialized engine bytes, seconds)`` with the default build options, as `trtgen build`
    and a generated network.py's ``--engine`` use them."""
    return timed(layers.build_engine, builder, network, profiles=profiles, options=BuildOptions())
