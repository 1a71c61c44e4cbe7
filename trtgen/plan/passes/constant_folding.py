"""Constant folding: a subgraph that depends only on constants and static shapes is computed
once at generation time and written as one constant.

Export writes out what the model computes from sizes known at capture time: an attention mask
built by filling slices of ``zeros(H, W)``, position tables from ``arange`` arithmetic. In the
network that is dozens of statements that always give the same tensor. Folded, it is one
attribute (``self.attn_mask``) whose value is in weights.safetensors.

Only exported graphs are folded: their nodes carry the fake tensor they make, so static shapes
are known. The model's own parameters and buffers are never folded into something else (they
stay weights under their state_dict keys); constants the capture made up may be.
"""

from typing import Any, Callable, Dict, Optional

import torch
import torch.fx

from ..source_names import MADE_BY_CAPTURE, assigned_names
from .purity import is_pure, writes_into_views

# larger results stay computed: weights files should hold weights (a shifted-window mask of
# 64 windows of 49 x 49 positions, 600 KB, still folds)
MAX_ELEMENTS = 1 << 18
FOLDED = "folded_constant_{}"


def _static(node: torch.fx.Node) -> bool:
    value = node.meta.get("val")
    return (
        isinstance(value, torch.Tensor)
        and all(isinstance(d, int) for d in value.shape)
        and value.numel() <= MAX_ELEMENTS
    )


# ops that read their tensor operand only for its dtype, device or (static) shape
SHAPE_ONLY = frozenset(
    {
        "new_zeros",
        "new_ones",
        "new_full",
        "new_empty",
        "zeros_like",
        "ones_like",
        "full_like",
        "empty_like",
    }
)


def _constant_nodes(graph: torch.fx.Graph) -> Dict[torch.fx.Node, bool]:
    constant: Dict[torch.fx.Node, bool] = {}
    for node in graph.nodes:
        if node.op == "get_attr":
            constant[node] = MADE_BY_CAPTURE.fullmatch(node.target) is not None
        elif node.op == "call_function" and isinstance(node.target, torch._ops.OpOverload):
            operands = (
                [] if node.target._overloadpacket.__name__ in SHAPE_ONLY else node.all_input_nodes
            )
            constant[node] = (
                is_pure(node) and _static(node) and all(constant.get(n, False) for n in operands)
            )
        else:
            constant[node] = False
    return constant


def _ops_below(node: torch.fx.Node, constant, seen) -> int:
    if node in seen or node.op != "call_function" or not constant.get(node, False):
        return 0
    seen.add(node)
    return 1 + sum(_ops_below(n, constant, seen) for n in node.all_input_nodes)


def _stand_in(node: torch.fx.Node) -> torch.Tensor:
    """A tensor of ``node``'s dtype (and static shape) for an op that reads nothing else."""
    value = node.meta["val"]
    static = all(isinstance(d, int) for d in value.shape)
    return torch.zeros(tuple(value.shape) if static else (), dtype=value.dtype)


def _evaluate(node: torch.fx.Node, owner, values: Dict[torch.fx.Node, Any]):
    """The real value of a constant node: attributes read from ``owner``, ops run with torch."""
    if node not in values:
        target = node.target
        if isinstance(target, str):  # get_attr
            values[node] = getattr(owner, target)
        else:
            assert isinstance(target, torch._ops.OpOverload), target
            read: Callable[[torch.fx.Node], Any] = _stand_in
            if target._overloadpacket.__name__ not in SHAPE_ONLY:
                read = lambda n: _evaluate(n, owner, values)  # noqa: E731
            args = torch.fx.node.map_arg(node.args, read)
            kwargs = torch.fx.node.map_arg(node.kwargs, read)
            values[node] = target(*args, **kwargs)
    return values[node]


def _source_name(root: torch.fx.Node, constant) -> Optional[str]:
    """The model's name for the folded value: the root's, else the nearest named node below it
    (``attn_mask`` in ``attn + attn_mask.unsqueeze(1)``)."""
    order, seen = [root], {root}
    for node in order:
        for operand in node.all_input_nodes:
            if operand not in seen and constant.get(operand, False):
                seen.add(operand)
                order.append(operand)
    names = assigned_names(order)
    return next((names[n] for n in order if n in names), None)


def fold_constants(graph: torch.fx.Graph, owner) -> int:
    """Replace every maximal constant subgraph of two ops or more, read by a node that is not
    constant, by one ``get_attr`` of its value (set on ``owner``); returns how many."""
    if owner is None or writes_into_views(graph):
        return 0
    constant = _constant_nodes(graph)
    roots = [
        n
        for n in graph.nodes
        if constant[n]
        and n.op == "call_function"
        and any(not constant.get(u, False) for u in n.users)
        and _ops_below(n, constant, set()) >= 2
    ]
    taken = {n.target for n in graph.nodes if n.op == "get_attr"} | set(dir(owner))
    values: Dict[torch.fx.Node, Any] = {}
    index = 0
    for root in roots:
        value = _evaluate(root, owner, values)
        while FOLDED.format(index) in taken:
            index += 1
        target = FOLDED.format(index)
        taken.add(target)
        setattr(owner, target, value.detach().clone())
        with graph.inserting_before(root):
            folded = graph.create_node("get_attr", target)  # on ``owner``, not the graph's module
        folded.meta["val"] = root.meta["val"]
        folded.meta["stack_trace"] = root.meta.get("stack_trace")
        name = _source_name(root, constant)
        if name is not None:
            folded.meta["source_name"] = name  # what the model calls it: ``attn_mask``
        root.replace_all_uses_with(
            folded, delete_user_cb=lambda user: not constant.get(user, False)
        )
    for node in reversed(list(graph.nodes)):
        if constant.get(node) and not node.users:
            graph.erase_node(node)
    return len(roots)
