"""Lowering rules for examples/custom_op.py: ``trtgen ... --rules examples/custom_op_rules.py``.

Each ``@lowering("name")`` function is written against ``layers`` (``F`` is layers.functional,
``nn`` is layers) and takes the op's own arguments; trtgen copies it into network.py, so the
generated file stays standalone and the rule can be read and edited there too.
"""

from trtgen.plan.rules import lowering


@lowering("scaled_tanh")
def scaled_tanh(x, scale):
    return F.tanh(x) * scale  # noqa: F821 - F is defined in network.py, where this is copied
