"""scatter / scatter_add / scatter_reduce and index_put(accumulate=True) against torch, with
repeated indices (which must combine as in torch), indices smaller than the tensor, integer
tensors, and a dynamic batch. fp32 tolerance: max |trt - torch| <= 1e-5 x max(1, max |torch|);
integer results exact. Every network is also built by TensorRT."""

import pytest
import torch

import layers
from layers import functional as F
from trtgen.reference import execute

from helpers import assert_close, check_and_build, rand

G = torch.Generator().manual_seed(3)
X = rand(4, 5, 3)
# along dim 1 (size 5): repeats within each row, positions 1 and 3 never hit in some rows
INDEX = torch.tensor(
    [
        [[0, 4, 2], [0, 0, 2], [4, 4, 4]],
        [[2, 2, 2], [1, 0, 3], [2, 0, 1]],
        [[3, 3, 0], [3, 0, 0], [0, 1, 2]],
        [[4, 1, 0], [4, 1, 0], [4, 1, 0]],
    ]
)
SRC = rand(4, 3, 3, seed=1)
REDUCTIONS = ["sum", "prod", "mean", "amax", "amin"]


@pytest.mark.parametrize("reduce", REDUCTIONS)
@pytest.mark.parametrize("include_self", [True, False])
def test_scatter_reduce_with_repeated_indices(reduce, include_self):
    check_and_build(
        lambda a, i, s: F.scatter_reduce(a, 1, i, s, reduce, include_self=include_self),
        lambda a, i, s: a.scatter_reduce(1, i, s, reduce, include_self=include_self),
        X,
        INDEX,
        SRC,
    )


@pytest.mark.parametrize("reduce", REDUCTIONS)
@pytest.mark.parametrize("include_self", [True, False])
def test_scatter_reduce_on_integers(reduce, include_self):
    # torch's integer mean rounds down; prod stays small enough not to overflow
    x = torch.randint(-9, 9, (4, 5, 3), generator=G)
    src = torch.randint(-9, 9, (4, 3, 3), generator=G)
    check_and_build(
        lambda a, i, s: F.scatter_reduce(a, 1, i, s, reduce, include_self=include_self),
        lambda a, i, s: a.scatter_reduce(1, i, s, reduce, include_self=include_self),
        x,
        INDEX,
        src,
    )


@pytest.mark.parametrize("dim", [0, 2, -1])
def test_scatter_add_along_each_dim(dim):
    shape = list(X.shape)
    index_shape = list(shape)
    index_shape[dim] = 6  # more sources than positions: repeats are certain
    index = torch.randint(0, shape[dim], index_shape, generator=G)
    src = rand(*index_shape, seed=2)
    check_and_build(
        lambda a, i, s: F.scatter_add(a, dim, i, s),
        lambda a, i, s: torch.scatter_add(a, dim, i, s),
        X,
        index,
        src,
    )


def test_index_and_src_smaller_than_the_input():
    # torch reads src and addresses the input only where the index is
    index = INDEX[:3, :2, :2]
    src = rand(4, 4, 3, seed=4)
    for reduce in ("sum", "amax"):
        check_and_build(
            lambda a, i, s: F.scatter_reduce(a, 1, i, s, reduce, include_self=False),
            lambda a, i, s: a.scatter_reduce(1, i, s, reduce, include_self=False),
            X,
            index,
            src,
        )
    unique = torch.tensor([[[0, 4], [1, 3]], [[2, 2], [1, 0]], [[3, 4], [0, 1]]])
    check_and_build(
        lambda a, i, s: F.scatter(a, 1, i, s),
        lambda a, i, s: a.scatter(1, i, s),
        X,
        unique,
        src,
    )


def test_scatter_with_src_and_with_a_value():
    # unique targets per row (torch leaves which repeated write wins unspecified)
    index = torch.stack([torch.randperm(5, generator=G)[:3] for _ in range(12)]).reshape(4, 3, 3)
    check_and_build(
        lambda a, i, s: (F.scatter(a, 1, i, s), F.scatter(a, 1, i, -2.5), a.scatter(1, i, value=7)),
        lambda a, i, s: (a.scatter(1, i, s), a.scatter(1, i, -2.5), a.scatter(1, i, value=7)),
        X,
        index,
        SRC,
    )


@pytest.mark.parametrize("reduce", ["add", "multiply"])
@pytest.mark.filterwarnings("ignore:The reduce argument of torch.scatter")
def test_scatter_with_the_legacy_reduce_argument(reduce):
    check_and_build(
        lambda a, i, s: F.scatter(a, 1, i, s, reduce=reduce),
        lambda a, i, s: a.scatter(1, i, s, reduce=reduce),
        X,
        INDEX,
        SRC,
    )


def test_scatter_reduce_with_a_dynamic_batch():
    builder, network = layers.create_network()
    with layers.net_guard(network):
        x = layers.add_input("x", layers.float32, (-1, 5, 3))
        i = layers.add_input("i", layers.int64, (-1, 3, 3))
        s = layers.add_input("s", layers.float32, (-1, 3, 3))
        layers.mark_output(F.scatter_reduce(x, 1, i, s, "mean", include_self=False), "mean")
        layers.mark_output(F.scatter_add(x, 1, i, s), "sum")
    profile = {n: ((1, m, 3), (4, m, 3), (8, m, 3)) for n, m in (("x", 5), ("i", 3), ("s", 3))}
    layers.build_engine(builder, network, profiles=[profile])
    got = execute(network, {"x": X, "i": INDEX, "s": SRC})
    assert_close(got["mean"], X.scatter_reduce(1, INDEX, SRC, "mean", include_self=False))
    assert_close(got["sum"], X.scatter_add(1, INDEX, SRC))


# --------------------------------------------------------------------------- index_put


def _accumulated(a, v, idx, first):
    return torch.ops.aten.index_put(a, [None] * first + list(idx), v, True)


@pytest.mark.parametrize(
    "shape, first, indices, value_shape",
    [
        ((2, 4, 6, 5), 1, [[0, 3, 0, 3], [4, 1, 4, 1]], (4, 5)),  # the same (i, j) twice
        ((2, 4, 6, 5), 1, [[0, -1, 3], [4, 5, -2]], ()),  # negatives wrap; -1 == 3, -2 == 4
        ((2, 4, 6, 5), 0, [[[1], [1]], [2, 2, 1]], (2, 3, 6, 5)),  # broadcast (2, 1) x (3,)
        ((3, 4, 5), 0, [[2, 2, 0], [1, 1, 3], [4, 4, 4]], (3,)),  # every dim indexed
    ],
)
def test_index_put_accumulates_over_several_indices(shape, first, indices, value_shape):
    tensors = [torch.tensor(i) for i in indices]
    values = rand(*value_shape or (1,), seed=6).reshape(value_shape)
    check_and_build(
        lambda a, v, *idx: F.index_put(a, [None] * first + list(idx), v, accumulate=True),
        lambda a, v, *idx: _accumulated(a, v, idx, first),
        rand(*shape),
        values,
        *tensors,
    )


@pytest.mark.parametrize("accumulate", [False, True])
def test_index_put_at_separated_dims(accumulate):
    # x[i, :, j] = v: torch lays v out with the broadcast index dims first, then dim 1
    if accumulate:
        i, j = torch.tensor([1, 0, 1]), torch.tensor([4, 2, 4])  # (1, 4) twice
    else:
        i, j = torch.tensor([1, 0, 0]), torch.tensor([4, 2, 3])
    check_and_build(
        lambda a, v, i, j: F.index_put(a, [i, None, j], v, accumulate),
        lambda a, v, i, j: torch.ops.aten.index_put(a, [i, None, j], v, accumulate),
        rand(2, 3, 5),
        rand(3, 3, seed=7),
        i,
        j,
    )


# --------------------------------------------------------------------------- index_add / copy / fill, take


def test_index_add_with_repeated_indices():
    x, index, source = rand(3, 5, 4), torch.tensor([4, 0, 4, 2]), rand(3, 4, 4, seed=2)
    check_and_build(
        lambda a, i, s: (F.index_add(a, 1, i, s), F.index_add(a, 1, i, s, alpha=-2.0)),
        lambda a, i, s: (a.index_add(1, i, s), a.index_add(1, i, s, alpha=-2.0)),
        x,
        index,
        source,
    )


def test_index_copy_and_index_fill():
    x, index, source = rand(3, 5, 4), torch.tensor([4, 0, 2]), rand(3, 3, 4, seed=2)
    check_and_build(
        lambda a, i, s: (F.index_copy(a, 1, i, s), F.index_fill(a, -1, i[1:], -1.5)),
        lambda a, i, s: (a.index_copy(1, i, s), a.index_fill(-1, i[1:], -1.5)),
        x,
        index,
        source,
    )


def test_take_reads_the_flat_input():
    index = torch.tensor([[0, -1], [59, 7]])  # a negative counts from the end
    check_and_build(F.take, torch.take, rand(3, 5, 4), index)
