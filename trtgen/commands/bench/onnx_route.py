"""The ONNX route: torch.onnx.export of the loaded model, parsed by the same TensorRT package's
OnnxParser into a strongly typed network (as `layers.create_network()` makes them)."""

import gc
import os
import shutil

import torch

import layers
from layers.backend import trt

from .quiet import exc_line, first_line, quiet_fds
from .result import RouteResult

# torch.onnx.export's keyword for each exporter; tried in the order given to export_onnx
EXPORTERS = {"dynamo": {"dynamo": True}, "torchscript": {"dynamo": False}}
DEFAULT_ORDER = ("dynamo", "torchscript")  # torch's default first, the older exporter if it fails


def export_onnx(model, args, path, order=DEFAULT_ORDER, options=None):
    """Export to ``path`` with the first exporter of ``order`` that works.

    ``options`` maps an exporter name to extra torch.onnx.export keywords. Returns ``(exporter
    used, {exporter that failed: error line})``; raises RuntimeError when all fail."""
    failed = {}
    for exporter in order:
        keywords = {**EXPORTERS[exporter], **(options or {}).get(exporter, {})}
        try:
            with quiet_fds():
                torch.onnx.export(model, args, path, **keywords)
            return exporter, failed
        except Exception as exc:  # noqa: BLE001 - try the next exporter
            failed[exporter] = exc_line(exc)
            gc.collect()
    raise RuntimeError("; ".join(f"{name}: {error}" for name, error in failed.items()))


def parse_onnx(path):
    """``(builder, network, parser)``; the parser owns the weights, keep it while using the
    network. Raises RuntimeError with the parser's first error."""
    builder, network = layers.create_network()
    parser = trt.OnnxParser(network, layers.network.logger())
    if not parser.parse_from_file(path):
        errors = [str(parser.get_error(i).desc()) for i in range(parser.num_errors)]
        raise RuntimeError(first_line(errors[0]) if errors else "OnnxParser failed")
    return builder, network, parser


def folder_bytes(folder):
    """Size of the export: model.onnx and its external data files."""
    return sum(os.path.getsize(os.path.join(folder, name)) for name in os.listdir(folder))


class OnnxRoute:
    name = "onnx"
    title = "ONNX route"
    stages = ("export", "parse")  # what failed, in a route's error

    def __init__(self, loaded, input_shapes, work):
        self.loaded = loaded
        self.work = work
        self.folder = None
        self.result = RouteResult(
            convert="torch.onnx.export to model.onnx",
            network="trt.OnnxParser.parse_from_file into a strongly typed network",
        )

    @property
    def path(self):
        return os.path.join(self.folder, "model.onnx")

    def discard(self):
        """Delete the last export (the driver calls this, untimed, before the next one)."""
        if self.folder:
            shutil.rmtree(self.folder, ignore_errors=True)
            self.folder = None

    def convert(self, run):
        """One export into a fresh folder (the driver times this call)."""
        self.folder = os.path.join(self.work, f"onnx-{run}")
        os.makedirs(self.folder)
        exporter, failed = export_onnx(
            self.loaded.model, tuple(self.loaded.example_inputs), self.path
        )
        self.result.details.update(
            exporter=exporter, exporter_errors=failed, onnx_bytes=folder_bytes(self.folder)
        )

    def network(self):
        with quiet_fds():
            builder, network, parser = parse_onnx(self.path)
        return builder, network, [], parser
