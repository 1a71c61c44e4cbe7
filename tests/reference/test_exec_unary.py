"""UNARY: every UnaryOperation, including integer and boolean forms."""

import numpy as np
import pytest
import torch

from layers.backend import trt
from reference_helpers import assert_close

U = trt.UnaryOperation

GENERAL = np.array([-2.5, -1.5, -0.5, 0.0, 0.5, 1.5, 2.5, 3.7], np.float32)
UNIT = np.array([-0.9, -0.5, 0.0, 0.3, 0.99], np.float32)
POSITIVE = np.array([0.1, 0.5, 1.0, 2.0, 9.0], np.float32)
ABOVE_ONE = np.array([1.0, 1.5, 3.0, 10.0], np.float32)

CASES = {
    "EXP": (GENERAL, np.exp),
    "LOG": (POSITIVE, np.log),
    "SQRT": (POSITIVE, np.sqrt),
    "RECIP": (POSITIVE, np.reciprocal),
    "ABS": (GENERAL, np.abs),
    "NEG": (GENERAL, np.negative),
    "SIN": (GENERAL, np.sin),
    "COS": (GENERAL, np.cos),
    "TAN": (UNIT, np.tan),
    "SINH": (GENERAL, np.sinh),
    "COSH": (GENERAL, np.cosh),
    "ASIN": (UNIT, np.arcsin),
    "ACOS": (UNIT, np.arccos),
    "ATAN": (GENERAL, np.arctan),
    "ASINH": (GENERAL, np.arcsinh),
    "ACOSH": (ABOVE_ONE, np.arccosh),
    "ATANH": (UNIT, np.arctanh),
    "CEIL": (GENERAL, np.ceil),
    "FLOOR": (GENERAL, np.floor),
    "ERF": (GENERAL, lambda x: torch.erf(torch.from_numpy(x)).numpy()),
    "SIGN": (GENERAL, np.sign),
    "ROUND": (GENERAL, np.round),  # half to even: -2.5 -> -2, 0.5 -> 0, 2.5 -> 2
    "ISINF": (np.array([np.inf, -np.inf, 0.0, np.nan], np.float32), np.isinf),
    "ISNAN": (np.array([np.inf, -np.inf, 0.0, np.nan], np.float32), np.isnan),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_unary_float(net, name):
    x, fn = CASES[name]
    out = net.run(net.network.add_unary(net.input("x", x), getattr(U, name)).get_output(0))
    assert_close(out, fn(x))


def test_not(net):
    x = np.array([True, False])
    assert_close(net.run(net.network.add_unary(net.input("x", x), U.NOT).get_output(0)), ~x)


@pytest.mark.parametrize("name,fn", [("ABS", np.abs), ("NEG", np.negative), ("SIGN", np.sign)])
def test_unary_int(net, name, fn):
    x = np.array([-3, 0, 4], np.int32)
    out = net.run(net.network.add_unary(net.input("x", x), getattr(U, name)).get_output(0))
    assert out.dtype == torch.int32
    assert_close(out, fn(x))
