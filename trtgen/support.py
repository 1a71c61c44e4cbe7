"""``trtgen support MODEL.py``: what every op and module of the model lowers to; writes nothing."""

import collections

from .capture import capture, is_leaf
from .library import layers_class
from .load import load_model
from .normalize import normalize
from .rules import lowering_rule

_DESCRIBE = {
    "call": "F.{name} / Tensor.{name}",
    "infix": "operator {symbol}",
    "prefix": "operator {symbol}",
    "getitem": "subscript",
    "getattr": "attribute",
    "alias": "identity (no layer)",
    "drop": "dropped (no meaning in a network)",
    "helper": "user lowering {name}()",
}


def _lowering(rule, name):
    if rule is None:
        return "UNSUPPORTED"
    return _DESCRIBE[rule.kind].format(name=name, symbol=rule.symbol)


def survey(source, input_shapes=()):
    """{(kind, name): [lowering, count, [where...]]} over the captured model, and the captures."""
    loaded = load_model(source, input_shapes)
    captures = capture(loaded.model, loaded.example_inputs)
    found = collections.OrderedDict()
    for cap in captures:
        where = cap.path or "<model>"
        for node in cap.graph.nodes:
            if node.op == "call_module":
                module = cap.module.get_submodule(node.target)
                if not is_leaf(module):
                    continue
                key = ("module", f"{type(module).__module__}.{type(module).__name__}")
                lowering = f"nn.{layers_class(module).__name__}"
            elif node.op in ("call_function", "call_method"):
                op = normalize(node)
                key = ("op", op.name)
                lowering = _lowering(lowering_rule(op.name), op.name)
            else:
                continue
            entry = found.setdefault(key, [lowering, 0, []])
            entry[1] += 1
            if where not in entry[2]:
                entry[2].append(where)
    return found, captures


def report(source, input_shapes=(), log=print):
    found, captures = survey(source, input_shapes)
    modes = collections.Counter(c.mode for c in captures)
    log(f"{len(captures)} module(s) captured: " + ", ".join(f"{m} {n}" for m, n in sorted(modes.items())))
    rows = sorted(found.items(), key=lambda item: (item[1][0] != "UNSUPPORTED", item[0]))
    log(f"{'kind':<7} {'op / module':<44} {'count':>5}  {'lowering':<34} where")
    for (kind, name), (lowering, count, where) in rows:
        shown = ", ".join(where[:3]) + (", ..." if len(where) > 3 else "")
        log(f"{kind:<7} {name:<44} {count:>5}  {lowering:<34} {shown}")
    missing = [name for (kind, name), (lowering, _, _) in found.items() if lowering == "UNSUPPORTED"]
    if missing:
        log(f"{len(missing)} unsupported: {', '.join(missing)}")
    else:
        log("everything lowers")
    return not missing
