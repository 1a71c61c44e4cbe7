"""TensorRT loops (TRIP_LIMIT, ITERATOR, RECURRENCE, LOOP_OUTPUT boundary layers).

The loop body is every layer reachable from the loop's iterator and recurrence outputs, up to its
LOOP_OUTPUT layers; anything else the body uses is loop-invariant and computed once, outside.
Per iteration: recurrences hold their current state (input 0 at first, then what input 1 was in
the previous iteration), iterators hold slice i of their input (reversed: count-1-i), the body
runs, and a WHILE trip limit whose condition is false ends the loop before that iteration counts.
Outputs: LAST_VALUE of a body tensor is its value in the last iteration, of a recurrence its final
state; CONCATENATE / REVERSE stack the per-iteration values along ``axis`` (zero-padded to the
length given by input 1).
"""

from collections import ChainMap
from dataclasses import dataclass, field

import torch

from layers.backend import trt

from .errors import LayerExecutionError
from .registry import layer_type
from .schedule import group_step, layer_step, order_steps

# Boundary layer type -> the Loop field that collects it.
_ROLE = {
    "TRIP_LIMIT": "trip_limits",
    "ITERATOR": "iterators",
    "RECURRENCE": "recurrences",
    "LOOP_OUTPUT": "outputs",
}
_BOUNDARY = set(_ROLE)


@dataclass
class Loop:
    name: str
    trip_limits: list = field(default_factory=list)
    iterators: list = field(default_factory=list)
    recurrences: list = field(default_factory=list)
    outputs: list = field(default_factory=list)
    body: list = field(default_factory=list)  # interior layers, creation order


def group_loops(layers):
    """(loops by name, {id(layer): loop name} for every boundary and body layer)."""
    loops = {}
    for layer in layers:
        kind = layer_type(layer).name
        if kind in _BOUNDARY:
            loop = loops.setdefault(layer.loop.name, Loop(layer.loop.name))
            getattr(loop, _ROLE[kind]).append(layer)
    if not loops:
        return {}, {}
    consumers = {}
    for layer in layers:
        for i in range(layer.num_inputs):
            tensor = layer.get_input(i)
            if tensor is not None:
                consumers.setdefault(tensor.name, []).append(layer)
    member_of = {}
    for loop in loops.values():
        boundary = loop.trip_limits + loop.iterators + loop.recurrences + loop.outputs
        for layer in boundary:
            member_of[id(layer)] = loop.name
        frontier = [l.get_output(0).name for l in loop.iterators + loop.recurrences]
        seen = set()
        while frontier:
            for consumer in consumers.get(frontier.pop(), []):
                if id(consumer) in member_of or id(consumer) in seen:
                    continue
                if layer_type(consumer).name in _BOUNDARY:  # another loop's boundary inside
                    raise NotImplementedError(
                        f"nested loops ({loop.name!r} contains {consumer.name!r})"
                    )
                seen.add(id(consumer))
                frontier += [consumer.get_output(i).name for i in range(consumer.num_outputs)]
        loop.body = [layer for layer in layers if id(layer) in seen]
        for layer in loop.body:
            member_of[id(layer)] = loop.name
    return loops, member_of


def loop_step(index, loop):
    members = loop.trip_limits + loop.iterators + loop.recurrences + loop.body + loop.outputs
    return group_step(index, members, loop)


def _name(layer, i):
    return layer.get_input(i).name


def run_loop(loop, values, ctx, run_layer, store):
    """Execute ``loop``; ``run_layer(layer, scope, ctx)`` runs one body layer in ``scope`` and
    ``store(layer, results, values)`` records the loop outputs."""
    count, condition = None, None
    for limit in loop.trip_limits:
        if limit.kind == trt.TripLimit.COUNT:
            count = int(values[_name(limit, 0)].reshape(()).item())
        else:  # WHILE: usually computed inside the body from the recurrences
            condition = _name(limit, 0)
    if count is None and condition is None:
        raise LayerExecutionError(loop.name, "LOOP", "loop has no trip limit")
    body = [step.layer for step in order_steps([layer_step(i, l) for i, l in enumerate(loop.body)])]
    state = {r.get_output(0).name: values[_name(r, 0)] for r in loop.recurrences}
    scans = {id(o): [] for o in loop.outputs}
    last, scope = {}, {}
    iteration = 0
    while count is None or iteration < count:
        scope = ChainMap({}, state, values)
        for it in loop.iterators:
            source = values[_name(it, 0)]
            length = source.shape[it.axis]
            position = (
                (count if count is not None else length) - 1 - iteration
                if it.reverse
                else iteration
            )
            if not 0 <= position < length:
                raise LayerExecutionError(
                    it.name, "ITERATOR", f"iteration {iteration} is past the end"
                )
            scope[it.get_output(0).name] = source.select(it.axis, position)
        for layer in body:
            run_layer(layer, scope, ctx)
        if condition is not None and not bool(scope[condition].reshape(()).item()):
            break
        for out in loop.outputs:
            if out.kind == trt.LoopOutput.LAST_VALUE:
                last[id(out)] = scope[_name(out, 0)]
            else:
                scans[id(out)].append(scope[_name(out, 0)])
        state = {r.get_output(0).name: scope[_name(r, 1)] for r in loop.recurrences}
        iteration += 1
    values.update(scope.maps[0] if scope else {})  # last iteration's body values, for ``keep``
    for out in loop.outputs:
        store(out, [_loop_output(out, values, state, last, scans[id(out)])], values)


def _loop_output(out, values, state, last, scanned):
    source = _name(out, 0)
    if out.kind == trt.LoopOutput.LAST_VALUE:
        if source in state:
            return state[source]
        if id(out) not in last:
            raise LayerExecutionError(out.name, "LOOP_OUTPUT", "the loop ran no iteration")
        return last[id(out)]
    length = int(values[_name(out, 1)].reshape(()).item()) if out.num_inputs > 1 else len(scanned)
    if out.kind == trt.LoopOutput.REVERSE:
        scanned = scanned[::-1]
    if not scanned:
        shape = [max(d, 0) for d in out.get_output(0).shape]
        return torch.zeros(shape)
    stacked = torch.stack(scanned[:length], dim=out.axis)
    missing = length - stacked.shape[out.axis]
    if missing > 0:  # a WHILE loop stopped early: the rest of the output is zero
        pad_shape = list(stacked.shape)
        pad_shape[out.axis] = missing
        stacked = torch.cat([stacked, stacked.new_zeros(pad_shape)], dim=out.axis)
    return stacked
