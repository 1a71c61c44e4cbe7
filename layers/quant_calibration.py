"""Calibration mode: activation quantizers pass their input through and name it.

A calibrator builds the network inside ``with calibration_taps() as taps:``; every activation
quantizer then adds ``{its scale's key: the name of the tensor it would quantize}`` to ``taps``
instead of a Q/DQ pair (its scale has no value yet): read the names (``tensor.name``) once the
network is built, so the calibrator can run the network and
read those tensors. Weight quantizers are skipped too: weight scales come from the weights.
"""

import contextlib
import contextvars

_TAPS = contextvars.ContextVar("layers_calibration_taps", default=None)


@contextlib.contextmanager
def calibration_taps():
    taps = {}
    token = _TAPS.set(taps)
    try:
        yield taps
    finally:
        _TAPS.reset(token)


def calibrating():
    return _TAPS.get() is not None


def tap(scale_key, tensor):
    """Record ``tensor`` (a layers Tensor) as what the scale ``scale_key`` must cover. The
    ITensor is kept, not its name: a module output is renamed when its module returns."""
    _TAPS.get()[scale_key] = tensor.trt
