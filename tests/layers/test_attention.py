"""scaled_dot_product_attention (masks, causal, scale, GQA) and multi_head_attention_forward."""

import pytest
import torch
import torch.nn.functional as TF

import layers
from layers import functional as F

from helpers import check_and_build as check_op, rand


def qkv(batch=(2, 3), length=4, source=5, dim=8, vdim=6):
    return (
        rand(*batch, length, dim, seed=1),
        rand(*batch, source, dim, seed=2),
        rand(*batch, source, vdim, seed=3),
    )


def test_sdpa_plain_and_scale():
    q, k, v = qkv()
    check_op(F.scaled_dot_product_attention, TF.scaled_dot_product_attention, q, k, v)
    check_op(
        lambda a, b, c: F.scaled_dot_product_attention(a, b, c, scale=0.3),
        lambda a, b, c: TF.scaled_dot_product_attention(a, b, c, scale=0.3),
        q,
        k,
        v,
    )


@pytest.mark.parametrize("length,source", [(4, 4), (3, 5), (5, 3)])
def test_sdpa_causal(length, source):
    q, k, v = qkv(length=length, source=source)
    check_op(
        lambda a, b, c: F.scaled_dot_product_attention(a, b, c, is_causal=True),
        lambda a, b, c: TF.scaled_dot_product_attention(a, b, c, is_causal=True),
        q,
        k,
        v,
    )


@pytest.mark.parametrize("mask_shape", [(4, 5), (2, 1, 4, 5), (2, 3, 4, 5), (1, 5)])
def test_sdpa_bool_mask(mask_shape):
    q, k, v = qkv()
    mask = torch.rand(*mask_shape, generator=torch.Generator().manual_seed(7)) > 0.3
    mask[..., 0] = True  # keep every row attending somewhere (torch gives NaN rows otherwise)
    check_op(
        lambda a, b, c, m: F.scaled_dot_product_attention(a, b, c, m),
        lambda a, b, c, m: TF.scaled_dot_product_attention(a, b, c, m),
        q,
        k,
        v,
        mask,
    )


@pytest.mark.parametrize("mask_shape", [(4, 5), (2, 3, 4, 5)])
def test_sdpa_float_mask(mask_shape):
    q, k, v = qkv()
    check_op(
        lambda a, b, c, m: F.scaled_dot_product_attention(a, b, c, m),
        lambda a, b, c, m: TF.scaled_dot_product_attention(a, b, c, m),
        q,
        k,
        v,
        rand(*mask_shape, seed=9),
    )


@pytest.mark.parametrize("mask", [None, "bool", "float", "causal"])
def test_sdpa_gqa(mask):
    q = rand(2, 6, 4, 8, seed=1)
    k, v = rand(2, 2, 4, 8, seed=2), rand(2, 2, 4, 8, seed=3)
    inputs = [q, k, v]
    kw = {"is_causal": True} if mask == "causal" else {}
    if mask == "bool":
        m = torch.rand(2, 6, 4, 4, generator=torch.Generator().manual_seed(5)) > 0.3
        m[..., 0] = True
        inputs.append(m)
    elif mask == "float":
        inputs.append(rand(1, 4, 4, seed=6))
    check_op(
        lambda *h: F.scaled_dot_product_attention(*h, enable_gqa=True, **kw),
        lambda *t: TF.scaled_dot_product_attention(*t, enable_gqa=True, **kw),
        *inputs,
    )


def test_sdpa_3d_inputs():
    q, k, v = qkv(batch=(3,))
    check_op(F.scaled_dot_product_attention, TF.scaled_dot_product_attention, q, k, v)


# --------------------------------------------------------------------------- multi-head attention
E, H = 8, 2


def _param(name, tensor):
    p = layers.Parameter(tuple(tensor.shape), tensor.dtype)
    p.name = name
    p.set_value(tensor.numpy())
    return p


def _weights(seed=0, add_bias_kv=False):
    w = {
        "in_proj_weight": rand(3 * E, E, seed=seed),
        "in_proj_bias": rand(3 * E, seed=seed + 1),
        "out_proj.weight": rand(E, E, seed=seed + 2),
        "out_proj.bias": rand(E, seed=seed + 3),
    }
    if add_bias_kv:
        w["bias_k"], w["bias_v"] = rand(1, 1, E, seed=seed + 4), rand(1, 1, E, seed=seed + 5)
    return w


def _mha(w, add_zero_attn=False, **kw):
    """(layers fn, torch fn) of multi_head_attention_forward with weights ``w``."""

    def layers_fn(q, k, v, *masks, self_attention=False):
        p = {name: _param(name, t) for name, t in w.items()}
        if self_attention:
            k = v = q
        return F.multi_head_attention_forward(
            q,
            k,
            v,
            E,
            H,
            p["in_proj_weight"],
            p["in_proj_bias"],
            p.get("bias_k"),
            p.get("bias_v"),
            add_zero_attn,
            0.0,
            p["out_proj.weight"],
            p["out_proj.bias"],
            **kw,
            **dict(zip(_MASKS, masks)),
        )

    def torch_fn(q, k, v, *masks, self_attention=False):
        if self_attention:
            k = v = q
        out, weights = TF.multi_head_attention_forward(
            q,
            k,
            v,
            E,
            H,
            w["in_proj_weight"],
            w["in_proj_bias"],
            w.get("bias_k"),
            w.get("bias_v"),
            add_zero_attn,
            0.0,
            w["out_proj.weight"],
            w["out_proj.bias"],
            training=False,
            **kw,
            **dict(zip(_MASKS, masks)),
        )
        return (out, weights) if weights is not None else out

    return layers_fn, torch_fn


_MASKS = ("attn_mask", "key_padding_mask")


def _run_mha(w, inputs, self_attention=False, add_zero_attn=False, **kw):
    layers_fn, torch_fn = _mha(w, add_zero_attn, **kw)

    def lf(*h):
        out, weights = layers_fn(*h, self_attention=self_attention)
        return (out, weights) if weights is not None else out

    check_op(lf, lambda *t: torch_fn(*t, self_attention=self_attention), *inputs)


@pytest.mark.parametrize("need_weights,average", [(True, True), (True, False), (False, True)])
@pytest.mark.parametrize("self_attention", [True, False])
def test_mha_forward(need_weights, average, self_attention):
    q, k, v = rand(4, 2, E, seed=1), rand(5, 2, E, seed=2), rand(5, 2, E, seed=3)
    _run_mha(
        _weights(),
        [q, k, v],
        self_attention,
        need_weights=need_weights,
        average_attn_weights=average,
    )


@pytest.mark.parametrize("kind", ["bool", "float"])
def test_mha_masks(kind):
    q = rand(4, 2, E, seed=1)
    gen = torch.Generator().manual_seed(3)
    if kind == "bool":
        attn_mask = torch.rand(4, 4, generator=gen) > 0.7
        padding = torch.tensor([[False, False, False, True], [False, True, False, False]])
    else:
        attn_mask, padding = rand(2 * H, 4, 4, seed=4), rand(2, 4, seed=5)
    _run_mha(_weights(), [q, q, q, attn_mask, padding], self_attention=True)


def test_mha_causal_hint_and_bias_kv_zero_attn():
    q = rand(4, 2, E, seed=1)
    causal = torch.triu(torch.full((4, 4), float("-inf")), 1)
    _run_mha(_weights(), [q, q, q, causal], self_attention=True, is_causal=True, need_weights=False)
    padding = torch.tensor([[False, False, True, False], [False, False, False, False]])
    _run_mha(
        _weights(add_bias_kv=True),
        [q, q, q, causal, padding],
        self_attention=True,
        add_zero_attn=True,
    )


def test_mha_self_attention_folds_the_scale_into_the_in_projection():
    """1/sqrt(head_dim) rides on the q rows of the in-projection's SCALE layer: the scores get
    no multiplication of their own, and no weight needs a CONSTANT but the two matrices."""
    q = rand(4, 2, E, seed=1)
    layers_fn, torch_fn = _mha(_weights(), False, need_weights=False)
    network = check_op(
        lambda h: layers_fn(h, h, h, self_attention=True)[0],
        lambda t: torch_fn(t, t, t, self_attention=True),
        q,
    )
    kinds = [network.get_layer(i).type for i in range(network.num_layers)]
    names = [network.get_layer(i).name for i in range(network.num_layers)]
    assert layers.trt.LayerType.ELEMENTWISE not in kinds
    assert "bias_and_q_scale" in names and "scale" not in names
    assert kinds.count(layers.trt.LayerType.CONSTANT) == 2


def test_mha_self_attention_with_a_run_time_bias_scales_the_scores():
    """An in-projection bias that is a network tensor cannot be folded: the scores are scaled."""
    w = _weights()
    q = rand(4, 2, E, seed=1)

    def layers_fn(h, bias):
        p = {name: _param(name, t) for name, t in w.items()}
        return F.multi_head_attention_forward(
            h, h, h, E, H, p["in_proj_weight"], bias, None, None, False, 0.0,
            p["out_proj.weight"], p["out_proj.bias"], training=False, need_weights=False,
        )[0]  # fmt: skip

    def torch_fn(t, bias):
        return TF.multi_head_attention_forward(
            t, t, t, E, H, w["in_proj_weight"], bias, None, None, False, 0.0,
            w["out_proj.weight"], w["out_proj.bias"], training=False, need_weights=False,
        )[0]  # fmt: skip

    network = check_op(layers_fn, torch_fn, q, w["in_proj_bias"])
    names = [network.get_layer(i).name for i in range(network.num_layers)]
    assert "scale" in names and "bias_and_q_scale" not in names


def test_mha_unbatched():
    q, k = rand(4, E, seed=1), rand(5, E, seed=2)
    _run_mha(_weights(), [q, k, k])


@pytest.mark.parametrize("kind", ["bool", "float"])
def test_sdpa_query_with_every_key_masked_gets_zeros(kind):
    """torch's sdpa gives 0, not NaN, for a query whose keys are all masked (left-padded causal
    batches have such rows)."""
    q, k, v = rand(2, 2, 5, 4), rand(2, 2, 6, 4, seed=1), rand(2, 2, 6, 4, seed=2)
    if kind == "bool":
        mask = torch.rand(2, 1, 5, 6, generator=torch.Generator().manual_seed(3)) > 0.5
        mask[0, 0, 1, :] = False
    else:
        mask = torch.zeros(2, 1, 5, 6)
        mask[1, 0, 2, :] = float("-inf")
    expected = TF.scaled_dot_product_attention(q, k, v, attn_mask=mask)
    assert not torch.isnan(expected).any()
    check_op(
        lambda a, b, c, m: F.scaled_dot_product_attention(a, b, c, attn_mask=m),
        lambda a, b, c, m: TF.scaled_dot_product_attention(a, b, c, attn_mask=m),
        q,
        k,
        v,
        mask,
    )


@pytest.mark.parametrize("length", [3, 7])
def test_causal_attention_with_a_run_time_length(length):
    """is_causal on a dynamic sequence length: the mask is built from two ranges at run time."""
    from helpers import assert_close
    from test_shape import run_dynamic

    x = rand(2, 2, length, 4)
    got, _ = run_dynamic(
        lambda a: F.scaled_dot_product_attention(a, a * 0.5, a + 1.0, is_causal=True), x, (2,)
    )
    assert_close(got, TF.scaled_dot_product_attention(x, x * 0.5, x + 1.0, is_causal=True))
