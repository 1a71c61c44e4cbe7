"""Module calls → one C++ helper per module class (and per structural variant of it).

Calls of a class whose statements agree share a helper; literals that differ between those
calls (channel counts, strides, shapes) become parameters, named after what they set.
"""

import re
from dataclasses import dataclass, field

from .bodies import HOLE, BodyWriter, CallRef, Names
from .literals import param_type, render_literal
from .specs import Lit


@dataclass
class Helper:
    function: str
    cls: type
    calls: list
    body: object  # Body of the first call (its text is shared by all)
    params: list  # (parameter name, kind, example value) for hoisted literals
    slots: list  # per literal position: parameter name or None (inlined)
    per_call: dict = field(default_factory=dict)  # Call -> [Lit] arguments


def snake(name):
    name = re.sub(r"(?<=[a-z0-9])([A-Z])", r"_\1", name)
    name = re.sub(r"(?<=[A-Z])([A-Z][a-z])", r"_\1", name)
    return re.sub(r"\W", "_", name).lower()


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
        writer = BodyWriter(self.rec, call, self.weights, self.is_user_class, self.write, self.used_keys)
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
        names = Names({"build_network", "expected_weights", "named", "rename", "dims", "perm", "no_weights", "main"} | local)
        for cls in sorted(by_class, key=lambda c: (class_height[c], calls.index(by_class[c][0]))):
            for call in by_class[cls]:
                self._expand(self.bodies[id(call)])
            helpers.extend(self._group(cls, by_class[cls], names))
        top_body = self.bodies[id(top)]
        self._expand(top_body)
        return helpers, top_body, self.writers[id(top)]

    def _expand(self, body):
        chunks = []
        for chunk in body.chunks:
            if isinstance(chunk, CallRef):
                function, args = self.helper_of_call[id(chunk.call)]
                chunks.extend(chunk.chunks(function, args))
            else:
                chunks.append(chunk)
        body.chunks = chunks

    def _group(self, cls, calls, names):
        variants = {}
        for call in calls:
            body = self.bodies[id(call)]
            key = (body.text, tuple((lit.kind, _enum_type(lit)) for lit in body.literals))
            variants.setdefault(key, []).append(call)
        helpers = []
        base = snake(cls.__name__)
        first_children = None
        for group in variants.values():
            children = _child_names(group[0], self.rec)
            if first_children is None:
                first_children, stem = children, base
            else:
                extra = sorted(children - first_children)
                stem = f"{base}_with_{'_'.join(extra)}" if extra else f"{base}_variant"
            helpers.append(self._helper(names.fresh(stem), cls, group))
        return helpers

    def _helper(self, function, cls, calls):
        bodies = [self.bodies[id(c)] for c in calls]
        columns = list(zip(*(b.literals for b in bodies))) if bodies[0].literals else []
        params, slots, by_values = [], [], {}
        taken = Names({"net", "w", "name"} | {p for _, p in bodies[0].inputs})
        for column in columns:
            values = tuple(_key(lit.value) for lit in column)
            if len(set(values)) == 1:
                slots.append(None)
                continue
            if values not in by_values:
                lit = column[0]
                pname = taken.fresh(lit.hint or f"value_{len(params)}")
                by_values[values] = pname
                params.append((pname, lit.kind, lit.value, column))
            slots.append(by_values[values])
        helper = Helper(function, cls, calls, bodies[0], params, slots)
        for k, call in enumerate(calls):
            args = [Lit(column[k].kind, column[k].value, pname) for pname, _, _, column in params]
            self.helper_of_call[id(call)] = (function, args)
        return helper


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
