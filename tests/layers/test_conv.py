"""conv1d/2d/3d and conv_transpose1d/2d/3d against torch, weights as Parameters and as Tensors."""

import pytest
import torch
import torch.nn.functional as TF

import layers
from layers import functional as F

from helpers import check_and_build as check_op, param, rand, run_layers


def _conv_case(nd, x_shape, w_shape, bias, **kw):
    x = rand(*x_shape, seed=1)
    w = rand(*w_shape, seed=2)
    b = rand(w_shape[0], seed=3) if bias else None
    torch_fn = {1: TF.conv1d, 2: TF.conv2d, 3: TF.conv3d}[nd]
    layers_fn = getattr(F, f"conv{nd}d")
    check_op(
        lambda h: layers_fn(
            h, param("conv.weight", w), param("conv.bias", b) if bias else None, **kw
        ),
        lambda t: torch_fn(t, w, b, **kw),
        x,
    )


@pytest.mark.parametrize("stride", [1, 2, (2, 1)])
@pytest.mark.parametrize("padding", [0, 1, (2, 0), "same", "valid"])
@pytest.mark.parametrize("dilation", [1, 2])
@pytest.mark.parametrize("groups", [1, 2])
def test_conv2d(stride, padding, dilation, groups):
    if padding == "same" and stride != 1:
        pytest.skip("torch rejects 'same' with stride")
    _conv_case(
        2,
        (2, 4, 9, 8),
        (6, 4 // groups, 3, 2),
        True,
        stride=stride,
        padding=padding,
        dilation=dilation,
        groups=groups,
    )


@pytest.mark.parametrize(
    "kw",
    [
        dict(),
        dict(stride=2, padding=1),
        dict(padding="same", dilation=3),
        dict(groups=4),
        dict(padding="valid"),
    ],
)
def test_conv1d(kw):
    groups = kw.get("groups", 1)
    _conv_case(1, (2, 4, 11), (8, 4 // groups, 4), True, **kw)


def test_conv3d():
    _conv_case(3, (1, 2, 5, 6, 4), (3, 2, 3, 3, 2), True, stride=(1, 2, 1), padding=(1, 0, 1))
    _conv_case(3, (1, 2, 5, 6, 4), (3, 2, 2, 2, 2), False, padding="same")


def test_conv2d_unbatched_and_no_bias():
    _conv_case(2, (3, 7, 7), (5, 3, 3, 3), False, padding=1)
    _conv_case(1, (3, 7), (5, 3, 3), True, padding=1)


def test_conv_tensor_weights():
    """Weights that are network tensors are wired as layer inputs 1 and 2."""
    x, w, b = rand(2, 3, 6, 6, seed=1), rand(4, 3, 3, 3, seed=2), rand(4, seed=3)
    check_op(
        lambda h, hw, hb: F.conv2d(h, hw, hb, padding=1),
        lambda t, tw, tb: TF.conv2d(t, tw, tb, padding=1),
        x,
        w,
        b,
    )
    x1, w1 = rand(2, 3, 9, seed=4), rand(4, 3, 3, seed=5)
    check_op(
        lambda h, hw: F.conv1d(h, hw, stride=2), lambda t, tw: TF.conv1d(t, tw, stride=2), x1, w1
    )


def test_conv_weights_are_named_not_constant_layers():
    x, w, b = rand(1, 3, 5, 5), rand(4, 3, 3, 3), rand(4)
    _, (_, network) = run_layers(
        lambda h: F.conv2d(h, param("c.weight", w), param("c.bias", b)), x, return_network=True
    )
    types = [network.get_layer(i).type for i in range(network.num_layers)]
    assert types == [layers.trt.LayerType.CONVOLUTION]


def _deconv_case(nd, x_shape, w_shape, bias, **kw):
    x = rand(*x_shape, seed=1)
    w = rand(*w_shape, seed=2)
    groups = kw.get("groups", 1)
    b = rand(w_shape[1] * groups, seed=3) if bias else None
    torch_fn = {1: TF.conv_transpose1d, 2: TF.conv_transpose2d, 3: TF.conv_transpose3d}[nd]
    layers_fn = getattr(F, f"conv_transpose{nd}d")
    check_op(
        lambda h: layers_fn(h, param("up.weight", w), param("up.bias", b) if bias else None, **kw),
        lambda t: torch_fn(t, w, b, **kw),
        x,
    )


@pytest.mark.parametrize("stride", [1, 2, (3, 2)])
@pytest.mark.parametrize("padding", [0, 2])
@pytest.mark.parametrize("output_padding", [0, 1])
@pytest.mark.parametrize("groups", [1, 2])
@pytest.mark.parametrize("dilation", [1, 2])
def test_conv_transpose2d(stride, padding, output_padding, groups, dilation):
    if output_padding >= max(min((stride,) if isinstance(stride, int) else stride), dilation):
        pytest.skip("torch: output_padding must be smaller than stride or dilation")
    _deconv_case(
        2,
        (2, 4, 5, 4),
        (4, 3, 3, 3),
        True,
        stride=stride,
        padding=padding,
        output_padding=output_padding,
        groups=groups,
        dilation=dilation,
    )


def test_conv_transpose1d_and_3d():
    _deconv_case(1, (2, 4, 7), (4, 3, 4), True, stride=2, padding=1, output_padding=1)
    _deconv_case(1, (4, 7), (4, 3, 3), False, stride=2, output_padding=1)  # unbatched, op > padding
    _deconv_case(1, (2, 4, 7), (4, 3, 3), True, stride=2, dilation=2, padding=1)  # spread kernel
    _deconv_case(
        3,
        (1, 2, 3, 4, 3),
        (2, 3, 2, 3, 2),
        True,
        stride=(2, 1, 2),
        padding=(0, 1, 0),
        output_padding=(1, 0, 1),
    )


def test_conv_transpose_tensor_weights():
    x, w, b = rand(2, 4, 5, 5, seed=1), rand(4, 3, 3, 3, seed=2), rand(3, seed=3)
    check_op(
        lambda h, hw, hb: F.conv_transpose2d(h, hw, hb, stride=2, padding=1, output_padding=1),
        lambda t, tw, tb: TF.conv_transpose2d(t, tw, tb, stride=2, padding=1, output_padding=1),
        x,
        w,
        b,
    )


def test_conv_errors():
    x = rand(2, 4, 5, 5)
    with pytest.raises(ValueError, match="same"):
        run_layers(lambda h: F.conv2d(h, param("w", rand(2, 4, 3, 3)), stride=2, padding="same"), x)
    with pytest.raises(ValueError, match="channels"):
        run_layers(lambda h: F.conv2d(h, param("w", rand(2, 3, 3, 3))), x)


def test_conv_fp16():
    x, w, b = (
        rand(1, 3, 6, 6, dtype=torch.float16),
        rand(4, 3, 3, 3, dtype=torch.float16),
        rand(4, dtype=torch.float16),
    )
    got = run_layers(lambda h: F.conv2d(h, param("w", w), param("b", b), padding=1), x)
    assert got.dtype == torch.float16
    want = TF.conv2d(x.float(), w.float(), b.float(), padding=1)
    assert (got.float() - want).abs().max() < 2e-2
    got, (builder, network) = run_layers(
        lambda h: F.conv_transpose2d(h, param("w", w.transpose(0, 1).contiguous()), stride=2),
        x,
        return_network=True,
    )
    want = TF.conv_transpose2d(x.float(), w.float().transpose(0, 1), stride=2)
    assert got[0].dtype == torch.float16 and (got[0].float() - want).abs().max() < 2e-2
    layers.build_engine(builder, network)
