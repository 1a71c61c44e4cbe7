"""Which graph nodes are plain functions of their operands (safe to share or to drop)."""

import torch
import torch.fx

from ...capture.inplace import is_inplace
from ..normalize import normalize

# ops whose result is drawn at random: two calls are two different values
RANDOM = frozenset(
    {
        "rand",
        "randn",
        "randint",
        "rand_like",
        "randn_like",
        "randint_like",
        "randperm",
        "bernoulli",
        "normal",
        "uniform",
        "multinomial",
        "poisson",
        "exponential",
        "geometric",
        "cauchy",
        "log_normal",
        "native_dropout",
    }
)


def is_pure(node: torch.fx.Node) -> bool:
    """A call whose result depends only on its operands and that writes nothing."""
    if node.op == "get_attr":
        return True
    if node.op not in ("call_function", "call_method") or is_inplace(node):
        return False
    if "out" in node.kwargs:
        return False
    if isinstance(node.target, torch._ops.OpOverload) and node.target._schema.is_mutable:
        return False  # aten.fill_ / copy_ in a graph that was not functionalized
    try:
        name = normalize(node).name
    except Exception:  # an op trtgen cannot spell is reported later, not shared
        return False
    return name not in RANDOM and "setitem" not in name


def writes_into_views(graph: torch.fx.Graph) -> bool:
    """An aten graph with in-place writes (not functionalized): a node's value can change after
    it is made, through a view of it, so no pass may treat nodes as values."""
    return any(
        n.op == "call_function"
        and isinstance(n.target, torch._ops.OpOverload)
        and n.target._schema.is_mutable
        for n in graph.nodes
    )
