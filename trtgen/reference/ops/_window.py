"""Pre/post padding and output sizes of windowed layers, per ``trt.PaddingMode``.

Formulas from NvInfer.h (PaddingMode): with I input size, B/A pre/post padding, S stride,
DK = 1 + D*(F-1) the dilated window, M = I + B + A:
  conv/pool EXPLICIT_ROUND_DOWN  O = floor((M - DK) / S) + 1
            EXPLICIT_ROUND_UP    O = ceil((M - DK) / S) + 1
            SAME_UPPER/LOWER     O = ceil(I / S), P = floor((I-1)/S)*S + DK - I,
                                 UPPER: B = floor(P/2), A = P - B;  LOWER: A = floor(P/2), B = P - A
  deconv    EXPLICIT_*           O = (I - 1)*S + DK - (B + A)
            SAME_UPPER/LOWER     P = max(DK - S, 0), split as above.
"""

from layers.backend import trt


def _split(total, mode):
    small = total // 2
    if mode == trt.PaddingMode.SAME_UPPER:
        return small, total - small
    return total - small, small


def forward_padding(mode, in_sizes, windows, strides, pre, post):
    """(pre, post, out_sizes) for convolution and pooling."""
    pads_pre, pads_post, outs = [], [], []
    for i, dk, s, b, a in zip(in_sizes, windows, strides, pre, post):
        if mode in (trt.PaddingMode.SAME_UPPER, trt.PaddingMode.SAME_LOWER):
            total = max((i - 1) // s * s + dk - i, 0)
            b, a = _split(total, mode)
            o = -(-i // s)
        else:
            span = i + b + a - dk
            o = (-(-span // s) if mode == trt.PaddingMode.EXPLICIT_ROUND_UP else span // s) + 1
        pads_pre.append(b)
        pads_post.append(a)
        outs.append(o)
    return pads_pre, pads_post, outs


def deconv_padding(mode, windows, strides, pre, post):
    """(pre, post) amounts to crop from a full transposed convolution."""
    if mode in (trt.PaddingMode.SAME_UPPER, trt.PaddingMode.SAME_LOWER):
        pairs = [_split(max(dk - s, 0), mode) for dk, s in zip(windows, strides)]
        return [p[0] for p in pairs], [p[1] for p in pairs]
    return list(pre), list(post)
