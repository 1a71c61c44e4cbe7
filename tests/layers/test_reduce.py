"""Reductions against torch: every op over int / tuple / None / negative dims, keepdim."""

import pytest
import torch

import layers
from layers import functional as F
from layers.functional import reduce as R  # F.norm is the norm-layers module; torch.norm is R.norm

from helpers import assert_close, check_op, rand, run_layers
from trtgen.reference import execute


def check(layers_fn, torch_fn, *inputs, rtol=1e-5):
    """Compare with torch through the reference executor, then let TensorRT build the engine."""
    got, (builder, network) = run_layers(layers_fn, *inputs, return_network=True)
    want = torch_fn(*inputs)
    want = list(want) if isinstance(want, (tuple, list)) else [want]
    assert len(got) == len(want)
    for g, w in zip(got, want):
        assert g.dtype == w.dtype, (g.dtype, w.dtype)
        assert_close(g, w, rtol)
    layers.build_engine(builder, network)


X = rand(2, 3, 4, 5)
DIMS = [None, 0, 2, -1, -3, (1, 2), (0, -1), [-2, 1]]
DIM_IDS = [repr(d) for d in DIMS]

REDUCTIONS = [
    "sum",
    "mean",
    "amax",
    "amin",
    "prod",
    "var",
    "std",
    "norm",
    "logsumexp",
    "all",
    "any",
]


def _torch_prod(x, dim=None, keepdim=False):
    """torch.prod takes one dim: reduce a tuple of them one at a time."""
    if dim is None:
        return torch.prod(x)
    if isinstance(dim, int):
        return torch.prod(x, dim, keepdim=keepdim)
    for d in sorted((d % x.dim() for d in dim), reverse=True):
        x = torch.prod(x, d, keepdim=keepdim)
    return x


def _call(module, name, x, dim, keepdim):
    fn = getattr(R if module is F else module, name)
    if module is torch and name == "prod":
        fn = _torch_prod
    if module is torch and name == "norm":  # torch.norm('fro') rejects dim tuples of length != 2
        fn = lambda t, dim=None, keepdim=False: torch.linalg.vector_norm(
            t, 2, dim, keepdim
        )  # noqa: E731
    if dim is None:
        if name == "logsumexp" or keepdim:  # logsumexp requires a dim; keepdim needs one in torch
            return fn(x, dim=tuple(range(x.dim())), keepdim=keepdim)
        return fn(x)
    return fn(x, dim=dim, keepdim=keepdim)


@pytest.mark.parametrize("keepdim", [False, True], ids=["", "keepdim"])
@pytest.mark.parametrize("dim", DIMS, ids=DIM_IDS)
@pytest.mark.parametrize("name", REDUCTIONS)
def test_reduction(name, dim, keepdim):
    x = X if name not in ("all", "any") else (X > 0.5).float()
    check(
        lambda t: _call(F, name, t, dim, keepdim), lambda t: _call(torch, name, t, dim, keepdim), x
    )


@pytest.mark.parametrize("dtype", [torch.int32, torch.int64, torch.bool])
@pytest.mark.parametrize("name", ["sum", "prod", "amax", "amin", "all", "any"])
def test_integer_and_bool(name, dtype):
    x = torch.randint(-3, 4, (2, 3, 4), generator=torch.Generator().manual_seed(0)).to(dtype)
    check(lambda t: getattr(F, name)(t, 1), lambda t: getattr(torch, name)(t, 1), x)
    check(lambda t: getattr(F, name)(t), lambda t: getattr(torch, name)(t), x)


@pytest.mark.parametrize("correction", [0, 1, 2])
def test_var_std_correction(correction):
    for name in ("var", "std"):
        check(
            lambda t: getattr(F, name)(t, (0, 2), correction=correction),
            lambda t: getattr(torch, name)(t, (0, 2), correction=correction),
            X,
        )


def test_var_std_unbiased_forms():
    check(lambda t: F.var(t, 1, False), lambda t: torch.var(t, 1, False), X)
    check(
        lambda t: F.std(t, -1, unbiased=False, keepdim=True),
        lambda t: torch.std(t, -1, unbiased=False, keepdim=True),
        X,
    )
    check(lambda t: F.var(t, False), lambda t: torch.var(t, False), X)
    check(lambda t: t.std(), lambda t: t.std(), X)
    check(lambda t: F.var_mean(t, 1), lambda t: torch.var_mean(t, 1), X)
    check(
        lambda t: F.std_mean(t, (1, 2), keepdim=True),
        lambda t: torch.std_mean(t, (1, 2), keepdim=True),
        X,
    )


@pytest.mark.parametrize("p", [1, 2, 3, "fro", float("inf"), float("-inf")])
def test_norm_p(p):
    check(lambda t: R.norm(t, p, dim=-1), lambda t: torch.norm(t, p, dim=-1), X)
    if p != "fro":
        check(
            lambda t: F.vector_norm(t, p, dim=(0, 2)),
            lambda t: torch.linalg.vector_norm(t, p, dim=(0, 2)),
            X,
        )


def test_method_forms():
    check(lambda t: t.sum(1), lambda t: t.sum(1), X)
    check(lambda t: t.mean((-1, -2), True), lambda t: t.mean((-1, -2), True), X)
    check(lambda t: t.amax(dim=0), lambda t: t.amax(dim=0), X)
    check(lambda t: t.sum(dtype=layers.float32), lambda t: t.sum(dtype=torch.float32), X.half())


# --------------------------------------------------------------------------- max / min / arg*

X_DISTINCT = (
    torch.randperm(120, generator=torch.Generator().manual_seed(3)).float().reshape(2, 3, 4, 5)
)


@pytest.mark.parametrize("keepdim", [False, True], ids=["", "keepdim"])
@pytest.mark.parametrize("dim", [0, 1, 3, -1, -2])
@pytest.mark.parametrize("name", ["max", "min"])
def test_max_min_dim(name, dim, keepdim):
    check(
        lambda t: tuple(getattr(F, name)(t, dim, keepdim)),
        lambda t: tuple(getattr(torch, name)(t, dim, keepdim)),
        X_DISTINCT,
    )


@pytest.mark.parametrize("name", ["max", "min"])
def test_max_min_forms(name):
    check(lambda t: getattr(F, name)(t), lambda t: getattr(torch, name)(t), X)  # the value
    check(
        lambda t: getattr(F, name)(t, dim=1).values,
        lambda t: getattr(torch, name)(t, dim=1).values,
        X_DISTINCT,
    )
    check(
        lambda t: getattr(F, name)(t, 1).indices,
        lambda t: getattr(torch, name)(t, 1).indices,
        X_DISTINCT,
    )
    check(
        lambda a, b: getattr(F, name)(a, b),
        lambda a, b: getattr(torch, name)(a, b),
        X,
        rand(4, 1, seed=2),
    )
    check(lambda t: getattr(t, name)(2)[0], lambda t: getattr(t, name)(2)[0], X_DISTINCT)


@pytest.mark.parametrize("keepdim", [False, True], ids=["", "keepdim"])
@pytest.mark.parametrize("dim", [None, 0, 2, -1, -4])
@pytest.mark.parametrize("name", ["argmax", "argmin"])
def test_argmax_argmin(name, dim, keepdim):
    check(
        lambda t: getattr(F, name)(t, dim, keepdim),
        lambda t: getattr(torch, name)(t, dim, keepdim),
        X_DISTINCT,
    )


@pytest.mark.parametrize("keepdim", [False, True], ids=["", "keepdim"])
def test_one_dim(keepdim):
    x = X_DISTINCT.flatten()[:7]
    check(lambda t: tuple(F.max(t, 0, keepdim)), lambda t: tuple(torch.max(t, 0, keepdim)), x)
    check(lambda t: F.argmin(t, keepdim=keepdim), lambda t: torch.argmin(t, keepdim=keepdim), x)
    check(lambda t: F.sum(t, -1, keepdim), lambda t: torch.sum(t, -1, keepdim), x)
    check(lambda t: F.cumsum(t, 0), lambda t: torch.cumsum(t, 0), x)


def test_topk_dim_outside_last_four():
    """TensorRT's TopK reduces one of the last four dims only: earlier dims go through a transpose."""
    x = (
        torch.randperm(2 * 3 * 2 * 2 * 3, generator=torch.Generator().manual_seed(1))
        .float()
        .reshape(2, 3, 2, 2, 3)
    )
    check(lambda t: tuple(F.max(t, 0)), lambda t: tuple(torch.max(t, 0)), x)
    check(lambda t: F.argmin(t, 0, keepdim=True), lambda t: torch.argmin(t, 0, keepdim=True), x)


# --------------------------------------------------------------------------- cumsum


@pytest.mark.parametrize("dim", [0, 1, -1, -2])
def test_cumsum(dim):
    check(lambda t: F.cumsum(t, dim), lambda t: torch.cumsum(t, dim), X)


@pytest.mark.parametrize("dtype", [torch.int32, torch.int64, torch.bool])
def test_cumsum_integer(dtype):
    x = torch.randint(-3, 4, (2, 5), generator=torch.Generator().manual_seed(0)).to(dtype)
    check(lambda t: F.cumsum(t, 1), lambda t: torch.cumsum(t, 1), x)
    check(
        lambda t: t.cumsum(dim=0, dtype=layers.float32),
        lambda t: t.cumsum(dim=0, dtype=torch.float32),
        x,
    )


@pytest.mark.parametrize("dim", [0, 1, -1])
def test_cumprod(dim):
    """exp of a running sum of logs: relative error 1e-5 of the largest product."""
    check(lambda t: F.cumprod(t, dim), lambda t: torch.cumprod(t, dim), X)


def test_cumprod_with_zeros_and_negatives():
    x = torch.tensor([[1.5, -2.0, 0.0, 3.0, -1.0], [-0.5, -0.5, -4.0, 2.0, 0.25]])
    check(lambda t: F.cumprod(t, 1), lambda t: torch.cumprod(t, 1), x)


def test_cumprod_of_integers_is_refused():
    with pytest.raises(NotImplementedError, match="integer"):
        run_layers(lambda t: F.cumprod(t, 0), torch.arange(1, 5))


# --------------------------------------------------------------------------- dynamic shapes


def run_dynamic(fn, inputs, shapes):
    """Like ``run_layers``, but network inputs get ``shapes`` (-1 = dynamic); the engine is
    built with one optimization profile around the actual input shapes."""
    builder, network = layers.create_network()
    with layers.net_guard(network):
        handles = [
            layers.add_input(f"input{i}", layers.float32, shape) for i, shape in enumerate(shapes)
        ]
        result = fn(*handles)
        outputs = list(result) if isinstance(result, (tuple, list)) else [result]
        for i, out in enumerate(outputs):
            layers.mark_output(out, f"output{i}")
    values = execute(network, {f"input{i}": t for i, t in enumerate(inputs)})
    profile = {
        f"input{i}": (tuple(t.shape), tuple(t.shape), tuple(t.shape)) for i, t in enumerate(inputs)
    }
    layers.build_engine(builder, network, profiles=[profile])
    return [values[f"output{i}"] for i in range(len(outputs))], network


DYNAMIC = [
    ("sum", lambda t: F.sum(t, (0, -1)), lambda t: torch.sum(t, (0, -1))),
    ("var", lambda t: F.var(t, (0, 2)), lambda t: torch.var(t, (0, 2))),
    (
        "std_keepdim",
        lambda t: F.std(t, 1, correction=0, keepdim=True),
        lambda t: torch.std(t, 1, correction=0, keepdim=True),
    ),
    ("max_dim", lambda t: tuple(F.max(t, 1)), lambda t: tuple(torch.max(t, 1))),
    ("min_dim0", lambda t: tuple(F.min(t, 0)), lambda t: tuple(torch.min(t, 0))),
    ("argmax_all", lambda t: F.argmax(t), lambda t: torch.argmax(t)),
    (
        "argmin_keepdim",
        lambda t: F.argmin(t, keepdim=True),
        lambda t: torch.argmin(t, keepdim=True),
    ),
    ("logsumexp", lambda t: F.logsumexp(t, (0, 1)), lambda t: torch.logsumexp(t, (0, 1))),
]


@pytest.mark.parametrize("name,fn,ref", DYNAMIC, ids=[c[0] for c in DYNAMIC])
def test_dynamic_shapes(name, fn, ref):
    x = X_DISTINCT[0]  # (3, 4, 5)
    got, network = run_dynamic(fn, [x], [(-1, -1, 5)])
    want = ref(x)
    want = list(want) if isinstance(want, (tuple, list)) else [want]
    for g, w in zip(got, want):
        assert g.dtype == w.dtype
        assert_close(g, w)


def test_static_shapes_need_no_shape_layers():
    _, (builder, network) = run_layers(
        lambda t: (F.var(t, (0, 2)), *F.max(t, 1), F.argmax(t)), X_DISTINCT, return_network=True
    )
    kinds = {network.get_layer(i).type for i in range(network.num_layers)}
    assert layers.trt.LayerType.SHAPE not in kinds


def test_argmax_ties_pick_the_first_index():
    x = torch.tensor([[1.0, 3.0, 3.0, 0.0], [2.0, 2.0, 2.0, 2.0]])
    check_op(lambda t: F.argmax(t, dim=-1), lambda t: torch.argmax(t, dim=-1), x)
