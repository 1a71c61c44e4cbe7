"""Activations (torch.nn.functional names and signatures).

Ops that are one TensorRT ACTIVATION layer are declared in a table (ActivationType + the fixed
alpha/beta that make TensorRT's formula equal torch's); the rest are short compositions.
``inplace`` is accepted everywhere torch has it and ignored (networks have no in-place ops).
"""

import math

from .. import dtypes
from ..backend import trt
from ..precision import fp32_island
from ._common import activation, cast, network, normalize_dim, output
from .elementwise import add, clamp, gt, maximum, mul, sub, where
from .reduce import amax, sum  # noqa: A004 - torch names
from .shape import Dim, reshape_to, slice_layer
from .unary import abs, erf, exp, log  # noqa: A004 - torch names

_A = trt.ActivationType

# TensorRT formulas (docs "Activation" operator), written with their alpha/beta:
#   CLIP          max(alpha, min(beta, x))
#   LEAKY_RELU    x >= 0 ? x : alpha * x
#   ELU           x >= 0 ? x : alpha * (exp(x) - 1)
#   SELU          beta * (x > 0 ? x : alpha * (exp(x) - 1))
#   HARD_SIGMOID  max(0, min(1, alpha * x + beta))
#   SOFTPLUS      alpha * log(exp(beta * x) + 1)
_SELU_ALPHA = 1.6732632423543772848170429916717
_SELU_SCALE = 1.0507009873554804934193349852946

# torch name → (ActivationType, alpha, beta) for ops with no arguments besides the input.
_ACTIVATIONS = {
    "sigmoid": (_A.SIGMOID, None, None),
    "tanh": (_A.TANH, None, None),
    "softsign": (_A.SOFTSIGN, None, None),
    "selu": (_A.SELU, _SELU_ALPHA, _SELU_SCALE),
    "relu6": (_A.CLIP, 0.0, 6.0),
    "hardsigmoid": (_A.HARD_SIGMOID, 1.0 / 6.0, 0.5),
    "logsigmoid": (_A.SOFTPLUS, -1.0, -1.0),  # -log(1 + exp(-x))
}

# GELU as one layer where the TensorRT version has it (both datacenter and RTX do today).
_GELU = {"none": getattr(_A, "GELU_ERF", None), "tanh": getattr(_A, "GELU_TANH", None)}


def _make(name, type, alpha, beta):
    def op(input, inplace=False):
        return activation(input, type, name, alpha, beta)

    op.__name__ = op.__qualname__ = name
    op.__doc__ = f"torch.nn.functional.{name} as one ACTIVATION {type.name} layer."
    return op


for _name, (_type, _alpha, _beta) in _ACTIVATIONS.items():
    globals()[_name] = _make(_name, _type, _alpha, _beta)


# --------------------------------------------------------------------------- one layer, with arguments


def relu(input, inplace=False):
    if not dtypes.is_floating(input.dtype):  # torch.relu keeps integer dtypes
        return maximum(input, 0)
    return activation(input, _A.RELU, "relu")


def leaky_relu(input, negative_slope=0.01, inplace=False):
    return activation(input, _A.LEAKY_RELU, "leaky_relu", alpha=negative_slope)


def elu(input, alpha=1.0, inplace=False):
    return activation(input, _A.ELU, "elu", alpha=alpha)


def hardtanh(input, min_val=-1.0, max_val=1.0, inplace=False):
    return activation(input, _A.CLIP, "hardtanh", alpha=min_val, beta=max_val)


def softplus(input, beta=1.0, threshold=20.0):
    """torch: log(1 + exp(beta * x)) / beta, and x itself where beta * x > threshold."""
    smooth = activation(input, _A.SOFTPLUS, "softplus", alpha=1.0 / beta, beta=beta)
    if math.exp(-threshold) < 1e-7:  # the linear branch differs from the curve by < 1e-7
        return smooth
    return where(gt(mul(input, beta), threshold), input, smooth)


def gelu(input, approximate="none"):
    """torch GELU: x * Phi(x) (``"none"``, erf) or the tanh approximation (``"tanh"``)."""
    if approximate not in _GELU:
        raise ValueError(f"gelu: approximate must be 'none' or 'tanh', got {approximate!r}")
    if _GELU[approximate] is not None:
        return activation(input, _GELU[approximate], "gelu")
    # TensorRT without GELU activations: the formulas, spelled out
    if approximate == "tanh":
        cube = mul(mul(input, input), input)
        inner = mul(add(input, mul(cube, 0.044715)), math.sqrt(2.0 / math.pi))
        return mul(mul(input, 0.5), add(tanh(inner), 1.0))  # noqa: F821
    return mul(mul(input, 0.5), add(erf(mul(input, math.sqrt(0.5))), 1.0))


# --------------------------------------------------------------------------- compositions


def silu(input, inplace=False):
    """x * sigmoid(x)."""
    return mul(input, sigmoid(input))  # noqa: F821


def mish(input, inplace=False):
    """x * tanh(softplus(x))."""
    return mul(input, tanh(softplus(input)))  # noqa: F821


def hardswish(input, inplace=False):
    """x * hardsigmoid(x) (= x * relu6(x + 3) / 6)."""
    return mul(input, hardsigmoid(input))  # noqa: F821


def celu(input, alpha=1.0, inplace=False):
    """alpha * elu(x / alpha)."""
    if alpha == 1.0:
        return elu(input)
    return mul(elu(mul(input, 1.0 / alpha)), alpha)


def threshold(input, threshold, value, inplace=False):
    """x where x > threshold, else value."""
    return where(gt(input, threshold), input, value)


def hardshrink(input, lambd=0.5):
    """x where |x| > lambd, else 0."""
    return where(gt(abs(input), lambd), input, 0.0)  # noqa: F821


def softshrink(input, lambd=0.5):
    """x - lambd above lambd, x + lambd below -lambd, else 0: x - clamp(x, -lambd, lambd)."""
    return sub(input, clamp(input, -lambd, lambd))


def tanhshrink(input):
    """x - tanh(x)."""
    return sub(input, tanh(input))  # noqa: F821


def prelu(input, weight):
    """torch prelu: x >= 0 ? x : weight * x, weight per channel (dim 1) or one shared value."""
    channels = weight.shape[0] if weight.ndim else 1
    dims = [1] * input.ndim
    if input.ndim >= 2:
        dims[1] = channels
    weight = reshape_to(cast(weight, input.dtype), dims, "prelu_weight")
    return output(network().add_parametric_relu(input.trt, weight.trt), "prelu")


def glu(input, dim=-1):
    """F.glu: a * sigmoid(b), where a and b are the two halves of ``dim`` (two SLICEs, one
    SIGMOID activation, one ELEMENTWISE PROD). ``dim`` must be static and even."""
    x = input
    d = normalize_dim(dim, x.ndim)
    n = x.shape[d]
    if n < 0:
        raise NotImplementedError(f"glu: dim {d} has a dynamic size; halving it needs a static one")
    if n % 2:
        raise ValueError(f"glu: halving dimension must be even, but dimension {d} is size {n}")
    spec = [n // 2 if i == d else Dim(x, i) for i in range(x.ndim)]
    halves = [
        slice_layer(x, [n // 2 * h if i == d else 0 for i in range(x.ndim)], spec, [1] * x.ndim)
        for h in (0, 1)
    ]
    return mul(halves[0], sigmoid(halves[1]))  # noqa: F821


# --------------------------------------------------------------------------- softmax


def _softmax_dim(ndim, dim):
    if dim is None:  # torch's legacy implicit dim
        return 0 if ndim in (0, 1, 3) else 1
    return normalize_dim(dim, ndim)


@fp32_island("softmax")
def softmax(input, dim=None, _stacklevel=3, dtype=None):
    """One SOFTMAX layer over ``dim`` (the axis is always set: TensorRT's default is not torch's)."""
    if dtype is not None:
        input = cast(input, dtype)
    layer = network().add_softmax(input.trt)
    layer.axes = 1 << _softmax_dim(input.ndim, dim)
    return output(layer, "softmax")


@fp32_island("softmax")
def log_softmax(input, dim=None, _stacklevel=3, dtype=None):
    """(x - max) - log(sum(exp(x - max))): stays finite where log(softmax(x)) underflows."""
    if dtype is not None:
        input = cast(input, dtype)
    dim = _softmax_dim(input.ndim, dim)
    shifted = sub(input, amax(input, dim, keepdim=True))
    return sub(shifted, log(sum(exp(shifted), dim, keepdim=True)))


def softmin(input, dim=None, _stacklevel=3, dtype=None):
    return softmax(mul(input, -1.0) if dtype is None else mul(cast(input, dtype), -1.0), dim)


__all__ = list(_ACTIVATIONS) + [
    "relu",
    "leaky_relu",
    "elu",
    "hardtanh",
    "softplus",
    "gelu",
    "silu",
    "mish",
    "hardswish",
    "celu",
    "threshold",
    "hardshrink",
    "softshrink",
    "tanhshrink",
    "prelu",
    "glu",
    "softmax",
    "log_softmax",
    "softmin",
]
