"""cdist and pdist against torch: p = 0, 1, 2, 3.5, inf; batched and broadcast batches; both
the direct form and the matrix-multiply form of p = 2 (above 25 rows, as torch switches);
a dynamic batch. fp32 tolerance: max |trt - torch| <= 1e-5 x max(1, max |torch|) (1e-4 for the
matrix-multiply form, whose cancellation torch shares but not bit for bit)."""

import pytest
import torch

import layers
from layers import functional as F

from helpers import assert_close, check_and_build, layer_types, rand
from test_shape import run_dynamic
from trtgen.reference import execute

P_VALUES = [0.0, 1.0, 2.0, 3.5, float("inf")]


@pytest.mark.parametrize("p", P_VALUES)
def test_cdist_direct(p):
    a, b = rand(2, 5, 4, seed=1), rand(2, 7, 4, seed=2)
    if p == 0:
        b[:, :, :2] = a[:, :1, :2]  # some equal entries: p = 0 counts the others
    check_and_build(lambda x, y: F.cdist(x, y, p=p), lambda x, y: torch.cdist(x, y, p=p), a, b)


def test_cdist_broadcasts_batches():
    a, b = rand(3, 1, 6, 4, seed=3), rand(5, 8, 4, seed=4)
    check_and_build(F.cdist, torch.cdist, a, b)
    a, b = rand(3, 1, 40, 4, seed=3), rand(5, 30, 4, seed=4)  # the matrix-multiply form
    check_and_build(F.cdist, torch.cdist, a, b, rtol=1e-4)


@pytest.mark.parametrize(
    "compute_mode", ["use_mm_for_euclid_dist_if_necessary", "use_mm_for_euclid_dist"]
)
def test_cdist_matrix_multiply_form(compute_mode):
    a, b = rand(2, 40, 16, seed=5), rand(2, 30, 16, seed=6)
    network = check_and_build(
        lambda x, y: F.cdist(x, y, compute_mode=compute_mode),
        lambda x, y: torch.cdist(x, y, compute_mode=compute_mode),
        a,
        b,
        rtol=1e-4,
    )
    assert layers.trt.LayerType.MATRIX_MULTIPLY in layer_types(network)


def test_cdist_forced_direct_form_above_the_threshold():
    a, b = rand(30, 8, seed=7), rand(26, 8, seed=8)
    mode = "donot_use_mm_for_euclid_dist"
    network = check_and_build(
        lambda x, y: F.cdist(x, y, compute_mode=mode),
        lambda x, y: torch.cdist(x, y, compute_mode=mode),
        a,
        b,
    )
    assert layers.trt.LayerType.MATRIX_MULTIPLY not in layer_types(network)


def test_cdist_with_a_dynamic_batch():
    x = rand(3, 6, 4, seed=9)
    got, _ = run_dynamic(lambda t: F.cdist(t, t[:, :2], p=1.0), x)
    assert_close(got, torch.cdist(x, x[:, :2], p=1.0))


@pytest.mark.parametrize("p", P_VALUES)
def test_pdist(p):
    x = rand(6, 5, seed=10)
    if p == 0:
        x[3, :3] = x[1, :3]
    check_and_build(lambda t: F.pdist(t, p), lambda t: torch.pdist(t, p), x)


def test_pdist_of_one_row_is_empty():
    x = rand(1, 5, seed=11)
    check_and_build(F.pdist, torch.pdist, x)


def test_cdist_with_a_run_time_row_count_picks_torchs_form_when_it_runs():
    """Below 26 rows torch computes differences, above it the matrix-multiply expansion: one
    network with a dynamic row count matches torch on both sides of the threshold."""
    y = 100 + 0.1 * rand(2, 3, 5, seed=4)  # close points far from 0: the two forms differ
    builder, network = layers.create_network()
    with layers.net_guard(network):
        x_in = layers.add_input("x", layers.float32, (2, -1, 5))
        layers.mark_output(F.cdist(x_in, layers.add_input("y", layers.float32, (2, 3, 5))), "d")
    layers.build_engine(builder, network, profiles=[{"x": ((2, 1, 5), (2, 8, 5), (2, 64, 5))}])
    for rows in (11, 40):
        x = 100 + 0.1 * rand(2, rows, 5, seed=rows)
        got = execute(network, {"x": x, "y": y})["d"]
        assert_close(got, torch.cdist(x, y))
