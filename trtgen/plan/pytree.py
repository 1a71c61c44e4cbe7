"""Undo torch.export's pytree plumbing around preserved module calls.

With ``preserve_module_call_signature`` the unflattened graph packs arguments with
``tree_unflatten`` and unpacks results with ``tree_flatten_spec`` + ``getitem``. Generated code
needs none of that: each of those nodes resolves to the value it forwards, or to an access path
into a child's result (``encoder["last_hidden_state"]``).
"""

import operator

import torch
import torch.fx
import torch.fx._pytree as fx_pytree
import torch.utils._pytree as pytree

from . import pysource


class Access:
    """A leaf inside a node's result, reached by a pytree key path."""

    def __init__(self, node, path):
        self.node, self.path = node, path

    def source(self, names):
        return names.operand(self.node) + suffix(self.path)


def suffix(path):
    """``[0]["key"].attr`` for a pytree key path."""
    text = ""
    for key in path:
        if isinstance(key, pytree.SequenceKey):
            text += f"[{key.idx}]"
        elif isinstance(key, pytree.MappingKey):
            text += f"[{pysource.value(key.key, {})}]"
        elif isinstance(key, pytree.GetAttrKey):
            text += f".{key.name}"
        else:
            text += str(key)
    return text


def handles(node, capture):
    if capture.unflattened is None:
        return False
    if node.op == "get_attr":
        return isinstance(getattr(capture.unflattened, node.target, None), pytree.TreeSpec)
    if node.op != "call_function":
        return False
    if node.target in (pytree.tree_unflatten, fx_pytree.tree_flatten_spec):
        return True
    return node.target is operator.getitem and node.args[0] in _structures(capture)


def _structures(capture):
    if not hasattr(capture, "_pytree_structures"):
        capture._pytree_structures = {}
    return capture._pytree_structures


def resolve(node, capture, names):
    structures = _structures(capture)
    if node.op == "get_attr":
        structures[node] = getattr(capture.unflattened, node.target)
    elif node.target is pytree.tree_unflatten:
        leaves, spec = node.args
        structures[node] = pytree.tree_unflatten(list(leaves), structures[spec])
    elif node.target is fx_pytree.tree_flatten_spec:
        value, spec = node.args
        spec = structures[spec]
        skeleton = pytree.tree_unflatten(list(range(spec.num_leaves)), spec)
        paths = [
            path
            for path, _ in sorted(pytree.tree_flatten_with_path(skeleton)[0], key=lambda p: p[1])
        ]
        structures[node] = [Access(value, path) for path in paths]
    else:  # getitem on a resolved structure
        item = structures[node.args[0]][node.args[1]]
        if isinstance(item, torch.fx.Node):
            names[node] = names[item]
            if item in names.compound:
                names.compound.add(node)
        elif isinstance(item, Access):
            names[node] = item.source(names)
        elif isinstance(item, (tuple, list, dict)):
            structures[node] = item
            names[node] = _render(item, names)  # e.g. position_embeddings=(cos, sin)
        else:
            names[node] = pysource.value(item, names)


def _render(item, names):
    if isinstance(item, Access):
        return item.source(names)
    if isinstance(item, tuple):
        inner = ", ".join(_render(v, names) for v in item)
        return f"({inner},)" if len(item) == 1 else f"({inner})"
    if isinstance(item, list):
        return "[" + ", ".join(_render(v, names) for v in item) + "]"
    if isinstance(item, dict):
        return (
            "{"
            + ", ".join(f"{pysource.value(k, {})}: {_render(v, names)}" for k, v in item.items())
            + "}"
        )
    return pysource.value(item, names)


def restructure(unflattened, leaves):
    """The module's result as it returned it (tuple, dict, ModelOutput) from export's flat leaves."""
    spec = next(
        (
            e.signature.out_spec
            for e in unflattened.module_call_graph
            if e.fqn == "" and e.signature
        ),
        None,
    )
    if spec is None:
        return leaves[0] if isinstance(leaves, (tuple, list)) and len(leaves) == 1 else leaves
    return pytree.tree_unflatten(list(leaves), spec)
