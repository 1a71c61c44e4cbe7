"""Export a PyTorch model to ONNX, let NVIDIA's OnnxParser build the network, run the reference.

This checks the executor independently of trtgen's own lowering: the network comes from
TensorRT's parser, the expected values from PyTorch.
"""

import io
import warnings

import numpy as np
import torch

from layers.backend import trt
from reference_helpers import STRONGLY_TYPED
from trtgen.reference import execute


class ParsedNetwork:
    """Builder, network and parser kept together: the parser owns the weights' memory."""

    def __init__(self, onnx_bytes):
        self.logger = trt.Logger(trt.Logger.ERROR)
        self.builder = trt.Builder(self.logger)
        self.network = self.builder.create_network(STRONGLY_TYPED)
        self.parser = trt.OnnxParser(self.network, self.logger)
        if not self.parser.parse(onnx_bytes):
            errors = [str(self.parser.get_error(i).desc()) for i in range(self.parser.num_errors)]
            raise AssertionError(f"OnnxParser failed: {errors}")

    def layer_types(self):
        return {self.network.get_layer(i).type.name for i in range(self.network.num_layers)}


def export_onnx(model, args, input_names, opset=17, dynamic_axes=None):
    """TorchScript exporter first (dynamo=False); the dynamo exporter if that fails."""
    buffer = io.BytesIO()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            torch.onnx.export(
                model,
                args,
                buffer,
                dynamo=False,
                opset_version=opset,
                input_names=input_names,
                output_names=["output"],
                dynamic_axes=dynamic_axes,
            )
        except Exception:  # noqa: BLE001 - fall back to the other exporter
            buffer = io.BytesIO()
            program = torch.onnx.export(
                model,
                args,
                dynamo=True,
                opset_version=max(opset, 18),
                input_names=input_names,
                output_names=["output"],
            )
            program.save(buffer)
    return buffer.getvalue()


def run_parsed(model, args, input_names, opset=17):
    """(reference output of the parsed network, PyTorch output, ParsedNetwork)."""
    model.eval()
    parsed = ParsedNetwork(export_onnx(model, args, input_names, opset))
    feeds = {name: a.detach().numpy() for name, a in zip(input_names, args)}
    got = execute(parsed.network, feeds)
    name = parsed.network.get_output(0).name
    with torch.no_grad():
        expected = model(*args)
    return got[name], expected, parsed


def assert_relative(actual, expected, tol=1e-4):
    """max|actual - expected| <= tol * max(1, max|expected|)."""
    actual = actual.double()
    expected = expected.detach().double()
    assert tuple(actual.shape) == tuple(
        expected.shape
    ), f"{tuple(actual.shape)} != {tuple(expected.shape)}"
    scale = max(1.0, expected.abs().max().item())
    err = (actual - expected).abs().max().item()
    assert err <= tol * scale, f"max abs error {err:.3g} > {tol:g} * {scale:.3g}"
    assert np.isfinite(err)
