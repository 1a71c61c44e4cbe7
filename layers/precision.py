"""Reduced precision: an FP16 / BF16 network with FP32 islands, stated in network.py.

A strongly typed network has no precision flag: every tensor's dtype is what the code made it.
``Module.to(nn.float16, keep_fp32=...)`` gives the weights their dtype, and inside
``with nn.precision(nn.float16, fp32_ops=...)`` two rules apply while the network is built:

* ops of the families in ``fp32_ops`` (numerically sensitive: softmax, normalization, sums and
  means, exp/log) cast their reduced-precision inputs to FP32, compute, and cast the result
  back: a CAST before and after each, named ``.../to_fp32`` and ``.../from_fp32``;
* a cast to float32 written in the model's own code (``mask.to(torch.float32)``) means "the
  network's float type" outside an island, so one such cast does not turn the rest of the
  network FP32.

Modules listed in ``keep_fp32`` run wholly in FP32 the same way (their weights stay FP32).
"""

import contextlib
import dataclasses
import functools

from . import dtypes
from .network import current
from .tensor import Tensor

__all__ = ["FP32_OPS", "precision", "fp32_island", "island_call", "resolve_float"]

# op families that compute in FP32 in an FP16/BF16 network unless network.py says otherwise
FP32_OPS = ("softmax", "normalization", "reduction", "exp")
REDUCED = (dtypes.float16, dtypes.bfloat16)


@dataclasses.dataclass
class Policy:
    dtype: object  # the network's float type
    fp32_ops: tuple
    islands: int = 0  # > 0 while an FP32 island is being built


@contextlib.contextmanager
def precision(dtype, fp32_ops=FP32_OPS):
    """Build the enclosed ops with ``dtype`` as the network's float type (see module docs)."""
    dtype = dtypes.to_trt(dtype)
    if dtype not in (dtypes.float32,) + REDUCED:
        raise ValueError(f"precision must be float32, float16 or bfloat16, got {dtype}")
    unknown = sorted(set(fp32_ops) - set(FP32_OPS))
    if unknown:
        raise ValueError(f"fp32_ops: unknown op families {unknown}; known: {list(FP32_OPS)}")
    context = current()
    if context is None:
        raise RuntimeError("nn.precision(...) must be used inside nn.net_guard(network)")
    previous = context.precision
    context.precision = Policy(dtype, tuple(fp32_ops)) if dtype in REDUCED else None
    try:
        yield
    finally:
        context.precision = previous


def _policy():
    context = current()
    return context.precision if context is not None else None


def resolve_float(dtype):
    """float32 in the model's code means the network's float type, outside FP32 islands."""
    policy = _policy()
    if policy is not None and not policy.islands and dtype == dtypes.float32:
        return policy.dtype
    return dtype


def _map(value, fn):
    if isinstance(value, Tensor):
        return fn(value)
    if isinstance(value, (list, tuple)) and not hasattr(value, "_fields"):
        return type(value)(_map(v, fn) for v in value)
    if isinstance(value, dict):
        return {k: _map(v, fn) for k, v in value.items()}
    return value


def _reduced_dtype(args, kwargs):
    found = []
    _map((args, kwargs), lambda t: found.append(t.dtype) or t)
    return next((d for d in found if d in REDUCED), None)


def island_call(fn, args, kwargs):
    """``fn(*args, **kwargs)`` in FP32: reduced-float tensors in, the reduced type out."""
    from .functional.cast import cast_layer
    from .module import Parameter

    policy = _policy()
    reduced = _reduced_dtype(args, kwargs)
    if policy is None or policy.islands or reduced is None:
        return fn(*args, **kwargs)

    def widen(t):
        if t.dtype not in REDUCED:
            return t
        if isinstance(t, Parameter):  # an FP32 constant of the stored weight, no CAST
            return t.as_dtype(dtypes.float32)
        return cast_layer(t, dtypes.float32, "to_fp32")

    def narrow(t):
        return cast_layer(t, reduced, "from_fp32") if t.dtype == dtypes.float32 else t

    policy.islands += 1
    try:
        result = fn(*_map(args, widen), **_map(kwargs, widen))
    finally:
        policy.islands -= 1
    return _map(result, narrow)


def fp32_island(family):
    """Decorator: the op computes in FP32 when ``family`` is in the network's ``fp32_ops``."""

    def wrap(fn):
        @functools.wraps(fn)
        def run(*args, **kwargs):
            policy = _policy()
            if policy is None or family not in policy.fp32_ops:
                return fn(*args, **kwargs)
            return island_call(fn, args, kwargs)

        return run

    return wrap
