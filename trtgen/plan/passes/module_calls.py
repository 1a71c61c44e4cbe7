"""Export's pytree plumbing around preserved module calls, replaced by the values it forwards.

With ``preserve_module_call_signature`` an exported graph packs a child's arguments with
``tree_unflatten`` and unpacks its result with ``tree_flatten_spec`` + ``getitem``. After this
pass the call reads its arguments directly (``self.layers[0](hidden_states, mask=m)``) and its
result is read as the model reads it (``layer_out[0]``, ``out["last_hidden_state"]``), as in a
symbolic trace: every later pass and the forward writer see one kind of graph.
"""

import builtins
import operator
from typing import Any, List

import torch
import torch.fx
import torch.fx._pytree as fx_pytree
import torch.utils._pytree as pytree


def _packs(node: Any) -> bool:
    """``node`` is a ``tree_unflatten`` or an item taken out of one."""
    if not isinstance(node, torch.fx.Node) or node.op != "call_function":
        return False
    if node.target is pytree.tree_unflatten:
        return True
    return node.target is operator.getitem and _packs(node.args[0])


def _forwarded(node: Any, owner) -> Any:
    """The value a packing node forwards: a structure whose leaves are graph nodes."""
    if not _packs(node):
        return node
    if node.target is pytree.tree_unflatten:
        leaves, spec = node.args
        return pytree.tree_unflatten(
            [_forwarded(leaf, owner) for leaf in leaves], getattr(owner, spec.target)
        )
    return _forwarded(node.args[0], owner)[node.args[1]]


def _leaf_paths(spec) -> List[tuple]:
    """Key paths of a spec's leaves, in leaf order."""
    skeleton = pytree.tree_unflatten(list(range(spec.num_leaves)), spec)
    return [
        path for path, _ in sorted(pytree.tree_flatten_with_path(skeleton)[0], key=lambda p: p[1])
    ]


def _access(graph: torch.fx.Graph, value: torch.fx.Node, path) -> torch.fx.Node:
    """Nodes reading ``path`` (``[0]``, ``["key"]``, ``.attr``) out of ``value``."""
    for key in path:
        if isinstance(key, pytree.SequenceKey):
            value = graph.call_function(operator.getitem, (value, key.idx))
        elif isinstance(key, pytree.MappingKey):
            value = graph.call_function(operator.getitem, (value, key.key))
        else:
            value = graph.call_function(builtins.getattr, (value, key.name))
    return value


def inline_call_plumbing(graph: torch.fx.Graph, owner) -> int:
    """Rewrite the preserved calls of an exported graph (``owner``: its unflattened module,
    which holds the specs); returns how many calls changed. No-op for symbolic traces."""
    if owner is None:
        return 0
    changed = 0
    for node in list(graph.nodes):
        if node.op != "call_module":
            continue
        args = tuple(_forwarded(a, owner) for a in node.args)
        kwargs = {k: _forwarded(v, owner) for k, v in node.kwargs.items()}
        if any(_packs(a) for a in node.args) or any(_packs(v) for v in node.kwargs.values()):
            node.args, node.kwargs = args, kwargs
            changed += 1
    for node in list(graph.nodes):
        if node.op == "call_function" and node.target is fx_pytree.tree_flatten_spec:
            call, spec = node.args
            paths = _leaf_paths(getattr(owner, spec.target))
            for user in list(node.users):
                if user.op != "call_function" or user.target is not operator.getitem:
                    break  # read whole: keep the plumbing
                with graph.inserting_before(user):
                    leaf = _access(graph, call, paths[user.args[1]])
                if "val" in user.meta:  # what the leaf is, for matching flattened calls by shape
                    leaf.meta.setdefault("val", user.meta["val"])
                user.replace_all_uses_with(leaf)
                graph.erase_node(user)
    _erase_unused_plumbing(graph)
    return changed


def _erase_unused_plumbing(graph: torch.fx.Graph) -> None:
    plumbing = {pytree.tree_unflatten, fx_pytree.tree_flatten_spec, operator.getitem}
    for node in reversed(list(graph.nodes)):
        unused = not node.users
        if (
            unused
            and node.op == "call_function"
            and node.target in plumbing
            and (
                node.target is not operator.getitem
                or _packs(node)
                or getattr(node.args[0], "target", None) is fx_pytree.tree_flatten_spec
            )
        ):
            graph.erase_node(node)
        elif unused and node.op == "get_attr" and "_spec" in node.target:
            graph.erase_node(node)
