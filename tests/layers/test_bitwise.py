"""Bitwise ops against torch: bool (logical layers) and integer tensors (exact bit arithmetic),
operators and named forms, shifts with scalar and tensor amounts, a dynamic batch.
Integer results must be equal, not close."""

import pytest
import torch

import layers
from layers import functional as F
from trtgen.reference import execute

from helpers import assert_close, check_and_build, run_layers

G = torch.Generator().manual_seed(0)


def ints(*shape, dtype=torch.int32, low=None, high=None):
    info = torch.iinfo(dtype)
    low = info.min if low is None else low
    high = info.max if high is None else high
    return torch.randint(low, high, shape, generator=G, dtype=torch.int64).to(dtype)


INT_DTYPES = [torch.int32, torch.int64, torch.int8]
EXTREMES = {
    torch.int32: [0, -1, 1, 2**31 - 1, -(2**31), 5, -6],
    torch.int64: [0, -1, 1, 2**63 - 1, -(2**63), 5, -6],
    torch.int8: [0, -1, 1, 127, -128, 5, -6],
}


def sample(dtype):
    """Random values over the whole range plus the extremes (the sign bit, -1, 0)."""
    extremes = torch.tensor(EXTREMES[dtype], dtype=dtype)
    return torch.cat([ints(9, dtype=dtype), extremes]).reshape(2, 8)


@pytest.mark.parametrize("dtype", INT_DTYPES)
@pytest.mark.parametrize(
    "name,ours,theirs",
    [
        ("and", lambda a, b: a & b, lambda a, b: a & b),
        ("or", lambda a, b: a | b, lambda a, b: a | b),
        ("xor", lambda a, b: a ^ b, lambda a, b: a ^ b),
        ("bitwise_and", F.bitwise_and, torch.bitwise_and),
        ("bitwise_or", F.bitwise_or, torch.bitwise_or),
        ("bitwise_xor", F.bitwise_xor, torch.bitwise_xor),
    ],
)
def test_binary_on_integers(dtype, name, ours, theirs):
    a, b = sample(dtype), sample(dtype).flip(1)
    check_and_build(ours, theirs, a, b)


@pytest.mark.parametrize("dtype", INT_DTYPES)
def test_not_on_integers_is_not_logical_not(dtype):
    x = sample(dtype)
    got = run_layers(lambda a: ~a, x)
    assert torch.equal(got, ~x)  # ~5 == -6, not False
    check_and_build(F.bitwise_not, torch.bitwise_not, x)


def test_bool_operands_use_logical_layers():
    a = torch.tensor([[True, False, True, False]])
    b = torch.tensor([[True, True, False, False]])
    network = check_and_build(
        lambda x, y: (x & y, x | y, x ^ y, ~x),
        lambda x, y: (x & y, x | y, x ^ y, ~x),
        a,
        b,
    )
    types = {network.get_layer(i).type for i in range(network.num_layers)}
    assert types <= {layers.trt.LayerType.ELEMENTWISE, layers.trt.LayerType.UNARY}


def test_scalars_and_broadcasting_follow_torch():
    x = sample(torch.int32)
    check_and_build(
        lambda a: (a & 0x0F0F, 6 | a, a ^ -1, a[:1] & a),
        lambda a: (a & 0x0F0F, 6 | a, a ^ -1, a[:1] & a),
        x,
    )


def test_uint8():
    x = torch.tensor([[0, 1, 127, 128, 200, 255]], dtype=torch.uint8)
    y = torch.tensor([[255, 3, 128, 129, 15, 0]], dtype=torch.uint8)
    builder, network = layers.create_network()
    with layers.net_guard(network):
        a = layers.add_input("a", layers.uint8, (1, 6))
        b = layers.add_input("b", layers.uint8, (1, 6))
        for name, out in zip(("and", "or", "xor"), (a & b, a | b, a ^ b)):
            layers.mark_output(out, name)
        layers.mark_output(~a, "n")
        layers.mark_output(a << 3, "l")
        layers.mark_output(a >> 3, "r")
    got = execute(network, {"a": x, "b": y})
    wants = {"and": x & y, "or": x | y, "xor": x ^ y, "n": ~x, "l": x << 3, "r": x >> 3}
    for name, want in wants.items():
        assert torch.equal(got[name].to(torch.uint8), want), (name, got[name], want)


def test_float_operands_are_refused_like_torch():
    builder, network = layers.create_network()
    with layers.net_guard(network):
        x = layers.add_input("x", layers.float32, (2,))
        with pytest.raises(TypeError, match="bitwise_and: expected bool or integer"):
            F.bitwise_and(x, x)


@pytest.mark.parametrize("dtype", INT_DTYPES)
def test_shifts_by_python_ints(dtype):
    x = sample(dtype)
    bits = torch.iinfo(dtype).bits
    for amount in (0, 1, 3, bits - 2, bits - 1):
        check_and_build(
            lambda a: (a << amount, a >> amount), lambda a: (a << amount, a >> amount), x
        )


@pytest.mark.parametrize("dtype", [torch.int32, torch.int64])
def test_shifts_by_tensors(dtype):
    bits = torch.iinfo(dtype).bits
    x = sample(dtype)
    # every amount torch defines, including the full width and beyond (0 or the sign fill)
    amounts = torch.tensor([0, 1, 2, 7, bits - 2, bits - 1, bits, bits + 5], dtype=dtype).expand(
        2, 8
    )
    check_and_build(
        lambda a, s: (F.bitwise_left_shift(a, s), F.bitwise_right_shift(a, s)),
        lambda a, s: (torch.bitwise_left_shift(a, s), torch.bitwise_right_shift(a, s)),
        x,
        amounts.contiguous(),
    )


def test_bitwise_with_a_dynamic_batch():
    x = sample(torch.int64).repeat(3, 1)
    builder, network = layers.create_network()
    with layers.net_guard(network):
        a = layers.add_input("x", layers.int64, (-1, 8))
        layers.mark_output(F.bitwise_xor(a, a[:, :1]) | 3, "y")
    layers.build_engine(builder, network, profiles=[{"x": ((1, 8), (6, 8), (12, 8))}])
    got = execute(network, {"x": x})["y"]
    assert_close(got, (x ^ x[:, :1]) | 3)


def test_a_number_as_the_first_operand():
    """aten's Scalar_Tensor forms (``5 << x``, ``7 & x``): the result takes the tensor's dtype."""
    x = torch.tensor([[0, 1, 2, 5, 31, 40]], dtype=torch.int32)
    aten = torch.ops.aten
    check_and_build(
        lambda a: (
            F.bitwise_left_shift(5, a),
            F.bitwise_right_shift(-1000, a),
            F.bitwise_and(7, a),
            F.bitwise_or(-8, a),
        ),
        lambda a: (
            aten.bitwise_left_shift.Scalar_Tensor(5, a),
            aten.bitwise_right_shift.Scalar_Tensor(-1000, a),
            aten.bitwise_and.Scalar_Tensor(7, a),
            aten.bitwise_or.Scalar_Tensor(-8, a),
        ),
        x,
    )
