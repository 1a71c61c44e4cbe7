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
    kind: str  # infix | prefix | getitem | getattr | alias | drop | call | custom
    symbol: str = ""  # operator for infix / prefix
    render: Optional[Callable] = None  # custom: (args: list[str], kwargs: dict[str, str]) -> str


_INFIX = {
    "add": "+", "sub": "-", "mul": "*", "div": "/", "floordiv": "//", "remainder": "%",
    "pow": "**", "matmul": "@", "eq": "==", "ne": "!=", "lt": "<", "le": "<=", "gt": ">",
    "ge": ">=", "and": "&", "or": "|", "xor": "^",
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


def custom_rule(name):
    """Decorator for ``--rules`` files: ``@trtgen.rules.custom_rule("my_op")``.

    The function receives the rendered argument expressions and returns Python source using
    ``nn`` (layers) and ``F`` (layers.functional).
    """

    def wrap(function):
        register(Rule(name, "custom", render=function))
        return function

    return wrap
