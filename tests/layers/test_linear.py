"""linear, matmul (1-D operands, broadcasting), mm/mv/dot/bmm, addmm/baddbmm, einsum vs torch."""

import pytest
import torch
import torch.nn.functional as TF

import layers
from layers import functional as F

from helpers import check_and_build as check_op, param, rand, run_layers
from trtgen.reference.registry import downcast


@pytest.mark.parametrize("shape", [(5,), (3, 5), (2, 3, 5), (2, 1, 3, 5)])
@pytest.mark.parametrize("bias", [True, False])
def test_linear_parameters(shape, bias):
    x, w, b = rand(*shape, seed=1), rand(4, 5, seed=2), rand(4, seed=3)
    network = check_op(
        lambda h: F.linear(h, param("fc.weight", w), param("fc.bias", b) if bias else None),
        lambda t: TF.linear(t, w, b if bias else None),
        x,
    )
    kinds = [network.get_layer(i).type for i in range(network.num_layers)]
    # weight and bias constants are created at the input's rank: no reshapes
    assert layers.trt.LayerType.SHUFFLE not in kinds
    names = [network.get_layer(i).name for i in range(network.num_layers)]
    assert "fc.weight" in names
    # a bias over a last dim is the shift of one SCALE layer; a 1-D output adds a CONSTANT
    shifts = [downcast(network.get_layer(i)) for i in range(network.num_layers)]
    shifts = [layer.shift for layer in shifts if isinstance(layer, layers.trt.IScaleLayer)]
    if bias and len(shape) > 1:
        assert "fc.bias" not in names and len(shifts) == 1
        torch.testing.assert_close(torch.from_numpy(shifts[0]), b, rtol=0, atol=0)
    else:
        assert ("fc.bias" in names) == bias and not shifts


def test_linear_tensor_weights():
    x, w, b = rand(2, 3, 5, seed=1), rand(4, 5, seed=2), rand(4, seed=3)
    check_op(lambda h, hw, hb: F.linear(h, hw, hb), lambda t, tw, tb: TF.linear(t, tw, tb), x, w, b)


MATMUL_SHAPES = [
    ((4,), (4,)),  # dot
    ((3, 4), (4,)),  # matrix @ vector
    ((4,), (4, 5)),  # vector @ matrix
    ((2, 3, 4), (4,)),  # batched matrix @ vector
    ((4,), (2, 4, 5)),  # vector @ batched matrix
    ((3, 4), (4, 5)),
    ((2, 3, 4), (4, 5)),  # broadcast the matrix
    ((3, 4), (2, 4, 5)),
    ((2, 1, 3, 4), (5, 4, 2)),  # batch dims broadcast both ways
]


@pytest.mark.parametrize("a_shape,b_shape", MATMUL_SHAPES)
def test_matmul(a_shape, b_shape):
    a, b = rand(*a_shape, seed=1), rand(*b_shape, seed=2)
    check_op(lambda x, y: F.matmul(x, y), torch.matmul, a, b)
    check_op(lambda x, y: x @ y, torch.matmul, a, b)


def test_matmul_parameter_operand():
    a, w = rand(2, 3, 4, seed=1), rand(4, 5, seed=2)
    check_op(lambda x: F.matmul(x, param("w", w)), lambda x: x @ w, a)


def test_mm_mv_dot_bmm():
    a, b, v, u = rand(3, 4, seed=1), rand(4, 5, seed=2), rand(4, seed=3), rand(4, seed=4)
    check_op(F.mm, torch.mm, a, b)
    check_op(F.mv, torch.mv, a, v)
    check_op(F.dot, torch.dot, v, u)
    p, q = rand(2, 3, 4, seed=5), rand(2, 4, 5, seed=6)
    check_op(F.bmm, torch.bmm, p, q)
    check_op(lambda x, y: x.bmm(y), torch.bmm, p, q)
    with pytest.raises(ValueError, match="bmm expects 3-D"):
        run_layers(F.bmm, a, b)


@pytest.mark.parametrize("beta,alpha", [(1, 1), (0.5, 2.0)])
def test_addmm_with_a_bias_parameter(beta, alpha):
    """GPT-2's Conv1D: ``addmm(bias, x, w)``; a plain bias is the SCALE layer's shift."""
    bias, a, w = rand(5, seed=1), rand(3, 4, seed=2), rand(4, 5, seed=3)
    network = check_op(
        lambda x: F.addmm(param("c.bias", bias), x, param("c.weight", w), beta=beta, alpha=alpha),
        lambda x: torch.addmm(bias, x, w, beta=beta, alpha=alpha),
        a,
    )
    kinds = [network.get_layer(i).type for i in range(network.num_layers)]
    assert (layers.trt.LayerType.SCALE in kinds) == (beta == 1)


@pytest.mark.parametrize("beta,alpha", [(1, 1), (0.5, 2.0), (0, 1)])
def test_addmm_baddbmm(beta, alpha):
    c, a, b = rand(3, 5, seed=1), rand(3, 4, seed=2), rand(4, 5, seed=3)
    check_op(
        lambda x, y, z: F.addmm(x, y, z, beta=beta, alpha=alpha),
        lambda x, y, z: torch.addmm(x, y, z, beta=beta, alpha=alpha),
        c,
        a,
        b,
    )
    c3, a3, b3 = rand(5, seed=4), rand(2, 3, 4, seed=5), rand(2, 4, 5, seed=6)
    check_op(
        lambda x, y, z: F.baddbmm(x, y, z, beta=beta, alpha=alpha),
        lambda x, y, z: torch.baddbmm(x, y, z, beta=beta, alpha=alpha),
        c3.expand(2, 3, 5).contiguous(),
        a3,
        b3,
    )


@pytest.mark.parametrize(
    "equation,shapes",
    [
        ("ij,jk->ik", [(3, 4), (4, 5)]),
        ("bij,bjk->bik", [(2, 3, 4), (2, 4, 5)]),
        ("bhld,bhsd->bhls", [(1, 2, 3, 4), (1, 2, 5, 4)]),
        ("ij->ji", [(3, 4)]),
        ("i,i->", [(4,), (4,)]),
    ],
)
def test_einsum(equation, shapes):
    inputs = [rand(*s, seed=i) for i, s in enumerate(shapes)]
    check_op(lambda *h: F.einsum(equation, *h), lambda *t: torch.einsum(equation, *t), *inputs)


def test_einsum_list_form_and_ellipsis_error():
    a, b = rand(3, 4, seed=1), rand(4, 5, seed=2)
    check_op(
        lambda x, y: F.einsum("ij,jk->ik", [x, y]),
        lambda x, y: torch.einsum("ij,jk->ik", x, y),
        a,
        b,
    )
    with pytest.raises(NotImplementedError, match="ellipsis"):
        run_layers(lambda x: F.einsum("...ij->...ji", x), a)


def test_einsum_with_uppercase_subscripts_and_spaces():
    a, b = rand(2, 3, 4, 5), rand(2, 3, 6, 5, seed=1)
    check_op(
        lambda x, y: F.einsum("B G I D, B G J D -> B G I J", x, y),
        lambda x, y: torch.einsum("B G I D, B G J D -> B G I J", x, y),
        a,
        b,
    )


@pytest.mark.parametrize("lead, bias", [((4,), True), ((2, 3), False)])
def test_bilinear(lead, bias):
    x1, x2 = rand(*lead, 5, seed=1), rand(*lead, 6, seed=2)
    weight, b = rand(3, 5, 6, seed=3), rand(3, seed=4) if bias else None
    check_op(
        lambda a, c, w, *bb: F.bilinear(a, c, w, *bb),
        lambda a, c, w, *bb: TF.bilinear(a, c, w, *bb),
        x1,
        x2,
        weight,
        *([b] if bias else []),
    )
