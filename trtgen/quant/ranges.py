"""Calibrators: the clipping range (amax) of a tensor from its values over calibration batches.

Statistics are a histogram of |x| (2048 bins from 0 to a range that doubles, merging bins
pairwise, whenever a larger value arrives) plus the exact maximum. The scale of a symmetric
quantizer is amax / 127 (INT8) or amax / 448 (FP8 E4M3).

* ``max``: the largest |x|.
* ``percentile``: the upper edge of the bin where the cumulative count reaches the percentile.
* ``entropy``: TensorRT's INT8 entropy calibrator: the threshold (bins 128..2048) whose
  128-level quantized distribution Q is closest to the clipped distribution P (KL(P || Q)).
* ``mse``: the candidate amax with the least mean squared error of fake quantization, over the
  histogram's bin centres weighted by their counts.
"""

import numpy as np
import torch

QMAX = {"int8": 127.0, "fp8": 448.0}
BINS = 2048
_TINY = np.float32(1e-8)  # the scale of an all-zero tensor: anything positive quantizes it to 0


class TensorStats:
    """|x| statistics of one tensor over every calibration batch."""

    def __init__(self, bins=BINS):
        self.counts = np.zeros(bins, dtype=np.float64)
        self.range = 0.0  # the histogram covers [0, range]
        self.amax = 0.0
        self.count = 0

    def update(self, values):
        values = (
            values.detach().float().cpu().numpy() if torch.is_tensor(values) else np.asarray(values)
        )
        values = np.abs(values.astype(np.float64).reshape(-1))
        if values.size == 0:
            return
        top = float(values.max())
        self.amax, self.count = max(self.amax, top), self.count + values.size
        if self.range == 0.0:
            self.range = top if top > 0 else 1.0
        while top > self.range:  # double the range: old bins merge pairwise, exactly
            merged = self.counts.reshape(-1, 2).sum(axis=1)
            self.counts = np.concatenate([merged, np.zeros_like(merged)])
            self.range *= 2
        hist, _ = np.histogram(values, bins=len(self.counts), range=(0.0, self.range))
        self.counts += hist

    @property
    def edges(self):
        return np.linspace(0.0, self.range, len(self.counts) + 1)


def _max(stats, qtype, percentile):
    return stats.amax


def _percentile(stats, qtype, percentile):
    cumulative = np.cumsum(stats.counts) / stats.counts.sum()
    index = int(np.searchsorted(cumulative, percentile / 100.0))
    return min(float(stats.edges[min(index + 1, len(stats.counts))]), stats.amax)


def _entropy(stats, qtype, percentile, levels=128):
    counts = stats.counts
    best, best_kl = len(counts), np.inf
    for stop in range(levels, len(counts) + 1):
        p = counts[:stop].copy()
        p[-1] += counts[stop:].sum()  # outliers clip into the last kept bin
        if p.sum() == 0:
            continue
        q = _quantized_distribution(counts[:stop], levels)
        kl = _kl(p, q)
        if kl < best_kl:
            best, best_kl = stop, kl
    return float(stats.edges[best])


def _quantized_distribution(p, levels):
    """``p`` merged into ``levels`` groups, each spread evenly over its non-empty bins."""
    base, extra = divmod(len(p), levels)
    sizes = np.array([base + 1] * extra + [base] * (levels - extra))
    starts = np.concatenate([[0], np.cumsum(sizes)[:-1]])
    nonzero = p != 0
    sums = np.add.reduceat(p, starts)
    filled = np.add.reduceat(nonzero.astype(np.float64), starts)
    per_bin = np.divide(sums, filled, out=np.zeros_like(sums), where=filled > 0)
    return np.repeat(per_bin, sizes) * nonzero


def _kl(p, q):
    p, q = p / p.sum(), q / q.sum() if q.sum() else q
    mask = p > 0
    if (q[mask] == 0).any():
        return np.inf
    return float(np.sum(p[mask] * np.log(p[mask] / q[mask])))


def fake_quantize(x, amax, qtype):
    """x through a symmetric Q/DQ pair, exactly as TensorRT rounds (half to even) and clamps."""
    scale = amax / QMAX[qtype]
    if qtype == "int8":
        return np.clip(np.round(x / scale), -128, 127) * scale
    q = torch.from_numpy(np.clip(x / scale, -448, 448).astype(np.float32))
    return q.to(torch.float8_e4m3fn).float().numpy().astype(np.float64) * scale


def _mse(stats, qtype, percentile, candidates=128):
    centres = (stats.edges[:-1] + stats.edges[1:]) / 2
    used = stats.counts > 0
    centres, weights = centres[used], stats.counts[used]
    best, best_error = stats.amax, np.inf
    for amax in np.linspace(stats.amax / candidates, stats.amax, candidates):
        error = np.sum(weights * (fake_quantize(centres, amax, qtype) - centres) ** 2)
        if error < best_error:
            best, best_error = float(amax), error
    return best


METHODS = {"max": _max, "percentile": _percentile, "entropy": _entropy, "mse": _mse}


def compute_amax(stats, method="percentile", qtype="int8", percentile=99.99):
    if method not in METHODS:
        raise ValueError(f"unknown calibrator {method!r}; choose one of {', '.join(METHODS)}")
    if qtype not in QMAX:
        raise ValueError(f"unknown quantized type {qtype!r}; choose one of {', '.join(QMAX)}")
    if method == "entropy" and qtype != "int8":
        raise ValueError(
            "the entropy calibrator is TensorRT's INT8 algorithm; use max, percentile or mse for fp8"
        )
    if not 0 < percentile <= 100:
        raise ValueError(f"percentile {percentile} is outside (0, 100]")
    if stats.count == 0:
        raise ValueError("no calibration data was collected for this tensor")
    if stats.amax == 0:
        return 0.0
    return METHODS[method](stats, qtype, percentile)


def scale_for(amax, qtype):
    """The quantizer's scale: amax / the largest quantized magnitude, never 0."""
    scale = np.float32(amax / QMAX[qtype])
    return np.array(scale if scale > 0 else _TINY, dtype=np.float32)


def weight_scales(weight, axis, qtype):
    """Per-channel symmetric scales along ``axis`` (max |w| over every other axis)."""
    weight = np.abs(np.asarray(weight, dtype=np.float32))
    others = tuple(i for i in range(weight.ndim) if i != axis)
    amax = weight.max(axis=others) if others else weight
    scales = (amax / np.float32(QMAX[qtype])).astype(np.float32)
    return np.where(scales > 0, scales, _TINY).astype(np.float32)
