"""Dead code: the nodes a generated forward must write, found backwards from its result.

A node is live when the result needs it. Three kinds of reads do not count: operands of ops
dropped as no-ops for a network (asserts), operands a normalized op no longer reads (the
destination of an ``aten.copy``), and arguments of child calls for parameters the generated
child does not keep (the causal mask transformers builds for layers that run SDPA with
``is_causal``). So the values only they need are not written at all.
"""

from typing import Callable, Dict, Iterable, Set

import torch.fx


def live_nodes(
    graph: torch.fx.Graph,
    dropped: Set[torch.fx.Node],
    reads: Callable[[torch.fx.Node], Iterable[torch.fx.Node]],
) -> Set[torch.fx.Node]:
    """Nodes the output depends on. ``dropped``: nodes written as nothing, whose operands are
    not needed for them; ``reads(node)``: the nodes ``node``'s written statement reads."""
    live: Set[torch.fx.Node] = set()
    for node in reversed(graph.nodes):
        if node.op == "output" or (node in live and node not in dropped):
            live.add(node)
            live.update(reads(node))
    return live


Reads = Callable[[torch.fx.Node], Iterable[torch.fx.Node]]


def statement_reads(kinds: Dict, child_reads: Reads) -> Reads:
    """``reads`` for ``live_nodes``: a call op reads its normalized operands, a child call the
    arguments of the parameters its generated class kept, anything else all its inputs."""

    def reads(node: torch.fx.Node):
        if node in kinds:
            op = kinds[node][1]
            found: list = []
            torch.fx.node.map_arg((op.args, op.kwargs), found.append)
            return found
        if node.op == "call_module":
            return child_reads(node)
        return node.all_input_nodes

    return reads
