"""ACTIVATION (every ActivationType, with alpha/beta) and PARAMETRIC_RELU.

Formulas are the ones documented on ``trt.ActivationType``.
"""

import math

import torch
import torch.nn.functional as F

from layers.backend import trt

from ..registry import handles

A = trt.ActivationType

_ACTIVATIONS = {
    A.RELU: lambda x, a, b: torch.relu(x),
    A.SIGMOID: lambda x, a, b: torch.sigmoid(x),
    A.TANH: lambda x, a, b: torch.tanh(x),
    A.LEAKY_RELU: lambda x, a, b: torch.where(x >= 0, x, a * x),
    A.ELU: lambda x, a, b: torch.where(x >= 0, x, a * torch.expm1(x)),
    A.SELU: lambda x, a, b: b * torch.where(x > 0, x, a * torch.expm1(x)),
    A.SOFTSIGN: lambda x, a, b: x / (1 + x.abs()),
    A.SOFTPLUS: lambda x, a, b: a * F.softplus(b * x),
    A.CLIP: lambda x, a, b: torch.clamp(x, max=b).clamp(min=a),  # max(a, min(b, x)) even if a > b
    A.HARD_SIGMOID: lambda x, a, b: torch.clamp(a * x + b, 0.0, 1.0),
    A.SCALED_TANH: lambda x, a, b: a * torch.tanh(b * x),
    A.THRESHOLDED_RELU: lambda x, a, b: torch.where(x > a, x, torch.zeros_like(x)),
    A.GELU_ERF: lambda x, a, b: 0.5 * x * (1 + torch.erf(x * math.sqrt(0.5))),
    A.GELU_TANH: lambda x, a, b: 0.5
    * x
    * (1 + torch.tanh(math.sqrt(2 / math.pi) * (0.044715 * x**3 + x))),
}


@handles("ACTIVATION")
def activation(layer, inputs, ctx):
    kind = layer.type  # on the downcast IActivationLayer, ``type`` is the ActivationType
    x = inputs[0]
    if not x.is_floating_point() and kind != A.RELU:  # only RELU is defined for integers
        x = x.float()
    return _ACTIVATIONS[kind](x, layer.alpha, layer.beta)


@handles("PARAMETRIC_RELU")
def parametric_relu(layer, inputs, ctx):
    x, slope = inputs
    return torch.where(x >= 0, x, x * slope)
