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
from ..network import as_weights, rows_scaled_source
from ._common import cast, channel_scale, concat_layer, constant, reduce, scalar, uniform_scale
from ._params import tensor_of
from .activation import softmax
from .constant import arange
from .elementwise import add, eq, gt, mul, select_layer
from .linear import add_bias, linear, matrix_multiply
from .shape import Dim, permute_to, reshape_to, size, slice_layer, squeeze, unsqueeze

__all__ = ["scaled_dot_product_attention", "multi_head_attention_forward"]

_MM = trt.MatrixOperation


# --------------------------------------------------------------------------- small layers
def _static(x, what):
    if -1 in x.shape:
        raise NotImplementedError(f"{what} needs static dims, got {x.shape}")
    return x.shape


def _apply_mask(scores, mask, ignore_where_true):
    """Add a float mask; for a bool mask, one SELECT puts -inf where positions are ignored."""
    if mask.dtype != dtypes.bool:
        return add(scores, cast(mask, scores.dtype))
    neg_inf = scalar(float("-inf"), scores.dtype, scores.ndim)
    then, otherwise = (neg_inf, scores) if ignore_where_true else (scores, neg_inf)
    return select_layer(mask, then, otherwise, "masked_fill")


def _causal_mask(query, key):
    """torch's is_causal (top-left aligned) as a ``(mask, ignore_where_true)`` pair: a constant
    bias, 0 on and below the diagonal and -inf above; for run-time lengths, the bool mask of the
    positions above the diagonal, from two ranges."""
    length, source = query.shape[-2], key.shape[-2]
    if -1 not in (length, source):
        bias = np.triu(np.full((length, source), -np.inf, dtype=np.float32), k=1)
        return constant(bias, dtype=query.dtype), False
    rows = arange(size(query, query.ndim - 2))
    columns = arange(size(key, key.ndim - 2))
    return gt(unsqueeze(columns, 0), unsqueeze(rows, 1)), True


def _attend(q, k, v, masks, scale, safe=False):
    """softmax(q @ kᵀ * scale + masks) @ v → (output, probabilities).

    ``masks`` are (tensor, ignore_where_true) pairs already broadcastable to the scores.
    ``safe``: a query whose keys are all masked gets probabilities 0, not NaN (torch's
    scaled_dot_product_attention does this; a left-padded causal batch has such rows).
    """
    scores = matrix_multiply(q, _MM.NONE, k, _MM.TRANSPOSE, "scores")
    if scale != 1:  # a query already scaled (``_in_projection``) needs no second factor
        scaled = uniform_scale(scores, float(scale), "scale")
        scores = mul(scores, float(scale)) if scaled is None else scaled
    for mask, ignore_where_true in masks:
        scores = _apply_mask(scores, mask, ignore_where_true)
    probs = softmax(scores, -1)
    if safe and masks:
        row_max = reduce(scores, trt.ReduceOperation.MAX, -1, True, "row_max")
        all_masked = eq(row_max, scalar(float("-inf"), scores.dtype, scores.ndim))
        probs = select_layer(
            all_masked, scalar(0.0, probs.dtype, probs.ndim), probs, "safe_softmax"
        )
    return matrix_multiply(probs, _MM.NONE, v, _MM.NONE, "attention"), probs


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
    scale = 1.0 / math.sqrt(query.shape[-1]) if scale is None else scale
    masks = []
    if attn_mask is not None:
        masks.append((attn_mask, False))
    if is_causal:
        masks.append(_causal_mask(query, key))

    q_heads = query.shape[-3] if query.ndim >= 3 else 1
    kv_heads = key.shape[-3] if key.ndim >= 3 else 1
    if not enable_gqa or q_heads == kv_heads:
        out, _ = _attend(query, key, value, masks, scale, safe=True)
        return out
    return _grouped_attention(query, key, value, masks, scale, q_heads, kv_heads)


def _grouped_attention(query, key, value, masks, scale, q_heads, kv_heads):
    """(..., Hq, L, E) queries on (..., Hkv, S, E) keys: split Hq into (Hkv, Hq / Hkv). Dims
    other than the heads may be dynamic (read at run time)."""
    if q_heads % kv_heads:
        raise ValueError(
            f"enable_gqa: {q_heads} query heads are not a multiple of {kv_heads} kv heads"
        )
    group = q_heads // kv_heads
    if q_heads < 0 or kv_heads < 0:
        raise NotImplementedError(f"enable_gqa needs static head counts, got {query.shape}")
    q = reshape_to(query, _split_dim(query, query.ndim - 3, (kv_heads, group)), "group_heads")
    k, v = unsqueeze(key, -3), unsqueeze(value, -3)  # one group axis to broadcast over
    grouped = []
    for mask, flag in masks:
        heads = mask.shape[-3] if mask.ndim >= 3 else 1
        if heads == q_heads:
            spec = _split_dim(mask, mask.ndim - 3, (kv_heads, group))
        elif heads in (1, kv_heads):  # broadcast over the groups
            spec = _split_dim(mask, mask.ndim - 2, (1, Dim(mask, mask.ndim - 2)))
        else:
            raise NotImplementedError(f"an attention mask of shape {mask.shape} with enable_gqa")
        grouped.append((reshape_to(mask, spec, "group_heads"), flag))
    out, _ = _attend(q, k, v, grouped, scale, safe=True)
    merged = [Dim(out, i) for i in range(out.ndim - 4)] + [q_heads]
    merged += [Dim(out, out.ndim - 2), Dim(out, out.ndim - 1)]
    return reshape_to(out, merged, "merge_groups")


def _split_dim(x, index, into):
    """A reshape spec of ``x``: dim ``index`` replaced by the dims ``into``, every other dim
    copied (``Dim``, so dynamic ones are read at run time)."""
    dims = [Dim(x, i) for i in range(x.ndim)]
    return dims[:index] + list(into) + dims[index + 1 :]


# --------------------------------------------------------------------------- multi-head attention
def _weight_rows(weight, start, rows, op):
    """Rows [start, start + rows) of an in-projection weight / bias (Parameter or Tensor)."""
    tensor = tensor_of(weight)
    rest = [Dim(tensor, i) for i in range(1, tensor.ndim)]
    starts, strides = [start] + [0] * len(rest), [1] * tensor.ndim
    return slice_layer(tensor, starts, [rows, *rest], strides, op=op)


def _split_heads(x, heads):
    """(N, L, E) → (N, H, L, E / H) in one SHUFFLE (dynamic N and L are copied)."""
    spec = [Dim(x, 0), Dim(x, 1), heads, x.shape[-1] // heads]
    return reshape_to(x, spec, "split_heads", then_permute=(0, 2, 1, 3))


def _merge_heads(x):
    """(N, H, L, D) → (N, L, H * D) in one SHUFFLE."""
    spec = [Dim(x, 0), Dim(x, 2), x.shape[1] * x.shape[3]]
    return reshape_to(x, spec, "merge_heads", first_permute=(0, 2, 1, 3))


def _append_rows(x, extra, dim, op):
    """Concatenate one row at the end of ``dim``: ``extra`` broadcast over x's other dims, or 0s."""
    shape = list(_static(x, op))
    shape[dim] = 1
    row = constant(np.zeros(shape, dtype=np.float32), dtype=x.dtype)
    if extra is not None:  # zeros + extra: broadcast (1, 1, E) to (N, 1, E)
        row = add(row, extra)
    return concat_layer([x, row], dim, op)


def _pad_mask(mask, op):
    """Mask with one more (not ignored) key column: False for bool masks, 0 for float."""
    if mask is None:
        return None
    shape = list(_static(mask, op))
    shape[-1] = 1
    fill = np.zeros(shape, dtype=np.bool_ if mask.dtype == dtypes.bool else np.float32)
    return concat_layer([mask, constant(fill, dtype=mask.dtype)], mask.ndim - 1, op)


def _project(
    query, key, value, heads, in_proj_weight, in_proj_bias, separate, q_w, k_w, v_w, q_scale
):
    """Input projections split into heads, (N, H, L, D) each, and whether q is already
    multiplied by ``q_scale``.

    Self-attention (one tensor for q, k and v) runs one fused linear, one SHUFFLE to
    (N, 3 * H, L, D) and a SLICE of H heads per projection: no static dims needed.
    """
    embed_dim = query.shape[-1] if not separate else q_w.shape[0]
    head_dim = embed_dim // heads
    if not separate and query is key and key is value:
        qkv, q_scaled = _in_projection(query, in_proj_weight, in_proj_bias, embed_dim, q_scale)
        spec = [Dim(qkv, 0), Dim(qkv, 1), 3 * heads, head_dim]
        qkv = reshape_to(qkv, spec, "split_heads", then_permute=(0, 2, 1, 3))
        sizes = [Dim(qkv, 0), heads, Dim(qkv, 2), head_dim]
        qkv = tuple(
            slice_layer(qkv, [0, i * heads, 0, 0], sizes, [1, 1, 1, 1], op=name)
            for i, name in enumerate("qkv")
        )
        return qkv, q_scaled
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
    qkv = tuple(
        _split_heads(linear(x, w, b), heads)
        for x, w, b in zip((query, key, value), weights, biases)
    )
    return qkv, False


def _in_projection(x, weight, bias, embed_dim, q_scale):
    """The fused q/k/v projection, ``(x @ Wᵀ + b) * s`` with s = ``q_scale`` on the q rows and 1
    on k and v: the attention's 1/√d rides on the bias SCALE layer instead of scaling the
    scores. Returns ``(qkv, True)``, or ``(x @ Wᵀ + b, False)`` where the factor cannot be
    folded (a Tensor or bfloat16 bias, a non-float projection)."""
    y = linear(x, weight)
    foldable = bias is None or (isinstance(bias, Parameter) and bias.dtype != dtypes.bfloat16)
    if y.dtype not in (dtypes.float32, dtypes.float16) or not foldable:
        return (y if bias is None else add_bias(y, bias)), False
    total = 3 * embed_dim
    numpy_dtype = dtypes.to_numpy(y.dtype)
    factors = np.ones(total)
    factors[:embed_dim] = q_scale
    scale = as_weights(
        factors.astype(numpy_dtype), rows_scaled_source(None, embed_dim, q_scale, total)
    )
    shift = None
    if bias is not None:  # folded in float64 from the stored values, as batch norm is
        values = bias.stored().astype(np.float64) * factors
        shift = as_weights(
            values.astype(numpy_dtype), rows_scaled_source(bias.name, embed_dim, q_scale, total)
        )
    return channel_scale(y, y.ndim - 1, "bias_and_q_scale", scale=scale, shift=shift), True


def _bias_heads(bias, heads):
    """bias_k / bias_v (1, 1, E) → (1, H, 1, D), to append as one more key row per head."""
    bias = tensor_of(bias)
    spec = [1, 1, heads, bias.shape[-1] // heads]
    return reshape_to(bias, spec, "split_heads", then_permute=(0, 2, 1, 3))


def _extra_keys(k, v, attn_mask, key_padding_mask, heads, bias_k, bias_v, add_zero_attn):
    """bias_k / bias_v, then add_zero_attn: one more key and value row each, masks padded too."""
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
    return k, v, attn_mask, key_padding_mask


def _head_masks(attn_mask, key_padding_mask, heads):
    """(mask, ignore_where_true) pairs broadcastable to the (N, H, L, S) scores."""
    masks = []
    if attn_mask is not None:
        if attn_mask.ndim == 3:  # (N * H, L, S) → (N, H, L, S)
            attn_mask = reshape_to(attn_mask, [-1, heads, *attn_mask.shape[1:]], "split_heads")
        masks.append((attn_mask, True))
    if key_padding_mask is not None:  # (N, S) → (N, 1, 1, S)
        spec = [Dim(key_padding_mask, 0), 1, 1, Dim(key_padding_mask, 1)]
        masks.append((reshape_to(key_padding_mask, spec, "unsqueeze"), True))
    return masks


def _to_batch_first(x):
    return permute_to(x, (1, 0, 2), "transpose")


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
        query, key, value = (unsqueeze(t, 0) for t in (query, key, value))
        if key_padding_mask is not None:
            key_padding_mask = unsqueeze(key_padding_mask, 0)
    elif not batch_first:
        query, key, value = (_to_batch_first(t) for t in (query, key, value))
    if same:  # keep self-attention recognizable after the layout change
        key = value = query

    # from here on (N, L, E) inputs
    embed_dim = query.shape[2]
    heads = num_heads
    if embed_dim % heads:
        raise ValueError(f"embed_dim {embed_dim} is not divisible by num_heads {heads}")
    head_dim = embed_dim // heads
    scale = 1.0 / math.sqrt(head_dim)
    (q, k, v), q_scaled = _project(
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
        scale,
    )

    # torch: with the is_causal hint and nothing else to merge, sdpa's own causal mask is used
    if attn_mask is None and is_causal:
        raise ValueError("Need attn_mask if specifying the is_causal hint (as in torch)")
    causal = is_causal and key_padding_mask is None and not need_weights
    if causal:
        attn_mask = None
    k, v, attn_mask, key_padding_mask = _extra_keys(
        k, v, attn_mask, key_padding_mask, heads, bias_k, bias_v, add_zero_attn
    )
    masks = _head_masks(attn_mask, key_padding_mask, heads)
    if causal:
        masks.append(_causal_mask(q, k))

    # plain softmax, NaN for a fully masked query: torch's weights path and its fused
    # eval-mode path agree on that (only its functional sdpa path gives zeros)
    out, weights = _attend(q, k, v, masks, 1.0 if q_scaled else scale)
    out = linear(_merge_heads(out), out_proj_weight, out_proj_bias)
    if not need_weights:
        weights = None
    elif average_attn_weights:
        weights = reduce(weights, trt.ReduceOperation.AVG, 1, False, "average_heads")

    if unbatched:
        out = squeeze(out, 0)
        if weights is not None:
            weights = squeeze(weights, 0)
    elif not batch_first:
        out = _to_batch_first(out)
    return out, weights
