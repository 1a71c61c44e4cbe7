"""A batch norm right after a convolution folds into the convolution's weights: one layer,
torch's result, and the pre-norm value still right wherever the model uses it again."""

import numpy as np
import pytest
import torch
import torch.nn.functional as TF

import layers
from layers import functional as F

from helpers import assert_close, check_and_build, execute, layer_types, param, rand, run_layers

LT = layers.trt.LayerType
EPS = 1e-3


def batch_norm_params(c, seed=0):
    """(torch tensors, layers Parameters) of a batch norm over ``c`` channels."""
    mean, weight, bias = (rand(c, seed=seed + i) for i in (0, 2, 3))
    var = rand(c, seed=seed + 1).abs() + 0.5
    tensors = (mean, var, weight, bias)
    names = ("bn.running_mean", "bn.running_var", "bn.weight", "bn.bias")
    return tensors, [param(n, t) for n, t in zip(names, tensors)]


def conv_params(shape, bias, seed=10):
    w = rand(*shape, seed=seed)
    b = rand(shape[0], seed=seed + 1) if bias else None
    return (w, b), (param("conv.weight", w), param("conv.bias", b) if bias else None)


@pytest.mark.parametrize("bias", [False, True])
@pytest.mark.parametrize(
    "nd,layers_conv,torch_conv", [(2, F.conv2d, TF.conv2d), (3, F.conv3d, TF.conv3d)]
)
def test_batch_norm_after_a_convolution_folds_into_it(nd, layers_conv, torch_conv, bias):
    (w, b), (pw, pb) = conv_params((4, 3) + (3,) * nd, bias)
    bn, pbn = batch_norm_params(4)
    x = rand(2, 3, *(6,) * nd, seed=20)
    network = check_and_build(
        lambda h: F.batch_norm(layers_conv(h, pw, pb, padding=1), *pbn, eps=EPS),
        lambda t: TF.batch_norm(torch_conv(t, w, b, padding=1), *bn, eps=EPS),
        x,
    )
    assert layer_types(network) == [LT.CONVOLUTION]
    conv = network.get_layer(0)
    conv.__class__ = layers.trt.IConvolutionLayer  # the layer type's own attributes
    scale = 1 / np.sqrt(bn[1].double().numpy() + EPS) * bn[2].double().numpy()
    shift = bn[3].double().numpy() - bn[0].double().numpy() * scale
    kernel = w.double().numpy() * scale.reshape(4, *(1,) * (nd + 1))
    conv_bias = shift if b is None else b.double().numpy() * scale + shift
    np.testing.assert_array_equal(np.asarray(conv.kernel), kernel.astype(np.float32).ravel())
    np.testing.assert_array_equal(np.asarray(conv.bias), conv_bias.astype(np.float32))


def test_the_convolution_output_used_again_is_the_unfolded_value():
    """``y = conv(x); z = bn(y)`` then ``y`` again: an unfolded copy of the convolution."""
    (w, b), (pw, pb) = conv_params((4, 3, 3, 3), True)
    bn, pbn = batch_norm_params(4)

    def layers_fn(h):
        y = F.conv2d(h, pw, pb)
        z = F.batch_norm(y, *pbn, eps=EPS)
        network = layers.network.current_network()
        assert (y.shape, y.dtype, network.num_layers) == (z.shape, z.dtype, 1)  # no copy yet
        return z, y * 2.0

    def torch_fn(t):
        y = TF.conv2d(t, w, b)
        return TF.batch_norm(y, *bn, eps=EPS), y * 2.0

    network = check_and_build(layers_fn, torch_fn, rand(2, 3, 5, 5, seed=20))
    assert layer_types(network).count(LT.CONVOLUTION) == 2 and LT.SCALE not in layer_types(network)


@pytest.mark.parametrize("between", ["relu", "output", "second_batch_norm"])
def test_no_fold_when_another_layer_or_an_output_reads_the_convolution_first(between):
    (w, b), (pw, pb) = conv_params((4, 3, 3, 3), False)
    bn, pbn = batch_norm_params(4)
    x = rand(2, 3, 5, 5, seed=20)

    def layers_fn(h):
        y = F.conv2d(h, pw, pb)
        if between == "relu":
            return F.batch_norm(F.relu(y), *pbn, eps=EPS)
        if between == "output":
            layers.mark_output(y, "conv_out")
            return F.batch_norm(y, *pbn, eps=EPS)
        return F.batch_norm(F.batch_norm(y, *pbn, eps=EPS), *pbn, eps=EPS)

    got, (builder, network) = run_layers(layers_fn, x, return_network=True)
    y = TF.conv2d(x, w)
    once = TF.batch_norm(y, *bn, eps=EPS)
    want = {
        "relu": TF.batch_norm(torch.relu(y), *bn, eps=EPS),
        "output": once,
        "second_batch_norm": TF.batch_norm(once, *bn, eps=EPS),
    }[between]
    assert_close(got[0], want)
    kinds = layer_types(network)
    assert kinds.count(LT.CONVOLUTION) == 1 and kinds.count(LT.SCALE) == 1
    if between == "output":  # the marked output keeps the convolution's own value
        assert_close(execute(network, {"input0": x})["conv_out"], y)


def test_fp16_folds_from_the_stored_float32_values():
    (w, b), (pw, pb) = conv_params((4, 3, 3, 3), True)
    bn, pbn = batch_norm_params(4)
    x = rand(2, 3, 5, 5, seed=20)
    for p in (pw, pb, *pbn):
        p.dtype = layers.float16  # as Module.to(float16) leaves the stored float32 value
    got, (builder, network) = run_layers(
        lambda h: F.batch_norm(F.conv2d(h, pw, pb), *pbn, eps=EPS),
        x.half(),
        return_network=True,
    )
    assert layer_types(network) == [LT.CONVOLUTION]
    conv = network.get_layer(0)
    conv.__class__ = layers.trt.IConvolutionLayer
    assert np.asarray(conv.kernel).dtype == np.float16
    want = TF.batch_norm(TF.conv2d(x, w, b), *bn, eps=EPS)
    assert got[0].dtype == torch.float16 and (got[0].float() - want).abs().max() < 2e-2
