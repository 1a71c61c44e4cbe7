"""diagonal / diag / diag_embed / as_strided against torch (offsets of both signs, every pair of
dims, empty diagonals, integer tensors, a dynamic batch), and linalg.cross / cross
(broadcasting, the dim, torch.cross's default dim). fp32 tolerance: max |trt - torch| <=
1e-5 x max(1, max |torch|); integer results exact. Every network is built by TensorRT."""

import pytest
import torch

import layers
from layers import functional as F

from helpers import check_and_build, rand
from test_shape import run_dynamic
from helpers import assert_close

X = rand(2, 3, 4, 5)


@pytest.mark.parametrize("offset", [0, 1, -2, 3, -3, 6])
@pytest.mark.parametrize("dims", [(0, 1), (1, 3), (3, 1), (-1, -2), (2, 0)])
def test_diagonal(offset, dims):
    check_and_build(
        lambda x: F.diagonal(x, offset, *dims), lambda x: torch.diagonal(x, offset, *dims), X
    )


def test_diagonal_method_on_integers():
    x = torch.arange(24).reshape(2, 3, 4)
    check_and_build(lambda t: t.diagonal(1, 1, 2), lambda t: t.diagonal(1, 1, 2), x)


def test_diagonal_with_a_dynamic_batch():
    got, _ = run_dynamic(lambda t: F.diagonal(t, -1, 2, 3), X)
    assert_close(got, torch.diagonal(X, -1, 2, 3))


@pytest.mark.parametrize("offset", [0, 2, -1])
@pytest.mark.parametrize("dims", [(-2, -1), (0, 2), (2, 0), (1, 3)])
def test_diag_embed(offset, dims):
    check_and_build(
        lambda x: F.diag_embed(x, offset, *dims),
        lambda x: torch.diag_embed(x, offset, *dims),
        X[:, 0],
    )


@pytest.mark.parametrize("offset", [0, 1, -2])
def test_diag_of_a_vector_and_of_a_matrix(offset):
    check_and_build(lambda v: F.diag(v, offset), lambda v: torch.diag(v, offset), X[0, 0, 0])
    check_and_build(lambda m: F.diag(m, offset), lambda m: torch.diag(m, offset), X[0, 0])


@pytest.mark.parametrize(
    "size, stride, offset",
    [
        ((3, 4), (1, 3), 0),  # a transposed read
        ((2, 2, 2), (30, 5, 1), 7),  # an offset window
        ((4, 3), (0, 2), 1),  # stride 0 repeats
        ((5, 3), (2, 2), 3),  # overlapping windows
        ((), (), 11),  # one element
    ],
)
def test_as_strided(size, stride, offset):
    check_and_build(
        lambda x: F.as_strided(x, size, stride, offset),
        lambda x: torch.as_strided(x, size, stride, offset),
        X,
    )


def test_as_strided_refuses_to_read_outside():
    builder, network = layers.create_network()
    with layers.net_guard(network):
        x = layers.add_input("x", layers.float32, (2, 3))
        with pytest.raises(ValueError, match="read outside"):
            F.as_strided(x, (2, 3), (3, 1), 1)


def test_linalg_cross_broadcasts():
    a, b = rand(1, 4, 3, seed=1), rand(2, 1, 3, seed=2)
    check_and_build(F.linalg_cross, torch.linalg.cross, a, b)


@pytest.mark.parametrize("dim", [0, 1, -2])
def test_cross_along_a_dim(dim):
    a, b = rand(3, 3, 5, seed=3), rand(3, 3, 5, seed=4)
    check_and_build(
        lambda x, y: F.cross(x, y, dim=dim), lambda x, y: torch.cross(x, y, dim=dim), a, b
    )
    check_and_build(
        lambda x, y: F.linalg_cross(x, y, dim=dim),
        lambda x, y: torch.linalg.cross(x, y, dim=dim),
        a,
        b,
    )


@pytest.mark.filterwarnings("ignore:Using torch.cross without specifying the dim")
def test_cross_default_dim_and_integers():
    a = torch.randint(-5, 5, (2, 3, 3), generator=torch.Generator().manual_seed(5))
    b = torch.randint(-5, 5, (2, 3, 3), generator=torch.Generator().manual_seed(6))
    check_and_build(F.cross, torch.cross, a, b)


def test_cross_needs_three_entries():
    builder, network = layers.create_network()
    with layers.net_guard(network):
        x = layers.add_input("x", layers.float32, (2, 4))
        with pytest.raises(ValueError, match="must have length 3"):
            F.linalg_cross(x, x)


@pytest.mark.parametrize("offset, dims", [(0, (0, 1)), (1, (1, 3)), (-2, (3, 1)), (-1, (2, 0))])
def test_diagonal_scatter(offset, dims):
    src = rand(*torch.diagonal(X, offset, *dims).shape, seed=9)
    check_and_build(
        lambda x, s: F.diagonal_scatter(x, s, offset, *dims),
        lambda x, s: torch.diagonal_scatter(x, s, offset, *dims),
        X,
        src,
    )


@pytest.mark.parametrize(
    "shape, wrap",
    [
        ((4, 4), False),
        ((7, 3), False),
        ((7, 3), True),
        ((8, 3), True),
        ((3, 7), True),
        ((3, 3, 3), False),
    ],
)
def test_fill_diagonal(shape, wrap):
    def theirs(a):
        a = a.clone()
        a.fill_diagonal_(-5.0, wrap=wrap)
        return a

    check_and_build(lambda a: F.fill_diagonal(a, -5.0, wrap), theirs, rand(*shape))


def test_transposed_views_t_and_mt():
    """``x.T`` (every dim reversed) and ``x.mT`` (the last two swapped), which generated code
    writes as the model does."""
    check_and_build(
        lambda a: (a.T, a.mT, a[0].T), lambda a: (a.permute(2, 1, 0), a.mT, a[0].T), rand(2, 3, 4)
    )
