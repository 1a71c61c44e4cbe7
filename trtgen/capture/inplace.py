"""In-place tensor methods as values: ``x.relu_()`` makes later reads of ``x`` read its result.

fx records ``x.relu_()`` as a node whose result the model may ignore, while later nodes still
read ``x``. A network has no mutation, so each in-place call becomes the new version of its
first argument, and later uses are redirected to it. That cannot follow a write into a view
(``x[:, :2].mul_(0.5)`` changes ``x``): ``without_aliasing`` replays the graph as the network
computes it, so capture can tell and use torch.export, which functionalizes such writes.
"""

import operator

import torch.fx

_INPLACE_FUNCTIONS = {
    operator.iadd,
    operator.isub,
    operator.imul,
    operator.itruediv,
    operator.ifloordiv,
    operator.imod,
    operator.ipow,
    operator.iand,
    operator.ior,
    operator.ixor,
}


def is_inplace(node):
    if node.op == "call_method":
        name = node.target
        return name.endswith("_") and not name.startswith("_") and not name.endswith("__")
    if node.op == "call_function":
        if node.target in _INPLACE_FUNCTIONS:
            return True
        name = getattr(node.target, "__name__", "")
        return bool(node.kwargs.get("inplace")) and name in (
            "relu",
            "relu6",
            "leaky_relu",
            "elu",
            "hardtanh",
            "hardswish",
            "hardsigmoid",
            "silu",
            "mish",
            "selu",
            "celu",
            "threshold",
            "rrelu",
            "dropout",
        )
    return False


def functionalize(graph):
    """Redirect reads of mutated tensors to the mutating node; returns ``graph``."""
    latest = {}
    for node in list(graph.nodes):
        if latest:
            node.args = torch.fx.node.map_arg(node.args, lambda n: latest.get(n, n))
            node.kwargs = torch.fx.node.map_arg(node.kwargs, lambda n: latest.get(n, n))
        if is_inplace(node) and node.args and isinstance(node.args[0], torch.fx.Node):
            latest[node.args[0]] = node
            for alias, current in list(latest.items()):  # chains: x.relu_().add_(1)
                if current is node.args[0]:
                    latest[alias] = node
    return graph


def without_aliasing(graph):
    """A copy of ``graph`` whose in-place calls write into a clone of their first argument: it
    computes what the network will, where a write into a view leaves the viewed tensor as is."""
    copy = torch.fx.Graph()
    values = {}
    copy.output(copy.graph_copy(graph, values))
    for node in list(copy.nodes):
        if is_inplace(node) and node.args and isinstance(node.args[0], torch.fx.Node):
            with copy.inserting_before(node):
                fresh = copy.call_method("clone", (node.args[0],))
            node.args = (fresh,) + tuple(node.args[1:])
    return copy
