"""``--quant`` and its companions, checked before any work is done."""

from ..errors import TrtgenError
import dataclasses

from .calibrate import QuantOptions

FORMATS = ("int8", "fp8")
WEIGHT_ONLY_FORMATS = ("int8", "int4")
CALIBRATORS = ("max", "percentile", "entropy", "mse")
# percentile (99.99) clips rare outliers for INT8; FP8's range is wide enough for max
DEFAULT_CALIBRATOR = {"int8": "percentile", "fp8": "max"}


@dataclasses.dataclass(frozen=True)
class WeightOnlyOptions:
    weight_only: str  # "int8" | "int4"
    skip: tuple = ()


def _paths(texts):
    return tuple(dict.fromkeys(p.strip() for text in texts for p in text.split(",") if p.strip()))


def parse_weight_only(weight_only, quant=None, skip=()):
    """WeightOnlyOptions for ``--weight-only int8|int4`` (``--skip-quant`` applies), or None."""
    if weight_only is None:
        return None
    if weight_only not in WEIGHT_ONLY_FORMATS:
        raise TrtgenError(
            f"--weight-only {weight_only!r}: choose one of {', '.join(WEIGHT_ONLY_FORMATS)}"
        )
    if quant is not None:
        raise TrtgenError("--weight-only and --quant exclude each other: choose one")
    return WeightOnlyOptions(weight_only, _paths(skip))


def parse_quant(
    quant, calibrator=None, percentile=99.99, skip=(), calib_dir=None, weight_only=None
):
    """QuantOptions for ``--quant FORMAT``, or None without it (then the others are errors)."""
    if quant is None:
        given = [
            flag for flag, value in (("--calibrator", calibrator), ("--calib", calib_dir)) if value
        ]
        given += ["--skip-quant"] if skip and weight_only is None else []
        if given:
            raise TrtgenError(f"{given[0]} needs --quant int8 or --quant fp8")
        return None
    if quant not in FORMATS:
        raise TrtgenError(f"--quant {quant!r}: choose one of {', '.join(FORMATS)}")
    calibrator = calibrator or DEFAULT_CALIBRATOR[quant]
    if calibrator not in CALIBRATORS:
        raise TrtgenError(f"--calibrator {calibrator!r}: choose one of {', '.join(CALIBRATORS)}")
    if calibrator == "entropy" and quant != "int8":
        raise TrtgenError(
            "--calibrator entropy is TensorRT's INT8 algorithm; for fp8 use max, percentile or mse"
        )
    if not 0 < percentile <= 100:
        raise TrtgenError(f"--percentile {percentile}: give a value in (0, 100], e.g. 99.99")
    return QuantOptions(quant, calibrator, percentile, _paths(skip), calib_dir)


def check_skip_paths(options, module_paths):
    """Every --skip-quant path must name a module of the generated network."""
    known = set(module_paths)
    for path in options.skip:
        if path not in known:
            raise TrtgenError(
                f"--skip-quant {path!r}: the network has no module of that path "
                "(paths are the model's module names, as in its state_dict keys)"
            )
