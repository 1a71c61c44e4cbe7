"""Lowering rules: canonical op name → how the generated network expresses it.

Most ops need no entry: an op that ``layers.functional`` (or ``layers.Tensor``) provides under
its torch name is emitted as that call, with the model's own arguments. The table below holds
what is written differently: operators, identities, no-ops. ``register`` adds rules from a
user's ``--rules`` file.
"""

import dataclasses
from typing import Callable, Optional

import layers
from layers import functional


@dataclasses.dataclass(frozen=True)
class Rule:
    name: str
    kind: str  # infix | prefix | getitem | getattr | alias | drop | call | helper | plugin
    symbol: str = ""  # operator for infix / prefix
    render: Optional[Callable] = None  # helper: the user's lowering function (copied into network.py)


_INFIX = {
    "add": "+", "sub": "-", "mul": "*", "div": "/", "floordiv": "//", "remainder": "%",
    "pow": "**", "matmul": "@", "eq": "==", "ne": "!=", "lt": "<", "le": "<=", "gt": ">",
    "ge": ">=", "and": "&", "or": "|", "xor": "^", "lshift": "<<", "rshift": ">>",
}
_PREFIX = {"neg": "-", "pos": "+", "invert": "~"}
# ops that are the identity in an inference network
_ALIAS = {"dropout", "dropout1d", "dropout2d", "dropout3d", "alpha_dropout", "feature_alpha_dropout",
          "detach", "clone", "contiguous", "cpu", "cuda", "requires_grad", "lift_fresh_copy",
          "alias", "stochastic_depth"}
_DROP = {"drop", "assert", "_assert_async", "sym_constrain_range_for_size", "_assert_scalar",
         "_assert_tensor_metadata"}

RULES = {}


def register(rule):
    RULES[rule.name] = rule
    return rule


for _name, _symbol in _INFIX.items():
    register(Rule(_name, "infix", _symbol))
for _name, _symbol in _PREFIX.items():
    register(Rule(_name, "prefix", _symbol))
for _name in _ALIAS:
    register(Rule(_name, "alias"))
for _name in _DROP:
    register(Rule(_name, "drop"))
register(Rule("getitem", "getitem"))
register(Rule("getattr", "getattr"))


def lowering_rule(name):
    """Rule for canonical op ``name``, or None when nothing in ``layers`` can express it."""
    if name in RULES:
        return RULES[name]
    if hasattr(functional, name) or hasattr(layers.Tensor, name):
        return Rule(name, "call")
    return None


def lowering(name):
    """Register a lowering for op ``name`` from a ``--rules`` file.

    The decorated function is written against ``layers`` (``nn``, ``F``) with the op's own
    arguments, e.g.::

        from trtgen.rules import lowering

        @lowering("my_swish")
        def my_swish(x, beta=1.0):
            return x * F.sigmoid(x * beta)

    trtgen copies the function into ``network.py`` (so the file stays standalone) and calls it
    wherever the model calls the op. ``name`` is the op's canonical name: the function's name
    for a ``torch.fx.wrap``-ped Python function, the op name for ``torch.ops.ns.name``.
    """

    def wrap(function):
        register(Rule(name, "helper", render=function))
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
    return [rule for _, rule in sorted(RULES.items()) if rule.kind == "helper"]


def load_rules(path):
    """Import a user's ``--rules`` file (its ``@lowering`` decorators register the rules)."""
    import importlib.util
    import os

    from .errors import TrtgenError

    if not os.path.isfile(path):
        raise TrtgenError(f"--rules {path}: no such file")
    spec = importlib.util.spec_from_file_location("trtgen_user_rules", os.path.abspath(path))
    module = importlib.util.module_from_spec(spec)
    try:
        spec.loader.exec_module(module)
    except Exception as exc:
        raise TrtgenError(f"--rules {path} raised while being imported: {type(exc).__name__}: {exc}") from exc
    return module


# ops with no TensorRT layer: emitted as plugin placeholders when the user asks for them
PLUGIN_RULE = Rule("plugin", "plugin")
