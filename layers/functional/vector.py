"""Vector products along one dim: torch.linalg.cross / torch.cross.

``a x b = (a1 b2 - a2 b1, a2 b0 - a0 b2, a0 b1 - a1 b0)``: the operands rotated by constant
GATHERs along the dim of size 3 ((1, 2, 0) and (2, 0, 1)), two products and a difference; the
ELEMENTWISE layers broadcast the other dims as torch does.
"""

import numpy as np

from ._common import gather_layer, normalize_dim
from .elementwise import _operands, mul, sub

__all__ = ["linalg_cross", "cross"]

_NEXT = np.array([1, 2, 0], np.int64)
_AFTER_NEXT = np.array([2, 0, 1], np.int64)


def linalg_cross(input, other, *, dim=-1):
    """torch.linalg.cross: the cross product of 3-vectors along ``dim``."""
    a, b = _operands(input, other)  # one dtype, one rank
    d = normalize_dim(dim, a.ndim)
    if a.shape[d] != 3 or b.shape[d] != 3:
        raise ValueError(
            f"linalg.cross: inputs dimension {dim} must have length 3. "
            f"Got {a.shape[d]} and {b.shape[d]}"
        )

    def rotated(x, order):
        return gather_layer(x, d, order, "cross")

    forward = mul(rotated(a, _NEXT), rotated(b, _AFTER_NEXT))
    backward = mul(rotated(a, _AFTER_NEXT), rotated(b, _NEXT))
    return sub(forward, backward)


def cross(input, other, dim=None):
    """torch.cross: linalg.cross along ``dim``; without one, along the first dim of size 3
    (torch's deprecated default)."""
    if dim is None:
        a, b = _operands(input, other)
        sizes = [n for n in zip(a.shape, b.shape)]
        matches = [i for i, (n, m) in enumerate(sizes) if n == 3 and m == 3]
        if not matches:
            raise ValueError("no dimension of size 3 in input")
        dim = matches[0]
    return linalg_cross(input, other, dim=dim)
