"""Conv1d/2d/3d and ConvTranspose1d/2d/3d: torch's constructor signatures and parameter names.

``weight`` is (out, in / groups, *kernel) for convolutions and (in, out / groups, *kernel) for
transposed ones; with ``bias=True`` a (out,) ``bias``. Non-zero ``padding_mode`` pads with
``F.pad`` first, as torch does.
"""

from .. import dtypes
from ..functional import conv as F
from ..functional._common import ntuple
from ..functional.pad import pad
from ..functional.qdq import check_quant, fake_quantize
from ..module import Module, Parameter

__all__ = ["Conv1d", "Conv2d", "Conv3d", "ConvTranspose1d", "ConvTranspose2d", "ConvTranspose3d"]

_PADDING_MODES = ("zeros", "reflect", "replicate", "circular")


class _ConvNd(Module):
    """Shared by every variant; its ``__init__`` is torch's Conv signature, so the convolutions
    inherit it unchanged and the transposed ones add ``output_padding`` on top."""

    _nd = 2
    _transposed = False

    def __init__(
        self,
        in_channels,
        out_channels,
        kernel_size,
        stride=1,
        padding=0,
        dilation=1,
        groups=1,
        bias=True,
        padding_mode="zeros",
        device=None,
        dtype=None,
        quant=None,
    ):
        super().__init__()
        nd = self._nd
        if in_channels % groups or out_channels % groups:
            raise ValueError(
                f"in_channels ({in_channels}) and out_channels ({out_channels}) "
                f"must be divisible by groups ({groups})"
            )
        if padding_mode not in _PADDING_MODES:
            raise ValueError(f"padding_mode must be one of {_PADDING_MODES}, got {padding_mode!r}")
        self.in_channels = in_channels
        self.out_channels = out_channels
        self.kernel_size = ntuple(kernel_size, nd, "kernel_size")
        self.stride = ntuple(stride, nd, "stride")
        self.padding = padding if isinstance(padding, str) else ntuple(padding, nd, "padding")
        self.dilation = ntuple(dilation, nd, "dilation")
        self.output_padding = (0,) * nd
        self.groups = groups
        self.padding_mode = padding_mode
        dtype = dtypes.float32 if dtype is None else dtype
        if self._transposed:
            shape = (in_channels, out_channels // groups) + self.kernel_size
        else:
            shape = (out_channels, in_channels // groups) + self.kernel_size
        self.weight = Parameter(shape, dtype)
        self.bias = Parameter((out_channels,), dtype) if bias else None
        self.quant = check_quant(quant, type(self).__name__)
        if quant is not None:  # Q/DQ on the input (per tensor) and the weight (per channel)
            self.input_scale = Parameter((), dtypes.float32, kind="scale")
            self.weight_scale = Parameter((shape[self._weight_axis],), dtypes.float32, kind="scale")

    # the weight's output-channel axis: (out, in / groups, ...) or, transposed, (in, out / groups, ...)
    _weight_axis = 0

    def _quantized(self, input):
        """(input, weight) through their Q/DQ pairs when the module is quantized."""
        if self.quant is None:
            return input, self.weight
        input = fake_quantize(input, self.input_scale, self.quant)
        weight = fake_quantize(
            self.weight.tensor(), self.weight_scale, self.quant, self._weight_axis
        )
        return input, weight

    def _explicit_padding(self):
        """torch's ``_reversed_padding_repeated_twice``: F.pad pairs, last dim first."""
        if self.padding == "same":
            pairs = list(zip(*F.same_padding(self.kernel_size, self.dilation)))
        elif self.padding == "valid":
            pairs = [(0, 0)] * self._nd
        else:
            pairs = [(p, p) for p in self.padding]
        return [p for pair in reversed(pairs) for p in pair]

    def __repr__(self):
        return (
            f"{type(self).__name__}({self.in_channels}, {self.out_channels}, "
            f"kernel_size={self.kernel_size}, stride={self.stride}"
            + (f", quant={self.quant!r})" if self.quant else ")")
        )


class _Conv(_ConvNd):
    def forward(self, input):
        conv = getattr(F, f"conv{self._nd}d")
        if self.padding_mode != "zeros":
            input = pad(input, self._explicit_padding(), mode=self.padding_mode)
            input, weight = self._quantized(input)
            return conv(input, weight, self.bias, self.stride, 0, self.dilation, self.groups)
        input, weight = self._quantized(input)
        return conv(input, weight, self.bias, self.stride, self.padding, self.dilation, self.groups)


class Conv1d(_Conv):
    _nd = 1


class Conv2d(_Conv):
    _nd = 2


class Conv3d(_Conv):
    _nd = 3


class _ConvTranspose(_ConvNd):
    _transposed = True
    _weight_axis = 1

    def __init__(
        self,
        in_channels,
        out_channels,
        kernel_size,
        stride=1,
        padding=0,
        output_padding=0,
        groups=1,
        bias=True,
        dilation=1,
        padding_mode="zeros",
        device=None,
        dtype=None,
        quant=None,
    ):
        if padding_mode != "zeros":
            raise ValueError(f'Only "zeros" padding mode is supported for {type(self).__name__}')
        # padding_mode is "zeros" here, the base's default
        super().__init__(
            in_channels,
            out_channels,
            kernel_size,
            stride,
            padding,
            dilation,
            groups,
            bias,
            dtype=dtype,
            quant=quant,
        )
        self.output_padding = ntuple(output_padding, self._nd, "output_padding")

    def _output_padding(self, input, output_size):
        """torch's rule: the output_padding that makes the result ``output_size``."""
        if output_size is None:
            return self.output_padding
        nd = self._nd
        output_size = tuple(output_size)[-nd:]
        result = []
        for i in range(nd):
            size = input.shape[input.ndim - nd + i]
            smallest = (
                (size - 1) * self.stride[i]
                - 2 * self.padding[i]
                + self.dilation[i] * (self.kernel_size[i] - 1)
                + 1
            )
            extra = output_size[i] - smallest
            if not 0 <= extra < max(self.stride[i], self.dilation[i]):
                raise ValueError(
                    f"requested output size {list(output_size)} is not reachable from "
                    f"input {input.shape}"
                )
            result.append(extra)
        return tuple(result)

    def forward(self, input, output_size=None):
        conv = getattr(F, f"conv_transpose{self._nd}d")
        output_padding = self._output_padding(input, output_size)
        input, weight = self._quantized(input)
        return conv(
            input,
            weight,
            self.bias,
            self.stride,
            self.padding,
            output_padding,
            self.groups,
            self.dilation,
        )


class ConvTranspose1d(_ConvTranspose):
    _nd = 1


class ConvTranspose2d(_ConvTranspose):
    _nd = 2


class ConvTranspose3d(_ConvTranspose):
    _nd = 3
