"""cat/stack/split/chunk/unbind against torch (negative dims, promotion, uneven chunks, dynamic)."""

import pytest
import torch

import layers
from layers import functional as F

from helpers import assert_close, rand
from test_shape import check, layer_types, run_dynamic

LT = layers.trt.LayerType
A, B, C = rand(2, 3, 4, seed=0), rand(2, 1, 4, seed=1), rand(2, 2, 4, seed=2)


@pytest.mark.parametrize("dim", [1, -2])
def test_cat(dim):
    network = check(
        lambda a, b, c: F.cat([a, b, c], dim), lambda a, b, c: torch.cat([a, b, c], dim), A, B, C
    )
    assert layer_types(network) == [LT.CONCATENATION]
    layer = network.get_layer(0)
    layer.__class__ = layers.trt.IConcatenationLayer
    assert layer.axis == 1  # set explicitly (TensorRT's default is nbDims - 3)


def test_cat_aliases_and_dim0():
    check(lambda a, b: F.concat((a, b)), lambda a, b: torch.concat((a, b)), A, A)
    check(lambda a, b: F.concatenate([a, b], dim=-1), lambda a, b: torch.cat([a, b], -1), A, A)


def test_cat_promotes_dtypes():
    ints = torch.arange(8, dtype=torch.int32).reshape(2, 1, 4)
    check(lambda a, b: F.cat([a, b], 1), lambda a, b: torch.cat([a, b], 1), A, ints)


def test_cat_single_is_no_layer():
    builder, network = layers.create_network()
    with layers.net_guard(network):
        x = layers.add_input("x", layers.float32, (2, 3))
        assert F.cat([x]) is x
    assert network.num_layers == 0


@pytest.mark.parametrize("dim", [0, 1, 2, 3, -1, -4])
def test_stack(dim):
    check(
        lambda a, b, c: F.stack([a, b, c], dim),
        lambda a, b, c: torch.stack([a, b, c], dim),
        A,
        A * 2,
        A + 1,
    )


@pytest.mark.parametrize("dim", [1, -1])
def test_stack_is_two_layers(dim):
    stack = lambda a, b, c: F.stack([a, b, c], dim)  # noqa: E731
    network = check(stack, lambda a, b, c: torch.stack([a, b, c], dim), A, A * 2, A + 1)
    assert layer_types(network) == [LT.CONCATENATION, LT.SHUFFLE]


def test_stack_scalars_and_single():
    s = torch.tensor(1.5)
    check(lambda a, b: F.stack([a, b]), lambda a, b: torch.stack([a, b]), s, s * 2)
    check(lambda a: F.stack([a], -1), lambda a: torch.stack([a], -1), A)


def test_hstack_vstack():
    v = rand(3, seed=4)
    check(lambda a, b: F.hstack([a, b]), lambda a, b: torch.hstack([a, b]), A, B)
    check(lambda a, b: F.vstack([a, b]), lambda a, b: torch.vstack([a, b]), v, v)
    check(lambda a: F.hstack([a, a]), lambda a: torch.hstack([a, a]), v)


SPLITS = [
    ("size_even", lambda x: F.split(x, 2, 1), lambda t: torch.split(t, 2, 1)),
    ("size_uneven", lambda x: x.split(4, -1), lambda t: t.split(4, -1)),
    ("size_big", lambda x: x.split(9, 2), lambda t: t.split(9, 2)),
    (
        "sections",
        lambda x: F.split(x, [1, 3, 2], dim=1),
        lambda t: torch.split(t, [1, 3, 2], dim=1),
    ),
    ("chunk_even", lambda x: F.chunk(x, 3, 1), lambda t: torch.chunk(t, 3, 1)),
    ("chunk_uneven", lambda x: x.chunk(3, -1), lambda t: t.chunk(3, -1)),  # 7 -> 3, 3, 1
    ("chunk_fewer", lambda x: F.chunk(x, 4, 1), lambda t: torch.chunk(t, 4, 1)),  # 6 -> 2, 2, 2
    ("chunk_more_than_n", lambda x: F.chunk(x, 5, 0), lambda t: torch.chunk(t, 5, 0)),
    ("unbind", lambda x: F.unbind(x, 1), lambda t: torch.unbind(t, 1)),
    ("unbind_neg", lambda x: x.unbind(-1), lambda t: t.unbind(-1)),
]


@pytest.mark.parametrize("name,fn,ref", SPLITS, ids=[s[0] for s in SPLITS])
def test_split_family(name, fn, ref):
    x = rand(2, 6, 7)
    got_count = len(ref(x))
    network = check(lambda t: list(fn(t)), lambda t: list(ref(t)), x)
    assert network.num_outputs == got_count


DYNAMIC = [
    ("cat", lambda x: F.cat([x, x * 2], 1), lambda t: torch.cat([t, t * 2], 1)),
    ("stack", lambda x: F.stack([x, x], 1), lambda t: torch.stack([t, t], 1)),
    ("stack_end", lambda x: F.stack([x, x], -1), lambda t: torch.stack([t, t], -1)),
    ("split", lambda x: list(F.split(x, 2, 1)), lambda t: list(torch.split(t, 2, 1))),
    ("chunk", lambda x: list(x.chunk(2, -1)), lambda t: list(t.chunk(2, -1))),
    ("unbind", lambda x: list(x.unbind(1)), lambda t: list(t.unbind(1))),
]


@pytest.mark.parametrize("name,fn,ref", DYNAMIC, ids=[d[0] for d in DYNAMIC])
def test_dynamic_batch(name, fn, ref):
    x = rand(3, 3, 4)
    got, network = run_dynamic(fn, x)
    want = ref(x)
    for g, w in zip(
        got if isinstance(got, list) else [got], want if isinstance(want, list) else [want]
    ):
        assert_close(g, w)
    assert LT.SHAPE not in layer_types(network)
