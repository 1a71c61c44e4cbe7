"""Keep the scales a model already has: fake-quantize ops and torch.ao reference Q/DQ pairs.

``torch.fake_quantize_per_tensor_affine`` / ``..._per_channel_affine`` (QAT models), and
``torch.quantize_per_tensor`` / ``quantize_per_channel`` followed by ``dequantize`` (a torch.ao
FX reference model after ``convert_to_reference_fx``), each become a ``QuantDequant`` child of
the module that does them: ``self.x_quantizer(x)`` in network.py, its scale copied as float32
into quant.safetensors under ``<module>.<quantizer>.input_scale``. TensorRT quantization is
symmetric, so every zero point must be 0 and the range INT8's [-128, 127].
"""

import numpy as np
import torch

from .. import __version__
from ..errors import TrtgenError
from ..plan.normalize import normalize
from .placement import TorchQuantDequant, insert_quantizer

FAKE = {"fake_quantize_per_tensor_affine", "fake_quantize_per_channel_affine"}
QUANTIZE = {"quantize_per_tensor", "quantize_per_channel"}
INT8_RANGE = (-128, 127)
SYMMETRIC_DTYPES = (torch.qint8,)


def import_quantizers(captures):
    """Rewrite every captured fake-quantize op and Q/DQ pair; returns {scale key: float32 array}."""
    scales = {}
    for capture in captures:
        for node in list(capture.graph.nodes):
            found = _quantizer(capture, node)
            if found is None:
                continue
            source, scale, axis, replaced = found
            channels = scale.size if axis is not None else None
            quantizer = TorchQuantDequant("int8", axis, channels)
            key, call = insert_quantizer(capture, replaced, source, _stem(source), quantizer)
            replaced.replace_all_uses_with(call)
            _erase_dead(capture.graph, replaced)
            scales[f"{key}.input_scale"] = scale
    return scales


def _quantizer(capture, node):
    """(quantized input, scale array, axis, node to replace) or None."""
    if node.op not in ("call_function", "call_method"):
        return None
    op = normalize(node)
    where = f"{capture.path or '<model>'}: {op.name}"
    if op.name in FAKE:
        per_channel = op.name.endswith("channel_affine")
        args = list(op.args) + [
            op.kwargs[k]
            for k in ("scale", "zero_point", "axis", "quant_min", "quant_max")
            if k in op.kwargs
        ]
        if per_channel:
            source, scale, zero_point, axis, low, high = args[:6]
        else:
            (source, scale, zero_point, low, high), axis = args[:5], None
        if (low, high) != INT8_RANGE:
            raise TrtgenError(
                f"{where}: quant range [{low}, {high}]; TensorRT INT8 needs [-128, 127]"
            )
        _require_zero(capture, zero_point, where)
        return source, _float32(capture, scale, where), axis, node
    if op.name == "dequantize" and len(op.args) == 1 and isinstance(op.args[0], torch.fx.Node):
        producer = op.args[0]
        if producer.op != "call_function" or normalize(producer).name not in QUANTIZE:
            return None
        q = normalize(producer)
        per_channel = q.name == "quantize_per_channel"
        source, scale, zero_point = q.args[:3]
        axis = q.args[3] if per_channel else None
        dtype = q.args[4] if per_channel else q.args[3]
        if dtype not in SYMMETRIC_DTYPES:
            raise TrtgenError(
                f"{capture.path or '<model>'}: {q.name} to {dtype}; TensorRT quantization is "
                "symmetric INT8: quantize to torch.qint8 with zero point 0 (a symmetric qconfig)"
            )
        _require_zero(capture, zero_point, where)
        return source, _float32(capture, scale, where), axis, node
    return None


def _value(capture, arg):
    """A literal, or the tensor a get_attr node reads."""
    if isinstance(arg, torch.fx.Node) and arg.op == "get_attr":
        value = capture.module
        for part in arg.target.split("."):
            value = getattr(value, part)
        return value
    return arg


def _float32(capture, arg, where):
    value = _value(capture, arg)
    if isinstance(value, torch.fx.Node):
        raise TrtgenError(
            f"{where}: the scale is computed in the forward; TensorRT needs a constant scale"
        )
    return np.asarray(torch.as_tensor(value).detach().cpu(), dtype=np.float32).reshape(
        np.shape(torch.as_tensor(value))
    )


def _require_zero(capture, arg, where):
    value = _value(capture, arg)
    if isinstance(value, torch.fx.Node) or torch.as_tensor(value).ne(0).any():
        raise TrtgenError(f"{where}: zero point must be 0; TensorRT quantization is symmetric")


def _erase_dead(graph, node):
    """Remove ``node`` and the producers only it used (its quantize op, scale attributes)."""
    pending = [node]
    while pending:
        current = pending.pop()
        if current.users or current.op in ("placeholder", "output"):
            continue
        inputs = list(current.all_input_nodes)
        graph.erase_node(current)
        pending.extend(inputs)


def _stem(source):
    if isinstance(source, torch.fx.Node):
        text = str(source.target) if source.op == "get_attr" else source.name
        return text.replace(".", "_")
    return "input"


def imported_metadata():
    return {"format": "int8", "calibrator": "imported", "generator": f"trtgen {__version__}"}
