"""Linear: y = x @ weight.T + bias with torch's names, ``weight`` (out, in) and ``bias`` (out,)."""

from .. import dtypes
from ..functional.linear import linear
from ..functional.cast import cast
from ..functional.elementwise import mul
from ..functional.qdq import check_quant, fake_quantize, quantized_weight
from ..module import Module, Parameter

__all__ = ["Linear"]


class Linear(Module):
    def __init__(
        self,
        in_features,
        out_features,
        bias=True,
        device=None,
        dtype=None,
        quant=None,
        weight_only=None,
        block_size=128,
        pre_quant_scale=False,
    ):
        super().__init__()
        if quant is not None and weight_only is not None:
            raise ValueError("Linear: quant= and weight_only= exclude each other")
        dtype = dtypes.float32 if dtype is None else dtype
        self.in_features = in_features
        self.out_features = out_features
        self.weight = Parameter((out_features, in_features), dtype)
        self.bias = Parameter((out_features,), dtype) if bias else None
        self.quant = check_quant(quant, "Linear")
        if quant is not None:  # Q/DQ on the input (per tensor) and the weight (per output row)
            self.input_scale = Parameter((), dtypes.float32, kind="scale")
            self.weight_scale = Parameter((out_features,), dtypes.float32, kind="scale")
        self.weight_only = weight_only
        if weight_only is not None:
            self._weight_only_scales(in_features, out_features, weight_only, block_size)
        if pre_quant_scale and quant is None and weight_only is None:
            raise ValueError("Linear: pre_quant_scale needs quant= or weight_only=")
        # AWQ / SmoothQuant: a per-input-feature factor applied to the input before quantizing
        self.pre_quant_scale = (
            Parameter((in_features,), dtypes.float32, kind="scale") if pre_quant_scale else None
        )

    def _weight_only_scales(self, in_features, out_features, weight_only, block_size):
        """INT8: one scale per output row; INT4: one per row and block of ``block_size`` inputs."""
        if weight_only not in ("int8", "int4"):
            raise ValueError(f"weight_only must be 'int8' or 'int4', got {weight_only!r}")
        shape = (out_features,)
        if weight_only == "int4":
            if in_features % block_size:
                raise ValueError(
                    f"weight_only int4: in_features {in_features} is not a multiple of "
                    f"block_size {block_size}"
                )
            shape = (out_features, in_features // block_size)
        self.block_size = block_size
        self.weight_scale = Parameter(shape, dtypes.float32, kind="scale")

    def forward(self, input):
        if self.pre_quant_scale is not None:
            input = mul(input, cast(self.pre_quant_scale.tensor(), input.dtype))
        if self.weight_only is not None:
            weight = quantized_weight(self.weight, self.weight_scale, self.weight_only, input.dtype)
            return linear(input, weight, self.bias)
        if self.quant is None:
            return linear(input, self.weight, self.bias)
        input = fake_quantize(input, self.input_scale, self.quant)
        weight = fake_quantize(self.weight.tensor(), self.weight_scale, self.quant, 0)
        return linear(input, weight, self.bias)

    def __repr__(self):
        extra = f", quant={self.quant!r}" if self.quant else ""
        if self.weight_only:
            extra += f", weight_only={self.weight_only!r}"
            extra += f", block_size={self.block_size}" if self.weight_only == "int4" else ""
        extra += ", pre_quant_scale=True" if self.pre_quant_scale is not None else ""
        return (
            f"Linear(in_features={self.in_features}, out_features={self.out_features}, "
            f"bias={self.bias is not None}{extra})"
        )
