"""MultiheadAttention with torch's constructor, parameter names and forward contract.

Parameters: ``in_proj_weight`` (3E, E) — or ``q_proj_weight``/``k_proj_weight``/``v_proj_weight``
when kdim/vdim differ from embed_dim —, ``in_proj_bias`` (3E), ``bias_k``/``bias_v`` (1, 1, E)
with add_bias_kv, and the ``out_proj`` Linear (``out_proj.weight``, ``out_proj.bias``).
"""

from .. import dtypes
from ..functional.attention import multi_head_attention_forward
from ..module import Module, Parameter
from .linear import Linear

__all__ = ["MultiheadAttention"]


class MultiheadAttention(Module):
    def __init__(
        self,
        embed_dim,
        num_heads,
        dropout=0.0,
        bias=True,
        add_bias_kv=False,
        add_zero_attn=False,
        kdim=None,
        vdim=None,
        batch_first=False,
        device=None,
        dtype=None,
    ):
        super().__init__()
        if embed_dim % num_heads:
            raise ValueError("embed_dim must be divisible by num_heads")
        dtype = dtypes.float32 if dtype is None else dtype
        self.embed_dim = embed_dim
        self.kdim = kdim if kdim is not None else embed_dim
        self.vdim = vdim if vdim is not None else embed_dim
        self._qkv_same_embed_dim = self.kdim == embed_dim and self.vdim == embed_dim
        self.num_heads = num_heads
        self.dropout = dropout  # inference: no-op
        self.batch_first = batch_first
        self.head_dim = embed_dim // num_heads
        if self._qkv_same_embed_dim:
            self.in_proj_weight = Parameter((3 * embed_dim, embed_dim), dtype)
            self.q_proj_weight = self.k_proj_weight = self.v_proj_weight = None
        else:
            self.in_proj_weight = None
            self.q_proj_weight = Parameter((embed_dim, embed_dim), dtype)
            self.k_proj_weight = Parameter((embed_dim, self.kdim), dtype)
            self.v_proj_weight = Parameter((embed_dim, self.vdim), dtype)
        self.in_proj_bias = Parameter((3 * embed_dim,), dtype) if bias else None
        self.out_proj = Linear(embed_dim, embed_dim, bias=bias, dtype=dtype)
        self.bias_k = Parameter((1, 1, embed_dim), dtype) if add_bias_kv else None
        self.bias_v = Parameter((1, 1, embed_dim), dtype) if add_bias_kv else None
        self.add_zero_attn = add_zero_attn

    def forward(
        self,
        query,
        key,
        value,
        key_padding_mask=None,
        need_weights=True,
        attn_mask=None,
        average_attn_weights=True,
        is_causal=False,
    ):
        """(output, averaged or per-head attention weights, or None without ``need_weights``)."""
        return multi_head_attention_forward(
            query,
            key,
            value,
            self.embed_dim,
            self.num_heads,
            self.in_proj_weight,
            self.in_proj_bias,
            self.bias_k,
            self.bias_v,
            self.add_zero_attn,
            self.dropout,
            self.out_proj.weight,
            self.out_proj.bias,
            training=False,
            key_padding_mask=key_padding_mask,
            need_weights=need_weights,
            attn_mask=attn_mask,
            use_separate_proj_weight=not self._qkv_same_embed_dim,
            q_proj_weight=self.q_proj_weight,
            k_proj_weight=self.k_proj_weight,
            v_proj_weight=self.v_proj_weight,
            average_attn_weights=average_attn_weights,
            is_causal=is_causal,
            batch_first=self.batch_first,
        )

    def __repr__(self):
        return f"MultiheadAttention(embed_dim={self.embed_dim}, num_heads={self.num_heads})"
