"""MATRIX_MULTIPLY (MatrixOperation NONE / TRANSPOSE / VECTOR, broadcast batch dims) and EINSUM."""

import torch

from layers.backend import trt

from ..registry import handles

M = trt.MatrixOperation


@handles("MATRIX_MULTIPLY")
def matrix_multiply(layer, inputs, ctx):
    a, b = inputs
    squeeze = []
    if layer.op0 == M.VECTOR:  # rows: [..., K] -> [..., 1, K]
        a = a.unsqueeze(-2)
        squeeze.append(-2)
    elif layer.op0 == M.TRANSPOSE:
        a = a.transpose(-1, -2)
    if layer.op1 == M.VECTOR:  # columns: [..., K] -> [..., K, 1]
        b = b.unsqueeze(-1)
        squeeze.append(-1)
    elif layer.op1 == M.TRANSPOSE:
        b = b.transpose(-1, -2)
    y = torch.matmul(a, b)
    for axis in sorted(squeeze):  # -2 before -1 so the positions stay valid
        y = y.squeeze(axis)
    return y


@handles("EINSUM")
def einsum(layer, inputs, ctx):
    return torch.einsum(layer.equation, *inputs)
