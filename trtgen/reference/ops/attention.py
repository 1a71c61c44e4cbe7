"""Fused attention (IAttention): ATTENTION_INPUT computes it, ATTENTION_OUTPUT passes it on.

Per NvInfer.h: scores = Q @ K^T (no 1/sqrt(d) scaling: callers pre-scale Q), a boolean mask
allows (True) positions, any other mask is added; causal masks are anchored upper-left (j <= i)
or lower-right (j <= i + s_kv - s_q); the normalization is softmax (or none); output = P @ V.
Key/value heads are shared by groups of query heads (GQA). Only the padded [B, H, S, D] layout
is supported, without the quantized-normalization option.
"""

import torch

from layers.backend import trt

from ..registry import handles


def _input_for(layer, inputs, tensor):
    """The value of ``tensor`` among the layer inputs (optional inputs have no fixed index)."""
    if tensor is None:
        return None
    for i in range(layer.num_inputs):
        candidate = layer.get_input(i)
        if candidate is not None and candidate.name == tensor.name:
            return inputs[i]
    raise ValueError(f"attention input {tensor.name!r} is not an input of {layer.name!r}")


@handles("ATTENTION_INPUT")
def attention(layer, inputs, ctx):
    att = layer.attention
    padded = trt.AttentionIOForm.PADDED_BHND
    if att.query_form != padded or att.key_value_form != padded:
        raise NotImplementedError("packed (PACKED_NHD) attention layouts")
    if att.normalization_quantize_scale is not None:
        raise NotImplementedError("attention with a quantized normalization output")
    q, k, v = (t.float() for t in inputs[:3])
    group = q.shape[1] // k.shape[1]
    k, v = k.repeat_interleave(group, dim=1), v.repeat_interleave(group, dim=1)
    scores = q @ k.transpose(-1, -2)
    s_q, s_kv = scores.shape[-2:]
    allowed = torch.ones(s_q, s_kv, dtype=torch.bool)
    rows, cols = torch.arange(s_q).unsqueeze(1), torch.arange(s_kv).unsqueeze(0)
    if att.causal_kind == trt.CausalMaskKind.UPPER_LEFT:
        allowed = cols <= rows
    elif att.causal_kind == trt.CausalMaskKind.LOWER_RIGHT:
        allowed = cols <= rows + (s_kv - s_q)
    mask = _input_for(layer, inputs, att.mask)
    if mask is not None and mask.dtype == torch.bool:
        allowed = allowed & mask
    elif mask is not None:
        scores = scores + mask.float()
    lengths = _input_for(layer, inputs, att.key_value_lengths)
    if lengths is not None:  # per-batch valid key/value length
        allowed = allowed & (cols < lengths.long().reshape(-1, 1, 1, 1))
    if att.norm_op == trt.AttentionNormalizationOp.SOFTMAX:
        probs = torch.softmax(scores.masked_fill(~allowed, float("-inf")), dim=-1)
        probs = torch.nan_to_num(probs)  # fully masked rows
    else:
        probs = scores.masked_fill(~allowed, 0.0)
    return probs @ v


@handles("ATTENTION_OUTPUT")
def attention_output(layer, inputs, ctx):
    return inputs[0]
