"""``--quant`` and its companions, checked before any work is done."""

from ..errors import TrtgenError
from .calibrate import QuantOptions

FORMATS = ("int8", "fp8")
CALIBRATORS = ("max", "percentile", "entropy", "mse")
# percentile (99.99) clips rare outliers for INT8; FP8's range is wide enough for max
DEFAULT_CALIBRATOR = {"int8": "percentile", "fp8": "max"}


def parse_quant(quant, calibrator=None, percentile=99.99, skip=(), calib_dir=None):
    """QuantOptions for ``--quant FORMAT``, or None without it (then the others are errors)."""
    if quant is None:
        given = [
            flag for flag, value in (("--calibrator", calibrator), ("--calib", calib_dir)) if value
        ]
        given += ["--skip-quant"] if skip else []
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
    paths = tuple(dict.fromkeys(p.strip() for text in skip for p in text.split(",") if p.strip()))
    return QuantOptions(quant, calibrator, percentile, paths, calib_dir)


def check_skip_paths(options, module_paths):
    """Every --skip-quant path must name a module of the generated network."""
    known = set(module_paths)
    for path in options.skip:
        if path not in known:
            raise TrtgenError(
                f"--skip-quant {path!r}: the network has no module of that path "
                "(paths are the model's module names, as in its state_dict keys)"
            )
