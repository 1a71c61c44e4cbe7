"""Attention: scaled_dot_product_attention and multi_head_attention_forward (torch semantics).

Composed from MATRIX_MULTIPLY, SOFTMAX and elementwise/SELECT layers so every step stays
visible in the network. Masks follow torch: a bool ``attn_mask`` of sdpa marks positions that
*take part*; the bool masks of multi-head attention mark positions to *ignore*. Dropout is an
inference no-op.
"""

import math

import numpy as np

from .. import dtypes
from ..backend import trt
from ..module import Parameter
from ._common import network, output, prepend_ones
from .cast import cast
from .constant import constant, scalar
from .elementwise import add, mul
from .linear import linear

__all__ = ["scaled_dot_product_attention", "multi_head_attention_forward"]

_MM = trt.MatrixOperation


# --------------------------------------------------------------------------- small layers
def _shuffle(x, reshape=None, first=None, second=None, op="reshape"):
    layer = network().add_shuffle(x.trt)
    if first is not None:
        layer.first_transpose = tuple(first)
    if reshape is not None:
        layer.reshape_dims = tuple(reshape)
    if second is not None:
        layer.second_transpose = tuple(second)
    return output(layer, op)


def _static(x, what):
    if -1 in x.shape:
        raise NotImplementedError(f"{what} needs static dims, got {x.shape}")
    return x.shape


def _concat(tensors, dim, op="concat"):
    layer = network().add_concatenation([t.trt for t in tensors])
    layer.axis = dim
    return output(layer, op)


def _softmax(x):
    layer = network().add_softmax(x.trt)
    layer.axes = 1 << (x.ndim - 1)
    return output(layer, "softmax")


def _matmul(a, op_a, b, op_b, op):
    rank = max(a.ndim, b.ndim)
    a, b = prepend_ones(a, rank), prepend_ones(b, rank)
    return output(network().add_matrix_multiply(a.trt, op_a, b.trt, op_b), op)


def _apply_mask(scores, mask, ignore_where_true):
    """Add a float mask; for a bool mask, one SELECT puts -inf where positions are ignored."""
    if mask.dtype != dtypes.bool:
        return add(scores, prepend_ones(cast(mask, scores.dtype), scores.ndim))
    mask = prepend_ones(mask, scores.ndim)
    neg_inf = scalar(float("-inf"), scores.dtype, scores.ndim)
    then, otherwise = (neg_inf, scores) if ignore_where_true else (scores, neg_inf)
    return output(network().add_select(mask.trt, then.trt, otherwise.trt), "masked_fill")


def _causal_bias(length, source, dtype):
    """0 on and below the diagonal, -inf above (top-left aligned, as torch's is_causal)."""
    if -1 in (length, source):
        raise NotImplementedError("a causal mask needs static query and key lengths")
    bias = np.triu(np.full((length, source), -np.inf, dtype=np.float32), k=1)
    return constant(bias, dtype=dtype)


def _attend(q, k, v, masks, scale):
    """softmax(q @ kᵀ * scale + masks) @ v → (output, probabilities).

    ``masks`` are (tensor, ignore_where_true) pairs already broadcastable to the scores.
    """
    scores = _matmul(q, _MM.NONE, k, _MM.TRANSPOSE, "scores")
    scores = mul(scores, float(scale))
    for mask, ignore_where_true in masks:
        scores = _apply_mask(scores, mask, ignore_where_true)
    probs = _softmax(scores)
    return _matmul(probs, _MM.NONE, v, _MM.NONE, "attention"), probs


# --------------------------------------------------------------------------- sdpa
def scaled_dot_product_attention(
    query, key, value, attn_mask=None, dropout_p=0.0, is_causal=False, scale=None, enable_gqa=False
):
    """torch.nn.functional.scaled_dot_product_attention (dropout is ignored: inference).

    With ``enable_gqa`` the query heads are grouped onto the key/value heads by reshaping
    (batch-dim broadcasting of MATRIX_MULTIPLY), never by copying key/value.
    """
    if is_causal and attn_mask is not None:
        raise ValueError(
            "scaled_dot_product_attention: pass either attn_mask or is_causal, not both"
        )
    length, source = query.shape[-2], key.shape[-2]
    scale = 1.0 / math.sqrt(query.shape[-1]) if scale is None else scale
    masks = []
    if attn_mask is not None:
        masks.append((attn_mask, False))
    if is_causal:
        masks.append((_causal_bias(length, source, query.dtype), False))

    q_heads = query.shape[-3] if query.ndim >= 3 else 1
    kv_heads = key.shape[-3] if key.ndim >= 3 else 1
    if not enable_gqa or q_heads == kv_heads:
        out, _ = _attend(query, key, value, masks, scale)
        return out
    return _grouped_attention(query, key, value, masks, scale, q_heads, kv_heads)


def _grouped_attention(query, key, value, masks, scale, q_heads, kv_heads):
    """(..., Hq, L, E) queries on (..., Hkv, S, E) keys: split Hq into (Hkv, Hq / Hkv)."""
    if q_heads % kv_heads:
        raise ValueError(
            f"enable_gqa: {q_heads} query heads are not a multiple of {kv_heads} kv heads"
        )
    group = q_heads // kv_heads
    q_shape = _static(query, "enable_gqa")
    q = _shuffle(query, q_shape[:-3] + (kv_heads, group) + q_shape[-2:], op="group_heads")
    k = _shuffle(
        key, tuple(_static(key, "enable_gqa")[:-2]) + (1,) + key.shape[-2:], op="unsqueeze"
    )
    v = _shuffle(
        value, tuple(_static(value, "enable_gqa")[:-2]) + (1,) + value.shape[-2:], op="unsqueeze"
    )
    grouped = []
    for mask, flag in masks:
        m_shape = _static(mask, "an attention mask")
        if mask.ndim >= 3 and m_shape[-3] == q_heads:
            m_shape = m_shape[:-3] + (kv_heads, group) + m_shape[-2:]
        else:
            m_shape = m_shape[:-2] + (1,) + m_shape[-2:]
        grouped.append((_shuffle(mask, m_shape, op="group_heads"), flag))
    out, _ = _attend(q, k, v, grouped, scale)
    out_shape = out.shape
    return _shuffle(out, out_shape[:-4] + (q_heads,) + out_shape[-2:], op="merge_groups")


# --------------------------------------------------------------------------- multi-head attention
def _weight_rows(weight, start, rows, op):
    """Rows [start, start + rows) of an in-projection weight / bias (Parameter or Tensor)."""
    tensor = weight.tensor() if isinstance(weight, Parameter) else weight
    if tensor.ndim == 1:
        return output(network().add_slice(tensor.trt, (start,), (rows,), (1,)), op)
    cols = tensor.shape[1]
    return output(network().add_slice(tensor.trt, (start, 0), (rows, cols), (1, 1)), op)


def _split_heads(x, heads):
    """(N, L, E) → (N, H, L, E / H) in one SHUFFLE (0s copy N and L: dynamic-safe)."""
    return _shuffle(x, (0, 0, heads, x.shape[-1] // heads), second=(0, 2, 1, 3), op="split_heads")


def _merge_heads(x):
    """(N, H, L, D) → (N, L, H * D)."""
    heads, dim = x.shape[1], x.shape[3]
    return _shuffle(x, (0, 0, heads * dim), first=(0, 2, 1, 3), op="merge_heads")


def _append_rows(x, extra, dim, op):
    """Concatenate one row at the end of ``dim``: ``extra`` broadcast over x's other dims, or 0s."""
    shape = list(_static(x, op))
    shape[dim] = 1
    row = constant(np.zeros(shape, dtype=np.float32), dtype=x.dtype)
    if extra is not None:  # zeros + extra: broadcast (1, 1, E) to (N, 1, E)
        row = add(row, prepend_ones(extra, x.ndim))
    return _concat([x, row], dim, op)


def _pad_mask(mask, op):
    """Mask with one more (not ignored) key column: False for bool masks, 0 for float."""
    if mask is None:
        return None
    shape = list(_static(mask, op))
    shape[-1] = 1
    fill = np.zeros(shape, dtype=np.bool_ if mask.dtype == dtypes.bool else np.float32)
    return _concat([mask, constant(fill, dtype=mask.dtype)], mask.ndim - 1, op)


def _project(query, key, value, heads, in_proj_weight, in_proj_bias, separate, q_w, k_w, v_w):
    """Input projections, returned split into heads: (N, H, L, D) each.

    Self-attention (one tensor for q, k and v) runs one fused linear, one SHUFFLE to
    (3, N, H, L, D) and a GATHER per projection: no static dims needed.
    """
    embed_dim = query.shape[-1] if not separate else q_w.shape[0]
    head_dim = embed_dim // heads
    if not separate and query is key and key is value:
        qkv = linear(query, in_proj_weight, in_proj_bias)
        qkv = _shuffle(qkv, (0, 0, 3, heads, head_dim), second=(2, 0, 3, 1, 4), op="split_heads")
        return tuple(_take(qkv, i, name) for i, name in enumerate("qkv"))
    if separate:
        weights = (q_w, k_w, v_w)
    else:
        weights = tuple(
            _weight_rows(in_proj_weight, i * embed_dim, embed_dim, f"{n}_proj_weight")
            for i, n in enumerate("qkv")
        )
    biases = (None, None, None)
    if in_proj_bias is not None:
        biases = tuple(
            _weight_rows(in_proj_bias, i * embed_dim, embed_dim, f"{n}_proj_bias")
            for i, n in enumerate("qkv")
        )
    return tuple(
        _split_heads(linear(x, w, b), heads)
        for x, w, b in zip((query, key, value), weights, biases)
    )


def _take(x, index, op):
    """``x[index]`` along dim 0 (a GATHER with a 0-d index drops the dim)."""
    indices = constant(np.array(index, dtype=np.int32))
    layer = network().add_gather(x.trt, indices.trt, 0)
    return output(layer, op)


def _bias_heads(bias, heads):
    """bias_k / bias_v (1, 1, E) → (1, H, 1, D), to append as one more key row per head."""
    bias = _as_tensor(bias)
    return _shuffle(
        bias, (1, 1, heads, bias.shape[-1] // heads), second=(0, 2, 1, 3), op="split_heads"
    )


def mha_batch_first(
    query,
    key,
    value,
    num_heads,
    in_proj_weight,
    in_proj_bias,
    bias_k,
    bias_v,
    add_zero_attn,
    out_proj_weight,
    out_proj_bias,
    key_padding_mask=None,
    need_weights=True,
    attn_mask=None,
    use_separate_proj_weight=False,
    q_proj_weight=None,
    k_proj_weight=None,
    v_proj_weight=None,
    average_attn_weights=True,
    is_causal=False,
):
    """Multi-head attention on (N, L, E) inputs; returns ((N, L, E), weights or None)."""
    length, embed_dim = query.shape[1], query.shape[2]
    heads = num_heads
    if embed_dim % heads:
        raise ValueError(f"embed_dim {embed_dim} is not divisible by num_heads {heads}")
    head_dim = embed_dim // heads
    q, k, v = _project(
        query,
        key,
        value,
        heads,
        in_proj_weight,
        in_proj_bias,
        use_separate_proj_weight,
        q_proj_weight,
        k_proj_weight,
        v_proj_weight,
    )

    # torch: with the is_causal hint and nothing else to merge, sdpa's own causal mask is used
    if attn_mask is None and is_causal:
        raise ValueError("Need attn_mask if specifying the is_causal hint (as in torch)")
    causal = is_causal and key_padding_mask is None and not need_weights
    if causal:
        attn_mask = None
    if bias_k is not None and bias_v is not None:
        k = _append_rows(k, _bias_heads(bias_k, heads), 2, "add_bias_k")
        v = _append_rows(v, _bias_heads(bias_v, heads), 2, "add_bias_v")
        attn_mask = _pad_mask(attn_mask, "pad_attn_mask")
        key_padding_mask = _pad_mask(key_padding_mask, "pad_key_padding_mask")
    if add_zero_attn:
        k = _append_rows(k, None, 2, "add_zero_attn_k")
        v = _append_rows(v, None, 2, "add_zero_attn_v")
        attn_mask = _pad_mask(attn_mask, "pad_attn_mask")
        key_padding_mask = _pad_mask(key_padding_mask, "pad_key_padding_mask")

    source = k.shape[2]
    masks = []
    if attn_mask is not None:
        if attn_mask.ndim == 3:  # (N * H, L, S) → (N, H, L, S)
            attn_mask = _shuffle(attn_mask, (-1, heads) + attn_mask.shape[1:], op="split_heads")
        masks.append((attn_mask, True))
    if key_padding_mask is not None:  # (N, S) → (N, 1, 1, S)
        masks.append((_shuffle(key_padding_mask, (0, 1, 1, source), op="unsqueeze"), True))
    if causal:
        masks.append((_causal_bias(length, source, q.dtype), True))

    out, probs = _attend(q, k, v, masks, 1.0 / math.sqrt(head_dim))
    out = linear(_merge_heads(out), out_proj_weight, out_proj_bias)
    if not need_weights:
        return out, None
    if average_attn_weights:
        layer = network().add_reduce(probs.trt, trt.ReduceOperation.AVG, 1 << 1, False)
        probs = output(layer, "average_heads")
    return out, probs


def _as_tensor(value):
    return value.tensor() if isinstance(value, Parameter) else value


def _to_batch_first(x):
    return _shuffle(x, first=(1, 0, 2), op="transpose")


def multi_head_attention_forward(
    query,
    key,
    value,
    embed_dim_to_check,
    num_heads,
    in_proj_weight,
    in_proj_bias,
    bias_k,
    bias_v,
    add_zero_attn,
    dropout_p,
    out_proj_weight,
    out_proj_bias,
    training=True,
    key_padding_mask=None,
    need_weights=True,
    attn_mask=None,
    use_separate_proj_weight=False,
    q_proj_weight=None,
    k_proj_weight=None,
    v_proj_weight=None,
    static_k=None,
    static_v=None,
    average_attn_weights=True,
    is_causal=False,
    batch_first=False,
):
    """torch.nn.functional.multi_head_attention_forward: (L, N, E) inputs, or (L, E) unbatched.

    ``batch_first=True`` (an extension) takes and returns (N, L, E) without transposes.
    """
    if static_k is not None or static_v is not None:
        raise NotImplementedError(
            "multi_head_attention_forward: static_k / static_v are not supported"
        )
    if query.shape[-1] != embed_dim_to_check:
        raise ValueError(
            f"was expecting embedding dimension of {embed_dim_to_check}, got {query.shape[-1]}"
        )
    unbatched = query.ndim == 2
    same = query is key and key is value
    if unbatched:
        query, key, value = (
            _shuffle(t, (1,) + tuple(t.shape), op="unsqueeze") for t in (query, key, value)
        )
        if key_padding_mask is not None:
            key_padding_mask = _shuffle(
                key_padding_mask, (1,) + tuple(key_padding_mask.shape), op="unsqueeze"
            )
    elif not batch_first:
        query, key, value = (_to_batch_first(t) for t in (query, key, value))
    if same:  # keep self-attention recognizable after the layout change
        key = value = query
    out, weights = mha_batch_first(
        query,
        key,
        value,
        num_heads,
        in_proj_weight,
        in_proj_bias,
        bias_k,
        bias_v,
        add_zero_attn,
        out_proj_weight,
        out_proj_bias,
        key_padding_mask,
        need_weights,
        attn_mask,
        use_separate_proj_weight,
        q_proj_weight,
        k_proj_weight,
        v_proj_weight,
        average_attn_weights,
        is_causal,
    )
    if unbatched:
        out = _shuffle(out, out.shape[1:], op="squeeze")
        if weights is not None:
            weights = _shuffle(weights, weights.shape[1:], op="squeeze")
    elif not batch_first:
        out = _to_batch_first(out)
    return out, weights
