"""In-place tensor methods as values: ``x.relu_()`` makes later reads of ``x`` read its result.

fx records ``x.relu_()`` as a node whose result the model may ignore, while later nodes still
read ``x``. A network has no mutation, so each in-place call becomes the new version of its
first argument, and later uses are redirected to it.
"""

import operator

import torch.fx

_INPLACE_FUNCTIONS = {operator.iadd, operator.isub, operator.imul, operator.itruediv,
                      operator.ifloordiv, operator.imod, operator.ipow, operator.iand,
                      operator.ior, operator.ixor}


def is_inplace(node):
    if node.op == "call_method":
        name = node.target
        return name.endswith("_") and not name.startswith("_") and not name.endswith("__")
    if node.op == "call_function":
        if node.target in _INPLACE_FUNCTIONS:
            return True
        name = getattr(node.target, "__name__", "")
        return bool(node.kwargs.get("inplace")) and name in ("relu", "relu6", "leaky_relu", "elu", "hardtanh",
                                                              "hardswish", "hardsigmoid", "silu", "mish", "selu",
                                                              "celu", "threshold", "rrelu", "dropout")
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
