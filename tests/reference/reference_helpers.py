"""Helpers for the reference-executor tests: tiny real TensorRT networks and tolerant comparisons.

(Named uniquely: pytest puts every test directory on sys.path, next to tests/layers/helpers.py.)
"""

import numpy as np
import torch

from layers.backend import trt
from trtgen.reference import execute

STRONGLY_TYPED = 1 << int(trt.NetworkDefinitionCreationFlag.STRONGLY_TYPED)

_TRT_TYPES = {
    np.dtype(np.float32): trt.DataType.FLOAT,
    np.dtype(np.float16): trt.DataType.HALF,
    np.dtype(np.int8): trt.DataType.INT8,
    np.dtype(np.int32): trt.DataType.INT32,
    np.dtype(np.int64): trt.DataType.INT64,
    np.dtype(np.bool_): trt.DataType.BOOL,
}


class Net:
    """A strongly typed network under construction, plus the values to feed its inputs."""

    def __init__(self):
        self.logger = trt.Logger(trt.Logger.ERROR)
        self.builder = trt.Builder(self.logger)
        self.network = self.builder.create_network(STRONGLY_TYPED)
        self.feeds = {}
        self._alive = []  # TensorRT does not copy Weights: keep their numpy buffers alive

    def input(self, name, value):
        value = np.array(value, order="C")
        tensor = self.network.add_input(name, _TRT_TYPES[value.dtype], value.shape)
        self.feeds[name] = value
        return tensor

    def weights(self, value):
        value = np.array(value, order="C")
        self._alive.append(value)
        return trt.Weights(value)

    def const(self, value):
        value = np.array(value, order="C")
        return self.network.add_constant(value.shape, self.weights(value)).get_output(0)

    def run(self, *outputs, keep=None):
        """Mark ``outputs``, execute, and return their values in order."""
        for i, tensor in enumerate(outputs):
            if not tensor.is_network_output:
                self.network.mark_output(tensor)
        result = execute(self.network, self.feeds, keep=keep)
        values = [result[t.name] for t in outputs]
        return values[0] if len(values) == 1 else values


def assert_close(actual, expected, tol=1e-5):
    """Floats: max|a - e| <= tol * max(1, max|e|). Everything else: exact."""
    actual = actual if isinstance(actual, torch.Tensor) else torch.as_tensor(actual)
    expected = (
        expected if isinstance(expected, torch.Tensor) else torch.as_tensor(np.array(expected))
    )
    assert tuple(actual.shape) == tuple(
        expected.shape
    ), f"shape {tuple(actual.shape)} != {tuple(expected.shape)}"
    if expected.is_floating_point() or actual.is_floating_point():
        a, e = actual.double(), expected.double()
        both_nan = torch.isnan(a) & torch.isnan(e)
        same_inf = torch.isinf(e) & (a == e)
        diff = torch.where(both_nan | same_inf, torch.zeros_like(a), (a - e).abs())
        finite = e[torch.isfinite(e)]
        scale = max(1.0, finite.abs().max().item() if finite.numel() else 0.0)
        worst = diff.max().item() if diff.numel() else 0.0
        assert worst <= tol * scale, f"max abs error {worst:.3g} > {tol:g} * {scale:.3g}"
    else:
        assert torch.equal(actual.to(expected.dtype), expected), f"{actual} != {expected}"


def rng(seed=0):
    return np.random.default_rng(seed)
