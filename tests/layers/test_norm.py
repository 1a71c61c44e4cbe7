"""batch/layer/group/instance/rms/local-response norm against torch.nn.functional."""

import pytest
import torch
import torch.nn.functional as TF

import layers
from layers import functional as F

from helpers import check_and_build, layer_types, param, rand, run_layers


def check_op(*args, **kwargs):
    """check_and_build, returning the layer types (these tests also assert what was built)."""
    return layer_types(check_and_build(*args, **kwargs))


LT = layers.trt.LayerType


def stats(c, seed=0):
    mean = rand(c, seed=seed)
    var = rand(c, seed=seed + 1).abs() + 0.5
    weight = rand(c, seed=seed + 2)
    bias = rand(c, seed=seed + 3)
    return mean, var, weight, bias


@pytest.mark.parametrize("shape", [(2, 3), (2, 3, 5), (2, 3, 4, 5), (1, 3, 2, 3, 4)])
@pytest.mark.parametrize("affine", [True, False])
def test_batch_norm_folds_into_one_scale(shape, affine):
    mean, var, weight, bias = stats(shape[1])
    w, b = (weight, bias) if affine else (None, None)
    kinds = check_op(
        lambda h: F.batch_norm(
            h,
            param("bn.running_mean", mean),
            param("bn.running_var", var),
            param("bn.weight", w) if affine else None,
            param("bn.bias", b) if affine else None,
            eps=1e-3,
        ),
        lambda t: TF.batch_norm(t, mean, var, w, b, eps=1e-3),
        rand(*shape),
    )
    assert kinds.count(LT.SCALE) == 1 and LT.CONSTANT not in kinds


def test_batch_norm_tensor_statistics():
    mean, var, weight, bias = stats(3)
    check_op(
        lambda h, m, v, w, b: F.batch_norm(h, m, v, w, b),
        lambda t, m, v, w, b: TF.batch_norm(t, m, v, w, b),
        rand(2, 3, 4, 4),
        mean,
        var,
        weight,
        bias,
    )


@pytest.mark.parametrize("shape", [(4, 3), (2, 3, 5), (2, 3, 4, 5)])
def test_batch_norm_batch_statistics(shape):
    _, _, weight, bias = stats(3)
    check_op(
        lambda h: F.batch_norm(h, None, None, param("w", weight), param("b", bias), training=True),
        lambda t: TF.batch_norm(t, None, None, weight, bias, training=True),
        rand(*shape),
    )


@pytest.mark.parametrize("normalized_shape", [(5,), (4, 5), 5])
@pytest.mark.parametrize("affine", ["both", "weight", "none"])
def test_layer_norm(normalized_shape, affine):
    shape = (normalized_shape,) if isinstance(normalized_shape, int) else normalized_shape
    w, b = rand(*shape, seed=1), rand(*shape, seed=2)
    w = w if affine != "none" else None
    b = b if affine == "both" else None
    kinds = check_op(
        lambda h: F.layer_norm(
            h,
            normalized_shape,
            param("ln.weight", w) if w is not None else None,
            param("ln.bias", b) if b is not None else None,
            eps=1e-6,
        ),
        lambda t: TF.layer_norm(t, shape, w, b, eps=1e-6),
        rand(2, 3, 4, 5),
    )
    assert kinds.count(LT.NORMALIZATION) == 1 and LT.SHUFFLE not in kinds


def test_layer_norms_share_their_unit_scale_and_apply_the_affine_as_scale():
    """Over the last dim, each layer_norm is NORMALIZATION + SCALE (weight and bias inside the
    SCALE layer); every one reads the same two unit constants."""
    weights = [(rand(5, seed=s), rand(5, seed=s + 1)) for s in (1, 3)]

    def layers_fn(h):
        for i, (w, b) in enumerate(weights):
            h = F.layer_norm(h, (5,), param(f"ln{i}.weight", w), param(f"ln{i}.bias", b))
        return h

    def torch_fn(t):
        for w, b in weights:
            t = TF.layer_norm(t, (5,), w, b)
        return t

    network = check_and_build(layers_fn, torch_fn, rand(2, 3, 5))
    names = [network.get_layer(i).name for i in range(network.num_layers)]
    assert names == [
        "shared/one_3d",
        "shared/zero_3d",
        "layer_norm",
        "affine",
        "layer_norm_1",
        "affine_1",
    ]


def test_layer_norm_tensor_weights():
    w, b = rand(5, seed=1), rand(5, seed=2)
    check_op(
        lambda h, hw, hb: F.layer_norm(h, (5,), hw, hb),
        lambda t, tw, tb: TF.layer_norm(t, (5,), tw, tb),
        rand(2, 3, 5),
        w,
        b,
    )


@pytest.mark.parametrize(
    "shape,groups",
    [
        ((2, 6, 4, 5), 3),
        ((2, 6, 4, 5), 1),
        ((2, 6, 4, 5), 6),
        ((2, 4, 7), 2),
        ((3, 4), 2),
        ((1, 4, 2, 3, 2), 2),
    ],
)
@pytest.mark.parametrize("affine", [True, False])
def test_group_norm(shape, groups, affine):
    c = shape[1]
    w, b = (rand(c, seed=1), rand(c, seed=2)) if affine else (None, None)
    check_op(
        lambda h: F.group_norm(
            h,
            groups,
            param("gn.weight", w) if affine else None,
            param("gn.bias", b) if affine else None,
            eps=1e-5,
        ),
        lambda t: TF.group_norm(t, groups, w, b, eps=1e-5),
        rand(*shape),
    )


@pytest.mark.parametrize("shape", [(2, 3, 7), (2, 3, 4, 5), (1, 3, 2, 3, 4)])
@pytest.mark.parametrize("affine", [True, False])
def test_instance_norm(shape, affine):
    c = shape[1]
    w, b = (rand(c, seed=1), rand(c, seed=2)) if affine else (None, None)
    check_op(
        lambda h: F.instance_norm(
            h, weight=param("w", w) if affine else None, bias=param("b", b) if affine else None
        ),
        lambda t: TF.instance_norm(t, weight=w, bias=b),
        rand(*shape),
    )


def test_instance_norm_running_stats():
    mean, var, weight, bias = stats(3)
    check_op(
        lambda h: F.instance_norm(
            h,
            param("m", mean),
            param("v", var),
            param("w", weight),
            param("b", bias),
            use_input_stats=False,
        ),
        lambda t: TF.instance_norm(t, mean, var, weight, bias, use_input_stats=False),
        rand(2, 3, 4, 4),
    )


@pytest.mark.parametrize("normalized_shape", [(5,), (4, 5)])
@pytest.mark.parametrize("eps", [None, 1e-6])
@pytest.mark.parametrize("weight", [True, False])
def test_rms_norm(normalized_shape, eps, weight):
    w = rand(*normalized_shape, seed=1) if weight else None
    check_op(
        lambda h: F.rms_norm(h, normalized_shape, param("w", w) if weight else None, eps),
        lambda t: TF.rms_norm(t, normalized_shape, w, eps),
        rand(2, 3, 4, 5),
    )


@pytest.mark.parametrize("shape", [(2, 6, 4, 5), (2, 6, 7)])
@pytest.mark.parametrize("size", [1, 3, 5])
def test_local_response_norm(shape, size):
    check_op(
        lambda h: F.local_response_norm(h, size, alpha=1e-2, beta=0.75, k=2.0),
        lambda t: TF.local_response_norm(t, size, alpha=1e-2, beta=0.75, k=2.0),
        rand(*shape),
    )


@pytest.mark.parametrize("size", [2, 4, 17])
def test_local_response_norm_outside_the_lrn_layer(size):
    """Even sizes and sizes above 15 (TensorRT's LRN takes odd 1..15): torch's formula, composed."""
    check_op(
        lambda h: F.local_response_norm(h, size, alpha=1e-2, beta=0.75, k=2.0),
        lambda t: TF.local_response_norm(t, size, alpha=1e-2, beta=0.75, k=2.0),
        rand(2, 6, 4, 5),
    )


def test_norm_fp16():
    x = rand(2, 3, 4, 5, dtype=torch.float16)
    mean, var, weight, bias = (t.half() for t in stats(3))
    got = run_layers(
        lambda h: F.batch_norm(
            h, param("m", mean), param("v", var), param("w", weight), param("b", bias)
        ),
        x,
    )
    assert got.dtype == torch.float16
    want = TF.batch_norm(x.float(), mean.float(), var.float(), weight.float(), bias.float())
    assert (got.float() - want).abs().max() < 2e-2
    w5 = rand(5, dtype=torch.float16)
    got = run_layers(lambda h: F.layer_norm(h, (5,), param("w", w5)), x)
    assert got.dtype == torch.float16
    assert (got.float() - TF.layer_norm(x.float(), (5,), w5.float())).abs().max() < 2e-2


@pytest.mark.parametrize("affine", [True, False])
def test_group_norm_without_normalization_v2(monkeypatch, affine):
    """TensorRT < 10.15 path: per-group NORMALIZATION, then the per-channel affine."""
    from layers.functional import normalization as norm

    monkeypatch.setattr(norm, "_has_normalization_v2", lambda: False)
    w, b = (rand(6, seed=1), rand(6, seed=2)) if affine else (None, None)
    check_op(
        lambda h: F.group_norm(
            h, 3, param("gn.weight", w) if affine else None, param("gn.bias", b) if affine else None
        ),
        lambda t: TF.group_norm(t, 3, w, b),
        rand(2, 6, 4, 5),
    )


@pytest.mark.parametrize("p, dim", [(2.0, -1), (1.0, 1), (2.0, 0)])
def test_normalize(p, dim):
    x = rand(2, 5, 3)
    check_op(
        lambda t: F.normalize(t, p=p, dim=dim),
        lambda t: torch.nn.functional.normalize(t, p=p, dim=dim),
        x,
    )


@pytest.mark.parametrize("dim", [0, 1, 2])
def test_weight_norm(dim):
    v = rand(4, 3, 5)
    shape = [1, 1, 1]
    shape[dim] = v.shape[dim]
    g = rand(*shape, seed=1).abs() + 0.5
    check_op(
        lambda a, b: F.weight_norm(a, b, dim), lambda a, b: torch._weight_norm(a, b, dim), v, g
    )
