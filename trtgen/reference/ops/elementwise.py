"""ELEMENTWISE (every ElementWiseOperation) and SELECT.

Inputs have equal rank; a dimension of size 1 broadcasts. Integer DIV truncates toward zero
(C semantics of TensorRT's integer kernels); FLOOR_DIV rounds down.
"""

import torch

from layers.backend import trt

from ..registry import handles

E = trt.ElementWiseOperation


def _div(a, b):
    if a.is_floating_point() or b.is_floating_point():
        return a / b
    return torch.div(a, b, rounding_mode="trunc")


def _floor_div(a, b):
    if a.is_floating_point() or b.is_floating_point():
        return torch.floor(a / b)
    return torch.div(a, b, rounding_mode="floor")


_OPS = {
    E.SUM: torch.add,
    E.PROD: torch.mul,
    E.MAX: torch.maximum,
    E.MIN: torch.minimum,
    E.SUB: torch.sub,
    E.DIV: _div,
    E.POW: torch.pow,
    E.FLOOR_DIV: _floor_div,
    E.AND: torch.logical_and,
    E.OR: torch.logical_or,
    E.XOR: torch.logical_xor,
    E.EQUAL: torch.eq,
    E.GREATER: torch.gt,
    E.LESS: torch.lt,
}


def _check_broadcast(a, b):
    if a.dim() != b.dim():
        raise ValueError(
            f"inputs must have equal rank, got shapes {tuple(a.shape)} and {tuple(b.shape)}"
        )
    for x, y in zip(a.shape, b.shape):
        if x != y and 1 not in (x, y):
            raise ValueError(f"shapes {tuple(a.shape)} and {tuple(b.shape)} do not broadcast")


@handles("ELEMENTWISE")
def elementwise(layer, inputs, ctx):
    a, b = inputs
    _check_broadcast(a, b)
    return _OPS[layer.op](a, b)


@handles("SELECT")
def select(layer, inputs, ctx):
    condition, then_value, else_value = inputs
    return torch.where(condition.bool(), then_value, else_value)
