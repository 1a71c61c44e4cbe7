"""Run a real ``trt.INetworkDefinition`` on the CPU, layer by layer, with PyTorch.

Layers are visited in dependency order (see ``schedule``; loops run through ``loops``); each is
downcast and dispatched to the handler registered for its type (see ``registry`` and ``ops/``).
Tensors are keyed by name and stored in their declared TensorRT type; handlers see fp16/bf16/fp8 widened to
fp32 (TensorRT kernels accumulate reduced floats in fp32 too) and their results are rounded back
to the declared output type, so casts and reduced precision show up in the numbers.
"""

from dataclasses import dataclass, field

import numpy as np
import torch

from . import ops  # noqa: F401  (fills the handler registry)
from .dtypes import storage_dtype, to_storage, widen
from .errors import (
    LayerExecutionError,
    NetworkInputError,
    ReferenceExecutionError,
    UnsupportedLayerError,
)
from .loops import group_loops, loop_step, run_loop
from .registry import HANDLERS, downcast, layer_type as _layer_type
from .schedule import layer_step, order_steps


@dataclass
class RunContext:
    """State shared by handlers during one ``execute`` call."""

    network: object
    conditions: dict = field(default_factory=dict)  # IIfConditional name -> bool
    generator: torch.Generator = field(default_factory=lambda: torch.Generator().manual_seed(0))


def execute(network, inputs, keep=None):
    """Execute ``network`` on ``inputs`` and return ``{tensor name: torch.Tensor}``.

    The result holds every marked network output, plus the tensors named in ``keep``
    (an iterable of names), or every tensor of the network when ``keep == "all"``.
    """
    keep_all = isinstance(keep, str) and keep == "all"
    wanted = set() if keep is None or keep_all else set([keep] if isinstance(keep, str) else keep)
    outputs = [network.get_output(i).name for i in range(network.num_outputs)]
    values = _bind_inputs(network, inputs)
    wrappers = [network.get_layer(i) for i in range(network.num_layers)]
    # pybind hands out the same wrapper a caller may hold: undo our downcasts afterwards.
    original_classes = [layer.__class__ for layer in wrappers]
    try:
        steps = _steps([downcast(layer) for layer in wrappers])
        last_use = {} if keep_all else _last_uses(steps)
        pinned = set(outputs) | wanted
        ctx = RunContext(network)
        for position, step in enumerate(steps):
            if step.loop is not None:
                run_loop(step.loop, values, ctx, _run_layer, _store)
            else:
                _run_layer(step.layer, values, ctx)
            for name in last_use.get(position, ()):  # free intermediates nobody needs any more
                if name not in pinned:
                    values.pop(name, None)
    finally:
        for layer, cls in zip(wrappers, original_classes):
            layer.__class__ = cls

    missing = [name for name in wanted if name not in values]
    if missing:
        raise ReferenceExecutionError(
            f"keep names tensors that are not in the network: {sorted(missing)}"
        )
    if keep_all:
        return dict(values)
    return {name: values[name] for name in list(outputs) + sorted(wanted)}


def _steps(layers):
    """Layers outside loops as single steps, each loop as one step, in execution order."""
    loops, member_of = group_loops(layers)
    steps, placed = [], set()
    for index, layer in enumerate(layers):
        name = member_of.get(id(layer))
        if name is None:
            steps.append(layer_step(index, layer))
        elif name not in placed:
            placed.add(name)
            steps.append(loop_step(index, loops[name]))
    return order_steps(steps)


def _run_layer(layer, values, ctx):
    layer_type = _layer_type(layer)
    handler = HANDLERS.get(layer_type)
    if handler is None:
        raise UnsupportedLayerError(layer.name, layer_type)
    args = []
    for i in range(layer.num_inputs):
        tensor = layer.get_input(i)
        if tensor is None:
            args.append(None)
            continue
        if tensor.name not in values:
            raise LayerExecutionError(
                layer.name, layer_type, f"input {i} ({tensor.name!r}) has not been computed"
            )
        args.append(widen(values[tensor.name]))
    try:
        result = handler(layer, args, ctx)
    except ReferenceExecutionError:
        raise
    except Exception as exc:  # give every failure the layer's name and type
        raise LayerExecutionError(layer.name, layer_type, f"{type(exc).__name__}: {exc}") from exc
    results = (
        [] if result is None else [result] if isinstance(result, torch.Tensor) else list(result)
    )
    _store(layer, results, values)


def _store(layer, results, values):
    """Cast results to the declared output types, check their shapes, and record them."""
    if len(results) != layer.num_outputs:
        raise LayerExecutionError(
            layer.name,
            _layer_type(layer),
            f"handler produced {len(results)} outputs, layer has {layer.num_outputs}",
        )
    for i, value in enumerate(results):
        tensor = layer.get_output(i)
        value = to_storage(value, tensor.dtype)
        _check_shape(layer, tensor, value)
        values[tensor.name] = value


def _check_shape(layer, tensor, value):
    """Catch handler bugs early: the result must agree with the statically known dims."""
    try:
        declared = tuple(tensor.shape)
    except RuntimeError as exc:  # TensorRT itself rejects the layer (its log says why)
        raise LayerExecutionError(
            layer.name,
            _layer_type(layer),
            f"TensorRT cannot compute the shape of {tensor.name!r}: {exc}",
        ) from exc
    got = tuple(value.shape)
    if len(declared) != len(got) or any(d >= 0 and d != g for d, g in zip(declared, got)):
        raise LayerExecutionError(
            layer.name,
            _layer_type(layer),
            f"output {tensor.name!r} has shape {got}, network declares {declared}",
        )


def _last_uses(steps):
    """step position -> names of tensors whose last reader is that step."""
    last = {}
    for position, step in enumerate(steps):
        for name in step.reads:
            last[name] = position
    by_step = {}
    for name, position in last.items():
        by_step.setdefault(position, []).append(name)
    return by_step


def _bind_inputs(network, inputs):
    inputs = dict(inputs)
    declared = [network.get_input(i) for i in range(network.num_inputs)]
    unknown = sorted(set(inputs) - {t.name for t in declared})
    if unknown:
        raise NetworkInputError(
            f"unknown network input(s) {unknown}; the network's inputs are {[t.name for t in declared]}"
        )
    values = {}
    for tensor in declared:
        if tensor.name not in inputs:
            raise NetworkInputError(
                f"missing network input {tensor.name!r} (shape {tuple(tensor.shape)}, {tensor.dtype})"
            )
        values[tensor.name] = _convert_input(tensor, inputs[tensor.name])
    return values


def _kind(dtype):
    if dtype == torch.bool:
        return "bool"
    return "float" if dtype.is_floating_point else "integer"


def _convert_input(tensor, value):
    if isinstance(value, np.ndarray):
        value = torch.from_numpy(np.array(value, order="C"))  # (ascontiguousarray makes 0-d 1-d)
    elif not isinstance(value, torch.Tensor):
        value = torch.as_tensor(value)
    value = value.detach().cpu()
    target = storage_dtype(tensor.dtype)
    if _kind(value.dtype) != _kind(target):
        raise NetworkInputError(
            f"network input {tensor.name!r} is {tensor.dtype}, but the value given is {value.dtype}"
        )
    declared = tuple(tensor.shape)
    got = tuple(value.shape)
    if len(declared) != len(got) or any(d >= 0 and d != g for d, g in zip(declared, got)):
        raise NetworkInputError(
            f"network input {tensor.name!r} expects shape {declared} (-1 = any), got {got}"
        )
    return to_storage(value, tensor.dtype)
