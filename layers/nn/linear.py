"""Linear: y = x @ weight.T + bias with torch's names, ``weight`` (out, in) and ``bias`` (out,)."""

from .. import dtypes
from ..functional.linear import linear
from ..module import Module, Parameter

__all__ = ["Linear"]


class Linear(Module):
    def __init__(self, in_features, out_features, bias=True, device=None, dtype=None):
        super().__init__()
        dtype = dtypes.float32 if dtype is None else dtype
        self.in_features = in_features
        self.out_features = out_features
        self.weight = Parameter((out_features, in_features), dtype)
        self.bias = Parameter((out_features,), dtype) if bias else None

    def forward(self, input):
        return linear(input, self.weight, self.bias)

    def __repr__(self):
        return (
            f"Linear(in_features={self.in_features}, out_features={self.out_features}, "
            f"bias={self.bias is not None})"
        )
