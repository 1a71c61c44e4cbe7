"""Binary elementwise ops, where and clamp against torch (broadcasting, scalars, promotion)."""

import pytest
import torch

import layers
from layers import functional as F

from helpers import assert_close, rand, run_layers
from trtgen.reference import execute


def check(layers_fn, torch_fn, *inputs, rtol=1e-5):
    """Compare with torch through the reference executor, then let TensorRT build the engine
    (the build rejects dtypes a layer does not support)."""
    got, (builder, network) = run_layers(layers_fn, *inputs, return_network=True)
    want = torch_fn(*inputs)
    if isinstance(want, (tuple, list)):
        for g, w in zip(got, want):
            assert g.dtype == w.dtype, (g.dtype, w.dtype)
            assert_close(g, w, rtol)
    else:
        assert got[0].dtype == want.dtype, (got[0].dtype, want.dtype)
        assert_close(got[0], want, rtol)
    layers.build_engine(builder, network)


def ints(*shape, low=-5, high=6, seed=0, dtype=torch.int32):
    return torch.randint(low, high, shape, generator=torch.Generator().manual_seed(seed)).to(dtype)


def nonzero(*shape, seed=1):
    x = rand(*shape, seed=seed)
    return torch.where(x.abs() < 0.3, torch.full_like(x, 0.7), x)


A, B = rand(2, 3, 4, seed=0), rand(3, 1, seed=1)  # (2,3,4) op (3,1) broadcasts

BINARY = [
    ("add", F.add, torch.add, A, B),
    ("sub", F.sub, torch.sub, A, B),
    ("mul", F.mul, torch.mul, A, B),
    ("div", F.div, torch.div, A, nonzero(3, 1)),
    ("true_divide", F.true_divide, torch.true_divide, A, nonzero(3, 1)),
    ("pow", F.pow, torch.pow, A.abs() + 0.1, B),
    ("maximum", F.maximum, torch.maximum, A, B),
    ("minimum", F.minimum, torch.minimum, A, B),
    ("floor_divide", F.floor_divide, torch.floor_divide, A * 4, nonzero(3, 1)),
    ("remainder", F.remainder, torch.remainder, A * 4, nonzero(3, 1)),
    ("fmod", F.fmod, torch.fmod, A * 4, nonzero(3, 1)),
    ("rsub", F.rsub, torch.rsub, A, B),
    (
        "add_alpha",
        lambda a, b: F.add(a, b, alpha=2.5),
        lambda a, b: torch.add(a, b, alpha=2.5),
        A,
        B,
    ),
    ("sub_alpha", lambda a, b: F.sub(a, b, alpha=-3), lambda a, b: torch.sub(a, b, alpha=-3), A, B),
    (
        "rsub_alpha",
        lambda a, b: F.rsub(a, b, alpha=2),
        lambda a, b: torch.rsub(a, b, alpha=2),
        A,
        B,
    ),
    (
        "div_trunc",
        lambda a, b: F.div(a, b, rounding_mode="trunc"),
        lambda a, b: torch.div(a, b, rounding_mode="trunc"),
        A * 4,
        nonzero(3, 1),
    ),
    (
        "div_floor",
        lambda a, b: F.div(a, b, rounding_mode="floor"),
        lambda a, b: torch.div(a, b, rounding_mode="floor"),
        A * 4,
        nonzero(3, 1),
    ),
]


def same_named(*names):
    """(name, layers op, torch op) rows for ops that layers and torch spell alike."""
    return [(name, getattr(F, name), getattr(torch, name)) for name in names]


INTEGER = [
    *same_named("add", "mul", "div"),  # int / int is float32 in torch
    (
        "div_trunc",
        lambda a, b: F.div(a, b, rounding_mode="trunc"),
        lambda a, b: torch.div(a, b, rounding_mode="trunc"),
    ),
    *same_named("floor_divide", "remainder", "fmod", "maximum"),
]

COMPARE = same_named("eq", "ne", "gt", "ge", "lt", "le")

LOGICAL = same_named("logical_and", "logical_or", "logical_xor")


@pytest.mark.parametrize("name,fn,ref,a,b", BINARY, ids=[c[0] for c in BINARY])
def test_binary_broadcast(name, fn, ref, a, b):
    check(fn, ref, a, b)


@pytest.mark.parametrize("name,fn,ref,a,b", BINARY, ids=[c[0] for c in BINARY])
def test_binary_broadcast_swapped(name, fn, ref, a, b):
    """(3,1) op (2,3,4): the rank-aligning side is the first operand."""
    if name in (
        "pow",
        "floor_divide",
        "remainder",
        "fmod",
        "div",
        "true_divide",
        "div_trunc",
        "div_floor",
    ):
        a, b = nonzero(3, 1) * 3, a.abs() + 0.5
    check(fn, ref, b, a)


@pytest.mark.parametrize("name,fn,ref", INTEGER, ids=[c[0] for c in INTEGER])
def test_integer(name, fn, ref):
    a = ints(2, 3, 4, low=-9, high=10)
    b = ints(3, 1, seed=1)
    b = torch.where(b == 0, torch.full_like(b, 3), b)
    check(fn, ref, a, b)


@pytest.mark.parametrize("name,fn,ref", COMPARE, ids=[c[0] for c in COMPARE])
def test_compare(name, fn, ref):
    a, b = ints(2, 3, 4, low=-2, high=3).float(), ints(3, 1, low=-2, high=3, seed=1).float()
    check(fn, ref, a, b)
    check(lambda x: fn(x, 1), lambda x: ref(x, 1), a)  # int scalar vs float tensor
    check(lambda x: fn(x, 0.5), lambda x: ref(x, 0.5), ints(2, 3))  # float scalar vs int tensor


def test_compare_nan():
    x = torch.tensor([1.0, float("nan"), 2.0])
    for fn, ref in [(F.ge, torch.ge), (F.le, torch.le), (F.ne, torch.ne), (F.eq, torch.eq)]:
        check(lambda a: fn(a, 1.0), lambda a: ref(a, 1.0), x)


@pytest.mark.parametrize("name,fn,ref", LOGICAL, ids=[c[0] for c in LOGICAL])
def test_logical(name, fn, ref):
    a, b = rand(2, 3, 4) > 0, rand(3, 1, seed=1) > 0
    check(fn, ref, a, b)
    check(fn, ref, rand(2, 3), ints(1, 3, low=0, high=2))  # non-bool inputs read as bool


SCALARS = [
    ("tensor+float", lambda x: F.add(x, 2.5), lambda x: x + 2.5),
    ("float+tensor", lambda x: F.add(2.5, x), lambda x: 2.5 + x),
    ("float-tensor", lambda x: F.sub(2.0, x), lambda x: 2.0 - x),
    ("int*tensor", lambda x: F.mul(3, x), lambda x: 3 * x),
    ("tensor/int", lambda x: F.div(x, 4), lambda x: x / 4),
    ("float/tensor", lambda x: F.div(1.0, x), lambda x: 1.0 / x),
    ("float**tensor", lambda x: F.pow(2.0, x), lambda x: 2.0**x),
    ("tensor**int", lambda x: F.pow(x, 2), lambda x: x**2),
    ("operators", lambda x: (x * 2 - 1) / 3 + x**2, lambda x: (x * 2 - 1) / 3 + x**2),
    ("rsub_scalar", lambda x: F.rsub(x, 1.0), lambda x: torch.rsub(x, 1.0)),
    ("remainder_scalar", lambda x: x % 0.7, lambda x: x % 0.7),
    ("neg_divisor", lambda x: F.remainder(x, -0.7), lambda x: torch.remainder(x, -0.7)),
]


@pytest.mark.parametrize("name,fn,ref", SCALARS, ids=[c[0] for c in SCALARS])
def test_scalar_either_side(name, fn, ref):
    check(fn, ref, nonzero(2, 3))


PROMOTION = [
    ("int+float", lambda x: F.add(x, 1.5), lambda x: x + 1.5),
    ("float*int", lambda x: F.mul(0.5, x), lambda x: 0.5 * x),
    ("int+int", lambda x: F.add(x, 2), lambda x: x + 2),
    ("int64+int32", None, None),
    ("int/int", lambda x: F.div(x, 2), lambda x: x / 2),
    ("int//int", lambda x: F.floor_divide(x, 2), lambda x: x // 2),
    ("int%int", lambda x: F.remainder(x, 3), lambda x: x % 3),
    ("bool+int", lambda x: F.add(x > 0, 1), lambda x: (x > 0) + 1),
]


@pytest.mark.parametrize("name,fn,ref", PROMOTION, ids=[c[0] for c in PROMOTION])
def test_promotion(name, fn, ref):
    if fn is None:  # two integer tensors of different widths
        check(F.add, torch.add, ints(2, 3), ints(3, dtype=torch.int64, seed=1))
        return
    check(fn, ref, ints(2, 3))


def test_half_with_float_scalar_stays_half():
    x = rand(2, 3).half()
    got = run_layers(lambda t: F.mul(t, 0.5), x)
    assert got.dtype == torch.float16
    assert_close(got.float(), (x * 0.5).float())


WHERE = [
    ("tensors", lambda c, a, b: F.where(c, a, b), lambda c, a, b: torch.where(c, a, b)),
    ("scalar_other", lambda c, a, b: F.where(c, a, 0.0), lambda c, a, b: torch.where(c, a, 0.0)),
    ("scalar_input", lambda c, a, b: F.where(c, -1, b), lambda c, a, b: torch.where(c, -1, b)),
    (
        "both_float",
        lambda c, a, b: F.where(c, 1.0, -2.0),
        lambda c, a, b: torch.where(c, 1.0, -2.0),
    ),
    ("both_int", lambda c, a, b: F.where(c, 1, 0), lambda c, a, b: torch.where(c, 1, 0)),
]


@pytest.mark.parametrize("name,fn,ref", WHERE, ids=[c[0] for c in WHERE])
def test_where(name, fn, ref):
    # condition (3,1), input (2,3,4), other (4,): all three broadcast
    check(fn, ref, rand(3, 1) > 0, rand(2, 3, 4, seed=1), rand(4, seed=2))


def test_where_int_and_float_promotes():
    check(lambda c, a, b: F.where(c, a, b), torch.where, rand(2, 3) > 0, ints(2, 3), rand(1, 3))


CLAMP = [
    ("both", lambda x: F.clamp(x, -0.5, 0.5), lambda x: torch.clamp(x, -0.5, 0.5)),
    ("min_only", lambda x: F.clamp(x, min=0.1), lambda x: torch.clamp(x, min=0.1)),
    ("max_only", lambda x: F.clamp(x, max=0.2), lambda x: torch.clamp(x, max=0.2)),
    ("int_bounds", lambda x: F.clip(x, -1, 1), lambda x: torch.clip(x, -1, 1)),
    ("min_gt_max", lambda x: F.clamp(x, 1.0, -1.0), lambda x: torch.clamp(x, 1.0, -1.0)),
    ("method", lambda x: x.clamp(min=-0.3), lambda x: x.clamp(min=-0.3)),
    ("clamp_min", lambda x: F.clamp_min(x, 0.0), lambda x: torch.clamp_min(x, 0.0)),
    ("clamp_max", lambda x: F.clamp_max(x, 0.0), lambda x: torch.clamp_max(x, 0.0)),
]


@pytest.mark.parametrize("name,fn,ref", CLAMP, ids=[c[0] for c in CLAMP])
def test_clamp(name, fn, ref):
    check(fn, ref, rand(2, 3, 4) * 2)


def test_clamp_tensor_bounds_broadcast():
    check(
        lambda x, lo, hi: F.clamp(x, lo, hi),
        torch.clamp,
        rand(2, 3, 4),
        -rand(4, seed=1).abs(),
        rand(3, 1, seed=2).abs(),
    )


def test_clamp_int_tensor():
    check(lambda x: F.clamp(x, -2, 3), lambda x: torch.clamp(x, -2, 3), ints(2, 5))
    check(lambda x: F.clamp(x, min=0.5), lambda x: torch.clamp(x, min=0.5), ints(2, 5))


def test_needs_a_tensor():
    builder, network = layers.create_network()
    with layers.net_guard(network), pytest.raises(TypeError):
        F.add(1, 2)


# --------------------------------------------------------------------------- dynamic shapes


def run_dynamic(fn, inputs, shapes):
    """Network inputs get ``shapes`` (-1 = dynamic); run on ``inputs``, build with one profile."""
    builder, network = layers.create_network()
    with layers.net_guard(network):
        handles = [layers.add_input(f"input{i}", layers.float32, s) for i, s in enumerate(shapes)]
        layers.mark_output(fn(*handles), "output0")
    values = execute(network, {f"input{i}": t for i, t in enumerate(inputs)})
    profile = {f"input{i}": (tuple(t.shape),) * 3 for i, t in enumerate(inputs)}
    layers.build_engine(builder, network, profiles=[profile])
    return values["output0"]


@pytest.mark.parametrize(
    "b_shape", [(3, 1), (-1, 1), (-1, -1)], ids=["static", "one_dynamic", "two_dynamic"]
)
def test_dynamic_broadcast(b_shape):
    """The lower-rank operand is unsqueezed at the front, whatever is dynamic in it."""
    a, b = rand(2, 3, 4), rand(3, 1, seed=1)
    assert_close(run_dynamic(F.add, [a, b], [(-1, 3, -1), b_shape]), a + b)
    assert_close(
        run_dynamic(lambda x, y: F.where(x > 0, y, 0.5), [a, b], [(2, -1, 4), b_shape]),
        torch.where(a > 0, b, 0.5),
    )


@pytest.mark.parametrize("value", [1, 0.5])
def test_addcmul_and_addcdiv(value):
    a, b, c = rand(2, 3, seed=1), rand(2, 3, seed=2), rand(1, 3, seed=3) + 3
    got = run_layers(
        lambda x, y, z: (F.addcmul(x, y, z, value=value), y.addcdiv(x, z, value=value)), a, b, c
    )
    assert_close(got[0], torch.addcmul(a, b, c, value=value))
    assert_close(got[1], torch.addcdiv(b, a, c, value=value))
