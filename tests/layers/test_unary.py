"""Unary ops against torch: every table row, the compositions, and integer inputs."""

import pytest
import torch

import layers
from layers import functional as F

from helpers import assert_close, rand, run_layers


def check(layers_fn, torch_fn, *inputs, rtol=1e-5):
    """Compare with torch through the reference executor, then let TensorRT build the engine
    (the build rejects dtypes a layer does not support)."""
    got, (builder, network) = run_layers(layers_fn, *inputs, return_network=True)
    want = torch_fn(*inputs)
    assert got[0].dtype == want.dtype, (got[0].dtype, want.dtype)
    assert_close(got[0], want, rtol)
    layers.build_engine(builder, network)


X = rand(2, 3, 4)
POSITIVE = X.abs() + 0.1
UNIT = torch.tanh(X) * 0.9  # inside (-1, 1)

FLOAT_OPS = [
    ("abs", X),
    ("neg", X),
    ("sign", X),
    ("exp", X),
    ("log", POSITIVE),
    ("sqrt", POSITIVE),
    ("reciprocal", POSITIVE),
    ("sin", X),
    ("cos", X),
    ("tan", UNIT),
    ("asin", UNIT),
    ("acos", UNIT),
    ("atan", X),
    ("sinh", X),
    ("cosh", X),
    ("asinh", X),
    ("acosh", POSITIVE + 1),
    ("atanh", UNIT),
    ("erf", X),
    ("floor", X * 3),
    ("ceil", X * 3),
    ("round", X * 3),
    ("rsqrt", POSITIVE),
    ("square", X),
    ("log2", POSITIVE),
    ("log10", POSITIVE),
    ("log1p", POSITIVE),
    ("exp2", X),
    ("expm1", X),
    ("trunc", X * 3),
    ("frac", X * 3),
    ("logical_not", X.round()),
    ("isnan", X),
    ("isinf", X),
]


@pytest.mark.parametrize("name,x", FLOAT_OPS, ids=[c[0] for c in FLOAT_OPS])
def test_float(name, x):
    check(getattr(F, name), getattr(torch, name), x)


def test_method_form():
    check(lambda x: x.abs().exp().neg(), lambda x: x.abs().exp().neg(), X)
    check(lambda x: -abs(x), lambda x: -abs(x), X)


def test_round_half_to_even():
    x = torch.tensor([-2.5, -1.5, -0.5, 0.5, 1.5, 2.5, 3.5, 0.49, -0.51])
    check(F.round, torch.round, x)


@pytest.mark.parametrize("decimals", [1, 2, -1])
def test_round_decimals(decimals):
    x = rand(3, 4) * 100
    check(lambda t: F.round(t, decimals=decimals), lambda t: torch.round(t, decimals=decimals), x)


def test_trunc_rounds_toward_zero():
    x = torch.tensor([-2.7, -1.0, -0.2, 0.0, 0.2, 1.0, 2.7])
    check(F.trunc, torch.trunc, x)


def test_isnan_isinf():
    x = torch.tensor([1.0, float("nan"), float("inf"), -float("inf"), 0.0])
    check(F.isnan, torch.isnan, x)
    check(F.isinf, torch.isinf, x)


INTS = torch.randint(-5, 6, (2, 3, 4), generator=torch.Generator().manual_seed(0)).int()

INT_OPS = [
    "abs",
    "neg",
    "sign",
    "floor",
    "ceil",
    "round",
    "trunc",
    "square",
    "exp",
    "sqrt",
    "sin",
    "logical_not",
    "isnan",
]


@pytest.mark.parametrize("name", INT_OPS)
@pytest.mark.parametrize("dtype", [torch.int32, torch.int64], ids=["int32", "int64"])
def test_integer(name, dtype):
    x = INTS.to(dtype)
    if name == "sqrt":
        x = x.abs()
    if name in ("floor", "ceil", "round", "trunc"):  # no layer for integers: the input comes back,
        # and a network input cannot also be an output, so apply it to a computed tensor
        check(lambda t: getattr(F, name)(F.neg(t)), lambda t: getattr(torch, name)(-t), x)
        return
    check(getattr(F, name), getattr(torch, name), x)


def test_logical_not_bool():
    check(F.logical_not, torch.logical_not, X > 0)


@pytest.mark.parametrize("name", ["exp", "sqrt", "abs", "neg", "erf", "floor", "round", "sin"])
def test_half(name):
    x = POSITIVE.half()
    got = run_layers(getattr(F, name), x)
    assert got.dtype == torch.float16
    assert_close(got.float(), getattr(torch, name)(x.float()), rtol=2e-3)


# --------------------------------------------------------------------------- atan2


def test_atan2_in_every_quadrant_with_broadcasting():
    y, x = rand(2, 3, 4, seed=3), rand(3, 1, seed=4)  # x broadcasts
    check(F.atan2, torch.atan2, y, x)
    check(lambda a, b: F.arctan2(b, a), lambda a, b: torch.arctan2(b, a), y, x)


def test_atan2_of_integers_is_float():
    y = torch.tensor([[3, -3, 0, 0, 7]])
    x = torch.tensor([[-1, -1, -2, 2, 0]])
    check(F.atan2, torch.atan2, y, x)


def test_atan2_ieee_cases():
    """Signed zeros pick the half-plane and keep their sign, infinities, NaN: as C's atan2."""
    inf, nan = float("inf"), float("nan")
    values = torch.tensor([0.0, -0.0, 1.0, -1.0, inf, -inf, 2.5, -3.0, nan])
    y = values[:, None].expand(9, 9).contiguous()
    x = values[None, :].expand(9, 9).contiguous()
    got, want = run_layers(F.atan2, y, x), torch.atan2(y, x)
    assert torch.equal(got.isnan(), want.isnan())
    finite = ~want.isnan()
    assert_close(got[finite], want[finite])
    assert torch.equal(torch.signbit(got[finite]), torch.signbit(want[finite]))


def test_atan2_with_a_dynamic_batch():
    from test_shape import run_dynamic

    x = rand(5, 4, seed=5)
    got, _ = run_dynamic(lambda t: F.atan2(t, t[:, :1] - 0.5), x)
    assert_close(got, torch.atan2(x, x[:, :1] - 0.5))
