"""UNARY (every UnaryOperation). ROUND is round-half-to-even, as torch.round."""

import torch

from layers.backend import trt

from ..registry import handles

U = trt.UnaryOperation

_OPS = {
    U.EXP: torch.exp,
    U.LOG: torch.log,
    U.SQRT: torch.sqrt,
    U.RECIP: torch.reciprocal,
    U.ABS: torch.abs,
    U.NEG: torch.neg,
    U.SIN: torch.sin,
    U.COS: torch.cos,
    U.TAN: torch.tan,
    U.SINH: torch.sinh,
    U.COSH: torch.cosh,
    U.ASIN: torch.asin,
    U.ACOS: torch.acos,
    U.ATAN: torch.atan,
    U.ASINH: torch.asinh,
    U.ACOSH: torch.acosh,
    U.ATANH: torch.atanh,
    U.CEIL: torch.ceil,
    U.FLOOR: torch.floor,
    U.ERF: torch.erf,
    U.NOT: torch.logical_not,
    U.SIGN: torch.sign,
    U.ROUND: torch.round,
    U.ISINF: torch.isinf,
    U.ISNAN: torch.isnan,
}

# Integer inputs keep integer arithmetic only where the result is integral by definition.
_INTEGER_OK = {U.ABS, U.NEG, U.SIGN, U.NOT, U.CEIL, U.FLOOR, U.ROUND}


@handles("UNARY")
def unary(layer, inputs, ctx):
    x = inputs[0]
    if not x.is_floating_point() and x.dtype != torch.bool and layer.op not in _INTEGER_OK:
        x = x.float()
    if layer.op in (U.CEIL, U.FLOOR, U.ROUND) and not x.is_floating_point():
        return x
    return _OPS[layer.op](x)
