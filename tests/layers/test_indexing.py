"""Indexing against torch: x[...] combos, select/narrow/slice, gather, index_select, embedding,
masked_fill; one SLICE (+ one SHUFFLE) per subscript; dynamic batch."""

import pytest
import torch

import layers
from layers import functional as F

from helpers import assert_close, check_op, layer_types, rand, run_layers
from test_shape import check, run_dynamic

LT = layers.trt.LayerType
X = rand(2, 3, 4, 5)

SUBSCRIPTS = [
    ("int", lambda x: x[1]),
    ("neg_int", lambda x: x[-1]),
    ("col", lambda x: x[:, 0]),
    ("col_neg", lambda x: x[:, -1]),
    ("ellipsis_slice", lambda x: x[..., 1:3]),
    ("none_step", lambda x: x[None, :, ::2]),
    ("neg_start_stop", lambda x: x[:, -2:, 1:-1]),
    ("neg_stop_step", lambda x: x[..., -4:-1:2]),
    ("clamped", lambda x: x[-10:10, :100]),
    ("empty", lambda x: x[:, 2:1]),
    ("ints", lambda x: x[1, 2, -1]),
    ("all_ints", lambda x: x[1, 2, 3, 4]),
    ("ellipsis_mid", lambda x: x[0, ..., 1]),
    ("none_mid", lambda x: x[:, None, 1, None]),
    ("none_end", lambda x: x[..., None]),
    ("step3", lambda x: x[:, :, ::3, 1::2]),
    ("list", lambda x: x[:, [2, 0, -1]]),
    ("list_with_int", lambda x: x[0, :, [3, 1]]),
    ("list_with_none", lambda x: x[None, :, [1, 1], 1:]),
    ("list_2d", lambda x: x[:, :, [[0, 1], [3, 2]]]),
    ("list_last", lambda x: x[..., [4, 0]]),
]


@pytest.mark.parametrize("name,fn", SUBSCRIPTS, ids=[s[0] for s in SUBSCRIPTS])
def test_getitem(name, fn):
    check(fn, fn, X)


def test_getitem_is_one_slice_and_one_shuffle():
    network = check(lambda x: x[None, 1, ::2, ..., -1], lambda x: x[None, 1, ::2, ..., -1], X)
    assert layer_types(network) == [LT.SLICE, LT.SHUFFLE]
    network = check(lambda x: x[:, 1:, ..., :-1], lambda x: x[:, 1:, ..., :-1], X)
    assert layer_types(network) == [LT.SLICE]


def test_getitem_whole_is_no_layer():
    builder, network = layers.create_network()
    with layers.net_guard(network):
        x = layers.add_input("x", layers.float32, (2, 3))
        assert x[:] is x and x[...] is x and x[:, 0:3] is x
    assert network.num_layers == 0


@pytest.mark.parametrize("index_dtype", [torch.int32, torch.int64])
def test_getitem_tensor_index(index_dtype):
    index = torch.tensor([[2, 0], [1, 1]], dtype=index_dtype)
    check(lambda x, i: x[:, i], lambda x, i: x[:, i], X, index)
    check(lambda x, i: x[1, ..., i], lambda x, i: x[1, ..., i], X, index)


def test_getitem_rejects_bool_mask():
    builder, network = layers.create_network()
    with layers.net_guard(network):
        x = layers.add_input("x", layers.float32, (2, 3))
        with pytest.raises(NotImplementedError):
            x[x > 0]


NAMED = [
    ("select", lambda x: F.select(x, 1, 2), lambda t: t.select(1, 2)),
    ("select_neg", lambda x: x.select(-1, -2), lambda t: t.select(-1, -2)),
    ("narrow", lambda x: x.narrow(2, 1, 2), lambda t: t.narrow(2, 1, 2)),
    ("narrow_neg", lambda x: F.narrow(x, -1, -3, 2), lambda t: t.narrow(-1, -3, 2)),
    ("slice_tensor", lambda x: F.slice_tensor(x, 1, 1, None, 2), lambda t: t[:, 1::2]),
    ("slice_tensor_big", lambda x: F.slice_tensor(x, -1, -3, 2**62), lambda t: t[..., -3:]),
    (
        "index_select",
        lambda x: F.index_select(x, 2, [3, 0, 3]),
        lambda t: t.index_select(2, torch.tensor([3, 0, 3])),
    ),
    (
        "index_select_neg_dim",
        lambda x: x.index_select(-1, [4, 1]),
        lambda t: t.index_select(-1, torch.tensor([4, 1])),
    ),
]


@pytest.mark.parametrize("name,fn,ref", NAMED, ids=[n[0] for n in NAMED])
def test_named_indexing(name, fn, ref):
    check(fn, ref, X)


def test_index_select_tensor():
    index = torch.tensor([1, 0, 1], dtype=torch.int32)
    check(lambda x, i: F.index_select(x, 1, i), lambda x, i: x.index_select(1, i.long()), X, index)


@pytest.mark.parametrize("dim", [0, 1, -1])
def test_gather(dim):
    generator = torch.Generator().manual_seed(1)
    n = X.shape[dim]
    index = torch.randint(0, n, (2, 3, 4, 5), generator=generator)
    check(lambda x, i: F.gather(x, dim, i), lambda x, i: torch.gather(x, dim, i), X, index)


def test_gather_smaller_index():
    index = torch.tensor([[[[0, 3], [1, 1]]]])  # (1, 1, 2, 2): smaller than x off the gather dim
    check(lambda x, i: x.gather(-2, i), lambda x, i: x.gather(-2, i), X, index)


@pytest.mark.parametrize("shape", [(2, 3, 2, 1), (1, 1, 3, 5)])
def test_take_along_dim_broadcasts(shape):
    index = torch.randint(0, 4, shape, generator=torch.Generator().manual_seed(4))
    dim = -2
    check(
        lambda x, i: F.take_along_dim(x, i, dim),
        lambda x, i: torch.take_along_dim(x, i, dim),
        X,
        index,
    )


def test_embedding():
    weight = rand(10, 4, seed=3)
    ids = torch.tensor([[1, 9, 0], [4, 4, 2]], dtype=torch.int32)
    check(
        lambda i, w: F.embedding(i, w),
        lambda i, w: torch.nn.functional.embedding(i.long(), w),
        ids,
        weight,
    )


@pytest.mark.parametrize("value", [0.0, -1e4, 3])
def test_masked_fill(value):
    mask = rand(3, 1, 5, seed=2) > 0  # broadcasts against x
    check(lambda x, m: x.masked_fill(m, value), lambda x, m: x.masked_fill(m, value), X, mask)


def test_masked_fill_inf():
    mask = rand(4, 1, seed=2) > 0
    got = run_layers(lambda x, m: x.masked_fill(m, float("-inf")), X, mask)
    want = X.masked_fill(mask, float("-inf"))
    assert torch.equal(torch.isinf(got), torch.isinf(want))
    assert_close(got.nan_to_num(neginf=0.0), want.nan_to_num(neginf=0.0))


def test_masked_fill_tensor_value():
    mask = rand(5, seed=2) > 0
    value = torch.tensor(2.5)
    check(
        lambda x, m, v: F.masked_fill(x, m, v), lambda x, m, v: x.masked_fill(m, v), X, mask, value
    )


def test_masked_fill_int():
    x = torch.arange(12, dtype=torch.int32).reshape(3, 4)
    mask = torch.tensor([True, False, True, False])
    check(lambda a, m: a.masked_fill(m, -7), lambda a, m: a.masked_fill(m, -7), x, mask)


DYNAMIC = [
    ("col", lambda x: x[:, 0]),
    ("neg_int", lambda x: x[-1]),
    ("from_1", lambda x: x[1:]),
    ("to_neg", lambda x: x[:-1]),
    ("last_two", lambda x: x[-2:]),
    ("none_step", lambda x: x[None, :, ::2]),
    ("list", lambda x: x[:, [2, 0]]),
]


@pytest.mark.parametrize("name,fn", DYNAMIC, ids=[d[0] for d in DYNAMIC])
def test_dynamic_batch(name, fn):
    x = rand(3, 3, 4, 5)
    got, network = run_dynamic(fn, x)
    assert_close(got, fn(x))
    if name in ("col", "neg_int", "none_step", "list"):
        assert LT.SHAPE not in layer_types(network)


@pytest.mark.parametrize("dim, start, end", [(1, 1, 3), (0, None, 2), (-1, 2, None), (1, 0, 4)])
def test_slice_scatter(dim, start, end):
    x = rand(4, 5, 6)
    size = list(x.shape)
    size[dim] = len(range(*slice(start, end).indices(x.shape[dim])))
    s = rand(*size, seed=3)
    check_op(
        lambda a, b: F.slice_scatter(a, b, dim, start, end),
        lambda a, b: torch.slice_scatter(a, b, dim, start, end),
        x,
        s,
    )


@pytest.mark.parametrize(
    "n, dim, ends",
    [(1, -1, False), (2, 1, False), (1, 0, True), (1, -1, True)],
)
def test_diff(n, dim, ends):
    x = rand(4, 5, 6)
    size = list(x.shape)
    size[dim] = 1
    pre, post = rand(*size, seed=4), rand(*size, seed=5)
    kwargs = {"prepend": pre, "append": post} if ends else {}
    check_op(
        lambda a, b, c: F.diff(a, n, dim, **({"prepend": b, "append": c} if ends else {})),
        lambda a, b, c: torch.diff(a, n, dim, **kwargs),
        x,
        pre,
        post,
    )


def test_diff_of_bools_compares_neighbours():
    x = rand(3, 7) > 0
    check_op(lambda a: F.diff(a), lambda t: torch.diff(t), x)


def test_diff_with_a_dynamic_batch():
    x = rand(3, 6)
    got, _ = run_dynamic(lambda a: F.diff(a, prepend=a[:, :1] - 1), x)
    assert_close(got, torch.diff(x, prepend=x[:, :1] - 1))


def test_fill_and_advanced_index():
    x = rand(3, 4)
    check_op(lambda a: F.fill(a, 2.5), lambda a: torch.fill(a, 2.5), x)
    i0, i1 = torch.tensor([[2], [0]]), torch.tensor([[1, 3, 0]])
    check_op(lambda a: F.index(a, [i0.numpy(), i1.numpy()]), lambda a: a[i0, i1], x)


# Run-time sizes (x.size(d) of a dynamic dim) as bounds: what torch.export graphs of models with
# a dynamic sequence length use (``arange(seq)``, ``position_ids[:, :seq]``, mask indexing).
RUNTIME_BOUNDS = [
    ("arange", lambda x: F.arange(x.size(1)), lambda x: torch.arange(x.shape[1])),
    ("arange_from_2", lambda x: F.arange(2, x.size(1)), lambda x: torch.arange(2, x.shape[1])),
    ("slice_to_size", lambda x: x[:, : x.size(0)], lambda x: x[:, : x.shape[0]]),
    ("slice_1_to_size", lambda x: x[:, 1 : x.size(0)], lambda x: x[:, 1 : x.shape[0]]),
    ("to_the_end", lambda x: F.slice_tensor(x, 0, 1, 2**63 - 1), lambda x: x[1:]),
    (
        "reshape_to_size_product",
        lambda x: F.reshape(x, [x.size(0) * 2, -1]),
        lambda x: x.reshape(x.shape[0] * 2, -1),
    ),
    (
        "index_broadcast",
        lambda x: F.index(
            x, [F.unsqueeze(F.arange(x.size(0)), 1), F.unsqueeze(F.arange(x.size(1)), 0)]
        ),
        lambda x: x[torch.arange(x.shape[0])[:, None], torch.arange(x.shape[1])[None]],
    ),
    (
        "new_zeros_of_runtime_size",
        lambda x: F.new_zeros(x, [x.size(0), 2, x.size(1)]) + 1,
        lambda x: torch.zeros(x.shape[0], 2, x.shape[1]) + 1,
    ),
    (
        "full_of_runtime_size",
        lambda x: F.full([3, x.size(1)], 7.0),
        lambda x: torch.full((3, x.shape[1]), 7.0),
    ),
]


@pytest.mark.parametrize("name,fn,ref", RUNTIME_BOUNDS, ids=[r[0] for r in RUNTIME_BOUNDS])
def test_runtime_size_bounds(name, fn, ref):
    for x in (rand(3, 5, 4), rand(4, 6, 4, seed=1)):  # two sizes through one network definition
        got, network = run_dynamic(fn, x, dynamic=(0, 1))
        assert_close(got, ref(x))


@pytest.mark.parametrize(
    "dim, start, end, step", [(1, 0, 5, 2), (-1, 1, None, 3), (0, -3, -1, 1), (2, 4, 2, 1)]
)
def test_slice_scatter_steps_and_negative_bounds(dim, start, end, step):
    x = rand(4, 5, 6)
    size = list(x.shape)
    size[dim] = len(range(*slice(start, end, step).indices(x.shape[dim])))
    s = rand(*size, seed=3)
    check(
        lambda a, b: F.slice_scatter(a, b, dim, start, end, step),
        lambda a, b: torch.slice_scatter(a, b, dim, start, end, step),
        x,
        s,
    )


def test_slice_scatter_casts_the_source():
    x = torch.randint(0, 9, (2, 5))
    check(
        lambda a, b: F.slice_scatter(a, b, 1, 1, 2**63 - 1),
        lambda a, b: torch.slice_scatter(a, b.to(a.dtype), 1, 1),
        x,
        torch.randint(0, 9, (2, 4)).to(torch.int32),
    )


@pytest.mark.parametrize("start, end", [(1, 2**63 - 1), (0, 2), (-2, None), (1, -1)])
def test_slice_scatter_along_a_dynamic_dim(start, end):
    x = rand(5, 3)
    # the source comes from x itself, so it has the slice's run-time size
    got, _ = run_dynamic(
        lambda a: F.slice_scatter(a, F.slice_tensor(a, 0, start, end) * 2, 0, start, end), x
    )
    want = torch.slice_scatter(x, x[start:end] * 2, 0, start, end if end is not None else None)
    assert_close(got, want)


@pytest.mark.parametrize("dim, index", [(0, 1), (1, -1), (2, 0), (-1, 5)])
def test_select_scatter(dim, index):
    x = rand(3, 4, 6)
    size = [n for i, n in enumerate(x.shape) if i != dim % x.ndim]
    check(
        lambda a, b: F.select_scatter(a, b, dim, index),
        lambda a, b: torch.select_scatter(a, b, dim, index),
        x,
        rand(*size, seed=2),
    )


def test_select_scatter_along_a_dynamic_dim():
    x = rand(4, 3)
    got, _ = run_dynamic(lambda a: F.select_scatter(a, F.select(a, 0, -1) + 1, 0, -1), x)
    assert_close(got, torch.select_scatter(x, x[-1] + 1, 0, -1))


@pytest.mark.parametrize("shape", [(3, 4), (4,), (1, 4), ()])
def test_copy_broadcasts_and_casts(shape):
    x = rand(2, 3, 4)
    src = torch.randint(-5, 5, shape, generator=torch.Generator().manual_seed(0))
    check_op(lambda a, b: F.copy(a, b), lambda a, b: a.clone().copy_(b), x, src)


def test_fill_with_a_tensor_keeps_the_dtype():
    x = torch.randint(0, 9, (2, 3))
    check_op(lambda a, v: F.fill(a, v), lambda a, v: torch.fill(a, v), x, torch.tensor(2.0))


@pytest.mark.parametrize("accumulate", [False, True])
@pytest.mark.parametrize(
    "mask_shape, value_shape",
    [((3, 4, 5), ()), ((3, 4), (5,)), ((3, 4), (1, 5)), ((3, 4, 5), (1,))],
)
def test_index_put_with_a_mask(mask_shape, value_shape, accumulate):
    x = rand(3, 4, 5)
    mask = rand(*mask_shape, seed=4) > 0
    values = rand(*value_shape or (1,), seed=5).reshape(value_shape)
    check(
        lambda a, m, v: F.index_put(a, [m], v, accumulate),
        lambda a, m, v: a.index_put((m,), v, accumulate),
        x,
        mask,
        values,
    )


def test_index_put_with_a_mask_after_a_full_dim():
    x = torch.randint(-9, 9, (2, 6))
    mask = torch.tensor([True, False, True, True, False, False])

    def want(a, m):
        a = a.clone()
        a[:, m] = 7
        return a

    check_op(lambda a, m: F.index_put(a, [None, m], 7), want, x, mask)


@pytest.mark.parametrize("accumulate", [False, True])
@pytest.mark.parametrize(
    "dim, index, value_shape",
    [
        (0, [2, 0], (2, 4, 5)),
        (1, [3, -1], ()),
        (2, [[0, 1], [4, 3]], (2, 2)),
        (1, 2, (3, 5)),
        (2, [1, 1, 3], (3, 4, 1)),  # repeated: accumulating adds up both
    ],
)
def test_index_put_with_an_integer_index(dim, index, value_shape, accumulate):
    x = rand(3, 4, 5)
    index = torch.tensor(index)
    if not accumulate and index.unique().numel() != index.numel():
        pytest.skip("torch leaves repeated writes undefined")
    check(
        lambda a, i, v: F.index_put(a, [None] * dim + [i], v, accumulate),
        lambda a, i, v: _put(a, dim, i, v, accumulate),
        x,
        index,
        rand(*value_shape or (1,), seed=6).reshape(value_shape),
    )


def _put(a, dim, index, values, accumulate):
    """torch's ``a[:, ..., index] = values`` (``+=`` over repeats when accumulating)."""
    key = (slice(None),) * dim + (index,)
    if not accumulate:
        a = a.clone()
        a[key] = values
        return a
    full = values.expand(a[key].shape)
    full = full.unsqueeze(dim) if index.ndim == 0 else full.flatten(dim, dim + index.ndim - 1)
    return a.index_add(dim, index.reshape(-1) % a.shape[dim], full)


@pytest.mark.parametrize(
    "shape, first, indices, value_shape",
    [
        ((2, 4, 6, 5), 1, [[0, 3, 2], [4, 1, 0]], (3, 5)),  # x[:, i, j] = v, a row per position
        ((2, 4, 6, 5), 1, [[0, -1], [4, -2]], ()),  # negative indices wrap; one value for all
        ((2, 4, 6, 5), 0, [[[1], [0]], [2, 3, 1]], (2, 3, 6, 5)),  # (2, 1) and (3,) broadcast
        ((2, 4, 6, 5), 0, [1, [0, 2]], (5,)),  # a scalar index with a vector one
        ((3, 4, 5), 0, [[2, 0], [1, 3], [4, 4]], (2,)),  # every dim indexed
    ],
)
def test_index_put_with_several_integer_indices(shape, first, indices, value_shape):
    tensors = [torch.tensor(i) for i in indices]
    values = rand(*value_shape or (1,), seed=6).reshape(value_shape)

    def torch_fn(a, v, *idx):
        a = a.clone()
        a[(slice(None),) * first + idx] = v
        return a

    check(
        lambda a, v, *idx: F.index_put(a, [None] * first + list(idx), v),
        torch_fn,
        rand(*shape),
        values,
        *tensors,
    )


def test_index_put_with_several_indices_refuses_what_it_cannot_do():
    builder, network = layers.create_network()
    with layers.net_guard(network):
        x = layers.add_input("x", layers.float32, (2, 3, 4))
        i = layers.add_input("i", layers.int64, (2,))
        with pytest.raises(NotImplementedError, match="non-adjacent"):
            F.index_put(x, [i, None, i], 1.0)
        with pytest.raises(NotImplementedError, match="without accumulate"):
            F.index_put(x, [i, i], 1.0, accumulate=True)


@pytest.mark.parametrize("dim, index", [(0, [2, 0]), (1, [3, 1, 0]), (-1, [4])])
def test_index_copy(dim, index):
    x = rand(3, 4, 5)
    index = torch.tensor(index)
    shape = list(x.shape)
    shape[dim] = len(index)
    source = rand(*shape, seed=6)
    check(
        lambda a, i, s: F.index_copy(a, dim, i, s),
        lambda a, i, s: a.index_copy(dim, i, s),
        x,
        index,
        source,
    )


@pytest.mark.parametrize("dim, index", [(0, [2, 0]), (1, [3, 1]), (-1, [4])])
def test_index_fill(dim, index):
    check(
        lambda a, i: F.index_fill(a, dim, i, -1.5),
        lambda a, i: a.index_fill(dim, i, -1.5),
        rand(3, 4, 5),
        torch.tensor(index),
    )
