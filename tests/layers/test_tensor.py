"""The Tensor handle: Python operators, comparisons, subscripts and methods behave as in torch."""

import pytest

import layers
from helpers import check_op, rand

CASES = {
    "add_sub": (lambda a, b: a + b - 1.5, 2),
    "radd_rsub": (lambda a, b: 2.0 + a - (1 - b), 2),
    "mul_div": (lambda a, b: a * b / 3.0, 2),
    "rmul_rdiv": (lambda a, b: 2.0 * a + 1.0 / (b.abs() + 1), 2),
    "pow_rpow": (lambda a, b: a**2 + 2.0**b, 2),
    "neg_pos_abs": (lambda a, b: -a + (+b) + abs(a), 2),
    "floordiv_mod": (lambda a, b: a // 0.7 + b % 0.6, 2),
    "matmul": (lambda a, b: a @ b.transpose(-1, -2), 2),
    "compare": (lambda a, b: ((a > b) & (a >= 0)) | ((a < -0.5) ^ (b <= 0.1)), 2),
    "eq_ne": (lambda a, b: (a == a) & (a != b), 2),
    "invert": (lambda a, b: ~(a > b), 2),
    "subscripts": (lambda a, b: a[0, ..., 1:3] + b[-1, :, None, 1:3].squeeze(1), 2),
    "methods": (
        lambda a, b: a.view(2, -1).reshape(3, 4, 4).permute(2, 0, 1).flatten(1).contiguous(),
        2,
    ),
    "transpose_unsqueeze": (lambda a, b: a.transpose(0, 2).unsqueeze(0).squeeze(0), 2),
    "expand": (lambda a, b: a[:, :1].expand(3, 4, 4), 2),
    "sum_mean": (lambda a, b: a.sum(-1) + b.mean(dim=(0, 2)), 2),
    "cast_methods": (lambda a, b: (a > 0).float() * b.half().float(), 2),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_tensor_operators_and_methods(name):
    fn, count = CASES[name]
    inputs = [rand(3, 4, 4, seed=i) for i in range(count)]
    check_op(fn, fn, *inputs)


def test_metadata_and_size():
    builder, network = layers.create_network()
    with layers.net_guard(network):
        x = layers.add_input("x", layers.float32, (2, 3, 5))
        assert x.shape == (2, 3, 5) and x.ndim == 3 and x.dim() == 3 and x.numel() == 30
        assert x.size(1) == 3 and x.size(-1) == 5 and tuple(x.size()) == (2, 3, 5)
        assert x.dtype == layers.float32 and x.is_floating_point() and len(x) == 2
        with pytest.raises(TypeError, match="truth value"):
            bool(x > 0)
        with pytest.raises(AttributeError):
            x.no_such_method


def test_where_method_follows_torch_argument_order():
    a, b = rand(3, 4), rand(3, 4, seed=1)
    check_op(lambda x, y: x.where(x > 0, y), lambda x, y: x.where(x > 0, y), a, b)
