"""Execution order: layers (and whole loops) as steps, sorted so producers run first.

A network's layer list is in creation order, which is not always a valid order (a kernel input
attached later with ``set_input``, a constant created after its consumer). Loops add back edges
(a recurrence's second input), so each loop becomes one step that the loop runner expands.
"""

import heapq
from dataclasses import dataclass, field

from .errors import ReferenceExecutionError
from .registry import layer_type


def condition_key(conditional_name):
    """Pseudo-tensor linking a CONDITION to the CONDITIONAL_OUTPUTs of its if-conditional."""
    return f"<condition of {conditional_name}>"


@dataclass
class Step:
    """One unit of execution: a single layer, or a loop (``loop`` set, ``layers`` its members)."""

    index: int  # creation position of its first layer: ties run in creation order
    layers: list
    reads: set = field(default_factory=set)  # tensor names needed from outside the step
    writes: set = field(default_factory=set)  # tensor names defined by the step
    loop: object = None

    @property
    def layer(self):
        return self.layers[0]


def layer_step(index, layer):
    kind = layer_type(layer).name
    reads = {
        layer.get_input(i).name for i in range(layer.num_inputs) if layer.get_input(i) is not None
    }
    writes = {layer.get_output(i).name for i in range(layer.num_outputs)}
    if kind == "CONDITION":
        writes.add(condition_key(layer.conditional.name))
    elif kind == "CONDITIONAL_OUTPUT":
        reads.add(condition_key(layer.conditional.name))
    return Step(index, [layer], reads, writes)


def group_step(index, layers, loop):
    """A loop as one step: it reads what its members read and no member defines."""
    step = Step(index, layers, loop=loop)
    for member in layers:
        single = layer_step(index, member)
        step.reads |= single.reads
        step.writes |= single.writes
    step.reads -= step.writes
    return step


def order_steps(steps):
    """Producers before consumers; among ready steps the earliest created goes first."""
    producer = {}
    for position, step in enumerate(steps):
        for name in step.writes:
            producer[name] = position
    waiting, consumers = [], [[] for _ in steps]
    for position, step in enumerate(steps):
        needs = {producer[name] for name in step.reads if name in producer} - {position}
        waiting.append(len(needs))
        for need in needs:
            consumers[need].append(position)
    ready = [(step.index, position) for position, step in enumerate(steps) if not waiting[position]]
    heapq.heapify(ready)
    order = []
    while ready:
        _, position = heapq.heappop(ready)
        order.append(steps[position])
        for consumer in consumers[position]:
            waiting[consumer] -= 1
            if not waiting[consumer]:
                heapq.heappush(ready, (steps[consumer].index, consumer))
    if len(order) != len(steps):
        stuck = [steps[p].layer.name for p, count in enumerate(waiting) if count]
        raise ReferenceExecutionError(f"the network has a cycle through layers {stuck[:5]}")
    return order
