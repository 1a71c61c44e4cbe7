"""Shape ops against torch: reshape/view, flatten, permute, squeeze/unsqueeze, expand, repeat.

Also: no-ops add no layer, static networks get no SHAPE layer, and dynamic (-1) dims work.
"""

import pytest
import torch

import layers
from layers import functional as F
from trtgen.reference import execute

from helpers import assert_close, check_op, layer_types, rand, run_layers


def materialized(fn):
    """``fn`` whose outputs are never network inputs (a no-op result cannot be marked output)."""

    def wrapped(*args):
        out = fn(*args)
        outs = list(out) if isinstance(out, (tuple, list)) else [out]
        outs = [
            (
                layers.Tensor(layers.current_network().add_identity(o.trt).get_output(0))
                if o.trt.is_network_input
                else o
            )
            for o in outs
        ]
        return outs if isinstance(out, (tuple, list)) else outs[0]

    return wrapped


def check(layers_fn, torch_fn, *inputs):
    """Compare with torch through the reference executor, then let TensorRT build the engine."""
    got, (builder, network) = run_layers(materialized(layers_fn), *inputs, return_network=True)
    want = torch_fn(*inputs)
    wants = list(want) if isinstance(want, (tuple, list)) else [want]
    assert len(got) == len(wants)
    for g, w in zip(got, wants):
        assert_close(g, w)
    layers.build_engine(builder, network)
    return network


def run_dynamic(fn, x, dynamic=(0,)):
    """Run ``fn`` on an input whose ``dynamic`` dims are -1; build the engine with a profile."""
    shape = tuple(-1 if i in dynamic else d for i, d in enumerate(x.shape))
    builder, network = layers.create_network()
    with layers.net_guard(network):
        out = fn(layers.add_input("x", layers.float32, shape))
        outs = list(out) if isinstance(out, (tuple, list)) else [out]
        for i, o in enumerate(outs):
            layers.mark_output(o, f"out{i}")
    lo = tuple(1 if i in dynamic else d for i, d in enumerate(x.shape))
    hi = tuple(2 * d if i in dynamic else d for i, d in enumerate(x.shape))
    layers.build_engine(builder, network, profiles=[{"x": (lo, tuple(x.shape), hi)}])
    values = execute(network, {"x": x})
    got = [values[f"out{i}"] for i in range(len(outs))]
    return (got if isinstance(out, (tuple, list)) else got[0]), network


X = rand(2, 3, 4, 5)

RESHAPES = [
    ("view_varargs", lambda a: a.view(6, -1), lambda t: t.view(6, -1)),
    ("view_tuple", lambda a: F.view(a, (2, 60)), lambda t: t.view(2, 60)),
    ("reshape_list", lambda a: F.reshape(a, [-1]), lambda t: t.reshape(-1)),
    ("reshape_5d", lambda a: a.reshape(2, 3, 2, 2, 5), lambda t: t.reshape(2, 3, 2, 2, 5)),
    ("view_as", lambda a: a.view_as(F.reshape(a, 6, 20)), lambda t: t.view(6, 20)),
    ("flatten", lambda a: a.flatten(), lambda t: t.flatten()),
    ("flatten_1", lambda a: F.flatten(a, 1), lambda t: t.flatten(1)),
    ("flatten_mid", lambda a: a.flatten(1, 2), lambda t: t.flatten(1, 2)),
    ("flatten_neg", lambda a: a.flatten(-2, -1), lambda t: t.flatten(-2, -1)),
    ("unflatten", lambda a: a.unflatten(-1, (5, 1)), lambda t: t.unflatten(-1, (5, 1))),
    ("unflatten_infer", lambda a: F.unflatten(a, 2, (2, -1)), lambda t: t.unflatten(2, (2, -1))),
    ("permute", lambda a: a.permute(3, 1, 0, 2), lambda t: t.permute(3, 1, 0, 2)),
    ("permute_neg", lambda a: F.permute(a, (0, -1, 1, -2)), lambda t: t.permute(0, -1, 1, -2)),
    ("transpose", lambda a: a.transpose(1, -1), lambda t: t.transpose(1, -1)),
    ("swapaxes", lambda a: F.swapaxes(a, 0, 2), lambda t: t.swapaxes(0, 2)),
    ("movedim", lambda a: a.movedim(1, -1), lambda t: t.movedim(1, -1)),
    ("movedim_many", lambda a: F.movedim(a, (0, 3), (2, 0)), lambda t: t.movedim((0, 3), (2, 0))),
    ("unsqueeze_0", lambda a: a.unsqueeze(0), lambda t: t.unsqueeze(0)),
    ("unsqueeze_neg", lambda a: a.unsqueeze(-1), lambda t: t.unsqueeze(-1)),
    ("unsqueeze_mid", lambda a: F.unsqueeze(a, -3), lambda t: t.unsqueeze(-3)),
]


@pytest.mark.parametrize("name,fn,ref", RESHAPES, ids=[r[0] for r in RESHAPES])
def test_reshape_family(name, fn, ref):
    check(fn, ref, X)


SQUEEZES = [
    ("all", lambda a: a.squeeze(), lambda t: t.squeeze()),
    ("dim", lambda a: a.squeeze(2), lambda t: t.squeeze(2)),
    ("neg_dim", lambda a: F.squeeze(a, -1), lambda t: t.squeeze(-1)),
    ("tuple", lambda a: a.squeeze((0, 2)), lambda t: t.squeeze((0, 2))),
    ("non_one_dim", lambda a: a.squeeze(1), lambda t: t.squeeze(1)),  # torch: a no-op
]


@pytest.mark.parametrize("name,fn,ref", SQUEEZES, ids=[s[0] for s in SQUEEZES])
def test_squeeze(name, fn, ref):
    check(fn, ref, rand(1, 3, 1, 1))


def test_t():
    check(lambda a: a.t(), lambda t: t.t(), rand(3, 4))


EXPANDS = [
    ("keep", (2, 1, 4, 1), lambda a: a.expand(-1, 3, -1, 5), lambda t: t.expand(-1, 3, -1, 5)),
    ("lead", (3, 1), lambda a: F.expand(a, (2, 3, 4)), lambda t: t.expand(2, 3, 4)),
    ("all_ones", (1, 1), lambda a: a.expand(3, 4), lambda t: t.expand(3, 4)),
    (
        "broadcast_to",
        (4, 1),
        lambda a: F.broadcast_to(a, (2, 4, 6)),
        lambda t: torch.broadcast_to(t, (2, 4, 6)),
    ),
    ("repeat", (2, 3), lambda a: a.repeat(2, 1, 3), lambda t: t.repeat(2, 1, 3)),
    ("repeat_same_rank", (2, 3, 1), lambda a: F.repeat(a, (1, 2, 4)), lambda t: t.repeat(1, 2, 4)),
    ("tile_short", (2, 3), lambda a: a.tile((2,)), lambda t: t.tile((2,))),
    ("tile_long", (2, 3), lambda a: F.tile(a, (2, 1, 2)), lambda t: t.tile((2, 1, 2))),
]


@pytest.mark.parametrize("name,shape,fn,ref", EXPANDS, ids=[e[0] for e in EXPANDS])
def test_expand_repeat(name, shape, fn, ref):
    check(fn, ref, rand(*shape))


def test_expand_as():
    check(lambda a, b: a.expand_as(b), lambda a, b: a.expand_as(b), rand(3, 1), rand(2, 3, 4))


def test_expand_uses_one_slice():
    network = check(lambda a: a.expand(2, 3, 4), lambda t: t.expand(2, 3, 4), rand(1, 3, 1))
    assert layer_types(network) == [layers.trt.LayerType.SLICE]


NOOPS = [
    ("reshape_same", lambda a: a.reshape(2, 3, 4, 5)),
    ("view_same_infer", lambda a: a.view(2, 3, 4, -1)),
    ("permute_identity", lambda a: a.permute(0, 1, 2, 3)),
    ("transpose_same", lambda a: a.transpose(1, 1)),
    ("contiguous", lambda a: a.contiguous()),
    ("F_contiguous", lambda a: F.contiguous(a)),
    ("flatten_single", lambda a: a.flatten(2, 2)),
    ("squeeze_none", lambda a: a.squeeze()),
    ("expand_same", lambda a: a.expand(2, 3, -1, 5)),
    ("repeat_ones", lambda a: a.repeat(1, 1, 1, 1)),
]


@pytest.mark.parametrize("name,fn", NOOPS, ids=[n[0] for n in NOOPS])
def test_noop_adds_no_layer(name, fn):
    builder, network = layers.create_network()
    with layers.net_guard(network):
        x = layers.add_input("x", layers.float32, (2, 3, 4, 5))
        assert fn(x) is x
    assert network.num_layers == 0


def test_size_and_numel_are_ints_when_static():
    builder, network = layers.create_network()
    with layers.net_guard(network):
        x = layers.add_input("x", layers.float32, (2, 3, 4))
        assert x.size() == (2, 3, 4)
        assert F.size(x, -1) == 4 and x.size(1) == 3
        assert F.numel(x) == 24
    assert network.num_layers == 0


def test_static_network_has_no_shape_layer():
    """A mix of every family's ops on static shapes: all dims are literal, no SHAPE layer."""

    def net(x):
        y = x.view(x.size(0), -1).unsqueeze(1).expand(-1, 2, -1).flatten(1)  # (2, 120)
        y = F.reshape(y, 2, 3, 4, 10).permute(0, 3, 1, 2)[:, 1:9:2, None, -1]  # (2, 4, 1, 4)
        y = F.pad(y.squeeze(2), (1, 1), mode="reflect")  # (2, 4, 6)
        y = F.interpolate(y, scale_factor=2.0, mode="linear")  # (2, 4, 12)
        a, b = F.chunk(y, 2, dim=-1)
        y = F.cat([F.stack([a, b], 1).flatten(1, 2), y.repeat(1, 2, 1)[..., :6]], dim=-2)
        return F.pixel_shuffle(F.unflatten(y, 1, (4, 4)).flatten(2).unsqueeze(-1)[:, :, :4], 2)

    x = rand(2, 3, 4, 5)
    network = check(net, net_torch, x)
    assert layers.trt.LayerType.SHAPE not in layer_types(network)


def net_torch(x):
    tf = torch.nn.functional
    y = x.view(x.size(0), -1).unsqueeze(1).expand(-1, 2, -1).flatten(1)
    y = y.reshape(2, 3, 4, 10).permute(0, 3, 1, 2)[:, 1:9:2, None, -1]
    y = tf.pad(y.squeeze(2), (1, 1), mode="reflect")
    y = tf.interpolate(y, scale_factor=2.0, mode="linear")
    a, b = torch.chunk(y, 2, dim=-1)
    y = torch.cat([torch.stack([a, b], 1).flatten(1, 2), y.repeat(1, 2, 1)[..., :6]], dim=-2)
    return tf.pixel_shuffle(y.unflatten(1, (4, 4)).flatten(2).unsqueeze(-1)[:, :, :4], 2)


# --------------------------------------------------------------------------- dynamic dims

DYNAMIC = [
    ("view_size0", lambda a: a.view(a.size(0), -1), lambda t: t.view(t.size(0), -1)),
    ("view_infer", lambda a: a.view(-1, 5), lambda t: t.view(-1, 5)),
    ("flatten_1", lambda a: a.flatten(1), lambda t: t.flatten(1)),
    ("flatten_0_1", lambda a: a.flatten(0, 1), lambda t: t.flatten(0, 1)),
    ("unsqueeze_flatten", lambda a: a.unsqueeze(0).flatten(2), lambda t: t.unsqueeze(0).flatten(2)),
    ("permute", lambda a: a.permute(0, 2, 3, 1), lambda t: t.permute(0, 2, 3, 1)),
    ("squeeze", lambda a: a[:, :1].squeeze(1), lambda t: t[:, :1].squeeze(1)),
    ("expand", lambda a: a[:, :1].expand(-1, 7, -1, -1), lambda t: t[:, :1].expand(-1, 7, -1, -1)),
    ("repeat", lambda a: a.repeat(1, 2, 1, 3), lambda t: t.repeat(1, 2, 1, 3)),
    ("repeat_dynamic_dim", lambda a: a.repeat(2, 1, 1, 1), lambda t: t.repeat(2, 1, 1, 1)),
    ("numel", lambda a: F.numel(a), lambda t: torch.tensor(t.numel())),
    ("size", lambda a: a.size(0), lambda t: torch.tensor(t.size(0))),
]


@pytest.mark.parametrize("name,fn,ref", DYNAMIC, ids=[d[0] for d in DYNAMIC])
def test_dynamic_batch(name, fn, ref):
    got, network = run_dynamic(fn, X)
    assert_close(got, ref(X))


def test_dynamic_flatten_needs_no_shape_layer():
    _, network = run_dynamic(lambda a: a.flatten(1).unsqueeze(1), X)
    assert layer_types(network) == [layers.trt.LayerType.SHUFFLE] * 2


@pytest.mark.parametrize("shifts, dims", [((-3, 2), (1, 2)), (4, 1), (7, None), ((1, 1), (-1, -2))])
def test_roll(shifts, dims):
    x = rand(2, 5, 6, 3)
    check_op(lambda t: F.roll(t, shifts, dims), lambda t: torch.roll(t, shifts, dims), x)


def test_roll_with_a_dynamic_batch():
    """Swin's shifted windows: roll along static dims of a dynamic-batch input."""
    x = rand(3, 5, 6, 4)
    got, _ = run_dynamic(lambda t: F.roll(t, [-2, 3], [1, 2]), x)
    assert_close(got, torch.roll(x, [-2, 3], [1, 2]), 0)
