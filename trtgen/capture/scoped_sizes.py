"""Run-time sizes a preserved child call reads come from that call's own arguments.

torch.export with symbolic dims computes each size once, at the top of the flat graph, from
the exported module's input (``attention_mask.size(0)``). ``torch.export.unflatten`` then
hands that input to every preserved child that uses the size, as an extra argument named like
the input; a child that has an argument of that name already (a GPT-2 block's own
``attention_mask``) cannot be built, and the child's signature is given up. Reading the size
inside the child from one of its own arguments with a dim of the same symbol keeps the
signature, and is what the model's code does (``hidden_states.size(0)``).
"""

from typing import Dict, List, Optional, Tuple

import torch
import torch.fx

from ..plan.passes.size_sources import symbol


def _dim_of(node: torch.fx.Node, name: str) -> Optional[int]:
    val = node.meta.get("val")
    if not isinstance(val, torch.Tensor):
        return None
    return next((d for d, size in enumerate(val.shape) if symbol(size) == name), None)


def _scope(user: torch.fx.Node, preserved) -> Optional[Tuple[str, dict]]:
    """The innermost preserved call ``user`` belongs to: (its path, the module stack up to it)."""
    stack = list((user.meta.get("nn_module_stack") or {}).items())
    for depth in range(len(stack), 0, -1):
        path = stack[depth - 1][1][0]
        if path in preserved:
            return path, dict(stack[:depth])
    return None


def read_sizes_inside_calls(program) -> int:
    """Rewrite ``program``'s flat graph in place; the number of size reads moved."""
    graph = program.graph_module.graph
    preserved: Dict[str, List[torch.fx.Node]] = {}
    by_name = {n.name: n for n in graph.nodes}
    for entry in program.module_call_graph:
        if entry.fqn and entry.signature is not None:
            arguments = [by_name.get(getattr(a, "name", None)) for a in entry.signature.inputs]
            preserved[entry.fqn] = [a for a in arguments if a is not None]
    order = {n: k for k, n in enumerate(graph.nodes)}
    moved = 0
    sizes = [
        n
        for n in graph.nodes
        if n.op == "call_function"
        and n.target is torch.ops.aten.sym_size.int
        and isinstance(n.args[0], torch.fx.Node)
        and n.args[0].op == "placeholder"
    ]
    for size in sizes:
        size_symbol = symbol(size.meta.get("val"))
        if size_symbol is None:
            continue
        made: Dict[str, torch.fx.Node] = {}  # one size read per call
        for user in sorted(size.users, key=order.__getitem__):  # the first user of a call first
            scope = _scope(user, preserved)
            if scope is None:
                continue
            path, stack = scope
            if path not in made:
                found = [(a, _dim_of(a, size_symbol)) for a in preserved[path]]
                source = next(((a, d) for a, d in found if d is not None), None)
                if source is None:
                    continue
                with graph.inserting_before(user):
                    made[path] = graph.call_function(torch.ops.aten.sym_size.int, source)
                made[path].meta.update(size.meta, nn_module_stack=stack)
            user.replace_input_with(size, made[path])
            moved += 1
    if moved:
        graph.lint()
        program.graph_module.recompile()
    return moved
