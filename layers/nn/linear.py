"""Linear: y = x @ weight.T + bias with torch's names, ``weight`` (out, in) and ``bias`` (out,)."""

from .. import dtypes
from ..functional.linear import linear
from ..functional.qdq import fake_quantize
from ..module import Module, Parameter

__all__ = ["Linear"]


class Linear(Module):
    def __init__(self, in_features, out_features, bias=True, device=None, dtype=None, quant=None):
        super().__init__()
        dtype = dtypes.float32 if dtype is None else dtype
        self.in_features = in_features
        self.out_features = out_features
        self.weight = Parameter((out_features, in_features), dtype)
        self.bias = Parameter((out_features,), dtype) if bias else None
        self.quant = quant
        if quant is not None:  # Q/DQ on the input (per tensor) and the weight (per output row)
            self.input_scale = Parameter((), dtypes.float32, kind="scale")
            self.weight_scale = Parameter((out_features,), dtypes.float32, kind="scale")

    def forward(self, input):
        if self.quant is None:
            return linear(input, self.weight, self.bias)
        input = fake_quantize(input, self.input_scale, self.quant)
        weight = fake_quantize(self.weight.tensor(), self.weight_scale, self.quant, 0)
        return linear(input, weight, self.bias)

    def __repr__(self):
        return (
            f"Linear(in_features={self.in_features}, out_features={self.out_features}, "
            f"bias={self.bias is not None}" + (f", quant={self.quant!r})" if self.quant else ")")
        )
