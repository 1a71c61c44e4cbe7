"""Network context: the network being built, the module-path name scope, and build helpers.

Ops never take a network argument: they add layers to the network of the innermost
``net_guard`` (TensorRT-LLM style), named after the module path that is being called.
"""

import contextlib
import contextvars
import weakref

import numpy as np

from .backend import trt

_ACTIVE = contextvars.ContextVar("layers_active_network", default=None)
# set by `journaling()`: the list that collects every NetworkContext that keeps a journal
_JOURNALS = contextvars.ContextVar("layers_journals", default=None)
# numpy arrays behind trt.Weights, per network: TensorRT borrows that memory until the engine
# is built, which may be long after the `net_guard` block (Polygraphy's load_network).
_KEEPALIVE = weakref.WeakKeyDictionary()


class NetworkContext:
    """State shared by every op while one network is built."""

    def __init__(self, network):
        self.network = network
        self.scopes = []  # module paths, innermost last
        self.used_names = set()
        self.output_names = set()  # reserved for marked outputs (``net_guard(output_names=)``)
        self.marked_names = set()
        self.keepalive = _KEEPALIVE.setdefault(network, [])
        # Off unless a code generator asks (trtgen's C++ output): module calls and renames in
        # build order, and where each build-time weight came from (by its data address).
        journals = _JOURNALS.get()
        self.journal = [] if journals is not None else None
        self.weight_sources = {}
        self.precision = None  # layers.precision.Policy inside `with precision(...)`
        self.shared = {}  # constants made once per network (``functional.constant.shared_scalar``)
        # the convolution added last, while a batch norm may still fold into it
        # (``functional.batch_norm_fold``)
        self.foldable_convolution = None
        if journals is not None:
            journals.append(self)

    def note(self, *event):
        """Append ``(kind, layer count, *details)`` to the journal when one is kept."""
        if self.journal is not None:
            self.journal.append((event[0], self.network.num_layers, *event[1:]))

    @property
    def scope(self):
        return self.scopes[-1] if self.scopes else ""

    def unique(self, name):
        """``name`` if unused, else ``name_1``, ``name_2``... (TensorRT wants unique names)."""
        candidate, index = name, 0
        while candidate in self.used_names:
            index += 1
            candidate = f"{name}_{index}"
        self.used_names.add(candidate)
        return candidate

    def layer_name(self, op):
        """``layer1.0.conv1/conv`` inside a module, ``add`` at top level."""
        return self.unique(f"{self.scope}/{op}" if self.scope else op)


@contextlib.contextmanager
def journaling():
    """Networks built inside keep a journal; yields the list of their NetworkContexts."""
    contexts = []
    token = _JOURNALS.set(contexts)
    try:
        yield contexts
    finally:
        _JOURNALS.reset(token)


@contextlib.contextmanager
def net_guard(network, output_names=()):
    """Make ``network`` the target of every op called inside the block.

    ``output_names`` are kept for ``mark_output``: the network's outputs are named after the
    model's output structure, and internal tensors (a module's output ``hm`` followed by a
    sigmoid) yield those names to them."""
    if isinstance(network, NetworkContext):
        context = network
    else:
        context = NetworkContext(network)
        for i in range(network.num_inputs):
            context.used_names.add(network.get_input(i).name)
        for i in range(network.num_layers):
            layer = network.get_layer(i)
            context.used_names.add(layer.name)
            for j in range(layer.num_outputs):
                context.used_names.add(layer.get_output(j).name)
    context.used_names.update(output_names)
    context.output_names.update(output_names)
    token = _ACTIVE.set(context)
    try:
        yield context
    finally:
        _ACTIVE.reset(token)


def current():
    context = _ACTIVE.get()
    if context is None:
        raise RuntimeError(
            "No active network: build inside `with layers.net_guard(network):` "
            "(create one with layers.create_network())."
        )
    return context


def current_network():
    return current().network


@contextlib.contextmanager
def name_scope(path):
    """Name every layer added inside after the module ``path`` (e.g. ``layer1.0.conv1``)."""
    context = current()
    context.scopes.append(path)
    try:
        yield
    finally:
        context.scopes.pop()


def keep_alive(array):
    """Hold ``array`` until the network is built; TensorRT only borrows the memory."""
    current().keepalive.append(array)
    return array


def name_layer(layer, op):
    """Name ``layer`` and its first output after the current module path."""
    if layer is None:  # TensorRT refused the layer and logged why
        raise ValueError(f"TensorRT rejected the {op!r} layer; see the TensorRT error above")
    name = current().layer_name(op)
    layer.name = name
    if layer.num_outputs:
        layer.get_output(0).name = name
    for i in range(1, layer.num_outputs):
        layer.get_output(i).name = f"{name}:{i}"
    return layer


# --------------------------------------------------------------------------- network setup

_LOGGER = None
# TensorRT-RTX on a machine without a CUDA driver reports this at every step; building
# ahead-of-time still works, so say it once instead of repeating an error.
_NO_DRIVER = "CUDA driver version is insufficient"


class _Logger(trt.ILogger):
    def __init__(self, min_severity):
        trt.ILogger.__init__(self)
        self.min_severity = min_severity
        self.no_driver_seen = False
        self.collected = None  # a list while ``collect_errors`` is active

    def log(self, severity, msg):
        if _NO_DRIVER in msg:
            if not self.no_driver_seen:
                self.no_driver_seen = True
                print("[TRT] note: no usable CUDA driver; building ahead-of-time without a GPU")
            return
        if self.collected is not None and int(severity) <= int(trt.ILogger.Severity.ERROR):
            self.collected.append(msg)
        if int(severity) <= int(self.min_severity):
            print(f"[TRT] [{severity.name[0]}] {msg}")


def logger():
    global _LOGGER
    if _LOGGER is None:
        _LOGGER = _Logger(trt.ILogger.Severity.WARNING)
    return _LOGGER


@contextlib.contextmanager
def collect_errors():
    """Yield a list that receives every error TensorRT logs inside the block (API misuse such as
    a bad ``markOutput`` is logged, not raised)."""
    log = logger()
    previous, log.collected = log.collected, []
    try:
        yield log.collected
    finally:
        log.collected = previous


def create_network(builder=None):
    """A fresh strongly typed network: precision comes from tensor dtypes, never builder flags."""
    builder = builder or trt.Builder(logger())
    flags = 1 << int(trt.NetworkDefinitionCreationFlag.STRONGLY_TYPED)
    return builder, builder.create_network(flags)


def add_input(name, dtype, shape):
    from .tensor import Tensor
    from .dtypes import to_trt

    network = current_network()
    tensor = network.add_input(name, to_trt(dtype), tuple(int(d) for d in shape))
    current().used_names.add(name)
    return Tensor(tensor)


def mark_output(tensor, name=None):
    """Mark ``tensor`` as a network output, optionally renaming it.

    A network input, or a tensor already marked (``return x``, ``return y, y``), is copied by
    an IDENTITY layer first: every output is a tensor of its own."""
    context = current()
    itensor = tensor.trt if hasattr(tensor, "trt") else tensor
    if itensor.is_network_input or itensor.is_network_output:
        itensor = name_layer(context.network.add_identity(itensor), "output_copy").get_output(0)
    if name is not None and itensor.name != name:
        # the old name stays taken: the producing layer still carries it
        reserved = name in context.output_names and name not in context.marked_names
        if name in context.used_names and not reserved:
            raise ValueError(f"output name {name!r} is already used by another tensor")
        context.note("rename", itensor.name, name)
        itensor.name = name
        context.used_names.add(name)
    context.marked_names.add(itensor.name)
    context.network.mark_output(itensor)
    return tensor


def _require_gpu_for_refit(options):
    """Refittable and weight-stripped plans compile their kernels on the device: without a CUDA
    GPU TensorRT-RTX fails deep inside (MyelinCheckException), so say so before building."""
    wanted = [
        flag
        for flag, on in (
            ("--refittable", options and options.refittable),
            ("--strip-weights", options and options.strip_weights),
        )
        if on
    ]
    if not wanted:
        return
    from .runtime import gpu_unavailable_reason

    reason = gpu_unavailable_reason()
    if reason is not None:
        raise RuntimeError(
            f"{' and '.join(wanted)} {'need' if len(wanted) > 1 else 'needs'} a CUDA GPU at build "
            f"time ({reason}); build without {'them' if len(wanted) > 1 else 'it'} here, or on the "
            "machine that runs the engine"
        )


def build_engine(
    builder, network, *, workspace=None, optimization_level=None, profiles=(), options=None
):
    """Serialize an engine for ``network``; raise with TensorRT's reason on failure.

    ``profiles`` are ``{input_name: (min, opt, max)}`` dicts, one per optimization profile;
    ``options`` a ``layers.build_options.BuildOptions`` (what network.py's command line sets).
    """
    from .build_options import configure, save_timing_cache

    _require_gpu_for_refit(options)
    config = builder.create_builder_config()
    timing_cache = configure(config, options) if options is not None else None
    if workspace is not None:
        config.set_memory_pool_limit(trt.MemoryPoolType.WORKSPACE, int(workspace))
    if optimization_level is not None:
        config.builder_optimization_level = int(optimization_level)
    for shapes in profiles:
        profile = builder.create_optimization_profile()
        for name, (lo, opt, hi) in shapes.items():
            profile.set_shape(name, lo, opt, hi)
        config.add_optimization_profile(profile)
    serialized = builder.build_serialized_network(network, config)
    if serialized is None:
        raise RuntimeError("TensorRT failed to build the engine; see the TensorRT log above.")
    save_timing_cache(timing_cache, options.timing_cache if options is not None else None)
    return bytes(serialized)


def as_weights(array, source=None):
    """``trt.Weights`` over a kept-alive contiguous copy of ``array``.

    ``source`` says how the values derive from state_dict tensors (a ``weight_source`` tuple),
    so generated builders can recompute them from the weights file instead of embedding them.
    """
    array = keep_alive(np.ascontiguousarray(array))
    if source is not None:
        current().weight_sources[array.ctypes.data] = source
    return trt.Weights(array)


def param_source(key):
    """Weight source: the state_dict tensor ``key`` as it is (reshaped at most)."""
    return ("param", key) if key else None


def batch_norm_source(role, mean, var, weight, bias, eps):
    """Weight source: the SCALE ``role`` ("shift" / "scale") of a folded batch norm."""
    return ("batch_norm", role, mean, var, weight, bias, float(eps))


def conv_batch_norm_source(role, kernel, bias, mean, var, weight, bn_bias, eps):
    """Weight source: the ``role`` ("kernel" / "bias") of a convolution with a batch norm folded
    in: the kernel times the batch norm's scale per output channel; the bias (zero without a
    key) times that scale, plus its shift."""
    return ("conv_batch_norm", role, kernel, bias, mean, var, weight, bn_bias, float(eps))


def rows_scaled_source(key, rows, factor, total):
    """Weight source: ``total`` values, the state_dict tensor ``key`` (ones without a key) with
    its first ``rows`` values multiplied by ``factor``."""
    return ("rows_scaled", key, int(rows), float(factor), int(total))
