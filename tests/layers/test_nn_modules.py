"""Every nn class of conv/linear/norm/pooling/attention against torch.nn with the same weights.

The torch module gets random parameters (and random BatchNorm running statistics); its state_dict
(minus ``num_batches_tracked``) is loaded into the layers module, whose dotted parameter names
must equal torch's keys exactly (load_weights is strict).
"""

import pytest
import torch
from torch import nn as tnn

import layers

from helpers import assert_close, rand, run_layers


def randomize(module, seed=0):
    generator = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for name, tensor in list(module.named_parameters()) + list(module.named_buffers()):
            if name.endswith("num_batches_tracked"):
                continue
            values = torch.randn(tensor.shape, generator=generator)
            tensor.copy_(values.abs() + 0.5 if name.endswith("running_var") else values)
    return module.eval()


def state(module):
    return {
        k: v.detach().numpy()
        for k, v in module.state_dict().items()
        if not k.endswith("num_batches_tracked")
    }


def compare(name, args, kwargs, *inputs, call=None, rtol=1e-5):
    """Build ``layers.<name>(*args, **kwargs)`` and ``torch.nn.<name>`` alike; compare outputs."""
    reference = randomize(getattr(tnn, name)(*args, **kwargs))
    ours = getattr(layers, name)(*args, **kwargs)
    ours.load_weights(state(reference))
    assert [k for k, _ in ours.named_parameters()] == list(state(reference))
    call = call or (lambda module, *xs: module(*xs))
    with torch.no_grad():
        want = call(reference, *inputs)
    got, (builder, network) = run_layers(lambda *h: call(ours, *h), *inputs, return_network=True)
    want = list(want) if isinstance(want, (tuple, list)) else [want]
    for g, w in zip(got, want):
        assert_close(g, w, rtol)
    layers.build_engine(builder, network)
    return network


@pytest.mark.parametrize(
    "name,args,kwargs,shape",
    [
        ("Conv1d", (4, 6, 3), dict(stride=2, padding=1), (2, 4, 9)),
        ("Conv2d", (4, 6, 3), dict(padding=1, groups=2, bias=False), (2, 4, 7, 7)),
        ("Conv2d", (4, 6, (3, 2)), dict(stride=(2, 1), dilation=2, padding="valid"), (2, 4, 9, 8)),
        ("Conv2d", (4, 4, 3), dict(padding="same", padding_mode="reflect"), (1, 4, 6, 6)),
        ("Conv2d", (4, 4, 3), dict(padding=1, padding_mode="replicate"), (1, 4, 6, 6)),
        ("Conv2d", (4, 4, 3), dict(padding=(1, 2), padding_mode="circular"), (1, 4, 6, 6)),
        ("Conv3d", (2, 3, 3), dict(padding=1), (1, 2, 4, 5, 4)),
        ("ConvTranspose1d", (4, 3, 3), dict(stride=2, padding=1, output_padding=1), (2, 4, 6)),
        ("ConvTranspose2d", (4, 6, 3), dict(stride=2, groups=2), (2, 4, 5, 5)),
        ("ConvTranspose2d", (4, 6, 4), dict(stride=2, padding=1, bias=False), (2, 4, 5, 5)),
        ("ConvTranspose3d", (2, 3, 2), dict(stride=2), (1, 2, 3, 3, 3)),
    ],
)
def test_conv_modules(name, args, kwargs, shape):
    network = compare(name, args, kwargs, rand(*shape))
    if kwargs.get("padding_mode", "zeros") == "zeros":
        # weights live in the layer as Weights named by their state_dict key: no CONSTANT layers
        assert all(
            network.get_layer(i).type != layers.trt.LayerType.CONSTANT
            for i in range(network.num_layers)
        )


def test_conv_transpose_output_size():
    compare(
        "ConvTranspose2d",
        (4, 3, 3),
        dict(stride=2, padding=1),
        rand(1, 4, 5, 5),
        call=lambda m, x: m(x, output_size=(10, 10)),
    )


@pytest.mark.parametrize("bias", [True, False])
@pytest.mark.parametrize("shape", [(3, 5), (2, 3, 5), (5,)])
def test_linear(bias, shape):
    compare("Linear", (5, 4), dict(bias=bias), rand(*shape))


@pytest.mark.parametrize(
    "name,args,kwargs,shape",
    [
        ("BatchNorm1d", (3,), {}, (4, 3)),
        ("BatchNorm1d", (3,), dict(affine=False), (2, 3, 5)),
        ("BatchNorm2d", (3,), dict(eps=1e-3), (2, 3, 4, 5)),
        ("BatchNorm2d", (3,), dict(track_running_stats=False), (2, 3, 4, 5)),
        ("BatchNorm3d", (2,), {}, (1, 2, 3, 4, 2)),
        ("LayerNorm", (5,), {}, (2, 3, 5)),
        ("LayerNorm", ((4, 5),), dict(bias=False), (2, 4, 5)),
        ("LayerNorm", (5,), dict(elementwise_affine=False, eps=1e-6), (2, 5)),
        ("GroupNorm", (2, 6), {}, (2, 6, 3, 3)),
        ("GroupNorm", (3, 6), dict(affine=False), (2, 6, 5)),
        ("InstanceNorm1d", (3,), {}, (2, 3, 6)),
        ("InstanceNorm1d", (3,), dict(affine=True), (3, 6)),
        ("InstanceNorm2d", (3,), dict(affine=True), (2, 3, 4, 5)),
        ("InstanceNorm2d", (3,), dict(track_running_stats=True), (2, 3, 4, 5)),
        ("InstanceNorm3d", (2,), {}, (1, 2, 3, 4, 2)),
        ("RMSNorm", (5,), {}, (2, 3, 5)),
        ("RMSNorm", ((3, 5),), dict(eps=1e-6, elementwise_affine=False), (2, 3, 5)),
        ("LocalResponseNorm", (3,), dict(alpha=1e-2, k=2.0), (2, 5, 3, 3)),
    ],
)
def test_norm_modules(name, args, kwargs, shape):
    compare(name, args, kwargs, rand(*shape))


def test_batch_norm_is_one_scale_layer():
    network = compare("BatchNorm2d", (3,), {}, rand(2, 3, 4, 4))
    assert [network.get_layer(i).type for i in range(network.num_layers)] == [
        layers.trt.LayerType.SCALE
    ]


@pytest.mark.parametrize(
    "name,args,kwargs,shape",
    [
        ("MaxPool1d", (3,), dict(stride=2, padding=1, ceil_mode=True), (2, 3, 10)),
        ("MaxPool2d", (3, 2, 1), {}, (2, 3, 7, 7)),
        ("MaxPool2d", (2,), dict(ceil_mode=True), (2, 3, 7, 7)),
        ("MaxPool3d", (2,), {}, (1, 2, 4, 4, 4)),
        ("AvgPool1d", (3,), dict(stride=2, padding=1, count_include_pad=False), (2, 3, 10)),
        ("AvgPool2d", (3, 2, 1), dict(ceil_mode=True), (2, 3, 8, 8)),
        ("AvgPool2d", (2,), dict(divisor_override=3), (2, 3, 6, 6)),
        ("AvgPool3d", (2,), {}, (1, 2, 4, 4, 4)),
        ("AdaptiveAvgPool1d", (3,), {}, (2, 3, 7)),
        ("AdaptiveAvgPool2d", ((1, 1),), {}, (2, 3, 7, 7)),
        ("AdaptiveAvgPool2d", ((3, 5),), {}, (2, 3, 7, 10)),
        ("AdaptiveAvgPool3d", ((1, 2, 2),), {}, (1, 2, 3, 4, 4)),
        ("AdaptiveMaxPool1d", (4,), {}, (2, 3, 7)),
        ("AdaptiveMaxPool2d", ((2, 3),), {}, (2, 3, 5, 7)),
        ("AdaptiveMaxPool2d", (1,), {}, (2, 3, 5, 7)),
        ("AdaptiveMaxPool3d", (2,), {}, (1, 2, 4, 4, 4)),
    ],
)
def test_pooling_modules(name, args, kwargs, shape):
    compare(name, args, kwargs, rand(*shape))


def _attention_inputs(batch_first, same, kdim=8):
    q = rand(2, 4, 8, seed=1) if batch_first else rand(4, 2, 8, seed=1)
    if same:
        return (q,)
    k = rand(2, 5, kdim, seed=2) if batch_first else rand(5, 2, kdim, seed=2)
    v = rand(2, 5, kdim, seed=3) if batch_first else rand(5, 2, kdim, seed=3)
    return q, k, v


@pytest.mark.parametrize("batch_first", [False, True])
@pytest.mark.parametrize("same", [True, False])
@pytest.mark.parametrize("need_weights,average", [(True, True), (True, False), (False, True)])
def test_multihead_attention(batch_first, same, need_weights, average):
    def call(module, *xs):
        q, k, v = (xs[0],) * 3 if len(xs) == 1 else xs
        out, weights = module(q, k, v, need_weights=need_weights, average_attn_weights=average)
        return (out, weights) if weights is not None else out

    compare(
        "MultiheadAttention",
        (8, 2),
        dict(batch_first=batch_first),
        *_attention_inputs(batch_first, same),
        call=call,
    )


@pytest.mark.parametrize(
    "kwargs",
    [
        dict(bias=False),
        dict(add_bias_kv=True),
        dict(add_zero_attn=True),
        dict(kdim=6, vdim=6),
        dict(kdim=6, vdim=6, add_bias_kv=True, add_zero_attn=True, batch_first=True),
    ],
)
def test_multihead_attention_variants(kwargs):
    kdim = kwargs.get("kdim", 8)
    inputs = _attention_inputs(kwargs.get("batch_first", False), False, kdim)
    compare("MultiheadAttention", (8, 2), kwargs, *inputs, call=lambda m, q, k, v: m(q, k, v)[0])


@pytest.mark.parametrize("batch_first", [False, True])
def test_multihead_attention_masks(batch_first):
    x = _attention_inputs(batch_first, True)[0]
    attn_mask = torch.triu(torch.ones(4, 4, dtype=torch.bool), 1)
    padding = torch.tensor([[False, False, False, True], [False, True, False, False]])

    def call(module, q, m, p):
        return module(q, q, q, key_padding_mask=p, attn_mask=m)

    compare(
        "MultiheadAttention",
        (8, 2),
        dict(batch_first=batch_first),
        x,
        attn_mask,
        padding,
        call=call,
    )

    def causal(module, q, m):
        return module(q, q, q, attn_mask=m, is_causal=True, need_weights=False)[0]

    float_mask = torch.triu(torch.full((4, 4), float("-inf")), 1)
    compare("MultiheadAttention", (8, 2), dict(batch_first=batch_first), x, float_mask, call=causal)
