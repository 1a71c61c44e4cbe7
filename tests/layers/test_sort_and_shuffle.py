"""topk / sort / argsort, flip, tril / triu, repeat_interleave, glu, channel_shuffle, unfold
(F.unfold and Tensor.unfold) and outer against torch, plus the layers each one lowers to.

Sorting inputs have no ties: torch leaves the order of equal values unspecified.
"""

import pytest
import torch

import layers
from layers import functional as F

from helpers import assert_close, check_op, layer_types, rand
from test_shape import check, run_dynamic

LT = layers.trt.LayerType
TF = torch.nn.functional


def distinct(*shape, seed=0):
    """Floats with no two equal (a shuffled range, scaled)."""
    generator = torch.Generator().manual_seed(seed)
    n = 1
    for d in shape:
        n *= d
    return (torch.randperm(n, generator=generator).float() * 0.37 - n / 7).reshape(shape)


def network_with(fn, *shapes, dtype=layers.float32):
    """The network ``fn`` builds on inputs of ``shapes`` (for checks that need no numbers)."""
    builder, network = layers.create_network()
    with layers.net_guard(network):
        fn(*[layers.add_input(f"x{i}", dtype, s) for i, s in enumerate(shapes)])
    return network


def test_ops_are_exposed():
    names = ["topk", "sort", "argsort", "flip", "fliplr", "flipud", "tril", "triu"]
    names += ["repeat_interleave", "glu", "channel_shuffle", "native_channel_shuffle"]
    names += ["unfold", "outer", "ger"]
    assert [n for n in names if not hasattr(F, n)] == []
    assert hasattr(layers, "ChannelShuffle")


# --------------------------------------------------------------------------- topk


X4 = distinct(2, 3, 5, 7)

TOPK = [  # (k, dim, largest)
    (3, -1, True),
    (1, -1, True),
    (1, 0, False),
    (2, 1, False),
    (5, -2, True),
    (7, 3, False),
]


@pytest.mark.parametrize("k,dim,largest", TOPK)
def test_topk(k, dim, largest):
    check_op(
        lambda x: tuple(F.topk(x, k, dim, largest)),
        lambda x: tuple(torch.topk(x, k, dim, largest)),
        X4,
    )


@pytest.mark.parametrize("k,dim,keepdim", [(1, -1, False), (3, 1, True), (2, 0, False)])
def test_kthvalue(k, dim, keepdim):
    check_op(
        lambda x: tuple(F.kthvalue(x, k, dim, keepdim)),
        lambda x: tuple(torch.kthvalue(x, k, dim, keepdim)),
        X4,
    )


def test_msort():
    check_op(F.msort, torch.msort, X4)


def test_topk_is_one_layer_and_builds():
    network = check(lambda x: tuple(x.topk(2, dim=-2)), lambda x: tuple(x.topk(2, dim=-2)), X4)
    assert layer_types(network) == [LT.TOPK]


def test_topk_result_unpacks_and_names_its_fields():
    def fn(x):
        result = F.topk(x, 2)
        values, indices = result
        assert result.values is values and result.indices is indices
        assert result[0] is values and result[1] is indices
        assert indices.dtype == layers.int64
        return result.values, result.indices

    check_op(fn, lambda x: tuple(torch.topk(x, 2)), X4)


def test_topk_unsorted_is_sorted():
    check_op(
        lambda x: tuple(F.topk(x, 4, sorted=False)),
        lambda x: tuple(torch.topk(x, 4, sorted=True)),
        X4,
    )


@pytest.mark.parametrize("shape,dim", [((9,), 0), ((2, 3, 4, 5, 6), 0), ((2, 3, 4, 5, 6), -4)])
def test_topk_ranks_tensorrt_does_not_take_directly(shape, dim):
    """1-d inputs and dims before the last four go through a reshape / transpose."""
    x = distinct(*shape, seed=2)
    check_op(lambda a: tuple(F.topk(a, 2, dim)), lambda a: tuple(torch.topk(a, 2, dim)), x)


def test_topk_int():
    x = torch.randperm(24).reshape(4, 6).to(torch.int32)
    check_op(lambda a: tuple(F.topk(a, 3)), lambda a: tuple(torch.topk(a, 3)), x)


def test_topk_on_a_dynamic_batch():
    x = distinct(3, 4, 6)
    got, _ = run_dynamic(lambda a: tuple(F.topk(a, 2)), x)
    want = torch.topk(x, 2)
    assert_close(got[0], want.values)
    assert_close(got[1], want.indices)


def test_topk_rejects_k_out_of_range():
    with pytest.raises(ValueError, match="out of range"):
        network_with(lambda x: F.topk(x, 8), (2, 7))
    with pytest.raises(NotImplementedError, match="3840"):
        network_with(lambda x: F.topk(x, 3841), (2, 5000))


# --------------------------------------------------------------------------- sort / argsort


@pytest.mark.parametrize("dim", [0, 1, -1, -2])
@pytest.mark.parametrize("descending", [False, True])
def test_sort(dim, descending):
    check_op(
        lambda x: tuple(F.sort(x, dim, descending)),
        lambda x: tuple(torch.sort(x, dim, descending)),
        X4,
    )


def test_sort_method_keywords_and_stable():
    check_op(
        lambda x: tuple(x.sort(dim=-1, descending=True, stable=True)),
        lambda x: tuple(x.sort(dim=-1, descending=True, stable=True)),
        X4,
    )


@pytest.mark.parametrize("dim,descending", [(-1, False), (0, True), (2, False)])
def test_argsort(dim, descending):
    network = check(
        lambda x: F.argsort(x, dim, descending),
        lambda x: torch.argsort(x, dim, descending),
        X4,
    )
    assert layer_types(network) == [LT.TOPK]


def test_sort_1d():
    x = distinct(11, seed=3)
    check_op(lambda a: tuple(F.sort(a)), lambda a: tuple(torch.sort(a)), x)
    check_op(lambda a: a.argsort(descending=True), lambda a: a.argsort(descending=True), x)


def test_sort_needs_a_static_dim_within_the_topk_limit():
    with pytest.raises(NotImplementedError, match="dynamic"):
        network_with(lambda x: F.sort(x, 0), (-1, 4))
    with pytest.raises(NotImplementedError, match="3840"):
        network_with(lambda x: F.argsort(x), (2, 3841))
    network_with(lambda x: F.sort(x), (2, 3840))  # the limit itself is fine


# --------------------------------------------------------------------------- flip

FLIPS = [0, -1, (1, 2), (0, -1, 2), [3, 0, 1, 2]]


@pytest.mark.parametrize("dims", FLIPS, ids=str)
def test_flip(dims):
    x = rand(2, 3, 4, 5)
    as_tuple = (dims,) if isinstance(dims, int) else tuple(dims)
    network = check(lambda a: F.flip(a, dims), lambda a: torch.flip(a, as_tuple), x)
    assert layer_types(network) == [LT.SLICE]
    check_op(lambda a: a.flip(*as_tuple), lambda a: a.flip(*as_tuple), x)
    check_op(lambda a: F.flip(a, dims=dims), lambda a: torch.flip(a, dims=as_tuple), x)


def test_fliplr_flipud_and_int():
    x = torch.arange(12, dtype=torch.int32).reshape(3, 4)
    check_op(lambda a: F.fliplr(a), lambda a: torch.fliplr(a), x)
    check_op(lambda a: F.flipud(a), lambda a: torch.flipud(a), x)
    check_op(lambda a: a.flip(-1), lambda a: a.flip(-1), x)


def test_flip_of_size_one_dims_is_no_layer():
    network = network_with(lambda x: F.flip(x, (0, 2)), (1, 3, 1))
    assert network.num_layers == 0


@pytest.mark.parametrize("dims,dynamic", [((0,), (0,)), ((0, 2), (0,)), ((1, -1), (0, 2))])
def test_flip_dynamic(dims, dynamic):
    x = rand(3, 4, 5)
    got, _ = run_dynamic(lambda a: F.flip(a, dims), x, dynamic=dynamic)
    assert_close(got, torch.flip(x, dims))


# --------------------------------------------------------------------------- tril / triu


@pytest.mark.parametrize("diagonal", [0, 1, -1, 3, -2, 10, -10])
@pytest.mark.parametrize("shape", [(4, 6), (2, 3, 5, 4)])
def test_tril_triu(diagonal, shape):
    x = rand(*shape)
    check_op(lambda a: F.tril(a, diagonal), lambda a: torch.tril(a, diagonal), x)
    check_op(lambda a: a.triu(diagonal), lambda a: a.triu(diagonal), x)


def test_tril_is_a_select_on_compared_ranges():
    network = check(lambda a: F.tril(a, -1), lambda a: torch.tril(a, -1), rand(5, 5))
    assert sorted(layer_types(network), key=str) == sorted(
        [LT.CONSTANT, LT.CONSTANT, LT.ELEMENTWISE, LT.CONSTANT, LT.SELECT], key=str
    )


def test_tril_triu_int_and_bool():
    x = torch.arange(1, 13, dtype=torch.int32).reshape(3, 4)
    check_op(lambda a: F.tril(a, 1), lambda a: torch.tril(a, 1), x)
    mask = rand(4, 4, seed=2) > -1
    check_op(lambda a: F.triu(a), lambda a: torch.triu(a), mask)


@pytest.mark.parametrize("diagonal", [0, 2, -1])
def test_tril_triu_dynamic(diagonal):
    x = rand(2, 5, 4)
    for fn, ref in ((F.tril, torch.tril), (F.triu, torch.triu)):
        got, _ = run_dynamic(lambda a: fn(a, diagonal), x, dynamic=(0, 1, 2))
        assert_close(got, ref(x, diagonal))


def test_tril_needs_two_dims():
    with pytest.raises(ValueError, match="at least 2 dims"):
        network_with(lambda x: F.tril(x), (5,))


# --------------------------------------------------------------------------- repeat_interleave

REPEATS = [(2, None), (3, 0), (2, 1), (3, -1), (1, 1), (1, None)]


@pytest.mark.parametrize("repeats,dim", REPEATS)
def test_repeat_interleave(repeats, dim):
    x = rand(2, 3, 4)
    check(
        lambda a: F.repeat_interleave(a, repeats, dim),
        lambda a: torch.repeat_interleave(a, repeats, dim),
        x,
    )


def test_repeat_interleave_method_and_int():
    x = torch.arange(6, dtype=torch.int32).reshape(2, 3)
    check_op(lambda a: a.repeat_interleave(2, dim=0), lambda a: a.repeat_interleave(2, dim=0), x)
    check_op(
        lambda a: a.repeat_interleave(3, output_size=18),
        lambda a: a.repeat_interleave(3, output_size=18),
        x,
    )


def test_repeat_interleave_layers():
    network = network_with(lambda x: F.repeat_interleave(x, 2, 1), (2, 3, 4))
    assert layer_types(network) == [LT.SHUFFLE, LT.SLICE, LT.SHUFFLE]


@pytest.mark.parametrize("dim,dynamic", [(0, (0,)), (1, (0,)), (-1, (0, 2)), (2, (2,))])
def test_repeat_interleave_dynamic(dim, dynamic):
    x = rand(3, 4, 5)
    got, _ = run_dynamic(lambda a: F.repeat_interleave(a, 2, dim), x, dynamic=dynamic)
    assert_close(got, x.repeat_interleave(2, dim))


def test_repeat_interleave_rejects_tensor_repeats():
    with pytest.raises(NotImplementedError, match="int 'repeats'"):
        network_with(lambda x, r: F.repeat_interleave(x, r, 0), (3, 4), (3,))
    with pytest.raises(NotImplementedError, match="int 'repeats'"):
        network_with(lambda r: F.repeat_interleave(r), (3,))


# --------------------------------------------------------------------------- glu


@pytest.mark.parametrize("dim", [-1, 0, 1, -2])
def test_glu(dim):
    x = rand(4, 6, 8)
    check(lambda a: F.glu(a, dim), lambda a: TF.glu(a, dim), x)


def test_glu_layers_and_dynamic_batch():
    network = network_with(lambda x: F.glu(x), (2, 6))
    assert layer_types(network) == [LT.SLICE, LT.SLICE, LT.ACTIVATION, LT.ELEMENTWISE]
    x = rand(3, 2, 6)
    got, _ = run_dynamic(lambda a: F.glu(a, -1), x)
    assert_close(got, TF.glu(x, -1))


def test_glu_rejects_odd_dim():
    with pytest.raises(ValueError, match="even"):
        network_with(lambda x: F.glu(x, 0), (3, 4))


# --------------------------------------------------------------------------- channel_shuffle


@pytest.mark.parametrize("shape,groups", [((2, 6, 4, 5), 3), ((2, 6, 4, 5), 2), ((1, 8, 3), 4)])
def test_channel_shuffle(shape, groups):
    x = rand(*shape)
    network = check(
        lambda a: F.channel_shuffle(a, groups), lambda a: TF.channel_shuffle(a, groups), x
    )
    assert layer_types(network) == [LT.SHUFFLE, LT.SHUFFLE]


def test_native_channel_shuffle_and_module():
    x = rand(2, 12, 3, 3)
    check_op(
        lambda a: F.native_channel_shuffle(a, 4), lambda a: torch.native_channel_shuffle(a, 4), x
    )
    module = layers.ChannelShuffle(3)
    assert module.groups == 3
    check_op(lambda a: module(a), lambda a: torch.nn.ChannelShuffle(3)(a), x)


def test_channel_shuffle_dynamic():
    x = rand(2, 6, 4, 5)
    got, _ = run_dynamic(lambda a: F.channel_shuffle(a, 2), x, dynamic=(0, 2, 3))
    assert_close(got, TF.channel_shuffle(x, 2))


def test_channel_shuffle_rejects_indivisible_groups():
    with pytest.raises(ValueError, match="not divisible"):
        network_with(lambda x: F.channel_shuffle(x, 4), (1, 6, 2, 2))


# --------------------------------------------------------------------------- unfold

UNFOLDS = [
    dict(kernel_size=2),
    dict(kernel_size=3, padding=1),
    dict(kernel_size=(3, 2), dilation=(1, 2), padding=(1, 0), stride=(2, 1)),
    dict(kernel_size=(1, 3), stride=2),
    dict(kernel_size=1),
]


@pytest.mark.parametrize("kwargs", UNFOLDS, ids=str)
def test_unfold(kwargs):
    check(lambda a: F.unfold(a, **kwargs), lambda a: TF.unfold(a, **kwargs), rand(2, 3, 7, 8))


def test_unfold_unbatched_positional_and_dynamic_batch():
    check_op(lambda a: F.unfold(a, 2, 1, 1, 2), lambda a: TF.unfold(a, 2, 1, 1, 2), rand(3, 5, 6))
    x = rand(2, 3, 6, 5)
    got, network = run_dynamic(lambda a: F.unfold(a, 3, padding=1), x)
    assert_close(got, TF.unfold(x, 3, padding=1))


def test_unfold_layers():
    network = network_with(lambda x: F.unfold(x, 3, padding=1), (1, 2, 6, 6))
    assert layer_types(network) == [
        LT.SLICE,
        LT.CONSTANT,
        LT.GATHER,
        LT.CONSTANT,
        LT.GATHER,
        LT.SHUFFLE,
    ]


@pytest.mark.parametrize("args", [(1, 3, 2), (-1, 2, 1), (0, 1, 1), (1, 7, 3)], ids=str)
def test_tensor_unfold_is_sliding_windows(args):
    check(lambda a: a.unfold(*args), lambda a: a.unfold(*args), rand(2, 7, 5))


# --------------------------------------------------------------------------- outer


def test_outer():
    check(lambda a, b: F.outer(a, b), lambda a, b: torch.outer(a, b), rand(5), rand(3, seed=1))
    check_op(lambda a, b: a.outer(b), lambda a, b: a.outer(b), torch.arange(4), rand(3, seed=1))
    ints = torch.arange(4), torch.arange(3, dtype=torch.int32)
    check_op(lambda a, b: F.ger(a, b), lambda a, b: torch.ger(a, b), *ints)


def test_outer_rejects_matrices():
    with pytest.raises(ValueError, match="1-D"):
        network_with(lambda a, b: F.outer(a, b), (2, 3), (3,))
