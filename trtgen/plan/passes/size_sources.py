"""A run-time size is read from the first forward parameter that has it.

torch.export reads a symbolic size from whichever input it met first (``attention_mask.size(0)``
for the batch of a Llama attention); the model's source reads it from its main input
(``hidden_states.shape[:-1]``). Rewriting each ``sym_size(x, d)`` of a parameter to the first
parameter, in signature order, whose dim has the same symbol makes the written sizes
``hidden_states_size0``, and makes sizes of one symbol one common subexpression.
"""

from typing import Dict, List, Optional, Tuple

import torch
import torch.fx

from .purity import writes_into_views


def symbol(value) -> Optional[str]:
    """The expression of a symbolic size (``s0``), None for a plain int."""
    if isinstance(value, torch.SymInt):
        return str(value.node.expr)
    return None


def _first_sources(graph: torch.fx.Graph) -> Dict[str, Tuple[torch.fx.Node, int]]:
    """symbol → (parameter, dim): the first parameter dim, in signature order, of each symbol."""
    sources: Dict[str, Tuple[torch.fx.Node, int]] = {}
    for node in graph.nodes:
        if node.op != "placeholder":
            continue
        val = node.meta.get("val")
        if not isinstance(val, torch.Tensor):
            continue
        for dim, size in enumerate(val.shape):
            name = symbol(size)
            if name is not None:
                sources.setdefault(name, (node, dim))
    return sources


def read_sizes_from_first_parameter(graph: torch.fx.Graph) -> None:
    if writes_into_views(graph):
        return
    sources = _first_sources(graph)
    moved: List[torch.fx.Node] = []
    for node in graph.nodes:
        if node.op != "call_function" or node.target is not torch.ops.aten.sym_size.int:
            continue
        tensor, dim = node.args[0], node.args[1]
        if not isinstance(tensor, torch.fx.Node) or tensor.op != "placeholder":
            continue
        source = sources.get(symbol(node.meta.get("val")) or "")
        if source is None or source == (tensor, dim):
            continue
        node.args = (source[0], source[1])
        moved.append(node)
    if moved:
        graph.lint()
