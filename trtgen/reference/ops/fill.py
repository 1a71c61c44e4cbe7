"""FILL: LINSPACE (alpha + sum_i beta[i] * index_i), RANDOM_UNIFORM, RANDOM_NORMAL.

Shape, alpha and beta come from inputs 0/1/2 when set, else from the layer attributes.
Random fills only promise the right shape and dtype (TensorRT's generator is not reproducible
here); they draw from a generator seeded per execute() call.
"""

import torch

from layers.backend import trt

from ..registry import handles
from ._util import as_ints, dims

Fill = trt.FillOperation


def _input(inputs, index):
    return inputs[index] if len(inputs) > index else None


@handles("FILL")
def fill(layer, inputs, ctx):
    shape_in, alpha_in, beta_in = _input(inputs, 0), _input(inputs, 1), _input(inputs, 2)
    shape = as_ints(shape_in) if shape_in is not None else list(dims(layer.shape))
    integer = layer.get_output(0).dtype.name in ("INT32", "INT64")
    work = torch.int64 if integer else torch.float64
    if alpha_in is not None:
        alpha, beta = alpha_in.to(work).reshape(()), beta_in.to(work).reshape(-1)
    else:
        alpha = torch.tensor(layer.alpha, dtype=work)
        beta = torch.tensor([layer.beta], dtype=work)
    op = layer.operation
    if op == Fill.LINSPACE:
        out = torch.zeros(shape, dtype=work) + alpha
        for axis, step in enumerate(beta.tolist()):
            index = torch.arange(shape[axis], dtype=work).reshape(
                [-1 if d == axis else 1 for d in range(len(shape))]
            )
            out = out + step * index
        return out
    if op == Fill.RANDOM_UNIFORM:
        low, high = float(alpha), float(beta.reshape(-1)[0])
        return torch.rand(shape, generator=ctx.generator) * (high - low) + low
    mean, std = float(alpha), float(beta.reshape(-1)[0])
    return torch.randn(shape, generator=ctx.generator) * std + mean
