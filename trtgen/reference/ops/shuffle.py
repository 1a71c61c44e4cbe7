"""SHUFFLE (transpose -> reshape -> transpose), SQUEEZE and UNSQUEEZE."""

import math

from ..registry import handles
from ._util import as_ints, dims, normalize_axis


def _reshape_target(x, spec, zero_is_placeholder):
    """Resolve 0 (copy input dim, if placeholder) and -1 (infer) in TensorRT reshape dims."""
    shape = [x.shape[i] if (d == 0 and zero_is_placeholder) else d for i, d in enumerate(spec)]
    if -1 in shape:
        known = math.prod(d for d in shape if d != -1)
        shape[shape.index(-1)] = x.numel() // known if known else 0
    return shape


@handles("SHUFFLE")
def shuffle(layer, inputs, ctx):
    x = inputs[0]
    x = x.permute(dims(layer.first_transpose)[: x.dim()])
    if len(inputs) > 1 and inputs[1] is not None:
        spec = as_ints(inputs[1])
    else:
        spec = dims(layer.reshape_dims)  # None: no reshape
    if spec is not None:
        x = x.reshape(_reshape_target(x, spec, layer.zero_is_placeholder))
    return x.permute(dims(layer.second_transpose)[: x.dim()])


@handles("SQUEEZE")
def squeeze(layer, inputs, ctx):
    x = inputs[0]
    if len(inputs) > 1 and inputs[1] is not None:
        axes = {normalize_axis(a, x.dim()) for a in as_ints(inputs[1])}
    else:  # no axes: drop every dimension that is statically 1 in the network definition
        axes = {i for i, d in enumerate(layer.get_input(0).shape) if d == 1}
    for axis in axes:
        if x.shape[axis] != 1:
            raise ValueError(f"cannot squeeze axis {axis} of shape {tuple(x.shape)}")
    return x.reshape([d for i, d in enumerate(x.shape) if i not in axes])


@handles("UNSQUEEZE")
def unsqueeze(layer, inputs, ctx):
    x, axes = inputs
    axes = as_ints(axes)
    rank = x.dim() + len(axes)
    axes = sorted(normalize_axis(a, rank) for a in axes)
    for axis in axes:  # ascending order: each axis is a position in the final shape
        x = x.unsqueeze(axis)
    return x
