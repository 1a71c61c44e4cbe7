"""Lowering registry: canonical op name → how the generated network expresses it.

Every lowering is registered explicitly, built-in or from a user's ``--rules`` file: the
canonical op name(s) it handles, its kind (a ``layers`` call, an operator, an identity...), the
``layers`` function or ``Tensor`` method it is written as, and an optional argument validator
``validator(op) -> None | str``. A validator's string names the argument combination the
lowering cannot express (``"max_norm=1.0: ..."``); generation then reports the op with the
other gaps, as it does an op no rule lowers. The built-in table is in ``lowerings.py``.
"""

import dataclasses
from typing import Callable, Optional


@dataclasses.dataclass(frozen=True)
class Rule:
    name: str
    kind: str  # infix | prefix | getitem | getattr | alias | drop | call | helper | plugin
    symbol: str = ""  # operator for infix / prefix
    render: Optional[Callable] = (
        None  # helper: the user's lowering function (copied into network.py)
    )
    ops: tuple = ()  # canonical op names this rule handles; empty: only ``name``
    target: str = ""  # call: the layers spelling, ``F.gelu`` or ``Tensor.float``
    validator: Optional[Callable] = None  # op -> None, or what about its arguments is unsupported

    @property
    def handles(self):
        return self.ops or (self.name,)


class Registry:
    """The one table of lowerings. Built-in entries are added once each (a second entry for
    the same op is a mistake, refused); a user's rule replaces the entry of its op."""

    def __init__(self):
        self._rules = {}

    def add(self, rule):
        taken = [op for op in rule.handles if op in self._rules]
        if taken:
            raise ValueError(f"lowering of {', '.join(taken)} registered twice")
        for op in rule.handles:
            self._rules[op] = rule
        return rule

    def replace(self, rule):
        for op in rule.handles:
            self._rules[op] = rule
        return rule

    def rule(self, name):
        """The rule registered for canonical op ``name``, or None."""
        return self._rules.get(name)

    def refusal(self, op):
        """What about ``op``'s arguments its rule cannot express, or None (also when no rule)."""
        rule = self._rules.get(op.name)
        if rule is None or rule.validator is None:
            return None
        return rule.validator(op)

    def lower(self, op):
        """The rule that lowers ``op``, or None: no rule, or its validator refuses the arguments."""
        rule = self._rules.get(op.name)
        if rule is None or self.refusal(op) is not None:
            return None
        return rule

    def rules(self):
        """Every rule once, ordered by name."""
        return sorted({id(r): r for r in self._rules.values()}.values(), key=lambda r: r.name)


REGISTRY = Registry()


def register(rule):
    """Add a built-in rule (refused when its op already has one)."""
    return REGISTRY.add(rule)


def lowering_rule(name):
    """Rule for canonical op ``name``, or None when nothing in ``layers`` can express it."""
    return REGISTRY.rule(name)


def lowering_for(op):
    """Rule that lowers ``op`` with its arguments, or None (see ``unsupported_name``)."""
    return REGISTRY.lower(op)


def unsupported_name(op):
    """How a gap is reported: the op's name, and what about its arguments is refused, if that
    is why (``embedding (max_norm=1.0: ...)``)."""
    reason = REGISTRY.refusal(op)
    return op.name if reason is None else f"{op.name} ({reason})"


def lowering(name, validator=None):
    """Register a lowering for op ``name`` from a ``--rules`` file.

    The decorated function is written against ``layers`` (``nn``, ``F``) with the op's own
    arguments, e.g.::

        from trtgen.plan.rules import lowering

        @lowering("my_swish")
        def my_swish(x, beta=1.0):
            return x * F.sigmoid(x * beta)

    trtgen copies the function into ``network.py`` (so the file stays standalone) and calls it
    wherever the model calls the op. ``name`` is the op's canonical name: the function's name
    for a ``torch.fx.wrap``-ped Python function, the op name for ``torch.ops.ns.name``. A rule
    for a built-in op replaces the built-in lowering.

    ``validator(op)``, optional, sees each call (``op.args``, ``op.kwargs``: fx nodes for
    tensors) and returns None, or a string saying which arguments the lowering cannot take;
    such calls are reported as unsupported, with that string and the model's line.
    """

    def wrap(function):
        REGISTRY.replace(Rule(name, "helper", render=function, validator=validator))
        return function

    return wrap


def helper_source(rule):
    """The source of a ``lowering`` function, without its decorator, for network.py."""
    import inspect
    import textwrap

    lines = textwrap.dedent(inspect.getsource(rule.render)).splitlines()
    while lines and lines[0].lstrip().startswith("@"):
        lines.pop(0)
    return "\n".join(lines)


def helper_rules():
    return [rule for rule in REGISTRY.rules() if rule.kind == "helper"]


def load_rules(path):
    """Import a user's ``--rules`` file (its ``@lowering`` decorators register the rules)."""
    import importlib.util
    import os

    from ..errors import TrtgenError

    if not os.path.isfile(path):
        raise TrtgenError(f"--rules {path}: no such file")
    spec = importlib.util.spec_from_file_location("trtgen_user_rules", os.path.abspath(path))
    module = importlib.util.module_from_spec(spec)
    try:
        spec.loader.exec_module(module)
    except Exception as exc:
        raise TrtgenError(
            f"--rules {path} raised while being imported: {type(exc).__name__}: {exc}"
        ) from exc
    return module


# ops with no TensorRT layer: emitted as plugin placeholders when the user asks for them
PLUGIN_RULE = Rule("plugin", "plugin")

from . import lowerings  # noqa: E402,F401 - fills REGISTRY with the built-in table
