"""Build the Python network once with a journal: the facts the C++ emitter works from.

The C++ builder is emitted from the network ``network.py`` builds, so both builders agree layer
by layer by construction; the journal adds what the finished network no longer shows: which
module call created each layer, the Python names of call arguments, tensor renames, and which
state_dict tensors each build-time weight came from.
"""

import functools
import inspect
from dataclasses import dataclass, field

import layers
from layers.network import journaling

from ...reference.registry import downcast, layer_type


@dataclass
class Call:
    """One module call: layers ``[start, end)`` and the calls and renames inside it."""

    path: str
    cls: type
    arg_names: dict  # tensor id -> forward parameter name
    start: int
    end: int = -1
    events: list = field(
        default_factory=list
    )  # ("layer", i) | ("call", Call) | ("rename", tid, name)
    parent: "Call" = None


@dataclass
class Recording:
    builder: object  # owns the network
    network: object
    layers: list  # downcast layers, network order
    top: Call  # pseudo-call around the whole build (inputs, the root call, output renames)
    inputs: list  # network input names
    outputs: list  # (tensor id, final name) of marked outputs
    weight_sources: dict  # data address -> source tuple
    creation_names: dict  # tensor id -> name right after its layer was named
    tensor_ids: dict = field(default_factory=dict)  # final tensor name -> tensor id


def record(network_source, weights, origin="network.py", scales=None):
    """Run the generated ``network_source`` and build its network with ``weights`` (a dict),
    and ``scales`` for a quantized network."""
    namespace = {"__name__": "trtgen_generated_network"}
    exec(compile(network_source, origin, "exec"), namespace)
    for value in list(namespace.values()):
        if isinstance(value, type) and value.__module__ == namespace["__name__"]:
            _record_init_args(value)
    builder, network = layers.create_network()
    with journaling() as contexts:
        if scales is None:
            namespace["build_network"](network, weights)
        else:
            namespace["build_network"](network, weights, scales)
    journal = [event for context in contexts for event in context.journal]
    sources = {k: v for context in contexts for k, v in context.weight_sources.items()}
    return _assemble(builder, network, journal, sources)


INIT_ARGS = "_trtgen_init_args"


def _record_init_args(cls):
    """Keep each instance's constructor arguments: helper parameters are named after them."""
    init = cls.__init__
    signature = inspect.signature(init)

    @functools.wraps(init)
    def recording_init(self, *args, **kwargs):
        bound = signature.bind(self, *args, **kwargs)
        bound.apply_defaults()
        object.__setattr__(self, INIT_ARGS, {k: v for k, v in list(bound.arguments.items())[1:]})
        init(self, *args, **kwargs)

    cls.__init__ = recording_init


def _tensor_ids(network):
    ids = {}
    for i in range(network.num_inputs):
        ids[network.get_input(i).name] = ("input", network.get_input(i).name)
    for i in range(network.num_layers):
        layer = network.get_layer(i)
        for j in range(layer.num_outputs):
            ids[layer.get_output(j).name] = (i, j)
    return ids


def _assemble(builder, network, journal, sources):
    tensor_ids = _tensor_ids(network)
    # replay renames backwards: every tensor's name at creation, every rename's tensor id
    names = dict(tensor_ids)
    renames = []
    for kind, _, *details in reversed(journal):
        if kind == "rename":
            old, new = details
            tid = names.pop(new)
            names[old] = tid
            renames.append(tid)
    renames.reverse()
    creation_names = {tid: name for name, tid in names.items()}
    current = dict(names)  # name -> tensor id, as the build goes

    top = Call("", None, {}, 0)
    stack = [top]
    layer_index = 0
    rename_index = 0
    all_layers = [downcast(network.get_layer(i)) for i in range(network.num_layers)]

    def flush(upto):
        nonlocal layer_index
        while layer_index < upto:
            stack[-1].events.append(("layer", layer_index))
            layer_index += 1

    for kind, count, *details in journal:
        flush(count)
        if kind == "enter":
            path, module, arg_names = details
            by_id = {current[n]: p for n, p in arg_names.items() if n in current}
            call = Call(path, type(module), by_id, count, parent=stack[-1])
            call.init_args = getattr(module, INIT_ARGS, {})
            stack[-1].events.append(("call", call))
            stack.append(call)
        elif kind == "exit":
            stack.pop().end = count
        elif kind == "rename":
            tid = renames[rename_index]
            stack[-1].events.append(("rename", tid, details[1]))
            current.pop(details[0], None)
            current[details[1]] = tid
            rename_index += 1
    flush(network.num_layers)
    top.end = network.num_layers

    inputs = [network.get_input(i).name for i in range(network.num_inputs)]
    outputs = [
        (tensor_ids[network.get_output(i).name], network.get_output(i).name)
        for i in range(network.num_outputs)
    ]
    return Recording(
        builder, network, all_layers, top, inputs, outputs, sources, creation_names, tensor_ids
    )


def input_ids(layer, tensor_ids):
    """Tensor ids of ``layer``'s inputs (None for an unset optional input)."""
    ids = []
    for i in range(layer.num_inputs):
        tensor = layer.get_input(i)
        ids.append(None if tensor is None else tensor_ids[tensor.name])
    return ids


__all__ = ["Call", "Recording", "record", "input_ids", "layer_type"]
