"""Pooling: max/avg pool 1d/2d/3d and adaptive pools with torch's output sizes and divisors.

TensorRT pools 2 or 3 spatial dims (1d runs as 2d on a unit width). ``ceil_mode`` is expressed
as extra post-padding with round-down, which reproduces torch's rule that the last window must
start inside the input; adaptive pools use one POOLING layer when the sizes divide, REDUCE for
global pooling, and exact constant matrices (avg) or per-window reductions (max) otherwise.
"""

import numpy as np

from ..backend import trt
from ..dtypes import to_numpy
from ._common import concat_layer, constant, network, ntuple, output, reduce
from ._spatial import check_rank, spatial_layout, widen_1d
from .elementwise import maximum, mul
from .indexing import narrow
from .linear import matrix_multiply
from .pad import pad
from .shape import permute_to, slice_layer

__all__ = [
    "max_pool1d",
    "max_pool2d",
    "max_pool3d",
    "avg_pool1d",
    "avg_pool2d",
    "avg_pool3d",
    "adaptive_avg_pool1d",
    "adaptive_avg_pool2d",
    "adaptive_avg_pool3d",
    "adaptive_max_pool1d",
    "adaptive_max_pool2d",
    "adaptive_max_pool3d",
]

_POOL = trt.PoolingType


# --------------------------------------------------------------------------- shape rules
def _torch_out(size, k, s, p, d, ceil_mode):
    """torch's pooling_output_shape for one dim."""
    span = size + 2 * p - d * (k - 1) - 1
    out = (-(-span // s) if ceil_mode else span // s) + 1
    if ceil_mode and (out - 1) * s >= size + p:  # last window must start inside input or left pad
        out -= 1
    return out


def _ceil_extra(sizes, kernel, stride, padding, ceil_mode):
    """Extra post-padding per dim so that round-down gives torch's (ceil) output size."""
    if not ceil_mode:
        return (0,) * len(sizes)
    extra = []
    for size, k, s, p in zip(sizes, kernel, stride, padding):
        out = _torch_out(size, k, s, p, 1, True)
        extra.append(max(0, (out - 1) * s + k - (size + 2 * p)))
    return tuple(extra)


def _zero_pad(x, padding):
    """Zero-pad the trailing spatial dims on both sides (F.pad: one FILL-mode SLICE)."""
    return pad(x, [p for p in reversed(padding) for _ in range(2)])


# --------------------------------------------------------------------------- one pooling layer
def _pooling(x, kind, kernel, stride, pre, post, exclude_padding=True, round_up=False, op="pool"):
    layer = network().add_pooling_nd(x.trt, kind, kernel)
    layer.stride_nd = stride
    layer.pre_padding = pre
    layer.post_padding = post
    if round_up:
        layer.padding_mode = trt.PaddingMode.EXPLICIT_ROUND_UP
    if kind == _POOL.AVERAGE:
        layer.average_count_excludes_padding = exclude_padding
    return output(layer, op)


def _window(kernel_size, stride, padding, nd):
    """(kernel, stride, padding) per spatial dim; stride defaults to the kernel, as in torch."""
    kernel = ntuple(kernel_size, nd, "kernel_size")
    stride = ntuple(stride if stride not in (None, ()) else kernel, nd, "stride")
    padding = ntuple(padding, nd, "padding")
    for k, p in zip(kernel, padding):
        if p > k // 2:
            raise ValueError(
                f"pad should be at most half of effective kernel size, got pad={p} and kernel={k}"
            )
    return kernel, stride, padding


def _max_pool(input, kernel_size, stride, padding, dilation, ceil_mode, return_indices, nd):
    name = f"max_pool{nd}d"
    _no_indices(name, return_indices)
    dilation = ntuple(dilation, nd, "dilation")
    if any(d != 1 for d in dilation):
        return _dilated_max_pool(input, kernel_size, stride, padding, dilation, ceil_mode, nd)
    kernel, stride, padding = _window(kernel_size, stride, padding, nd)

    def body(x):
        k, s, p = widen_1d(nd, (kernel, stride), (padding,))
        sizes = x.shape[2:]
        if -1 in sizes:  # run-time sizes: round up (torch's last-window rule cannot be checked)
            return _pooling(x, _POOL.MAX, k, s, p, p, round_up=ceil_mode, op="max_pool")
        extra = _ceil_extra(sizes, k, s, p, ceil_mode)
        post = tuple(a + e for a, e in zip(p, extra))
        return _pooling(x, _POOL.MAX, k, s, p, post, op="max_pool")

    return spatial_layout(input, nd, name, body)


def _dilated_max_pool(input, kernel_size, stride, padding, dilation, ceil_mode, nd):
    """TensorRT pooling has no dilation: the elementwise max of the window's k**nd taps, each one
    strided SLICE of the input padded with -inf (static spatial dims)."""
    name = f"max_pool{nd}d"
    kernel, stride, padding = _window(kernel_size, stride, padding, nd)
    sizes = input.shape[2:]
    if -1 in sizes:
        raise NotImplementedError(f"{name}(dilation={list(dilation)}) needs static spatial dims")
    outs = [
        _torch_out(n, k, s, p, d, ceil_mode)
        for n, k, s, p, d in zip(sizes, kernel, stride, padding, dilation)
    ]
    # after the left padding, the last tap of the last window must be inside
    post = [
        max(p, (o - 1) * s + d * (k - 1) + 1 - n - p)
        for n, k, s, p, d, o in zip(sizes, kernel, stride, padding, dilation, outs)
    ]
    x = pad(
        input,
        [a for pre, after in zip(reversed(padding), reversed(post)) for a in (pre, after)],
        value=float("-inf"),
    )
    lead = list(x.shape[:2])
    result = None
    for taps in np.ndindex(*kernel):
        start = [0, 0] + [t * d for t, d in zip(taps, dilation)]
        tap = slice_layer(x, start, lead + outs, [1, 1] + list(stride), op="max_pool_tap")
        result = tap if result is None else maximum(result, tap)
    return result


def _avg_pool(
    input, kernel_size, stride, padding, ceil_mode, count_include_pad, divisor_override, nd
):
    name = f"avg_pool{nd}d"
    kernel, stride, padding = _window(kernel_size, stride, padding, nd)

    def body(x):
        k, s, p = widen_1d(nd, (kernel, stride), (padding,))
        sizes = x.shape[2:]
        if -1 in sizes:
            if divisor_override:
                raise NotImplementedError(f"{name}(divisor_override=...) needs static spatial dims")
            return _pooling(
                x, _POOL.AVERAGE, k, s, p, p, not count_include_pad, ceil_mode, "avg_pool"
            )
        extra = _ceil_extra(sizes, k, s, p, ceil_mode)
        padded = any(p)
        if divisor_override:
            # torch divides the window sum by the override: sum = average over the full window
            if any(extra):
                raise NotImplementedError(f"{name}: divisor_override with a ceil_mode overhang")
            if padded:
                x = _zero_pad(x, p)
            y = _pooling(x, _POOL.AVERAGE, k, s, (0,) * len(k), (0,) * len(k), False, op="avg_pool")
            return mul(y, float(np.prod(k)) / float(divisor_override))
        if count_include_pad and padded and any(extra):
            # torch counts the zero padding but not the ceil overhang: pad explicitly, then
            # let the pooling layer exclude only the overhang
            x = _zero_pad(x, p)
            zeros = (0,) * len(k)
            return _pooling(x, _POOL.AVERAGE, k, s, zeros, extra, True, op="avg_pool")
        post = tuple(a + e for a, e in zip(p, extra))
        # without explicit padding only the ceil overhang is padding, which torch never counts
        exclude = not count_include_pad or not padded
        return _pooling(x, _POOL.AVERAGE, k, s, p, post, exclude, op="avg_pool")

    return spatial_layout(input, nd, name, body)


def max_pool1d(
    input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False, return_indices=False
):
    return _max_pool(input, kernel_size, stride, padding, dilation, ceil_mode, return_indices, 1)


def max_pool2d(
    input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False, return_indices=False
):
    return _max_pool(input, kernel_size, stride, padding, dilation, ceil_mode, return_indices, 2)


def max_pool3d(
    input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False, return_indices=False
):
    return _max_pool(input, kernel_size, stride, padding, dilation, ceil_mode, return_indices, 3)


def avg_pool1d(input, kernel_size, stride=None, padding=0, ceil_mode=False, count_include_pad=True):
    return _avg_pool(input, kernel_size, stride, padding, ceil_mode, count_include_pad, None, 1)


def _avg_pool_nd(nd):
    """avg_pool2d / avg_pool3d: torch's signature (with divisor_override), ``nd`` bound."""

    def avg_pool(
        input,
        kernel_size,
        stride=None,
        padding=0,
        ceil_mode=False,
        count_include_pad=True,
        divisor_override=None,
    ):
        return _avg_pool(
            input, kernel_size, stride, padding, ceil_mode, count_include_pad, divisor_override, nd
        )

    avg_pool.__name__ = avg_pool.__qualname__ = f"avg_pool{nd}d"
    return avg_pool


avg_pool2d = _avg_pool_nd(2)
avg_pool3d = _avg_pool_nd(3)


# --------------------------------------------------------------------------- adaptive pooling
def _adaptive_sizes(input, output_size, nd, name):
    check_rank(input, nd, name)
    sizes = tuple(input.shape[-nd:])
    if isinstance(output_size, int) or output_size is None:
        output_size = (output_size,) * nd
    output_size = tuple(output_size)
    if len(output_size) == 1 and nd > 1:
        output_size = output_size * nd
    if len(output_size) != nd:
        raise ValueError(f"{name}: output_size needs {nd} values, got {list(output_size)}")
    return sizes, tuple(s if o is None else int(o) for s, o in zip(sizes, output_size))


def _windows(size, out):
    """torch's adaptive windows: [floor(i*I/O), ceil((i+1)*I/O))."""
    return [((i * size) // out, -(-((i + 1) * size) // out)) for i in range(out)]


def _average_matrix(size, out):
    matrix = np.zeros((size, out), dtype=np.float64)
    for j, (start, end) in enumerate(_windows(size, out)):
        matrix[start:end, j] = 1.0 / (end - start)
    return matrix


def _adaptive_avg_by_matmul(x, sizes, outs):
    """Exact adaptive average: contract each resized dim with its averaging matrix.

    The last dim is multiplied from the right (x @ M), the one before from the left
    (M.T @ x); a third (depth) dim is swapped to the end and back.
    """
    nd = len(sizes)
    none = trt.MatrixOperation.NONE
    for axis in reversed(range(nd)):
        size, out = sizes[axis], outs[axis]
        if size == out:
            continue
        dim = x.ndim - nd + axis
        matrix = _average_matrix(size, out).astype(to_numpy(x.dtype))
        lead = (1,) * (x.ndim - 2)
        if dim == x.ndim - 2:
            m = constant(matrix.T.reshape(lead + matrix.T.shape))
            x = matrix_multiply(m, none, x, none, "adaptive_avg_pool")
            continue
        swap = dim != x.ndim - 1
        if swap:
            x = _swap_last(x, dim)
        m = constant(matrix.reshape(lead + matrix.shape))
        x = matrix_multiply(x, none, m, none, "adaptive_avg_pool")
        if swap:
            x = _swap_last(x, dim)
    return x


def _swap_last(x, dim):
    perm = list(range(x.ndim))
    perm[dim], perm[-1] = perm[-1], perm[dim]
    return permute_to(x, perm, "transpose")


def _adaptive_max_by_windows(x, sizes, outs):
    """Exact adaptive max: per output index, MAX over its window; CONCAT per resized dim."""
    nd = len(sizes)
    for axis in range(nd):
        size, out = sizes[axis], outs[axis]
        if size == out:
            continue
        dim = x.ndim - nd + axis
        pieces = [
            reduce(narrow(x, dim, start, end - start), trt.ReduceOperation.MAX, dim, True, "max")
            for start, end in _windows(size, out)
        ]
        x = concat_layer(pieces, dim, "adaptive_max_pool")
    return x


def _adaptive(input, output_size, nd, kind):
    name = f"adaptive_{'avg' if kind == _POOL.AVERAGE else 'max'}_pool{nd}d"
    sizes, outs = _adaptive_sizes(input, output_size, nd, name)
    reduce_op = trt.ReduceOperation.AVG if kind == _POOL.AVERAGE else trt.ReduceOperation.MAX
    if sizes == outs:
        return input
    if all(o == 1 for o in outs):  # global pooling: one REDUCE, dynamic sizes welcome
        spatial = range(input.ndim - nd, input.ndim)
        return reduce(input, reduce_op, tuple(spatial), True, name)
    if -1 in sizes or (input.ndim == nd + 2 and input.shape[1] == -1):
        raise NotImplementedError(
            f"{name} to {list(outs)} needs static spatial dims, got {input.shape}"
        )
    if all(s % o == 0 for s, o in zip(sizes, outs)):  # uniform windows: one POOLING layer
        kernel = tuple(s // o for s, o in zip(sizes, outs))
        zeros = (0,) * nd

        def body(x):
            k, z = widen_1d(nd, (kernel,), (zeros,))
            return _pooling(x, kind, k, k, z, z, op=name)

        return spatial_layout(input, nd, name, body)
    if kind == _POOL.AVERAGE:
        return _adaptive_avg_by_matmul(input, sizes, outs)
    return _adaptive_max_by_windows(input, sizes, outs)


def _no_indices(name, return_indices):
    if return_indices:
        raise NotImplementedError(
            f"{name}(return_indices=True): TensorRT pooling has no indices output"
        )


def adaptive_avg_pool1d(input, output_size):
    return _adaptive(input, output_size, 1, _POOL.AVERAGE)


def adaptive_avg_pool2d(input, output_size):
    return _adaptive(input, output_size, 2, _POOL.AVERAGE)


def adaptive_avg_pool3d(input, output_size):
    return _adaptive(input, output_size, 3, _POOL.AVERAGE)


def adaptive_max_pool1d(input, output_size, return_indices=False):
    _no_indices("adaptive_max_pool1d", return_indices)
    return _adaptive(input, output_size, 1, _POOL.MAX)


def adaptive_max_pool2d(input, output_size, return_indices=False):
    _no_indices("adaptive_max_pool2d", return_indices)
    return _adaptive(input, output_size, 2, _POOL.MAX)


def adaptive_max_pool3d(input, output_size, return_indices=False):
    _no_indices("adaptive_max_pool3d", return_indices)
    return _adaptive(input, output_size, 3, _POOL.MAX)
