"""Similarity of paired vectors (torch.nn.functional names and signatures), composed from
elementwise ops and reductions."""

from .elementwise import add, clamp_min, div, mul, sub
from .reduce import sum, vector_norm  # noqa: A004 - torch names

__all__ = ["cosine_similarity", "pairwise_distance"]


def cosine_similarity(x1, x2, dim=1, eps=1e-8):
    """sum over ``dim`` of x1 / max(|x1|, eps) * x2 / max(|x2|, eps), as torch computes it."""
    n1 = clamp_min(vector_norm(x1, 2, dim, keepdim=True), eps)
    n2 = clamp_min(vector_norm(x2, 2, dim, keepdim=True), eps)
    return sum(mul(div(x1, n1), div(x2, n2)), dim)


def pairwise_distance(x1, x2, p=2.0, eps=1e-6, keepdim=False):
    """The p-norm of x1 - x2 + eps over the last dim."""
    return vector_norm(add(sub(x1, x2), eps), p, -1, keepdim=keepdim)
