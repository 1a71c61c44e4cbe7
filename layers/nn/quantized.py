"""QuantDequant: a Q/DQ pair on a tensor that feeds no weighted layer of its own, such as the
skip input of a residual add (``out = bn2 + self.residual_quantizer(identity)``), so TensorRT
can fuse the add into the convolution before it."""

from .. import dtypes
from ..functional.qdq import check_quant, fake_quantize
from ..module import Module, Parameter

__all__ = ["QuantDequant"]


class QuantDequant(Module):
    """One scale (``input_scale``), or with ``axis`` one per ``channels`` along that dim."""

    def __init__(self, quant, axis=None, channels=None):
        super().__init__()
        if (axis is None) != (channels is None):
            raise ValueError("QuantDequant: give both axis and channels (per channel) or neither")
        self.quant, self.axis = check_quant(quant, "QuantDequant"), axis
        shape = () if axis is None else (channels,)
        self.input_scale = Parameter(shape, dtypes.float32, kind="scale")

    def forward(self, input):
        return fake_quantize(input, self.input_scale, self.quant, self.axis)

    def __repr__(self):
        return f"QuantDequant({self.quant!r}, axis={self.axis})"
