"""Layers that create, retype or rearrange whole tensors: CONSTANT, IDENTITY, CAST, SHAPE,
CONCATENATION, PADDING."""

import torch
import torch.nn.functional as F

from ..registry import handles
from ..weights import weights_to_torch
from ._util import dims


@handles("CONSTANT")
def constant(layer, inputs, ctx):
    return weights_to_torch(layer.weights, dims(layer.shape))


@handles("IDENTITY", "CAST")
def identity(layer, inputs, ctx):
    # The executor casts every result to the declared output type; that *is* the cast
    # (float -> integer truncates toward zero, anything -> bool tests for non-zero).
    return inputs[0]


@handles("SHAPE")
def shape(layer, inputs, ctx):
    return torch.tensor(tuple(inputs[0].shape), dtype=torch.int64)


@handles("CONCATENATION")
def concatenation(layer, inputs, ctx):
    return torch.cat(inputs, dim=layer.axis)


@handles("PADDING")
def padding(layer, inputs, ctx):
    """Zero padding of the innermost len(pre) dimensions; negative amounts trim."""
    x = inputs[0]
    spec = []
    for b, a in zip(reversed(dims(layer.pre_padding_nd)), reversed(dims(layer.post_padding_nd))):
        spec += [b, a]
    return F.pad(x, spec)
