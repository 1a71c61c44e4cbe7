"""Arguments of a child call that torch.export flattened (its signature could not be kept):
each of the child's parameters is found among the call's tensors by shape and dtype, ties
broken by value; parameters the child never reads may be missing from the call."""

import inspect

import torch


def match_flattened(node, child_capture, capture, captures_by_module):
    """Export flattened this call: match its tensors to the child's parameters by shape and dtype
    (as recorded when the child ran: in the probe run when the parent was exported on it); where
    several fit (RoPE's cos and sin), by the values the parent's graph computes."""
    signature = inspect.signature(type(child_capture.module).forward)
    args, kwargs = child_capture.seen_inputs(capture.exported_on)
    bound = dict(signature.bind(child_capture.module, *args, **kwargs).arguments)
    for name, param in signature.parameters.items():
        if param.kind == inspect.Parameter.VAR_KEYWORD:
            bound.update(bound.pop(name, {}))
    remaining = [a for a in node.args if isinstance(a, torch.fx.Node)]
    unused = _unused_parameters(child_capture, captures_by_module)
    by_name = {}
    for name in child_capture.params:
        wanted = bound.get(name)
        if isinstance(wanted, (tuple, list)):  # (cos, sin): each tensor is an argument
            found = [_take_match(remaining, w, capture) for w in wanted]
            if all(f is not None for f in found):
                by_name[name] = type(wanted)(found)
        else:
            found = _take_match(remaining, wanted, capture)
            if found is not None:
                by_name[name] = found
        if name not in by_name and name in unused:  # export drops inputs the child ignores
            by_name[name] = None
    return by_name


def _take_match(remaining, wanted, capture):
    """The one of ``remaining`` with ``wanted``'s shape (at the traced sizes) and dtype, removed
    from it; of several, the one whose traced value equals ``wanted``, else the first."""
    fits = []
    for arg in remaining:
        value = arg.meta.get("val")
        if (
            isinstance(value, torch.Tensor)
            and isinstance(wanted, torch.Tensor)
            and _traced_shape(value) == tuple(wanted.shape)
            and value.dtype == wanted.dtype
        ):
            fits.append(arg)
    if len(fits) > 1:
        known = traced_values(capture)
        fits.sort(key=lambda arg: not _equal(known.get(arg), wanted))  # stable: equal first
    if fits:
        remaining.remove(fits[0])
        return fits[0]
    return None


def _equal(value, wanted):
    return (
        isinstance(value, torch.Tensor)
        and value.shape == wanted.shape
        and torch.equal(value, wanted)
    )


def traced_values(capture):
    """{node: value} of the exported graph run on the inputs it was exported on ({} when it
    cannot run); computed once per capture."""
    if capture.traced_values is None:
        capture.traced_values = _run_graph(capture)
    return capture.traced_values


def _run_graph(capture):
    args, kwargs = capture.seen_inputs(capture.exported_on)
    leaves = torch.utils._pytree.tree_leaves((args, kwargs))
    placeholders = [n for n in capture.graph.nodes if n.op == "placeholder"]
    if len(leaves) != len(placeholders):
        return {}
    # keep only what child calls receive, not every intermediate of the model
    kept = {
        a
        for n in capture.graph.nodes
        if n.op == "call_module"
        for a in n.args
        if isinstance(a, torch.fx.Node)
    }
    values = {}

    class Recorder(torch.fx.Interpreter):
        def run_node(self, node):
            result = super().run_node(node)
            if node in kept:
                values[node] = result
            return result

    try:
        with torch.no_grad():
            Recorder(capture.unflattened, graph=capture.graph).run(*leaves)
    except Exception:  # the values only break ties; without them the first fit is taken
        return {}
    return values


def _traced_shape(value):
    """A traced tensor's sizes, a dynamic dim at the size it was traced with."""
    return tuple(d if isinstance(d, int) else d.node.hint for d in value.shape)


def _unused_parameters(capture, captures_by_module):
    """Forward parameters the module never reads: not in its graph, or only passed on to
    children that do not read them (a decoder layer hands position_ids to an attention that
    ignores them)."""
    unused = set()
    for node in capture.graph.nodes:
        if node.op == "placeholder" and all(
            _ignored_by_child(capture, user, node, captures_by_module) for user in node.users
        ):
            unused.add(node.target.lstrip("*"))
    return unused


def _ignored_by_child(capture, call, value, captures_by_module):
    """Is ``value`` an argument of the child call ``call`` that the child never reads?"""
    if call.op != "call_module" or capture.unflattened is not None:
        return False  # only calls as written (symbolic traces) bind to parameter names
    child = capture.module.get_submodule(call.target)
    child_capture = captures_by_module.get(id(child))
    if child_capture is None:
        return False
    signature = inspect.signature(type(child).forward)
    try:
        bound = signature.bind(child, *call.args, **call.kwargs).arguments
    except TypeError:
        return False
    for name, param in signature.parameters.items():
        if param.kind == inspect.Parameter.VAR_KEYWORD:  # **kwargs entries are parameters
            bound.update(bound.pop(name, {}))
    names = [name for name, arg in bound.items() if arg is value]
    unused = _unused_parameters(child_capture, captures_by_module)
    return bool(names) and all(name in unused for name in names)
