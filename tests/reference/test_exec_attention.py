"""IAttention (ATTENTION_INPUT / ATTENTION_OUTPUT) against torch scaled_dot_product_attention."""

import math

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from layers.backend import trt
from reference_helpers import assert_close, rng

K = trt.CausalMaskKind


# A mask cannot be combined with causal attention.
@pytest.mark.parametrize(
    "causal,mask",
    [
        (K.NONE, None),
        (K.NONE, "bool"),
        (K.NONE, "add"),
        (K.UPPER_LEFT, None),
        (K.LOWER_RIGHT, None),
    ],
)
@pytest.mark.parametrize("heads_kv", [4, 2])
def test_attention(net, causal, mask, heads_kv):
    r = rng(51)
    q = r.standard_normal((2, 4, 5, 8)).astype(np.float32)
    k = r.standard_normal((2, heads_kv, 7, 8)).astype(np.float32)
    v = r.standard_normal((2, heads_kv, 7, 8)).astype(np.float32)
    att = net.network.add_attention_v2(
        net.input("q", q),
        net.input("k", k),
        net.input("v", v),
        trt.AttentionNormalizationOp.SOFTMAX,
        causal,
    )
    torch_mask = None
    if mask == "bool":
        m = r.uniform(size=(2, 1, 5, 7)) > 0.3
        m[..., 0] = True
        att.mask = net.input("m", m)
        torch_mask = torch.from_numpy(m)
    elif mask == "add":
        m = r.standard_normal((1, 4, 5, 7)).astype(np.float32)
        att.mask = net.input("m", m)
        torch_mask = torch.from_numpy(m)
    qt, kt, vt = (torch.from_numpy(a) for a in (q, k, v))
    kt, vt = kt.repeat_interleave(4 // heads_kv, 1), vt.repeat_interleave(4 // heads_kv, 1)
    if causal != K.NONE:
        rows, cols = torch.arange(5).unsqueeze(1), torch.arange(7).unsqueeze(0)
        torch_mask = cols <= rows + (2 if causal == K.LOWER_RIGHT else 0)
    # TensorRT does not scale Q @ K^T: give torch a scale of 1.
    expected = F.scaled_dot_product_attention(qt, kt, vt, attn_mask=torch_mask, scale=1.0)
    assert_close(net.run(att.get_output(0)), expected)
    assert math.isfinite(float(expected.abs().max()))
