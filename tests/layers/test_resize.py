"""interpolate / upsample / pixel_shuffle against torch: every mode, align_corners, size and
scale_factor, up- and downsampling, dynamic batch."""

import pytest
import torch.nn.functional as TF

import layers
from layers import functional as F

from helpers import assert_close, rand
from test_shape import check, layer_types, run_dynamic

LT = layers.trt.LayerType
X4 = rand(2, 3, 4, 5)

RESIZES = [  # size / scale_factor cases for a (2, 3, 4, 5) input
    ("scale2", dict(scale_factor=2)),
    ("scale_tuple", dict(scale_factor=(1.5, 3.0))),  # 4*1.5 and 5*3 are whole: in/out == 1/scale
    ("size_up", dict(size=(7, 9))),
    ("size_down", dict(size=(3, 2))),
    ("size_mixed", dict(size=(2, 8))),
    ("size_int", dict(size=6)),
]


@pytest.mark.parametrize("case,kwargs", RESIZES, ids=[r[0] for r in RESIZES])
@pytest.mark.parametrize("mode", ["nearest", "nearest-exact"])
def test_nearest(mode, case, kwargs):
    network = check(
        lambda x: F.interpolate(x, mode=mode, **kwargs),
        lambda t: TF.interpolate(t, mode=mode, **kwargs),
        X4,
    )
    assert layer_types(network) == [LT.RESIZE]


@pytest.mark.parametrize("case,kwargs", RESIZES, ids=[r[0] for r in RESIZES])
@pytest.mark.parametrize("align_corners", [False, True])
@pytest.mark.parametrize("mode", ["bilinear", "bicubic"])
def test_interpolating(mode, align_corners, case, kwargs):
    check(
        lambda x: F.interpolate(x, mode=mode, align_corners=align_corners, **kwargs),
        lambda t: TF.interpolate(t, mode=mode, align_corners=align_corners, **kwargs),
        X4,
    )


@pytest.mark.parametrize("align_corners", [None, True])
@pytest.mark.parametrize("kwargs", [dict(scale_factor=2), dict(size=7), dict(size=3)], ids=str)
def test_linear_1d(kwargs, align_corners):
    x = rand(2, 3, 5)
    check(
        lambda a: F.interpolate(a, mode="linear", align_corners=align_corners, **kwargs),
        lambda t: TF.interpolate(t, mode="linear", align_corners=align_corners, **kwargs),
        x,
    )
    check(lambda a: F.interpolate(a, **kwargs), lambda t: TF.interpolate(t, **kwargs), x)


@pytest.mark.parametrize(
    "mode,align_corners", [("trilinear", False), ("trilinear", True), ("nearest", None)]
)
def test_3d(mode, align_corners):
    x = rand(1, 2, 3, 4, 2)
    check(
        lambda a: F.interpolate(a, size=(5, 3, 4), mode=mode, align_corners=align_corners),
        lambda t: TF.interpolate(t, size=(5, 3, 4), mode=mode, align_corners=align_corners),
        x,
    )


def test_recompute_scale_factor():
    x = rand(1, 2, 5, 5)  # 5 * 1.5 = 7.5 -> 7; torch then maps coordinates by 5/7
    kwargs = dict(scale_factor=1.5, mode="bilinear", recompute_scale_factor=True)
    check(lambda a: F.interpolate(a, **kwargs), lambda t: TF.interpolate(t, **kwargs), x)


@pytest.mark.parametrize(
    "mode,shape",
    [
        ("linear", (1, 2, 5)),
        ("bilinear", (1, 2, 5, 6)),
        ("bicubic", (1, 2, 5, 6)),
        ("trilinear", (1, 2, 3, 5, 4)),
    ],
)
@pytest.mark.parametrize("scale", [1.7, 0.6, 2.5])
def test_align_corners_with_a_fractional_scale_factor(mode, shape, scale):
    """torch maps by (in - 1) / (out - 1) of the floored size, whatever the scale."""
    kwargs = dict(scale_factor=scale, mode=mode, align_corners=True)
    check(lambda a: F.interpolate(a, **kwargs), lambda t: TF.interpolate(t, **kwargs), rand(*shape))


def test_align_corners_with_a_fractional_scale_factor_needs_static_dims():
    with pytest.raises(NotImplementedError, match="fractional scale_factor needs static"):
        run_dynamic(
            lambda a: F.interpolate(a, scale_factor=1.7, mode="bilinear", align_corners=True),
            rand(1, 2, 5, 6),
            dynamic=(2,),
        )


def test_upsample_aliases():
    check(
        lambda x: F.upsample(x, scale_factor=2, mode="bilinear"),
        lambda t: TF.interpolate(t, scale_factor=2, mode="bilinear"),
        X4,
    )
    check(
        lambda x: F.upsample_nearest(x, size=(5, 7)), lambda t: TF.interpolate(t, size=(5, 7)), X4
    )
    check(
        lambda x: F.upsample_bilinear(x, scale_factor=2),
        lambda t: TF.interpolate(t, scale_factor=2, mode="bilinear", align_corners=True),
        X4,
    )


def test_interpolate_rejects_torch_errors():
    builder, network = layers.create_network()
    with layers.net_guard(network):
        x = layers.add_input("x", layers.float32, (1, 2, 3, 4))
        with pytest.raises(ValueError):
            F.interpolate(x, scale_factor=2, align_corners=True)  # nearest takes no align_corners
        with pytest.raises(ValueError):
            F.interpolate(x, size=(4, 4), scale_factor=2)
        with pytest.raises(ValueError, match="area"):
            F.interpolate(x, scale_factor=2, mode="area", align_corners=False)
        with pytest.raises(NotImplementedError, match="bogus"):
            F.interpolate(x, scale_factor=2, mode="bogus")


AREAS = [  # torch's mode="area" is adaptive average pooling to the output size
    ("down_uniform", (2, 3, 8, 6), dict(size=(4, 3))),
    ("down_uneven", (2, 3, 7, 5), dict(size=(3, 2))),
    ("up", (1, 2, 3, 4), dict(size=(5, 7))),
    ("scale_half", (2, 3, 8, 6), dict(scale_factor=0.5)),
    ("scale_floor", (1, 2, 7, 5), dict(scale_factor=(0.6, 1.5))),  # floor(4.2), floor(7.5)
    ("1d", (2, 3, 10), dict(size=4)),
    ("3d", (1, 2, 4, 6, 5), dict(size=(2, 3, 2))),
]


@pytest.mark.parametrize("shape,kwargs", [a[1:] for a in AREAS], ids=[a[0] for a in AREAS])
def test_area(shape, kwargs):
    check(
        lambda x: F.interpolate(x, mode="area", **kwargs),
        lambda t: TF.interpolate(t, mode="area", **kwargs),
        rand(*shape),
    )


def test_area_with_a_dynamic_batch():
    x = rand(3, 2, 8, 6)
    got = run_dynamic(lambda a: F.interpolate(a, size=(3, 2), mode="area"), x)
    assert_close(got[0], TF.interpolate(x, size=(3, 2), mode="area"))


@pytest.mark.parametrize("shape", [(2, 8, 3, 4), (18, 2, 3), (1, 2, 4, 2, 3)], ids=str)
def test_pixel_shuffle(shape):
    r = 3 if shape[-3] % 9 == 0 else 2
    network = check(lambda x: F.pixel_shuffle(x, r), lambda t: TF.pixel_shuffle(t, r), rand(*shape))
    assert layer_types(network) == [LT.SHUFFLE, LT.SHUFFLE]


@pytest.mark.parametrize("shape", [(2, 3, 4, 6), (2, 4, 2), (1, 2, 3, 4, 6)], ids=str)
def test_pixel_unshuffle(shape):
    check(lambda x: F.pixel_unshuffle(x, 2), lambda t: TF.pixel_unshuffle(t, 2), rand(*shape))


DYNAMIC = [
    (
        "scale",
        lambda x: F.interpolate(x, scale_factor=2, mode="bilinear"),
        lambda t: TF.interpolate(t, scale_factor=2, mode="bilinear"),
    ),
    (
        "size",
        lambda x: F.interpolate(x, size=(3, 7), mode="bicubic", align_corners=True),
        lambda t: TF.interpolate(t, size=(3, 7), mode="bicubic", align_corners=True),
    ),
    (
        "pixel_shuffle",
        lambda x: F.pixel_shuffle(x[:, :2].repeat(1, 2, 1, 1), 2),
        lambda t: TF.pixel_shuffle(t[:, :2].repeat(1, 2, 1, 1), 2),
    ),
    (
        "pixel_unshuffle",
        lambda x: F.pixel_unshuffle(x[..., :4], 2),
        lambda t: TF.pixel_unshuffle(t[..., :4], 2),
    ),
]


@pytest.mark.parametrize("name,fn,ref", DYNAMIC, ids=[d[0] for d in DYNAMIC])
def test_dynamic_batch(name, fn, ref):
    got, network = run_dynamic(fn, X4)
    assert_close(got, ref(X4))
