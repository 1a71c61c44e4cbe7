"""Post-training calibration: the scales of every quantizer in a generated network.

The network is built from the generated network.py in calibration mode (each activation
quantizer passes its input through and names it), then run by the reference executor on every
calibration sample: the statistics come from the very tensors the Q/DQ pairs will see.
Weight scales are per output channel, from the weights themselves.
"""

import dataclasses

import layers
from layers.quant_calibration import calibration_taps

from .. import __version__
from ..errors import TrtgenError
from ..reference import execute
from .ranges import TensorStats, compute_amax, scale_for, weight_scales


@dataclasses.dataclass(frozen=True)
class QuantOptions:
    quant: str  # "int8" | "fp8"
    calibrator: str
    percentile: float = 99.99
    skip: tuple = ()
    calib_dir: str = None


def calibrate(model, build_network, weights, samples, input_names, options):
    """``(scales, metadata)``: {``<module>.input_scale`` / ``.weight_scale``: float32 array},
    and the calibration settings to store beside them in quant.safetensors."""
    builder, network = layers.create_network()
    with calibration_taps() as tapped:
        build_network(network, weights, None)
    taps = {key: tensor.name for key, tensor in tapped.items()}
    stats = {key: TensorStats() for key in taps}
    for index, sample in enumerate(samples):
        try:
            values = execute(network, dict(zip(input_names, sample)), keep=list(taps.values()))
        except Exception as exc:  # noqa: BLE001 - name the sample, keep the executor's reason
            raise TrtgenError(
                f"calibration sample {index}: the network cannot run it: {exc}"
            ) from exc
        for key, tensor_name in taps.items():
            stats[key].update(values[tensor_name])
    scales = {
        key: scale_for(
            compute_amax(s, options.calibrator, options.quant, options.percentile), options.quant
        )
        for key, s in stats.items()
    }
    scales.update(_weight_scales(model, weights, options.quant))
    return scales, _metadata(options, len(samples))


def _weight_scales(model, weights, quant):
    """Per-channel scales of every quantized weight: axis 0, the output channels of a
    transposed convolution on axis 1 (its weight is (in, out / groups, ...))."""
    scales, modules = {}, dict(model.named_modules())
    for key, param in model.named_parameters():
        if param.kind != "scale" or key.rsplit(".", 1)[-1] != "weight_scale":
            continue
        path = key[: -len("weight_scale")].rstrip(".")  # "" when the model is one conv
        axis = 1 if getattr(modules.get(path), "_transposed", False) else 0
        weight = weights[f"{path}.weight" if path else "weight"]
        scales[key] = weight_scales(weight, axis, quant).reshape(param.shape)
    return scales


def _metadata(options, count):
    metadata = {
        "format": options.quant,
        "calibrator": options.calibrator,
        "calibration_samples": str(count),
        "skip_quant": ",".join(options.skip),
        "generator": f"trtgen {__version__}",
    }
    if options.calibrator == "percentile":
        metadata["percentile"] = repr(options.percentile)
    return metadata
