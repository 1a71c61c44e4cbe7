"""Convolutions: conv1d/2d/3d and conv_transpose1d/2d/3d with torch semantics.

Parameters become ``trt.Weights`` named by their state_dict key (readable network, no CONSTANT
layer, refit by key); Tensor weights are wired as layer inputs. TensorRT convolves 2 or 3
spatial dims only, so 1d ops run as 2d on a trailing unit dim.
"""

import numpy as np

from .. import dtypes
from ..backend import trt
from ..module import Parameter
from ..network import as_weights
from ._common import network, output
from .constant import constant
from .elementwise import add

__all__ = [
    "conv1d",
    "conv2d",
    "conv3d",
    "conv_transpose1d",
    "conv_transpose2d",
    "conv_transpose3d",
]


# --------------------------------------------------------------------------- small helpers
def ntuple(value, n, what):
    """``3`` → ``(3, 3)``; tuples pass through after a length check."""
    if isinstance(value, int):
        return (value,) * n
    value = tuple(int(v) for v in value)
    if len(value) == 1:
        return value * n
    if len(value) != n:
        raise ValueError(f"{what} needs {n} values, got {list(value)}")
    return value


def reshape(x, dims, op="reshape"):
    """One SHUFFLE to ``dims``: ints, with at most one -1 for a dim unknown until run time."""
    dims = tuple(int(d) for d in dims)
    if dims.count(-1) > 1:
        raise NotImplementedError(
            f"reshaping {x.shape} to {list(dims)} needs more than one run-time dim; "
            "give the input static dims"
        )
    layer = network().add_shuffle(x.trt)
    layer.reshape_dims = dims
    return output(layer, op)


def lift_1d(x):
    """(N, C, L) → (N, C, L, 1): 0s copy the input dims, so dynamic N / L need no SHAPE layer."""
    layer = network().add_shuffle(x.trt)
    layer.reshape_dims = (0, 0, 0, 1)
    return output(layer, "unsqueeze")


def lower_1d(x):
    """(N, C, L, 1) → (N, C, L)."""
    layer = network().add_shuffle(x.trt)
    layer.reshape_dims = (0, 0, 0)
    return output(layer, "squeeze")


def add_batch(x, op="unsqueeze"):
    """Unbatched (C, *spatial) → (1, C, *spatial)."""
    return reshape(x, (1,) + x.shape, op)


def drop_batch(x, op="squeeze"):
    return reshape(x, x.shape[1:], op)


def weights_of(value, dtype):
    """``(trt.Weights, None)`` for a Parameter with a build-time value, else ``(None, Tensor)``.

    bfloat16 has no numpy type, so such parameters go through a (cast) constant tensor.
    """
    if isinstance(value, Parameter):
        if value.dtype == dtypes.bfloat16 or dtype == dtypes.bfloat16:
            return None, value.tensor()
        array = value.numpy().astype(dtypes.to_numpy(dtype), copy=False)
        return as_weights(array), None
    return None, value


def name_weights(weights, param):
    """Tag ``weights`` with the state_dict key so a refitter can find them by key."""
    if weights is not None and isinstance(param, Parameter) and param.name:
        network().set_weights_name(weights, param.name)


def weight_shape(weight):
    return tuple(weight.shape)


def _kernel(weight, dtype, nd):
    """Kernel as Weights or Tensor; a 1d kernel (O, I, k) gets the unit width (O, I, k, 1)."""
    if nd != 1:
        return weights_of(weight, dtype)
    if isinstance(weight, Parameter) and dtypes.bfloat16 not in (weight.dtype, dtype):
        return (
            as_weights(weight.numpy().astype(dtypes.to_numpy(dtype), copy=False)[..., None]),
            None,
        )
    _, tensor = weights_of(weight, dtype)
    return None, reshape(tensor, tuple(tensor.shape) + (1,), "unsqueeze")


# --------------------------------------------------------------------------- padding
def _same_padding(kernel, dilation):
    """torch's 'same': total = d * (k - 1), the odd element goes after."""
    pre, post = [], []
    for k, d in zip(kernel, dilation):
        total = d * (k - 1)
        pre.append(total // 2)
        post.append(total - total // 2)
    return tuple(pre), tuple(post)


def _conv_padding(padding, kernel, stride, dilation, nd):
    if isinstance(padding, str):
        if padding == "valid":
            return (0,) * nd, (0,) * nd
        if padding == "same":
            if any(s != 1 for s in stride):
                raise ValueError(
                    "padding='same' is not supported for strided convolutions (as in torch)"
                )
            return _same_padding(kernel, dilation)
        raise ValueError(f"padding must be an int, a tuple, 'same' or 'valid', got {padding!r}")
    padding = ntuple(padding, nd, "padding")
    return padding, padding


# --------------------------------------------------------------------------- convolution
def _convolution(input, weight, bias, stride, padding, dilation, groups, nd):
    """Core of conv1d/2d/3d: ``nd`` is the torch spatial rank; 1d runs as 2d."""
    if input.ndim not in (nd + 1, nd + 2):
        raise ValueError(
            f"conv{nd}d expects a {nd + 1}D or {nd + 2}D input, got shape {input.shape}"
        )
    unbatched = input.ndim == nd + 1
    x = add_batch(input) if unbatched else input
    shape = weight_shape(weight)
    kernel = shape[2:]
    stride = ntuple(stride, nd, "stride")
    dilation = ntuple(dilation, nd, "dilation")
    pre, post = _conv_padding(padding, kernel, stride, dilation, nd)
    if x.shape[1] != -1 and x.shape[1] != shape[1] * groups:
        raise ValueError(
            f"conv{nd}d: input has {x.shape[1]} channels, weight {list(shape)} with "
            f"groups={groups} expects {shape[1] * groups}"
        )
    if nd == 1:  # TensorRT convolves 2 or 3 spatial dims: add a unit width
        x = lift_1d(x)
        kernel, stride, dilation, pre, post = (
            kernel + (1,),
            stride + (1,),
            dilation + (1,),
            pre + (0,),
            post + (0,),
        )
    kernel_w, kernel_t = _kernel(weight, x.dtype, nd)
    bias_w, bias_t = weights_of(bias, x.dtype) if bias is not None else (None, None)

    layer = network().add_convolution_nd(
        x.trt,
        shape[0],
        kernel,
        kernel_w if kernel_w is not None else trt.Weights(x.dtype),
        bias_w if bias_w is not None else trt.Weights(x.dtype),
    )
    layer.stride_nd = stride
    layer.pre_padding = pre
    layer.post_padding = post
    layer.dilation_nd = dilation
    layer.num_groups = groups
    if kernel_t is not None:
        layer.set_input(1, kernel_t.trt)
    if bias_t is not None:
        layer.set_input(2, bias_t.trt)
    name_weights(kernel_w, weight)
    name_weights(bias_w, bias)
    y = output(layer, "conv")
    if nd == 1:
        y = lower_1d(y)
    return drop_batch(y) if unbatched else y


def conv1d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    return _convolution(input, weight, bias, stride, padding, dilation, groups, 1)


def conv2d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    return _convolution(input, weight, bias, stride, padding, dilation, groups, 2)


def conv3d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    return _convolution(input, weight, bias, stride, padding, dilation, groups, 3)


# --------------------------------------------------------------------------- transposed convolution
def _fill_after(x, extra, op):
    """Zero-extend the trailing ``len(extra)`` dims of ``x`` by ``extra`` (a FILL-mode slice)."""
    rank = x.ndim
    lead = rank - len(extra)
    if any(d == -1 for d in x.shape[lead:]):
        raise NotImplementedError("output_padding > padding needs static spatial dims")
    shape = tuple(x.shape[:lead]) + tuple(d + e for d, e in zip(x.shape[lead:], extra))
    if any(d == -1 for d in shape):
        raise NotImplementedError("output_padding > padding needs a static batch dim")
    layer = network().add_slice(x.trt, (0,) * rank, shape, (1,) * rank)
    layer.mode = trt.SampleMode.FILL  # out-of-bounds reads give 0
    return output(layer, "pad")


def _add_channel_bias(y, bias):
    """``y + bias`` with bias (C,) broadcast over (N, C, *spatial)."""
    shape = (1, bias.shape[0]) + (1,) * (y.ndim - 2)
    if isinstance(bias, Parameter):
        b = constant(bias.numpy().reshape(shape), name=bias.name, dtype=bias.dtype)
    else:
        b = reshape(bias, shape, "unsqueeze")
    return add(y, b)


def _conv_transpose(input, weight, bias, stride, padding, output_padding, groups, dilation, nd):
    if input.ndim not in (nd + 1, nd + 2):
        raise ValueError(
            f"conv_transpose{nd}d expects a {nd + 1}D or {nd + 2}D input, got shape {input.shape}"
        )
    if isinstance(padding, str):
        raise ValueError("conv_transpose does not take string padding (as in torch)")
    unbatched = input.ndim == nd + 1
    x = add_batch(input) if unbatched else input
    shape = weight_shape(weight)  # (in, out / groups, *kernel)
    kernel = shape[2:]
    stride = ntuple(stride, nd, "stride")
    padding = ntuple(padding, nd, "padding")
    output_padding = ntuple(output_padding, nd, "output_padding")
    dilation = ntuple(dilation, nd, "dilation")
    for op_, s, d in zip(output_padding, stride, dilation):
        if op_ >= max(s, d):
            raise ValueError(
                "output_padding must be smaller than either stride or dilation (as in torch)"
            )
    # torch: O = (I-1)S - 2p + D(k-1) + op + 1; TensorRT: O = (I-1)S + D(k-1) + 1 - (pre + post).
    # So pre = p, post = p - op; post cannot go negative, the rest is zero fill after the layer.
    pre = padding
    post = tuple(max(p - o, 0) for p, o in zip(padding, output_padding))
    extra = tuple(max(o - p, 0) for p, o in zip(padding, output_padding))
    if nd == 1:
        x = lift_1d(x)
        kernel, stride, dilation, pre, post = (
            kernel + (1,),
            stride + (1,),
            dilation + (1,),
            pre + (0,),
            post + (0,),
        )
        extra = extra + (0,)
    if any(s > 1 for s in stride) and any(d > 1 for d in dilation):
        weight, kernel, dilation = _dilate_kernel(weight, dilation, nd)
    kernel_w, kernel_t = _kernel(weight, x.dtype, nd)
    fused_bias = bias is not None and not any(extra)  # filled border must still get the bias
    bias_w, bias_t = weights_of(bias, x.dtype) if fused_bias else (None, None)

    layer = network().add_deconvolution_nd(
        x.trt,
        shape[1] * groups,
        kernel,
        kernel_w if kernel_w is not None else trt.Weights(x.dtype),
        bias_w if bias_w is not None else trt.Weights(x.dtype),
    )
    layer.stride_nd = stride
    layer.pre_padding = pre
    layer.post_padding = post
    layer.dilation_nd = dilation
    layer.num_groups = groups
    if kernel_t is not None:
        layer.set_input(1, kernel_t.trt)
    if bias_t is not None:
        layer.set_input(2, bias_t.trt)
    name_weights(kernel_w, weight)
    name_weights(bias_w, bias)
    y = output(layer, "conv_transpose")
    if any(extra):
        y = _fill_after(y, extra, "pad")
        if bias is not None:
            y = _add_channel_bias(y, bias)
    if nd == 1:
        y = lower_1d(y)
    return drop_batch(y) if unbatched else y


def _dilate_kernel(weight, dilation, nd):
    """TensorRT(-RTX) rejects deconvolutions that are strided *and* dilated: spread the kernel
    taps out with zeros at build time instead, then run with dilation 1."""
    if not isinstance(weight, Parameter) or weight.dtype == dtypes.bfloat16:
        raise NotImplementedError(
            "conv_transpose with both stride > 1 and dilation > 1 needs a build-time float "
            "weight (a Parameter): TensorRT does not support strided and dilated deconvolution"
        )
    array = weight.numpy()
    dilation = dilation[:nd]  # a 1d op already carries the unit width
    dilated = np.zeros(
        array.shape[:2] + tuple(d * (k - 1) + 1 for k, d in zip(array.shape[2:], dilation)),
        dtype=array.dtype,
    )
    dilated[(Ellipsis,) + tuple(slice(None, None, d) for d in dilation)] = array
    spread = Parameter(dilated.shape, weight.dtype)  # unnamed: not a state_dict tensor
    spread.value = dilated
    kernel = dilated.shape[2:] + ((1,) if nd == 1 else ())
    return spread, kernel, (1,) * len(kernel)


def conv_transpose1d(
    input, weight, bias=None, stride=1, padding=0, output_padding=0, groups=1, dilation=1
):
    return _conv_transpose(
        input, weight, bias, stride, padding, output_padding, groups, dilation, 1
    )


def conv_transpose2d(
    input, weight, bias=None, stride=1, padding=0, output_padding=0, groups=1, dilation=1
):
    return _conv_transpose(
        input, weight, bias, stride, padding, output_padding, groups, dilation, 2
    )


def conv_transpose3d(
    input, weight, bias=None, stride=1, padding=0, output_padding=0, groups=1, dilation=1
):
    return _conv_transpose(
        input, weight, bias, stride, padding, output_padding, groups, dilation, 3
    )
