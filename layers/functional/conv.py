"""Convolutions: conv1d/2d/3d and conv_transpose1d/2d/3d with torch semantics; unfold (im2col).

Parameters become ``trt.Weights`` named by their state_dict key (readable network, no CONSTANT
layer, refit by key); Tensor weights are wired as layer inputs. TensorRT convolves 2 or 3
spatial dims only, so 1d ops run as 2d on a trailing unit dim.
"""

import numpy as np

from .. import dtypes
from ..backend import trt
from ..module import Parameter
from ..network import as_weights, param_source
from ._common import gather_layer, network, ntuple, output
from .batch_norm_fold import remember_convolution
from ._params import name_weights, per_channel, weights_of
from ._spatial import spatial_layout, widen_1d
from .elementwise import add
from .pad import pad
from .shape import Dim, reshape_to, unsqueeze

__all__ = [
    "conv1d",
    "conv2d",
    "conv3d",
    "conv_transpose1d",
    "conv_transpose2d",
    "conv_transpose3d",
    "unfold",
]


# --------------------------------------------------------------------------- weights
def _kernel(weight, dtype, nd):
    """Kernel as Weights or Tensor; a 1d kernel (O, I, k) gets the unit width (O, I, k, 1)."""
    if nd != 1:
        return weights_of(weight, dtype)
    if isinstance(weight, Parameter) and dtypes.bfloat16 not in (weight.dtype, dtype):
        return (
            as_weights(
                weight.numpy().astype(dtypes.to_numpy(dtype), copy=False)[..., None],
                param_source(weight.name),
            ),
            None,
        )
    _, tensor = weights_of(weight, dtype)
    return None, unsqueeze(tensor, -1)


# --------------------------------------------------------------------------- padding
def same_padding(kernel, dilation):
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
            return same_padding(kernel, dilation)
        raise ValueError(f"padding must be an int, a tuple, 'same' or 'valid', got {padding!r}")
    padding = ntuple(padding, nd, "padding")
    return padding, padding


# --------------------------------------------------------------------------- convolution
def _conv_layer(add_layer, x, outputs, weight, bias, nd, op, **geometry):
    """One CONVOLUTION / DECONVOLUTION layer (``add_layer``); weights as Weights or inputs.

    ``geometry``: kernel, stride, pre, post, dilation, groups."""
    kernel, stride, pre, post, dilation, groups = (
        geometry[k] for k in ("kernel", "stride", "pre", "post", "dilation", "groups")
    )
    kernel_w, kernel_t = _kernel(weight, x.dtype, nd)
    bias_w, bias_t = weights_of(bias, x.dtype) if bias is not None else (None, None)
    layer = add_layer(
        x.trt,
        outputs,
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
    result = output(layer, op)
    build_time = kernel_w is not None and (bias is None or bias_w is not None)
    if op == "conv" and build_time:  # a convolution, not a transposed one

        def rebuild():  # an unfolded copy, should a batch norm fold into this layer
            return _conv_layer(add_layer, x, outputs, weight, bias, nd, op, **geometry).trt

        remember_convolution(layer, result, weight, bias, rebuild)
    return result


def _convolution(input, weight, bias, stride, padding, dilation, groups, nd):
    """Core of conv1d/2d/3d: ``nd`` is the torch spatial rank; 1d runs as 2d."""
    shape = tuple(weight.shape)
    kernel = shape[2:]
    stride = ntuple(stride, nd, "stride")
    dilation = ntuple(dilation, nd, "dilation")
    pre, post = _conv_padding(padding, kernel, stride, dilation, nd)

    def body(x):
        if x.shape[1] != -1 and x.shape[1] != shape[1] * groups:
            raise ValueError(
                f"conv{nd}d: input has {x.shape[1]} channels, weight {list(shape)} with "
                f"groups={groups} expects {shape[1] * groups}"
            )
        k, s, d, pr, po = widen_1d(nd, (kernel, stride, dilation), (pre, post))
        geometry = dict(kernel=k, stride=s, pre=pr, post=po, dilation=d, groups=groups)
        add_layer = network().add_convolution_nd
        return _conv_layer(add_layer, x, shape[0], weight, bias, nd, "conv", **geometry)

    return spatial_layout(input, nd, f"conv{nd}d", body)


def conv1d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    return _convolution(input, weight, bias, stride, padding, dilation, groups, 1)


def conv2d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    return _convolution(input, weight, bias, stride, padding, dilation, groups, 2)


def conv3d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    return _convolution(input, weight, bias, stride, padding, dilation, groups, 3)


# --------------------------------------------------------------------------- transposed convolution
def _conv_transpose(input, weight, bias, stride, padding, output_padding, groups, dilation, nd):
    if isinstance(padding, str):
        raise ValueError("conv_transpose does not take string padding (as in torch)")
    shape = tuple(weight.shape)  # (in, out / groups, *kernel)
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
    post = tuple(max(p - o, 0) for p, o in zip(padding, output_padding))
    extra = tuple(max(o - p, 0) for p, o in zip(padding, output_padding))

    def body(x):
        k, s, d, pre, po, fill = widen_1d(nd, (kernel, stride, dilation), (padding, post, extra))
        w = weight
        if any(v > 1 for v in s) and any(v > 1 for v in d):
            w, k, d = _dilate_kernel(weight, d, nd)
        fused = not any(extra)  # a filled border must still get the bias: add it after
        geometry = dict(kernel=k, stride=s, pre=pre, post=po, dilation=d, groups=groups)
        add_layer = network().add_deconvolution_nd
        outputs = shape[1] * groups
        y = _conv_layer(
            add_layer, x, outputs, w, bias if fused else None, nd, "conv_transpose", **geometry
        )
        if fused:
            return y
        y = pad(y, [p for e in reversed(fill) for p in (0, e)])  # zero fill after the end
        return y if bias is None else add(y, per_channel(bias, y.ndim))

    return spatial_layout(input, nd, f"conv_transpose{nd}d", body)


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


# --------------------------------------------------------------------------- im2col


def _window_starts(n, kernel, dilation, stride):
    """Input index of tap ``k`` of window ``w``: ``w * stride + k * dilation``, shape (w, k)."""
    count = (n - dilation * (kernel - 1) - 1) // stride + 1
    if count <= 0:
        raise ValueError(f"unfold: a kernel of {kernel} (dilation {dilation}) does not fit {n}")
    return np.arange(count)[:, None] * stride + np.arange(kernel)[None, :] * dilation


def unfold(input, kernel_size, dilation=1, padding=0, stride=1):
    """F.unfold (im2col): (N, C, H, W) → (N, C * kh * kw, L), every sliding block as a column.

    A zero-padding SLICE (if ``padding``), one GATHER per spatial dim with a constant (windows,
    taps) index, and one SHUFFLE that moves the taps next to C and merges. Gathers copy the
    values exactly, for any dtype. H and W must be static; (C, H, W) inputs work too.
    """
    x = input
    if x.ndim not in (3, 4):
        raise ValueError(f"unfold expects a 3D or 4D input, got shape {x.shape}")
    kernel = ntuple(kernel_size, 2, "unfold kernel_size")
    dilation, padding = ntuple(dilation, 2, "unfold dilation"), ntuple(padding, 2, "unfold padding")
    stride = ntuple(stride, 2, "unfold stride")
    if min(x.shape[-2:]) < 0:
        raise NotImplementedError("unfold with a dynamic height or width")
    if any(padding):
        x = pad(x, (padding[1], padding[1], padding[0], padding[0]))
    b = x.ndim - 3  # position of C
    counts = []
    for i, axis in enumerate((b + 1, b + 3)):  # H, then W (after H's taps were inserted)
        index = _window_starts(x.shape[axis], kernel[i], dilation[i], stride[i])
        counts.append(index.shape[0])
        if index.shape[1] == 1 and np.array_equal(index[:, 0], np.arange(x.shape[axis])):
            x = unsqueeze(x, axis + 1)  # every position is its own window: no gather
        else:
            x = gather_layer(x, axis, index, "unfold")
    # (.., C, oh, kh, ow, kw) → (.., C, kh, kw, oh, ow) → (.., C * kh * kw, oh * ow)
    channels = x.shape[b]
    taps = channels * kernel[0] * kernel[1] if channels >= 0 else -1
    return reshape_to(
        x,
        [Dim(x, i) for i in range(b)] + [taps, counts[0] * counts[1]],
        "unfold",
        first_permute=list(range(b)) + [b, b + 2, b + 4, b + 1, b + 3],
    )
