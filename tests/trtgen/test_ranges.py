"""Calibrators (trtgen.quant.ranges) on distributions with known answers; numpy references."""

import numpy as np
import pytest
import torch

from trtgen.quant.ranges import TensorStats, compute_amax, fake_quantize, scale_for, weight_scales


def _stats(*batches):
    stats = TensorStats()
    for batch in batches:
        stats.update(batch)
    return stats


def _mse(x, amax, qtype):
    return float(np.mean((fake_quantize(x, amax, qtype) - x) ** 2))


@pytest.fixture(scope="module")
def gaussian():
    return np.random.default_rng(0).standard_normal(200_000)


def test_max_is_exact_across_growing_batches():
    rng = np.random.default_rng(1)
    batches = [rng.standard_normal(1000) * s for s in (0.1, 1.0, 30.0, 2.0)]
    assert compute_amax(_stats(*batches), "max") == np.abs(np.concatenate(batches)).max()


def test_percentile_is_within_two_bins_after_range_growth(gaussian):
    stats = _stats(gaussian[:1000] * 0.01, gaussian[1000:])  # the range grows ~100x
    want = np.percentile(np.abs(np.concatenate([gaussian[:1000] * 0.01, gaussian[1000:]])), 99.9)
    bin_width = stats.range / len(stats.counts)
    # the upper edge of the bin reaching the percentile (up to one bin above), and the count
    # falling just short of it at a bin edge (one more bin)
    assert abs(compute_amax(stats, "percentile", percentile=99.9) - want) <= 2 * bin_width


def test_entropy_clips_outliers_but_not_uniform_data(gaussian):
    x = gaussian.copy()
    x[:5] = 40.0
    amax = compute_amax(_stats(x), "entropy", "int8")
    assert 2.0 < amax < 10.0  # well inside the outliers, above 2 sigma
    uniform = np.random.default_rng(2).uniform(-1, 1, 100_000)
    assert compute_amax(_stats(uniform), "entropy", "int8") > 0.95


@pytest.mark.parametrize("qtype", ["int8", "fp8"])
def test_mse_beats_max_and_percentile_on_its_own_measure(gaussian, qtype):
    stats = _stats(gaussian)
    amax = compute_amax(stats, "mse", qtype)
    assert _mse(gaussian, amax, qtype) <= _mse(gaussian, compute_amax(stats, "max"), qtype) * 1.001
    assert (
        _mse(gaussian, amax, qtype)
        <= _mse(gaussian, compute_amax(stats, "percentile"), qtype) * 1.001
    )
    if qtype == "int8":
        assert 2.0 < amax < 5.0


def test_fake_quantize_rounds_half_to_even_and_clamps():
    x = np.array([0.5, 1.5, 2.5, -0.5, 200.0, -200.0])
    assert fake_quantize(x, 127.0, "int8").tolist() == [0.0, 2.0, 2.0, -0.0, 127.0, -128.0]
    fp8 = fake_quantize(np.array([1000.0]), 448.0, "fp8")
    assert fp8.tolist() == [448.0]
    assert torch.float8_e4m3fn  # the FP8 path uses torch's E4M3 rounding


def test_weight_scales_per_axis():
    w = np.random.default_rng(3).standard_normal((4, 6, 3)).astype(np.float32)
    np.testing.assert_array_equal(
        weight_scales(w, 0, "int8"), np.abs(w).max(axis=(1, 2)) / np.float32(127)
    )
    np.testing.assert_array_equal(
        weight_scales(w, 1, "fp8"), np.abs(w).max(axis=(0, 2)) / np.float32(448)
    )


def test_zero_tensors_get_a_positive_scale():
    assert scale_for(compute_amax(_stats(np.zeros(10)), "max"), "int8") > 0
    assert (weight_scales(np.zeros((2, 3)), 0, "int8") > 0).all()


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"method": "median"}, "unknown calibrator 'median'"),
        ({"qtype": "int4"}, "unknown quantized type 'int4'"),
        ({"method": "entropy", "qtype": "fp8"}, "entropy calibrator is TensorRT's INT8 algorithm"),
        ({"percentile": 0}, "percentile 0 is outside (0, 100]"),
    ],
)
def test_bad_arguments(kwargs, message):
    with pytest.raises(ValueError) as error:
        compute_amax(_stats(np.ones(4)), **kwargs)
    assert message in str(error.value)


def test_no_data_is_an_error():
    with pytest.raises(ValueError, match="no calibration data"):
        compute_amax(TensorStats(), "max")
