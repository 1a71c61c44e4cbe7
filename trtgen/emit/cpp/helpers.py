"""Module calls → one C++ helper per module class (and per structural variant of it).

Calls of a class whose statements agree share a helper; literals that differ between those
calls (channel counts, strides, shapes) become parameters, named after what they set.
"""

import re
from dataclasses import dataclass, field

from . import optional_child
from .bodies import HOLE, BodyWriter, CallRef, Names
from .literals import SUPPORT_NAMES, param_type, render_literal
from .specs import Lit


@dataclass
class Helper:
    function: str
    cls: type
    calls: list
    body: object  # Body of the first call (its text is shared by all)
    params: list  # (parameter name, kind, example value, per-call values) for hoisted literals
    slots: list  # per literal position: parameter name or None (inlined)
    per_call: dict = field(default_factory=dict)  # Call -> [Lit] arguments


def snake(name):
    name = re.sub(r"(?<=[a-z0-9])([A-Z])", r"_\1", name)
    name = re.sub(r"(?<=[A-Z])([A-Z][a-z])", r"_\1", name)
    return re.sub(r"\W", "_", name, flags=re.ASCII).lower()  # C++ identifiers: ASCII


class HelperBuilder:
    def __init__(self, recording, weights, is_user_class):
        self.rec = recording
        self.weights = weights
        self.is_user_class = is_user_class
        self.bodies = {}  # Call -> Body (with CallRefs)
        self.writers = {}
        self.uses = _uses(recording)
        self.function_stems = set()
        self.used_keys = set()

    # ------------------------------------------------------------------ pass 1: bodies
    def write(self, call):
        writer = BodyWriter(
            self.rec, call, self.weights, self.is_user_class, self.write, self.used_keys
        )
        writer.names.taken |= self.function_stems  # a local variable never hides a helper
        self.writers[id(call)] = writer
        body = writer.write()
        body.outputs = self._outputs(call, writer)
        body.inputs.sort(key=lambda item: _arg_position(call, item[0]))
        self.bodies[id(call)] = body
        return body

    def _outputs(self, call, writer):
        if call.cls is None:
            return []
        inside = range(call.start, call.end)
        own_renames = [e[1] for e in call.events if e[0] == "rename"]
        outputs = []
        for tid in writer.produced:
            uses = self.uses.get(tid, ())
            if any(_outside(use, call, inside) for use in uses):
                outputs.append(tid)
        order = {tid: k for k, tid in enumerate(own_renames)}
        return sorted(outputs, key=lambda t: (order.get(t, len(order)), _production_key(t)))

    # ------------------------------------------------------------------ pass 2: helpers
    def build(self, top):
        calls = []
        _collect(top, self.is_user_class, calls)
        self.function_stems = {snake(call.cls.__name__) for call in calls}
        self.write(top)
        heights = {}
        for call in reversed(calls):  # children come after parents in `calls`
            body = self.bodies[id(call)]
            heights[id(call)] = 1 + max((heights[id(c)] for c in body.children), default=-1)
        by_class = {}
        for call in calls:
            by_class.setdefault(call.cls, []).append(call)
        class_height = {cls: max(heights[id(c)] for c in cs) for cls, cs in by_class.items()}
        self.helper_of_call = {}
        helpers = []
        local = set().union(*(w.names.taken for w in self.writers.values())) - self.function_stems
        # every helper's parameters too: a class Net gets a helper net_1
        names = Names({"net", "w", "name"} | SUPPORT_NAMES | local)
        for cls in sorted(by_class, key=lambda c: (class_height[c], calls.index(by_class[c][0]))):
            for call in by_class[cls]:
                self._expand(self.bodies[id(call)])
            helpers.extend(self._group(cls, by_class[cls], names))
        top_body = self.bodies[id(top)]
        self._expand(top_body)
        return helpers, top_body, self.writers[id(top)]

    def _expand(self, body):
        for statement in body.statements:
            chunks = []
            for chunk in statement[1]:
                if isinstance(chunk, CallRef):
                    function, args = self.helper_of_call[id(chunk.call)]
                    chunks.extend(chunk.chunks(function, args))
                else:
                    chunks.append(chunk)
            statement[1] = chunks

    def _group(self, cls, calls, names):
        variants = {}
        for call in calls:
            body = self.bodies[id(call)]
            key = (body.text, tuple((lit.kind, _enum_type(lit)) for lit in body.literals))
            variants.setdefault(key, []).append(call)
        groups = list(variants.values())
        base = snake(cls.__name__)
        if len(groups) == 2:
            merged = self._merged(cls, groups, names.fresh(base))
            if merged is not None:
                return [merged]
        helpers = []
        first_children = None
        for group in groups:
            children = _child_names(group[0], self.rec)
            if first_children is None:
                first_children, stem = children, base
            else:
                extra = sorted(children - first_children)
                stem = f"{base}_with_{'_'.join(extra)}" if extra else f"{base}_variant"
            bodies = [self.bodies[id(c)] for c in group]
            rows = [[lit.value for lit in b.literals] for b in bodies]
            helpers.append(self._helper(names.fresh(stem), cls, group, bodies[0], rows))
        return helpers

    def _merged(self, cls, groups, function):
        small, large = sorted(groups, key=lambda g: len(self.bodies[id(g[0])].statements))
        merged = optional_child.merge(
            (small, [self.bodies[id(c)] for c in small]),
            (large, [self.bodies[id(c)] for c in large]),
        )
        if merged is None:
            return None
        calls = small + large  # the order of merged.values
        helper = self._helper(
            function, cls, calls, merged.body, merged.values, (merged.flag, merged.present)
        )
        helper.result_call = large[0]
        return helper

    def _helper(self, function, cls, calls, body, rows, flag=None):
        """A helper for ``calls`` sharing ``body``; ``rows``: each call's literal values (None:
        the call does not reach that literal). Differing literals become parameters."""
        lits = body.literals
        params, slots = [], []
        taken = Names(
            {"net", "w", "name"} | {p for _, p in body.inputs} | set(re.findall(r"\w+", body.text))
        )
        for k, lit in enumerate(lits):
            column = [row[k] for row in rows]
            known = {_key(v) for v in column if v is not None}
            if len(known) == 1:
                slots.append(None)
                continue
            shared = next((p for p in params if p[1] == lit.kind and _agrees(p[3], column)), None)
            if shared is None:
                filled = [
                    v if v is not None else next(x for x in column if x is not None) for v in column
                ]
                name = _constructor_name(calls, column, lit.kind)
                shared = (
                    taken.fresh(name or lit.hint or f"value_{len(params)}"),
                    lit.kind,
                    lit.value,
                    filled,
                )
                params.append(shared)
            slots.append(shared[0])
        if flag is not None:
            params.append((flag[0], "bool", True, list(flag[1])))
        helper = Helper(function, cls, calls, body, params, slots)
        helper.result_call = calls[0]
        for k, call in enumerate(calls):
            args = [Lit(kind, values[k], pname) for pname, kind, _, values in params]
            self.helper_of_call[id(call)] = (function, args)
        return helper


def _constructor_name(calls, column, kind):
    """The constructor parameter of network.py's class that carries this value in every call
    (``planes`` for a conv's output channels), if there is exactly such a one."""
    names = list(getattr(calls[0], "init_args", {}))
    for name in names:
        if all(
            v is None or _carries(getattr(c, "init_args", {}).get(name), v, kind)
            for c, v in zip(calls, column)
        ):
            return name
    return None


def _carries(arg, value, kind):
    if isinstance(arg, bool) or arg is None:
        return kind == "bool" and arg is value
    if kind == "int" and isinstance(arg, int):
        return arg == value
    if kind == "dims" and isinstance(arg, int):
        return len(value) > 0 and all(v == arg for v in value)
    if kind == "dims" and isinstance(arg, (tuple, list)):
        return tuple(arg) == tuple(value)
    if (
        kind == "perm" and isinstance(arg, (tuple, list)) and arg
    ):  # entries past the rank are filler
        return tuple(int(v) for v in value)[: len(arg)] == tuple(arg)
    return False


def _agrees(values, column):
    return all(c is None or _key(v) == _key(c) for v, c in zip(values, column))


def render_body(body, slots=None):
    """The C++ text of ``body``: each hole becomes its parameter or its literal."""
    out = []
    k = 0
    for chunk in body.chunks:
        if isinstance(chunk, str):
            out.append(chunk)
            continue
        slot = slots[k] if slots else None
        out.append(slot if slot else render_literal(chunk.kind, chunk.value))
        k += 1
    return "".join(out)


def signature_params(helper):
    return [f"{param_type(kind, value)} {name}" for name, kind, value, _ in helper.params]


def _enum_type(lit):
    return type(lit.value).__name__ if lit.kind == "enum" else ""


def _key(value):
    if isinstance(value, (list, tuple)):
        return tuple(_key(v) for v in value)
    if hasattr(value, "name") and hasattr(value, "value") and not isinstance(value, (int, float)):
        return (type(value).__name__, int(value))
    return value


def _child_names(call, rec):
    """First path components (below the call) of the layers a call creates: its used children."""
    names = set()
    for index in range(call.start, call.end):
        name = rec.layers[index].name
        if call.path and name.startswith(call.path + "."):
            names.add(re.split(r"[./]", name[len(call.path) + 1 :])[0])
    return names


def _collect(call, is_user_class, out):
    for event in call.events:
        if event[0] == "call":
            if is_user_class(event[1].cls):
                out.append(event[1])
            _collect(event[1], is_user_class, out)


def _arg_position(call, tid):
    ids = list(call.arg_names)
    return ids.index(tid) if tid in ids else len(ids)


def _production_key(tid):
    return (0, tid[1]) if tid[0] == "input" else (1, tid[0], tid[1])


def _uses(rec):
    """tensor id -> uses: ("layer", index) | ("rename", Call) | ("output",)."""
    uses = {}
    for index, layer in enumerate(rec.layers):
        for i in range(layer.num_inputs):
            tensor = layer.get_input(i)
            if tensor is not None:
                uses.setdefault(rec.tensor_ids[tensor.name], []).append(("layer", index))
    stack = [rec.top]
    while stack:
        call = stack.pop()
        for event in call.events:
            if event[0] == "rename":
                uses.setdefault(event[1], []).append(("rename", call))
            elif event[0] == "call":
                stack.append(event[1])
    for tid, _ in rec.outputs:
        uses.setdefault(tid, []).append(("output",))
    return uses


def _outside(use, call, inside):
    if use[0] == "layer":
        return use[1] not in inside
    if use[0] == "output":
        return True
    owner = use[1]
    while owner is not None:
        if owner is call:
            return False
        owner = owner.parent
    return True


__all__ = ["Helper", "HelperBuilder", "render_body", "signature_params", "snake", "HOLE"]
