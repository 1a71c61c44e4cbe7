"""If-conditionals (CONDITION, CONDITIONAL_INPUT, CONDITIONAL_OUTPUT) and ASSERTION.

Both branches of a conditional are ordinary layers of the network, so both get evaluated;
each CONDITIONAL_OUTPUT then picks the true- or false-branch value by the condition, which the
CONDITION layer (always earlier in topological order) recorded under the conditional's name.
"""

from ..errors import AssertionLayerError
from ..registry import handles, layer_type


@handles("CONDITION")
def condition(layer, inputs, ctx):
    value = inputs[0]
    if value.numel() != 1:
        raise ValueError(
            f"if-conditional condition must be a scalar, got shape {tuple(value.shape)}"
        )
    ctx.conditions[layer.conditional.name] = bool(value.reshape(()).item())
    return None


@handles("CONDITIONAL_INPUT")
def conditional_input(layer, inputs, ctx):
    return inputs[0]


@handles("CONDITIONAL_OUTPUT")
def conditional_output(layer, inputs, ctx):
    name = layer.conditional.name
    if name not in ctx.conditions:
        raise ValueError(f"condition of if-conditional {name!r} has not been evaluated")
    return inputs[0] if ctx.conditions[name] else inputs[1]


@handles("ASSERTION")
def assertion(layer, inputs, ctx):
    if not bool(inputs[0].bool().all()):
        raise AssertionLayerError(
            layer.name,
            layer_type(layer),
            f"assertion failed: {layer.message} (condition {inputs[0].tolist()})",
        )
    return None
