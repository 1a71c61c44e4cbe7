"""Descendants cut from an ancestor's torch.export instead of exported again.

When a module needs torch.export, its export preserves the call signatures of all composites
below it. A descendant that needs torch.export too is then read from that export: the graph of
its preserved call, rewritten into the form its own export would have. One export per subtree
instead of one per module (a transformers encoder exported its attention blocks one by one).
"""

import dataclasses
import inspect
import operator
import re

import torch
import torch.fx


class PreservedCall:
    """A descendant whose call signature an ancestor's export preserved, seen as if it had been
    exported on its own: its graph, its attributes, and the call graph below it."""

    def __init__(self, unflattened, path, graph):
        self._module = unflattened.get_submodule(path)
        self.graph = graph
        prefix = path + "."
        self.module_call_graph = [
            dataclasses.replace(entry, fqn=entry.fqn[len(prefix) :] if entry.fqn != path else "")
            for entry in unflattened.module_call_graph
            if entry.fqn == path or entry.fqn.startswith(prefix)
        ]

    @staticmethod
    def find(exports, path, module, inputs, on_probe, child_paths):
        """The nearest ancestor export (``(path, unflattened, on_probe)``) that preserved
        ``path``'s signature on the same run (example or probe), as a ``PreservedCall``;
        ``child_paths``: the children whose calls ``module``'s own export would preserve."""
        for ancestor, unflattened, ancestor_on_probe in reversed(exports):
            if ancestor and not path.startswith(ancestor + "."):
                continue
            relative = path[len(ancestor) + 1 :] if ancestor else path
            preserved = any(
                e.fqn == relative and e.signature is not None for e in unflattened.module_call_graph
            )
            if ancestor_on_probe != on_probe or not preserved:
                continue
            graph = getattr(unflattened.get_submodule(relative), "graph", None)
            if not isinstance(graph, torch.fx.Graph):  # a module called more than once
                return None
            graph = _standalone_graph(graph, module, inputs)
            child = None if graph is None else PreservedCall(unflattened, relative, graph)
            if child is None or not child.called_as(inputs) or not child.keeps_calls(child_paths):
                return None
            return child
        return None

    def called_as(self, inputs):
        """Was the traced call made with the recorded call's positional count and keywords, in
        that order (so its input leaves line up with the recorded ones)?"""
        entry = next((e.signature for e in self.module_call_graph if e.fqn == ""), None)
        if entry is None:
            return False
        args, kwargs = entry.in_spec.children()
        return args.num_children == len(inputs[0]) and list(kwargs.context) == list(inputs[1])

    def keeps_calls(self, child_paths):
        """Were the calls of ``child_paths`` preserved, as the module's own export would try
        first, each with the arguments its entry records?"""
        entries = {e.fqn: e.signature for e in self.module_call_graph if e.fqn}
        if not all(entries.get(path) for path in child_paths):
            return False
        for node in self.graph.nodes:
            if node.op == "call_module" and entries.get(node.target):
                args, kwargs = entries[node.target].in_spec.children()
                if len(node.args) != args.num_children or list(node.kwargs) != list(kwargs.context):
                    return False
        return True

    def __getattr__(self, name):
        return getattr(self._module, name)


def _standalone_graph(graph, module, inputs):
    """The graph of a preserved call as ``module``'s own export has it: one placeholder per
    input leaf, named as torch.export names them, and the flat output leaves. None if the graph
    is not laid out as expected (the caller then exports the module on its own)."""
    args, kwargs = inputs
    bound = {**inspect.signature(module.forward).bind_partial(*args).arguments, **kwargs}
    leaves = torch.utils._pytree.tree_flatten_with_path(bound)[0]
    names = [
        re.sub(r"[^a-zA-Z0-9]", "_", "_".join(_key_text(k).lower() for k in path))
        for path, _ in leaves
    ]
    copy = torch.fx.Graph()
    returned = copy.graph_copy(graph, {})
    placeholders = [n for n in copy.nodes if n.op == "placeholder"]
    flatten = [n for n in copy.nodes if n.target is torch.fx._pytree.tree_flatten_spec]
    if (
        not flatten
        or any(user.target is not operator.getitem for user in flatten[0].users)
        or not isinstance(returned, torch.fx.Node)
        or returned.target is not torch.utils._pytree.tree_unflatten
        or len(set(names)) != len(names)
        # inputs beside the call's own (sizes a dynamic graph reads from elsewhere)
        or any(set(p.users) != {flatten[0]} for p in placeholders)
    ):
        return None
    flatten = flatten[0]
    with copy.inserting_before(placeholders[0] if placeholders else flatten):
        new = [copy.placeholder(name) for name in names]
    for user in list(flatten.users):
        if user.args[1] >= len(new) or not _same_leaf(user.meta, leaves[user.args[1]][1]):
            return None  # the export traced another call than the recorded one
        new[user.args[1]].meta.update(user.meta)  # the leaf's value: shapes, dtypes
        user.replace_all_uses_with(new[user.args[1]])
        copy.erase_node(user)
    copy.output(tuple(returned.args[0]))  # graph_copy leaves the output to the caller
    for node in list(copy.nodes):
        if _same_dtype_to(node):  # unflatten's copy at the call boundary; own exports drop it
            node.replace_all_uses_with(node.args[0])
            copy.erase_node(node)
    # drop the structured inputs, their flattening and the output's unflattening
    for node in [returned, flatten] + [
        n for n in reversed(copy.nodes) if n.op in ("placeholder", "get_attr")
    ]:
        if node not in new and not node.users:
            copy.erase_node(node)
    return _renamed(copy)


def _renamed(graph):
    """``graph`` with node names numbered afresh (``linear``, ``linear_1``...), as in the
    module's own export: siblings cut from one ancestor export then read alike."""
    fresh, env = torch.fx.Graph(), {}
    for node in graph.nodes:
        if node.op == "call_module":  # its module path in snake case, as fx names it
            node.name = re.sub(r"(?<=[a-z])([A-Z])", r"_\1", node.target).lower().replace(".", "_")
        elif node.op == "call_function":  # the op's name, then numbered
            node.name = re.sub(r"_\d+$", "", node.name)
        env[node] = fresh.node_copy(node, lambda n: env[n])
    return fresh


def _same_leaf(meta, recorded):
    """Did the ancestor's export see this input as the module's recorded call had it (a tensor
    of that dtype and rank, or the same plain value)? transformers builds masks under tracing
    that eager runs skip."""
    if "val" not in meta:  # export keeps no value for a plain input (None, a flag)
        return not isinstance(recorded, torch.Tensor)
    value = meta["val"]
    if isinstance(value, torch.Tensor) or isinstance(recorded, torch.Tensor):
        return (
            isinstance(value, torch.Tensor)
            and isinstance(recorded, torch.Tensor)
            and (value.dtype, value.ndim) == (recorded.dtype, recorded.ndim)
        )
    try:
        return type(value) is type(recorded) and bool(value == recorded)
    except Exception:  # values without a plain truth value
        return False


def _same_dtype_to(node):
    """``x.to(dtype)`` where ``x`` already has that dtype."""
    if node.target is not torch.ops.aten.to.dtype or node.kwargs or len(node.args) != 2:
        return False
    value = node.args[0].meta.get("val") if isinstance(node.args[0], torch.fx.Node) else None
    return isinstance(value, torch.Tensor) and value.dtype == node.args[1]


def _key_text(key):
    if isinstance(key, torch.utils._pytree.MappingKey):
        return str(key.key)
    if isinstance(key, torch.utils._pytree.SequenceKey):
        return str(key.idx)
    return key.name
