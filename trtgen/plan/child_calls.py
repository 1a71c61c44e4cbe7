"""Calls of child modules inside a generated forward: which arguments, which results.

A generated child class keeps only the parameters that received tensors, so the call passes
just those. In an export whose child call was flattened (its signature could not be kept),
arguments and results are matched to the child's parameters and result by shape and dtype,
as recorded when the child ran.
"""

import inspect
import operator

import torch

from . import library, pysource
from .flattened_calls import match_flattened
from .pytree import suffix as pytree_suffix


def arguments(capture, node, captures_by_module, names):
    """Arguments of ``self.child(...)``: for a generated class, only the tensor parameters it kept."""
    passed = _passed(capture, node, captures_by_module)
    if isinstance(passed, tuple):  # a layers class: the call as written
        return pysource.call_args(passed[0], passed[1], names)
    starred = var_positional(capture.module.get_submodule(node.target))
    return ", ".join(
        _starred(value, names) if name == starred else pysource.value(value, names)
        for name, value in passed.items()
    )


def read_nodes(capture, node, captures_by_module):
    """The graph nodes the written call of a child reads: arguments of parameters the
    generated child dropped (a mask it ignores) are not among them."""
    passed = _passed(capture, node, captures_by_module)
    found = []
    torch.fx.node.map_arg(
        list(passed) if isinstance(passed, tuple) else list(passed.values()), found.append
    )
    return found


def _passed(capture, node, captures_by_module):
    """What the written call passes: ``(args, kwargs)`` for a layers class, else
    ``{parameter: value}`` for the parameters the generated child kept, in its order."""
    child = capture.module.get_submodule(node.target)
    child_capture = captures_by_module.get(id(child))
    if child_capture is None:
        args = node.args[prepended(capture, node) :]
        if capture.unflattened is not None and library.runs_as_sequential(child) and args:
            # with dynamic shapes unflatten passes a Sequential, before its input, the tensors
            # its items read sizes from; the generated items take sizes from their own input
            args = args[-1:]
        return (args, node.kwargs)
    kept = child_capture.params
    if capture.unflattened is not None and not _signature_preserved(
        capture.unflattened, node.target
    ):
        by_name = match_flattened(node, child_capture, capture, captures_by_module)
    else:  # symbolic traces, and exports with preserved call signatures, keep the call as written
        signature = inspect.signature(type(child).forward)
        bound = signature.bind(child, *node.args[prepended(capture, node) :], **node.kwargs)
        by_name = {}
        for name, value in list(bound.arguments.items())[1:]:
            if signature.parameters[name].kind == inspect.Parameter.VAR_KEYWORD:
                by_name.update(value)  # **kwargs entries are parameters of their own
            else:
                by_name[name] = value
    missing = [n for n in kept if n not in by_name]
    if missing:
        raise RuntimeError(f"call of {node.target} does not pass {missing}")
    return {name: by_name[name] for name in kept}


def _starred(value, names):
    """The generated child keeps ``forward(self, *xs)``: pass the items, not the tuple."""
    if isinstance(value, (tuple, list)):
        return ", ".join(pysource.value(v, names) for v in value)
    return f"*{pysource.value(value, names)}"


def var_positional(module):
    """The name of ``forward``'s ``*args`` parameter, if it has one."""
    parameters = inspect.signature(type(module).forward).parameters.values()
    return next((p.name for p in parameters if p.kind == p.VAR_POSITIONAL), None)


def flattened_result(capture, node, captures_by_module, used_leaves):
    """``[0]`` / ``["key"]``: where leaf ``i`` of a flattened child call sits in the child's real result.

    Export numbers a non-preserved child's outputs its own way; the generated child returns the
    structure the PyTorch module returned, so the leaf is found by shape and dtype (first unused).
    """
    if (
        capture.unflattened is None
        or node.op != "call_function"
        or node.target is not operator.getitem
    ):
        return None
    call = node.args[0]
    if not isinstance(call, torch.fx.Node) or call.op != "call_module":
        return None
    if _signature_preserved(capture.unflattened, call.target):
        return None
    child = captures_by_module.get(id(capture.module.get_submodule(call.target)))
    value = node.meta.get("val")
    result = None if child is None else child.seen_result(capture.exported_on)
    if result is None or not isinstance(value, torch.Tensor):
        return None
    taken = used_leaves.setdefault(call, set())
    for path, leaf in torch.utils._pytree.tree_flatten_with_path(result)[0]:
        key = pytree_path(path)
        if (
            key not in taken
            and isinstance(leaf, torch.Tensor)
            and tuple(leaf.shape) == tuple(value.shape)
            and leaf.dtype == value.dtype
        ):
            taken.add(key)
            return key
    return None


def single_leaf(capture, node, captures_by_module):
    """``[0]`` when export flattened a call whose result has one tensor (``(x, None)``, a
    one-field ModelOutput): the graph then uses the call as that tensor."""
    if capture.unflattened is None or _signature_preserved(capture.unflattened, node.target):
        return ""
    child = captures_by_module.get(id(capture.module.get_submodule(node.target)))
    if child is None or child.result is None or isinstance(child.result, torch.Tensor):
        return ""
    leaves = [
        (path, leaf)
        for path, leaf in torch.utils._pytree.tree_flatten_with_path(child.result)[0]
        if isinstance(leaf, torch.Tensor)
    ]
    if len(leaves) != 1 or any(u.target is operator.getitem for u in node.users):
        return ""
    return pytree_path(leaves[0][0])


def pytree_path(path):
    return pytree_suffix(path)


def prepended(capture, node):
    """How many inputs unflatten put before a preserved call's own arguments: with dynamic
    shapes, tensors whose sizes the child's graph reads (they are not the child's parameters)."""
    entry = (
        None if capture.unflattened is None else _preserved_entry(capture.unflattened, node.target)
    )
    if entry is None:
        return 0
    return len(node.args) - entry.signature.in_spec.children()[0].num_children


def _preserved_entry(unflattened, target):
    """The module-call-graph entry of ``target`` when export kept its call signature."""
    return next(
        (e for e in unflattened.module_call_graph if e.fqn == target and e.signature is not None),
        None,
    )


def _signature_preserved(unflattened, target):
    return _preserved_entry(unflattened, target) is not None
