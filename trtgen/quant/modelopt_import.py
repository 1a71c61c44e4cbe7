"""Keep the scales of an NVIDIA ModelOpt quantized model (``mtq.quantize``): TensorQuantizer amax.

ModelOpt swaps each quantized module for a subclass (``QuantConv2d``...) holding
``input_quantizer`` / ``weight_quantizer`` / ``output_quantizer`` children. Before capture,
each such module gets its torch class back and its quantizers become what trtgen emits itself:

* Conv / ConvTranspose / Linear with input and weight quantizers: ``nn.Conv2d(..., quant=...)``,
  ``<module>.input_scale`` and per-channel ``<module>.weight_scale`` (a per-tensor weight amax
  is repeated over the channels, which quantizes identically);
* Linear with only a weight quantizer (``INT8_WEIGHT_ONLY_CFG``, ``INT4_AWQ_CFG``):
  ``nn.Linear(..., weight_only=...)``; a ``pre_quant_scale`` (AWQ, SmoothQuant) becomes
  ``<module>.pre_quant_scale``;
* any other module with an input quantizer (ModelOpt also quantizes pooling inputs): a
  ``QuantDequant`` child before its call, ``self.maxpool_input_quantizer(x)``.

Scales are ``amax / bound`` in float32 (127 for INT8, 7 for INT4, 448 for FP8 E4M3), the keys
ModelOpt's own export writes. What TensorRT cannot express (output quantizers, unsigned or
dynamic quantizers, block scales outside INT4 weights) is refused by name.
"""

import dataclasses

import numpy as np
import torch

from .. import __version__
from ..errors import TrtgenError
from .placement import WEIGHTED, TorchQuantDequant, insert_quantizer

ROLES = ("input_quantizer", "weight_quantizer", "output_quantizer")
# kept on the model: generating it again (trtgen bench --repeat) finds its quantizers gone
IMPORTED = "_trtgen_modelopt_import"
# ModelOpt's num_bits → (trtgen format, largest magnitude of the format)
FORMATS = {8: ("int8", 127.0), (4, 3): ("fp8", 448.0), 4: ("int4", 7.0)}


@dataclasses.dataclass
class ModelOptImport:
    scales: dict  # quant.safetensors key → float32 array
    formats: set  # "int8", "fp8", "weight-only int4"...
    pending: dict  # id(module) → (module path, format, input scale): Q/DQ before its calls

    def label(self):
        return " + ".join(sorted(self.formats))

    def weight_only(self):
        """The weight-only format it imported ("weight-only int4"), or None."""
        return next((f for f in sorted(self.formats) if f.startswith("weight-only")), None)

    def metadata(self):
        return {
            "format": self.label(),
            "calibrator": "imported (ModelOpt amax)",
            "generator": f"trtgen {__version__}",
        }

    def insert_input_quantizers(self, captures):
        """A ``QuantDequant`` before every captured call of a module that had only an input
        quantizer (pooling...): ``self.<child>_input_quantizer(x)``."""
        placed = set()
        for capture in captures:
            for node in list(capture.graph.nodes):
                if node.op != "call_module" or not node.args:
                    continue
                child = capture.module.get_submodule(node.target)
                if id(child) not in self.pending or not isinstance(node.args[0], torch.fx.Node):
                    continue
                _, quant, scale = self.pending[id(child)]
                source = node.args[0]
                stem = f"{node.target}_input"
                key, call = insert_quantizer(capture, node, source, stem, TorchQuantDequant(quant))
                node.replace_input_with(source, call)
                self.scales[f"{key}.input_scale"] = scale
                placed.add(id(child))
        missing = [path for key, (path, _, _) in self.pending.items() if key not in placed]
        if missing:
            raise TrtgenError(
                f"ModelOpt input quantizer of {missing[0]}: the module is not called as a "
                "module with a tensor input, so there is no place for its Q/DQ pair; disable "
                f"it (mtq.disable_quantizer(model, '*{missing[0]}.input_quantizer'))"
            )


def _is_modelopt(module, class_name):
    return any(
        cls.__name__ == class_name and cls.__module__.startswith("modelopt.")
        for cls in type(module).__mro__
    )


def import_modelopt(model):
    """Turn every ModelOpt quantized module back into its torch class, marked for trtgen
    (``quant`` / ``weight_only``); returns a ModelOptImport, or None for other models."""
    earlier = getattr(model, IMPORTED, None)
    if earlier is not None:
        return dataclasses.replace(earlier, scales=dict(earlier.scales))
    holders = {}
    for path, module in model.named_modules():
        if _is_modelopt(module, "SequentialQuantizer"):
            raise TrtgenError(
                f"ModelOpt {path}: a SequentialQuantizer (several formats on one tensor, as "
                "W4A8 does) is not imported; quantize with one format per tensor"
            )
        if _is_modelopt(module, "TensorQuantizer"):
            parent, _, role = path.rpartition(".")
            holders.setdefault(parent, {})[role] = module
    if not holders:
        return None
    found = ModelOptImport({}, set(), {})
    for path, quantizers in holders.items():
        module = model.get_submodule(path)
        where = f"{path or '<model>'} ({type(module).__name__})"
        _check_roles(where, quantizers)
        if isinstance(module, WEIGHTED):
            _weighted(found, path, module, quantizers, where)
        else:
            _unweighted(found, path, module, quantizers, where)
        _restore(module, quantizers)
    setattr(model, IMPORTED, dataclasses.replace(found, scales=dict(found.scales)))
    return found


def _unweighted(found, path, module, quantizers, where):
    """A module without weights to quantize: only a per-tensor input quantizer is kept."""
    source = quantizers.get("input_quantizer")
    if _active(quantizers.get("weight_quantizer")) or (
        source is not None and source.pre_quant_scale is not None
    ):
        raise TrtgenError(
            f"ModelOpt {where}: trtgen imports weight quantizers and pre_quant_scale of Conv, "
            "ConvTranspose and Linear modules only; disable this module's quantizers"
        )
    if _active(source):
        quant, scale = _per_tensor(source, where)
        found.pending[id(module)] = (path, quant, scale)
        found.formats.add(quant)


def _active(quantizer):
    return quantizer is not None and quantizer.is_enabled


def _check_roles(where, quantizers):
    for role, quantizer in quantizers.items():
        if not quantizer.is_enabled:
            continue
        if role not in ROLES:
            raise TrtgenError(
                f"ModelOpt quantizer {where}.{role}: trtgen imports the input and weight "
                "quantizers of modules; disable this one or leave the module unquantized"
            )
        if role == "output_quantizer":
            raise TrtgenError(
                f"ModelOpt {where}: its output quantizer is enabled; TensorRT places Q/DQ on "
                "the inputs of weighted layers and fuses their outputs: disable output "
                "quantizers (ModelOpt's default configs do)"
            )
        if quantizer.unsigned or getattr(quantizer, "_dynamic", False):
            raise TrtgenError(
                f"ModelOpt {where}.{role}: unsigned or dynamic quantization; TensorRT Q/DQ "
                "is symmetric with constant scales"
            )
        if quantizer.amax is None:
            raise TrtgenError(
                f"ModelOpt {where}.{role}: no amax; calibrate the model (mtq.quantize with "
                "a forward loop) before generating"
            )


def _weighted(found, path, module, quantizers, where):
    source = quantizers.get("input_quantizer")
    weight = quantizers.get("weight_quantizer")
    pre_quant = source.pre_quant_scale if source is not None else None
    if _active(source) and not _active(weight):
        raise TrtgenError(
            f"ModelOpt {where}: its input is quantized but not its weight; TensorRT runs a "
            "quantized layer only with both quantized: enable the weight quantizer too"
        )
    if not _active(weight):
        if pre_quant is not None:
            raise TrtgenError(f"ModelOpt {where}: pre_quant_scale without a weight quantizer")
        return
    weight_format = _format(weight, where)
    transposed = getattr(module, "transposed", False)
    axis, channels = (
        (1, module.weight.shape[1] * module.groups) if transposed else (0, len(module.weight))
    )
    if _active(source):
        quant, input_scale = _per_tensor(source, where)
        if quant != weight_format:
            raise TrtgenError(
                f"ModelOpt {where}: input {quant} but weight {weight_format}; TensorRT needs "
                "one format for both"
            )
        module.quant = quant
        found.scales[_key(path, "input_scale")] = input_scale
        found.scales[_key(path, "weight_scale")] = _channel_scales(weight, axis, channels, where)
        found.formats.add(quant)
    elif isinstance(module, torch.nn.Linear) and weight_format in ("int8", "int4"):
        module.weight_only = weight_format
        found.scales[_key(path, "weight_scale")] = _weight_only_scales(module, weight, where)
        found.formats.add(f"weight-only {weight_format}")
    else:
        raise TrtgenError(
            f"ModelOpt {where}: a weight-only {weight_format} quantizer; trtgen keeps weight-only "
            "INT8/INT4 quantization of Linear layers only"
        )
    if pre_quant is not None:
        if not isinstance(module, torch.nn.Linear):
            raise TrtgenError(f"ModelOpt {where}: pre_quant_scale is supported on Linear only")
        module.pre_quant_scale = True
        found.scales[_key(path, "pre_quant_scale")] = _float32(pre_quant).reshape(-1)


def _bits(quantizer):
    bits = quantizer.num_bits
    return tuple(bits) if isinstance(bits, (list, tuple)) else bits


def _format(quantizer, where):
    num_bits = _bits(quantizer)
    if num_bits not in FORMATS:
        raise TrtgenError(
            f"ModelOpt {where}: num_bits {num_bits}; trtgen imports 8 (INT8), (4, 3) (FP8 "
            "E4M3) and 4 (INT4 weights)"
        )
    blocks = quantizer.block_sizes
    if blocks and num_bits != 4:
        raise TrtgenError(
            f"ModelOpt {where}: block scales {blocks}; TensorRT Q/DQ scales INT8/FP8 per "
            "tensor or per channel"
        )
    return FORMATS[num_bits][0]


def _scale(quantizer, where):
    """amax / bound, float32, as ModelOpt's export computes it."""
    fmt = _format(quantizer, where)
    bound = np.float32(FORMATS[_bits(quantizer)][1])
    return fmt, np.asarray(_float32(quantizer.amax) / bound, dtype=np.float32)


def _per_tensor(quantizer, where):
    fmt, scale = _scale(quantizer, where)
    if fmt == "int4" or scale.size != 1:
        raise TrtgenError(
            f"ModelOpt {where}: input quantizer with amax of shape {tuple(scale.shape)}; "
            "TensorRT quantizes activations per tensor with INT8 or FP8"
        )
    return fmt, scale.reshape(())


def _channel_scales(quantizer, axis, channels, where):
    _, scale = _scale(quantizer, where)
    if scale.size == 1:  # per tensor: the same scale on every channel quantizes identically
        return np.full((channels,), scale.reshape(()), np.float32)
    if scale.size != channels or quantizer.axis not in (axis, axis - len(quantizer.amax.shape)):
        raise TrtgenError(
            f"ModelOpt {where}: weight amax of shape {tuple(quantizer.amax.shape)} on axis "
            f"{quantizer.axis}; TensorRT needs one scale per output channel: quantize this "
            f"weight with axis {axis} (in the ModelOpt config: {{'num_bits': ..., 'axis': {axis}}})"
        )
    return scale.reshape(channels)


def _weight_only_scales(module, quantizer, where):
    fmt, scale = _scale(quantizer, where)
    rows, columns = module.weight.shape
    if fmt == "int8":
        return _channel_scales(quantizer, 0, rows, where)
    blocks = scale.size // rows if scale.size % rows == 0 else 0
    if not blocks or columns % blocks or set(quantizer.block_sizes or {}) - {-1, "type"}:
        raise TrtgenError(
            f"ModelOpt {where}: INT4 block scales {quantizer.block_sizes} with amax of "
            f"{scale.size} values; trtgen keeps blocks along the input features only"
        )
    module.block_size = columns // blocks
    return scale.reshape(rows, blocks)


def _restore(module, quantizers):
    """Give the module its torch class back and drop its quantizer children."""
    for role in quantizers:
        del module._modules[role]
    original = getattr(module, "original_cls", None)  # ModelOpt's DynamicModule keeps it
    if isinstance(original, type) and isinstance(module, original):
        module.__class__ = original


def _float32(tensor):
    return np.asarray(tensor.detach().float().cpu().numpy(), dtype=np.float32)


def _key(path, role):
    return f"{path}.{role}" if path else role
