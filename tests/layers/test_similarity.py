"""cosine_similarity and pairwise_distance against torch (float32, rtol 1e-5 of the largest value)."""

import pytest
import torch.nn.functional as TF

from layers import functional as F

from helpers import check_and_build, rand


@pytest.mark.parametrize(
    "shapes,dim", [(((4, 6), (4, 6)), 1), (((2, 3, 5), (1, 3, 5)), -1), (((2, 3, 5), (2, 3, 5)), 0)]
)
def test_cosine_similarity(shapes, dim):
    a, b = rand(*shapes[0], seed=1), rand(*shapes[1], seed=2)
    check_and_build(
        lambda x, y: F.cosine_similarity(x, y, dim),
        lambda x, y: TF.cosine_similarity(x, y, dim),
        a,
        b,
    )


def test_cosine_similarity_of_a_zero_vector_is_zero():
    a, b = rand(3, 4, seed=1), rand(3, 4, seed=2)
    a[1] = 0
    check_and_build(
        lambda x, y: F.cosine_similarity(x, y), lambda x, y: TF.cosine_similarity(x, y), a, b
    )


@pytest.mark.parametrize("p,keepdim", [(2.0, False), (1.0, True), (3.0, False)])
def test_pairwise_distance(p, keepdim):
    a, b = rand(4, 6, seed=1), rand(4, 6, seed=2)
    check_and_build(
        lambda x, y: F.pairwise_distance(x, y, p, keepdim=keepdim),
        lambda x, y: TF.pairwise_distance(x, y, p, keepdim=keepdim),
        a,
        b,
    )
