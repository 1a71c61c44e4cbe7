"""Fold instances that differ only by an optional child module into one class.

torchvision's ``BasicBlock`` has ``self.downsample`` in some instances and not in others; the
forward of the ones without it is the forward of the ones with it, with the call replaced by its
input. Both get ``self.downsample = nn.Sequential(...) if downsample else None`` and
``identity = x if self.downsample is None else self.downsample(x)``, so one class serves all.
"""

import copy
import re

from .forward import forward_code
from .items import ANY, Ctor, Slot


def _call_line(lines, attr):
    pattern = re.compile(rf"^(\w+) = self\.{re.escape(attr)}\((\w+)\)$")
    for index, line in enumerate(lines):
        match = pattern.match(line)
        if match:
            return index, match.group(1), match.group(2)
    return None


def _without_call(lines, attr):
    """Forward lines with ``v = self.attr(a)`` removed and ``v`` replaced by ``a``."""
    found = _call_line(lines, attr)
    if found is None:
        return None
    index, var, arg = found
    word = re.compile(rf"\b{re.escape(var)}\b")
    return lines[:index] + [word.sub(arg, line) for line in lines[index + 1 :]]


def _wildcard(item):
    """The same constructor structure with every literal unknown (the child is absent)."""
    item = copy.deepcopy(item)

    def walk(node):
        if isinstance(node, Slot):
            node.value = ANY
        elif isinstance(node, Ctor):
            for _, arg, _ in node.args:
                walk(arg)
        elif isinstance(node, tuple) and node and node[0] in ("list", "odict", "dict"):
            for entry in node[1]:
                walk(entry if node[0] == "list" else entry[1])

    walk(item)
    return item


def _is_plain_ctor(item):
    """Only library constructors (no user-class instances) can be rebuilt for absent children."""
    if isinstance(item, Slot):
        return True
    if isinstance(item, Ctor):
        return all(_is_plain_ctor(arg) for _, arg, _ in item.args)
    if isinstance(item, tuple) and item and item[0] in ("list", "odict", "dict"):
        return all(_is_plain_ctor(e if item[0] == "list" else e[1]) for e in item[1])
    return False


def merge_optional_children(instances, captures_by_module):
    by_class = {}
    for instance in instances:
        if instance.forward is not None:
            by_class.setdefault(type(instance.module), []).append(instance)
    for members in by_class.values():
        attrs = {attr for m in members for attr, item in m.init if isinstance(item, Ctor)}
        for attr in sorted(attrs):
            _merge_attr(members, attr, captures_by_module)


def _merge_attr(members, attr, captures_by_module):
    present = [m for m in members if isinstance(dict(m.init).get(attr), Ctor)]
    absent = [m for m in members if attr not in dict(m.init) or dict(m.init)[attr] == Slot(None)]
    if not present or not absent or len(present) + len(absent) != len(members):
        return
    reference = present[0]
    ctor = dict(reference.init)[attr]
    if not _is_plain_ctor(ctor):
        return
    plain = {
        id(m): forward_code(m.capture, captures_by_module, inline=False).lines for m in members
    }
    identity = _without_call(plain[id(reference)], attr)
    if identity is None or any(plain[id(m)] != identity for m in absent):
        return
    if any(plain[id(m)] != plain[id(reference)] for m in present):
        return
    merged = forward_code(reference.capture, captures_by_module, optional={attr})
    # the literal markers of the lines stand for each member's own literals: one numbering
    if any(len(m.forward.literals) != len(merged.literals) for m in members):
        return
    merged = merged.lines
    for m in present:
        m.init = [(a, ("optional", i, Slot(True)) if a == attr else i) for a, i in m.init]
        m.forward.lines = list(merged)
    order = [a for a, _ in reference.init]
    for m in absent:
        items = dict((a, i) for a, i in m.init if a != attr)
        items[attr] = ("optional", _wildcard(ctor), Slot(False))
        m.init = [(a, items[a]) for a in order if a in items] + [
            (a, i) for a, i in items.items() if a not in order
        ]
        m.forward.lines = list(merged)
