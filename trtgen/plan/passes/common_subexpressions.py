"""Common-subexpression elimination: a pure op computed twice on the same operands is
computed once, and every user reads that one value.

Export often repeats work the model wrote once (``rotary_emb[0]`` read afresh for every layer,
``x.size(1)`` asked three times); sharing it gives one statement and one TensorRT layer.
"""

from typing import Dict, Hashable, Optional

import torch
import torch.fx

from .purity import is_pure, writes_into_views


class _Unhashable(Exception):
    pass


def _key_of(value) -> Hashable:
    """A hashable stand-in for an argument: nodes by identity, containers item by item."""
    if isinstance(value, torch.fx.Node):
        return ("node", id(value))
    if isinstance(value, (list, tuple)):
        return (type(value).__name__, tuple(_key_of(v) for v in value))
    if isinstance(value, dict):
        return ("dict", tuple((k, _key_of(v)) for k, v in value.items()))
    if isinstance(value, slice):
        return ("slice", _key_of(value.start), _key_of(value.stop), _key_of(value.step))
    if isinstance(value, float):  # 0.0 == -0.0 and 1 == 1.0 == True: keep them apart
        return ("float", value.hex())
    if isinstance(
        value,
        (
            bool,
            int,
            str,
            type(None),
            torch.dtype,
            torch.device,
            torch.memory_format,
            torch.layout,
            type(Ellipsis),
        ),
    ):
        return (type(value).__name__, value)
    raise _Unhashable(type(value).__name__)


def _node_key(node: torch.fx.Node) -> Optional[Hashable]:
    if not is_pure(node):
        return None
    try:
        return (
            node.op,
            node.target if node.op != "call_function" else id(node.target),
            _key_of(node.args),
            _key_of(node.kwargs),
        )
    except _Unhashable:  # a tensor literal argument: leave it alone
        return None


def eliminate_common_subexpressions(graph: torch.fx.Graph) -> int:
    """Merge repeated pure nodes of ``graph`` into their first occurrence; returns how many went."""
    if writes_into_views(graph):
        return 0
    first: Dict[Hashable, torch.fx.Node] = {}
    removed = 0
    for node in list(graph.nodes):
        key = _node_key(node)
        if key is None:
            continue
        earlier = first.setdefault(key, node)
        if earlier is node:
            continue
        node.replace_all_uses_with(earlier)
        graph.erase_node(node)
        removed += 1
    return removed
