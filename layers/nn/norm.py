"""Normalization modules with torch's signatures and state_dict names.

BatchNorm keeps ``weight``/``bias`` (affine) and ``running_mean``/``running_var``
(track_running_stats) as Parameters; torch's ``num_batches_tracked`` buffer is training
bookkeeping and has no counterpart (drop it from the weights, or load with strict=False).
"""

from .. import dtypes
from ..functional import normalization as F
from ..functional._spatial import batched
from ..module import Module, Parameter

__all__ = [
    "BatchNorm1d",
    "BatchNorm2d",
    "BatchNorm3d",
    "LayerNorm",
    "GroupNorm",
    "InstanceNorm1d",
    "InstanceNorm2d",
    "InstanceNorm3d",
    "RMSNorm",
    "LocalResponseNorm",
]


def _dtype(dtype):
    return dtypes.float32 if dtype is None else dtype


class _NormBase(Module):
    """Shared by BatchNorm and InstanceNorm: per-channel affine and running statistics."""

    def __init__(
        self,
        num_features,
        eps=1e-5,
        momentum=0.1,
        affine=True,
        track_running_stats=True,
        device=None,
        dtype=None,
    ):
        super().__init__()
        dtype = _dtype(dtype)
        self.num_features = num_features
        self.eps = eps
        self.momentum = momentum
        self.affine = affine
        self.track_running_stats = track_running_stats
        self.weight = Parameter((num_features,), dtype) if affine else None
        self.bias = Parameter((num_features,), dtype) if affine else None
        self.running_mean = Parameter((num_features,), dtype) if track_running_stats else None
        self.running_var = Parameter((num_features,), dtype) if track_running_stats else None

    def _normalize(self, fn, input):
        """``fn`` (F.batch_norm / F.instance_norm) with this module's statistics and affine."""
        # inference: running statistics when tracked, else (as torch) the input's own
        return fn(
            input,
            self.running_mean,
            self.running_var,
            self.weight,
            self.bias,
            not self.track_running_stats,
            self.momentum,
            self.eps,
        )

    def __repr__(self):
        return f"{type(self).__name__}({self.num_features}, eps={self.eps}, affine={self.affine})"


class _BatchNorm(_NormBase):
    _ranks = (2, 3)

    def forward(self, input):
        if input.ndim not in self._ranks:
            raise ValueError(
                f"{type(self).__name__} expects a {' or '.join(f'{r}D' for r in self._ranks)} "
                f"input, got shape {input.shape}"
            )
        return self._normalize(F.batch_norm, input)


class BatchNorm1d(_BatchNorm):
    _ranks = (2, 3)


class BatchNorm2d(_BatchNorm):
    _ranks = (4,)


class BatchNorm3d(_BatchNorm):
    _ranks = (5,)


class _InstanceNorm(_NormBase):
    _nd = 1  # spatial dims

    def __init__(
        self,
        num_features,
        eps=1e-5,
        momentum=0.1,
        affine=False,
        track_running_stats=False,
        device=None,
        dtype=None,
    ):
        super().__init__(num_features, eps, momentum, affine, track_running_stats, device, dtype)

    def forward(self, input):
        return batched(input, self._nd, type(self).__name__, self._batched_forward)

    def _batched_forward(self, x):
        return self._normalize(F.instance_norm, x)


class InstanceNorm1d(_InstanceNorm):
    _nd = 1


class InstanceNorm2d(_InstanceNorm):
    _nd = 2


class InstanceNorm3d(_InstanceNorm):
    _nd = 3


def _shape(normalized_shape):
    if isinstance(normalized_shape, int):
        return (normalized_shape,)
    return tuple(int(d) for d in normalized_shape)


class LayerNorm(Module):
    def __init__(
        self,
        normalized_shape,
        eps=1e-5,
        elementwise_affine=True,
        bias=True,
        device=None,
        dtype=None,
    ):
        super().__init__()
        dtype = _dtype(dtype)
        self.normalized_shape = _shape(normalized_shape)
        self.eps = eps
        self.elementwise_affine = elementwise_affine
        self.weight = Parameter(self.normalized_shape, dtype) if elementwise_affine else None
        self.bias = Parameter(self.normalized_shape, dtype) if elementwise_affine and bias else None

    def forward(self, input):
        return F.layer_norm(input, self.normalized_shape, self.weight, self.bias, self.eps)

    def __repr__(self):
        return f"LayerNorm({self.normalized_shape}, eps={self.eps})"


class GroupNorm(Module):
    def __init__(self, num_groups, num_channels, eps=1e-5, affine=True, device=None, dtype=None):
        super().__init__()
        if num_channels % num_groups:
            raise ValueError("num_channels must be divisible by num_groups")
        dtype = _dtype(dtype)
        self.num_groups = num_groups
        self.num_channels = num_channels
        self.eps = eps
        self.affine = affine
        self.weight = Parameter((num_channels,), dtype) if affine else None
        self.bias = Parameter((num_channels,), dtype) if affine else None

    def forward(self, input):
        return F.group_norm(input, self.num_groups, self.weight, self.bias, self.eps)

    def __repr__(self):
        return f"GroupNorm({self.num_groups}, {self.num_channels}, eps={self.eps})"


class RMSNorm(Module):
    def __init__(
        self, normalized_shape, eps=None, elementwise_affine=True, device=None, dtype=None
    ):
        super().__init__()
        self.normalized_shape = _shape(normalized_shape)
        self.eps = eps
        self.elementwise_affine = elementwise_affine
        self.weight = (
            Parameter(self.normalized_shape, _dtype(dtype)) if elementwise_affine else None
        )

    def forward(self, input):
        return F.rms_norm(input, self.normalized_shape, self.weight, self.eps)

    def __repr__(self):
        return f"RMSNorm({self.normalized_shape}, eps={self.eps})"


class LocalResponseNorm(Module):
    def __init__(self, size, alpha=1e-4, beta=0.75, k=1.0):
        super().__init__()
        self.size = size
        self.alpha = alpha
        self.beta = beta
        self.k = k

    def forward(self, input):
        return F.local_response_norm(input, self.size, self.alpha, self.beta, self.k)
