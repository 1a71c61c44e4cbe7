"""Pooling modules: torch's constructor signatures; ``forward`` calls layers.functional.pool."""

from ..functional import pool as F
from ..module import Module

__all__ = [
    "MaxPool1d",
    "MaxPool2d",
    "MaxPool3d",
    "AvgPool1d",
    "AvgPool2d",
    "AvgPool3d",
    "AdaptiveAvgPool1d",
    "AdaptiveAvgPool2d",
    "AdaptiveAvgPool3d",
    "AdaptiveMaxPool1d",
    "AdaptiveMaxPool2d",
    "AdaptiveMaxPool3d",
]


class _PoolNd(Module):
    """The window every pool stores; ``forward`` passes the attributes named in ``_args``, in
    that order, to ``F.<_op><_nd>d`` (the functional's positional order)."""

    _op = None  # "max_pool" / "avg_pool"
    _nd = 2
    _args = ()

    def __init__(self, kernel_size, stride, padding, ceil_mode):
        super().__init__()
        self.kernel_size = kernel_size
        self.stride = stride if stride is not None else kernel_size
        self.padding = padding
        self.ceil_mode = ceil_mode

    def forward(self, input):
        pool = getattr(F, f"{self._op}{self._nd}d")
        return pool(input, *(getattr(self, name) for name in self._args))


class _MaxPoolNd(_PoolNd):
    _op = "max_pool"
    _args = ("kernel_size", "stride", "padding", "dilation", "ceil_mode", "return_indices")

    def __init__(
        self, kernel_size, stride=None, padding=0, dilation=1, return_indices=False, ceil_mode=False
    ):
        super().__init__(kernel_size, stride, padding, ceil_mode)
        self.dilation = dilation
        self.return_indices = return_indices

    def __repr__(self):
        return (
            f"{type(self).__name__}(kernel_size={self.kernel_size}, stride={self.stride}, "
            f"padding={self.padding}, ceil_mode={self.ceil_mode})"
        )


class MaxPool1d(_MaxPoolNd):
    _nd = 1


class MaxPool2d(_MaxPoolNd):
    _nd = 2


class MaxPool3d(_MaxPoolNd):
    _nd = 3


class AvgPool1d(_PoolNd):
    _op = "avg_pool"
    _nd = 1
    _args = ("kernel_size", "stride", "padding", "ceil_mode", "count_include_pad")

    def __init__(
        self, kernel_size, stride=None, padding=0, ceil_mode=False, count_include_pad=True
    ):
        super().__init__(kernel_size, stride, padding, ceil_mode)
        self.count_include_pad = count_include_pad


class _AvgPoolNd(_PoolNd):
    _op = "avg_pool"
    _args = AvgPool1d._args + ("divisor_override",)

    def __init__(
        self,
        kernel_size,
        stride=None,
        padding=0,
        ceil_mode=False,
        count_include_pad=True,
        divisor_override=None,
    ):
        super().__init__(kernel_size, stride, padding, ceil_mode)
        self.count_include_pad = count_include_pad
        self.divisor_override = divisor_override


class AvgPool2d(_AvgPoolNd):
    _nd = 2


class AvgPool3d(_AvgPoolNd):
    _nd = 3


class _AdaptivePool(Module):
    _op = "adaptive_avg_pool2d"

    def __init__(self, output_size):
        super().__init__()
        self.output_size = output_size

    def forward(self, input):
        return getattr(F, self._op)(input, self.output_size)

    def __repr__(self):
        return f"{type(self).__name__}(output_size={self.output_size})"


class _AdaptiveMaxPool(_AdaptivePool):
    def __init__(self, output_size, return_indices=False):
        super().__init__(output_size)
        self.return_indices = return_indices

    def forward(self, input):
        return getattr(F, self._op)(input, self.output_size, self.return_indices)


class AdaptiveAvgPool1d(_AdaptivePool):
    _op = "adaptive_avg_pool1d"


class AdaptiveAvgPool2d(_AdaptivePool):
    _op = "adaptive_avg_pool2d"


class AdaptiveAvgPool3d(_AdaptivePool):
    _op = "adaptive_avg_pool3d"


class AdaptiveMaxPool1d(_AdaptiveMaxPool):
    _op = "adaptive_max_pool1d"


class AdaptiveMaxPool2d(_AdaptiveMaxPool):
    _op = "adaptive_max_pool2d"


class AdaptiveMaxPool3d(_AdaptiveMaxPool):
    _op = "adaptive_max_pool3d"
