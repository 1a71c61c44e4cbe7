"""``trtgen support MODEL.py``: what every op and module of the model lowers to; writes nothing."""

import collections
import os

from ..capture.graphs import capture, is_leaf
from ..capture.load import load_model
from ..plan import data_dependent, pytree, source_names
from ..plan.library import layers_class
from ..plan.normalize import normalize
from ..plan.rules import REGISTRY, lowering_for

UNSUPPORTED = "UNSUPPORTED"
_DESCRIBE = {
    "alias": "identity (no layer)",
    "drop": "dropped (no meaning in a network)",
}


def _lowering(rule):
    """What the registry writes an op as: ``F.gelu``, ``operator +``, ``user lowering f()``."""
    if rule is None:
        return UNSUPPORTED
    if rule.kind == "helper":
        return f"user lowering {rule.render.__name__}()"
    return rule.target or _DESCRIBE[rule.kind]


def _line(node):
    """`` at model.py:12``: the model's own line of ``node``, when its trace recorded one."""
    frame = source_names.user_frame(node)
    return f" at {os.path.basename(frame[0])}:{frame[1]}" if frame else ""


def survey(source, input_shapes=()):
    """{(kind, name, refusal): [lowering, count, [where...]]} over the captured model, and the
    captures. ``refusal``: what about the op's arguments is unsupported (None: nothing, or the
    op has no rule at all); the model lines of unsupported ops are in their ``where``."""
    loaded = load_model(source, input_shapes)
    captures = capture(loaded.model, loaded.example_inputs)
    found = collections.OrderedDict()
    for cap in captures:
        module_path = cap.path or "<model>"
        for node in cap.graph.nodes:
            where = module_path
            if node.op == "call_module":
                module = cap.module.get_submodule(node.target)
                if not is_leaf(module):
                    continue
                key = ("module", f"{type(module).__module__}.{type(module).__name__}", None)
                lowering = f"nn.{layers_class(module).__name__}"
            elif pytree.handles(node, cap):
                continue  # the forward's own argument and result structure: no op
            elif node.op in ("call_function", "call_method"):
                op = normalize(node)
                rule = lowering_for(op)  # None also when its arguments are refused
                key = ("op", op.name, None if rule is not None else REGISTRY.refusal(op))
                lowering = _lowering(rule)
                if rule is None:
                    where = f"{module_path} ({type(cap.module).__name__}.forward{_line(node)})"
            else:
                continue
            entry = found.setdefault(key, [lowering, 0, []])
            entry[1] += 1
            if where not in entry[2]:
                entry[2].append(where)
    return found, captures


def _shown(where):
    return ", ".join(where[:3]) + (", ..." if len(where) > 3 else "")


def report(source, input_shapes=(), log=print):
    found, captures = survey(source, input_shapes)
    modes = collections.Counter(c.mode for c in captures)
    log(
        f"{len(captures)} module(s) captured: "
        + ", ".join(f"{m} {n}" for m, n in sorted(modes.items()))
    )
    rows = sorted(
        found.items(), key=lambda item: (item[1][0] != UNSUPPORTED, item[0][:2], item[0][2] or "")
    )
    log(f"{'kind':<7} {'op / module':<44} {'count':>5}  {'lowering':<34} where")
    for (kind, name, refusal), (lowering, count, where) in rows:
        if refusal is not None:
            lowering = f"{UNSUPPORTED} arguments"
        modules = list(dict.fromkeys(w.split(" (", 1)[0] for w in where))
        log(f"{kind:<7} {name:<44} {count:>5}  {lowering:<34} {_shown(modules)}")
    missing = [
        (name, refusal, count, where)
        for (kind, name, refusal), (lowering, count, where) in rows
        if lowering == UNSUPPORTED
    ]
    if not missing:
        log("everything lowers")
        return True
    log(f"{len(missing)} unsupported: {', '.join(name for name, _, _, _ in missing)}")
    for name, refusal, count, where in missing:
        said = f"{name} ({refusal})" if refusal is not None else name
        reason = data_dependent.REASONS.get(name)
        log(f"  {said}  x{count}  at {_shown(where)}" + (f": {reason}" if reason else ""))
    return False
