"""QuantDequant: a Q/DQ pair on a tensor that feeds no weighted layer of its own, such as the
skip input of a residual add (``out = bn2 + self.residual_quantizer(identity)``), so TensorRT
can fuse the add into the convolution before it."""

from .. import dtypes
from ..functional.qdq import fake_quantize
from ..module import Module, Parameter

__all__ = ["QuantDequant"]


class QuantDequant(Module):
    def __init__(self, quant):
        super().__init__()
        self.quant = quant
        self.input_scale = Parameter((), dtypes.float32, kind="scale")

    def forward(self, input):
        return fake_quantize(input, self.input_scale, self.quant)

    def __repr__(self):
        return f"QuantDequant({self.quant!r})"
