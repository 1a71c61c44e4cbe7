"""MATRIX_MULTIPLY (NONE / TRANSPOSE / VECTOR, batch broadcasting) and EINSUM."""

import numpy as np
import pytest

from layers.backend import trt
from reference_helpers import assert_close, rng

M = trt.MatrixOperation


@pytest.mark.parametrize(
    "a_shape,op0,b_shape,op1,fn",
    [
        ((3, 4), M.NONE, (4, 5), M.NONE, lambda a, b: a @ b),
        ((4, 3), M.TRANSPOSE, (4, 5), M.NONE, lambda a, b: a.T @ b),
        ((3, 4), M.NONE, (5, 4), M.TRANSPOSE, lambda a, b: a @ b.T),
        ((2, 1, 3, 4), M.NONE, (1, 6, 4, 5), M.NONE, lambda a, b: a @ b),
        (
            (2, 4, 3),
            M.TRANSPOSE,
            (2, 5, 4),
            M.TRANSPOSE,
            lambda a, b: a.transpose(0, 2, 1) @ b.transpose(0, 2, 1),
        ),
        ((2, 4), M.VECTOR, (2, 4, 5), M.NONE, lambda a, b: np.einsum("bk,bkn->bn", a, b)),
        ((2, 3, 4), M.NONE, (2, 4), M.VECTOR, lambda a, b: np.einsum("bmk,bk->bm", a, b)),
        ((2, 4), M.VECTOR, (2, 4), M.VECTOR, lambda a, b: np.einsum("bk,bk->b", a, b)),
        ((2, 4), M.VECTOR, (2, 5, 4), M.TRANSPOSE, lambda a, b: np.einsum("bk,bnk->bn", a, b)),
    ],
)
def test_matrix_multiply(net, a_shape, op0, b_shape, op1, fn):
    r = rng(22)
    a = r.standard_normal(a_shape).astype(np.float32)
    b = r.standard_normal(b_shape).astype(np.float32)
    layer = net.network.add_matrix_multiply(net.input("a", a), op0, net.input("b", b), op1)
    assert_close(net.run(layer.get_output(0)), fn(a.astype(np.float64), b.astype(np.float64)))


@pytest.mark.parametrize(
    "equation,shapes",
    [
        ("ij,jk->ik", [(3, 4), (4, 5)]),
        ("bij,bjk->bik", [(2, 3, 4), (2, 4, 2)]),
        ("ij->ji", [(3, 4)]),
        ("i,i->", [(5,), (5,)]),
    ],
)
def test_einsum(net, equation, shapes):
    r = rng(23)
    arrays = [r.standard_normal(s).astype(np.float32) for s in shapes]
    layer = net.network.add_einsum([net.input(f"x{i}", a) for i, a in enumerate(arrays)], equation)
    assert_close(
        net.run(layer.get_output(0)), np.einsum(equation, *[a.astype(np.float64) for a in arrays])
    )
