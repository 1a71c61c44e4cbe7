"""Which graph nodes are plain functions of their operands (safe to share or to drop)."""

import torch.fx

from ..inplace import is_inplace
from ..normalize import normalize

# ops whose result is drawn at random: two calls are two different values
RANDOM = frozenset({
    "rand", "randn", "randint", "rand_like", "randn_like", "randint_like", "randperm",
    "bernoulli", "normal", "uniform", "multinomial", "poisson", "exponential", "geometric",
    "cauchy", "log_normal", "native_dropout",
})


def is_pure(node: torch.fx.Node) -> bool:
    """A call whose result depends only on its operands and that writes nothing."""
    if node.op == "get_attr":
        return True
    if node.op not in ("call_function", "call_method") or is_inplace(node):
        return False
    if "out" in node.kwargs:
        return False
    try:
        name = normalize(node).name
    except Exception:  # an op trtgen cannot spell is reported later, not shared
        return False
    return name not in RANDOM and "setitem" not in name
