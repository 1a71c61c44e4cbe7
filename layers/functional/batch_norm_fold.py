"""Inference batch norm folded into the convolution just before it, as TensorRT's builder
would fuse the two: the kernel is multiplied by the batch norm's per-channel scale and the
bias becomes ``bias * scale + shift``, computed in float64 from the stored values.

The network then has one layer where it had two, and builds faster. It is done only when it
cannot change a result: the batch norm reads the convolution's output handle, no layer has
been added since the convolution, and the output is not a network output. Should the
convolution's output be used again later, ``Tensor.rebuild_on_use`` adds an unfolded copy of
the convolution for it. weights.safetensors keeps the model's own values; the folded weights
record their source, so the C++ builder recomputes them (``w.conv_batch_norm_kernel``).
"""

from dataclasses import dataclass

import numpy as np

from ..module import Parameter
from ..network import as_weights, conv_batch_norm_source, current
from ..quant_calibration import calibrating
from ..tensor import Tensor


@dataclass
class _Convolution:
    layer: object  # the IConvolutionLayer
    output: Tensor  # the handle the convolution returned
    layers_after: int  # the network's layer count right after the convolution was added
    weight: Parameter
    bias: Parameter  # or None
    rebuild: object  # () -> ITensor of an unfolded copy


def remember_convolution(layer, output, weight, bias, rebuild):
    """Note a convolution whose kernel and bias are build-time weights (Parameters): a batch
    norm may fold into it."""
    context = current()
    context.foldable_convolution = _Convolution(
        layer, output, context.network.num_layers, weight, bias, rebuild
    )


def fold_into_convolution(x, scale, shift, batch_norm_keys, eps, numpy_dtype):
    """The batch norm ``x * scale + shift`` (per channel, float64) folded into the convolution
    that made ``x``, as a handle on the convolution's output; None when it cannot fold."""
    context = current()
    conv = context.foldable_convolution
    if (
        conv is None
        or conv.output is not x
        or context.network.num_layers != conv.layers_after
        or x.trt.is_network_output
        or calibrating()  # calibration taps hold ITensors whose values must not change
        or conv.weight.shape[0] != len(scale)
    ):
        return None
    context.foldable_convolution = None
    kernel = conv.weight.stored().astype(np.float64)
    kernel = kernel.reshape(len(scale), -1) * scale[:, None]
    bias = shift if conv.bias is None else conv.bias.stored().astype(np.float64) * scale + shift
    keys = (conv.weight.name, conv.bias.name if conv.bias is not None else None)
    for role, values in (("kernel", kernel), ("bias", bias)):
        source = conv_batch_norm_source(role, *keys, *batch_norm_keys, eps)
        setattr(conv.layer, role, as_weights(values.astype(numpy_dtype).ravel(), source))
    folded = Tensor(x.trt)
    x.rebuild_on_use(conv.rebuild)
    return folded
