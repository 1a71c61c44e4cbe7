"""Engine build settings: one table of command-line options, shared by every generated network.py.

``python network.py --engine model.engine --opt-level 5 --strip-weights`` and the like; each
option says what it does in ``--help``. Settings the installed TensorRT package lacks are refused
with a clear message instead of being ignored.
"""

import dataclasses
import os

from .atomic import atomic_write
from .backend import IS_RTX, trt


@dataclasses.dataclass
class BuildOptions:
    workspace_mib: int = None  # scratch memory limit
    optimization_level: int = None  # 0..5, TensorRT's default is 3
    timing_cache: str = None  # file read before and written after the build
    compute_capabilities: tuple = ()  # TensorRT-RTX targets such as "sm86"
    refittable: bool = False
    strip_weights: bool = (
        False  # weight-stripped plan: weights are refitted from weights.safetensors
    )
    hardware_compatible: bool = False  # one engine for Ampere and newer GPUs
    version_compatible: bool = False


def add_arguments(parser):
    """The build options as argparse arguments (generated network.py files call this)."""
    group = parser.add_argument_group("engine build")
    group.add_argument("--workspace", type=int, metavar="MiB", help="workspace memory limit")
    group.add_argument(
        "--opt-level",
        type=int,
        choices=range(6),
        metavar="0-5",
        help="builder optimization level (TensorRT default 3)",
    )
    group.add_argument(
        "--timing-cache", metavar="FILE", help="timing cache: read if present, written after"
    )
    group.add_argument(
        "--compute-capability",
        action="append",
        default=[],
        metavar="smXY",
        help="TensorRT-RTX target GPU (repeatable): sm75, sm80, sm86, sm89, sm120",
    )
    group.add_argument("--refittable", action="store_true", help="engine weights can be refitted")
    group.add_argument(
        "--strip-weights",
        action="store_true",
        help="weight-stripped plan; refit from weights.safetensors when loading",
    )
    group.add_argument(
        "--hardware-compatible", action="store_true", help="run on any Ampere or newer GPU"
    )
    group.add_argument(
        "--version-compatible", action="store_true", help="run with newer TensorRT versions"
    )
    return parser


def from_args(args):
    return BuildOptions(
        workspace_mib=args.workspace,
        optimization_level=args.opt_level,
        timing_cache=args.timing_cache,
        compute_capabilities=tuple(args.compute_capability),
        refittable=args.refittable,
        strip_weights=args.strip_weights,
        hardware_compatible=args.hardware_compatible,
        version_compatible=args.version_compatible,
    )


# options TensorRT-RTX does not have: it targets GPUs by compute capability instead
_NOT_ON_RTX = ("hardware_compatible", "version_compatible")


def _flags(options):
    """Builder flags for ``options``. A stripped plan is refitted with the same weights
    (REFIT_IDENTICAL) unless the engine is also meant to take new weights (REFIT)."""
    flags = []
    if options.refittable:
        flags.append("REFIT")
    if options.strip_weights:
        flags += ["STRIP_PLAN"] + ([] if options.refittable else ["REFIT_IDENTICAL"])
    if options.version_compatible:
        flags.append("VERSION_COMPATIBLE")
    return flags


def configure(config, options):
    """Apply ``options`` to a ``trt.IBuilderConfig``; returns the timing cache to save, if any."""
    for option in _NOT_ON_RTX:
        if IS_RTX and getattr(options, option):
            raise ValueError(
                f"--{option.replace('_', '-')} is not supported by TensorRT-RTX "
                "(RTX engines are built for the GPUs named by --compute-capability)"
            )
    if options.workspace_mib is not None:
        config.set_memory_pool_limit(trt.MemoryPoolType.WORKSPACE, int(options.workspace_mib) << 20)
    if options.optimization_level is not None:
        config.builder_optimization_level = int(options.optimization_level)
    for flag in _flags(options):
        config.set_flag(_member(trt.BuilderFlag, flag, flag.lower()))
    if options.hardware_compatible:
        level = _member(trt, "HardwareCompatibilityLevel", "hardware_compatible")
        config.hardware_compatibility_level = level.AMPERE_PLUS
    if options.compute_capabilities:
        _set_compute_capabilities(config, options.compute_capabilities)
    return _load_timing_cache(config, options.timing_cache)


def _member(namespace, name, option):
    value = getattr(namespace, name, None)
    if value is None:
        raise ValueError(f"--{option.replace('_', '-')}: this TensorRT package has no {name}")
    return value


def _set_compute_capabilities(config, targets):
    capability = getattr(trt, "ComputeCapability", None)  # TensorRT-RTX only
    if capability is None:
        raise ValueError(
            "--compute-capability is a TensorRT-RTX setting; TensorRT builds for the GPU it runs on"
        )
    kinds = capability.__members__
    wanted = [t.strip().upper() for t in targets]
    unknown = [t for t in wanted if t not in kinds]
    if unknown:
        choices = ", ".join(k.lower() for k in kinds if k.startswith("SM"))
        raise ValueError(
            f"--compute-capability {', '.join(unknown).lower()}: choose from {choices}"
        )
    config.num_compute_capabilities = len(wanted)
    for index, name in enumerate(wanted):
        config.set_compute_capability(kinds[name], index)


def _load_timing_cache(config, path):
    if path is None:
        return None
    blob = b""
    if os.path.exists(path):
        with open(path, "rb") as f:
            blob = f.read()
    cache = config.create_timing_cache(blob)
    config.set_timing_cache(cache, ignore_mismatch=False)
    return cache


def save_timing_cache(cache, path):
    if cache is not None and path is not None:
        atomic_write(path, bytes(cache.serialize()))
