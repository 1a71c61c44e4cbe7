"""Linear algebra: linear, matmul (torch broadcasting incl. 1-D operands), bmm, addmm, einsum."""

from .. import dtypes
from ..backend import trt
from ..module import Parameter
from ..tensor import Tensor
from ._common import align_ranks, cast, channel_scale, common_dtype, network, output, prepend_ones
from ._params import name_weights, tensor_of, weights_of, with_leading_ones
from .cast import promote_pair
from .elementwise import add, mul
from .reduce import sum as reduce_sum
from .shape import Dim, permute, reshape, reshape_to, unflatten, unsqueeze

__all__ = [
    "linear",
    "bilinear",
    "matmul",
    "mm",
    "mv",
    "dot",
    "bmm",
    "addmm",
    "baddbmm",
    "einsum",
    "outer",
    "ger",
]


def outer(input, vec2):
    """torch.outer: ``input[i] * vec2[j]`` as one SHUFFLE ((n,) to (n, 1)) and one ELEMENTWISE
    PROD, which broadcasts vec2 along the new dim."""
    if input.ndim != 1 or vec2.ndim != 1:
        raise ValueError(f"outer: expected 1-D vectors, got {input.ndim}-D and {vec2.ndim}-D")
    return mul(reshape_to(input, [Dim(input, 0), 1], "unsqueeze"), vec2)


ger = outer


_OP = trt.MatrixOperation


def matrix_multiply(a, op_a, b, op_b, op="matmul"):
    """One MATRIX_MULTIPLY named ``op``; two matrix operands get equal ranks first (leading 1s
    broadcast as batch dims). A VECTOR operand has one dim less: the caller shapes it."""
    if _OP.VECTOR not in (op_a, op_b):
        a, b = align_ranks(a, b)
    return output(network().add_matrix_multiply(a.trt, op_a, b.trt, op_b), op)


def linear(input, weight, bias=None):
    """``input @ weight.T + bias``: one MATRIX_MULTIPLY (weight transposed in place) and the bias
    (``add_bias``)."""
    if input.ndim == 1:  # (in,) → (out,): weight times a vector
        w = with_leading_ones(weight, 2)
        y = matrix_multiply(w, _OP.NONE, input, _OP.VECTOR, "linear")
    else:
        w = with_leading_ones(weight, input.ndim)
        y = matrix_multiply(input, _OP.NONE, w, _OP.TRANSPOSE, "linear")
    if bias is not None:
        y = add_bias(y, bias)
    return y


def bilinear(input1, input2, weight, bias=None):
    """``y[..., o] = input1 @ weight[o] @ input2 + bias[o]``: input1 times the (in1, out * in2)
    matrix of the weight, one MATRIX_MULTIPLY, then a product with input2 summed over in2."""

    out, in1, in2 = weight.shape
    w = reshape(permute(tensor_of(weight), 1, 0, 2), in1, out * in2)
    y = matrix_multiply(input1, _OP.NONE, with_leading_ones(w, input1.ndim), _OP.NONE, "bilinear")
    y = reduce_sum(mul(unflatten(y, -1, (out, in2)), unsqueeze(input2, -2)), -1)
    return add_bias(y, bias) if bias is not None else y


def add_bias(y, bias):
    """``y + bias`` over the last dim. A state_dict bias is the shift of one SCALE layer, its
    values inside the layer as a convolution's bias is (no CONSTANT + ELEMENTWISE pair, refit
    by key); a Tensor or bfloat16 bias, or an output with no last-dim channels, is an add."""
    if _shiftable(y, bias):
        shift, _ = weights_of(bias, y.dtype)
        if shift is not None:
            y = channel_scale(y, y.ndim - 1, "bias", shift=shift)
            name_weights(shift, bias)  # TensorRT names only weights a layer already holds
            return y
    return add(y, with_leading_ones(bias, y.ndim))


def _shiftable(y, bias):
    return (
        isinstance(bias, Parameter)
        and y.ndim >= 2
        and y.dtype in (dtypes.float32, dtypes.float16)
        and tuple(bias.shape) == (y.shape[-1],)
    )


def matmul(input, other):
    """torch.matmul: 1-D operands are vectors (MatrixOperation.VECTOR), batch dims broadcast."""
    a, b = promote_pair(tensor_of(input), tensor_of(other))
    if a.ndim == 0 or b.ndim == 0:
        raise ValueError("matmul: both arguments need at least 1 dimension (as in torch)")
    if a.ndim == 1 and b.ndim == 1:
        return matrix_multiply(a, _OP.VECTOR, b, _OP.VECTOR)
    if a.ndim == 1:  # a vector has one dim less than the matrix it meets
        return matrix_multiply(prepend_ones(a, b.ndim - 1), _OP.VECTOR, b, _OP.NONE)
    if b.ndim == 1:
        return matrix_multiply(a, _OP.NONE, prepend_ones(b, a.ndim - 1), _OP.VECTOR)
    return matrix_multiply(a, _OP.NONE, b, _OP.NONE)


def _expect_rank(name, tensors, rank):
    for t in tensors:
        if len(t.shape) != rank:
            raise ValueError(f"{name} expects {rank}-D tensors, got shape {t.shape}")


def mm(input, mat2):
    _expect_rank("mm", (input, mat2), 2)
    return matmul(input, mat2)


def mv(input, vec):
    _expect_rank("mv", (input,), 2)
    _expect_rank("mv", (vec,), 1)
    return matmul(input, vec)


def dot(input, other):
    _expect_rank("dot", (input, other), 1)
    return matmul(input, other)


def bmm(input, mat2):
    _expect_rank("bmm", (input, mat2), 3)
    return matmul(input, mat2)


def _scaled_sum(input, product, beta, alpha):
    """``beta * input + alpha * product``, skipping multiplications by 1."""
    if alpha != 1:
        product = mul(product, alpha)
    if beta == 0:  # torch ignores input (even NaN/inf) when beta is 0
        return product
    if beta == 1 and _shiftable(product, input):  # a bias, as in linear (GPT-2's Conv1D)
        return add_bias(product, input)
    if beta != 1:
        input = mul(input, beta)
    return add(input, product)


def addmm(input, mat1, mat2, *, beta=1, alpha=1):
    return _scaled_sum(input, mm(mat1, mat2), beta, alpha)


def baddbmm(input, batch1, batch2, *, beta=1, alpha=1):
    return _scaled_sum(input, bmm(batch1, batch2), beta, alpha)


def einsum(equation, *operands):
    """torch.einsum as one EINSUM layer (TensorRT: no '...' and no broadcasting)."""
    if len(operands) == 1 and isinstance(operands[0], (list, tuple)):
        operands = tuple(operands[0])
    if "..." in equation:
        raise NotImplementedError(f"einsum {equation!r}: TensorRT's Einsum has no ellipsis ('...')")
    operands = [tensor_of(o) for o in operands]
    if not all(isinstance(o, Tensor) for o in operands):
        raise TypeError("einsum operands must be network Tensors or Parameters")
    dtype = common_dtype(operands)
    operands = [cast(o, dtype) for o in operands]
    layer = network().add_einsum([o.trt for o in operands], _lowercase_equation(equation))
    return output(layer, "einsum")


def _lowercase_equation(equation):
    """TensorRT takes lowercase subscripts only; torch allows uppercase too (``"BGHID,..."``)."""
    equation = equation.replace(" ", "")
    free = iter(c for c in "abcdefghijklmnopqrstuvwxyz" if c not in equation)
    mapping = {c: next(free) for c in dict.fromkeys(equation) if c.isupper()}
    return "".join(mapping.get(c, c) for c in equation)
