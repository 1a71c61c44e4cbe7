"""The one place that chooses the TensorRT package.

Datacenter TensorRT (``tensorrt``, 10.12+ / 11.x) is preferred when importable; otherwise
TensorRT-RTX (``tensorrt_rtx`` from the metapackage, or ``tensorrt_rtx_bindings`` from the
standalone ``tensorrt-rtx-cu13-bindings`` wheel). ``LAYERS_TRT_BACKEND=<module>`` forces one.
Everything else in ``layers/`` imports ``trt`` from here and asks ``IS_RTX`` before using an
RTX-only API.
"""

import importlib
import os

_CANDIDATES = ("tensorrt", "tensorrt_rtx", "tensorrt_rtx_bindings")


def _load():
    forced = os.environ.get("LAYERS_TRT_BACKEND")
    names = (forced,) if forced else _CANDIDATES
    errors = []
    for name in names:
        try:
            module = importlib.import_module(name)
        except (ImportError, OSError) as exc:  # OSError: wheel present, shared libraries missing
            errors.append(f"{name}: {exc}")
            continue
        # tensorrt-stubs leaves a `tensorrt/` folder of .pyi files: importable, but empty.
        if hasattr(module, "Builder"):
            return module
        errors.append(f"{name}: not a TensorRT runtime (type stubs only?)")
    raise ImportError(
        "No usable TensorRT package found ("
        + "; ".join(errors)
        + "). Install TensorRT-RTX with `pip install tensorrt-rtx-cu13-bindings "
        "tensorrt-rtx-cu13-libs` or datacenter TensorRT 10.12+."
    )


trt = _load()
IS_RTX = trt.__name__.startswith("tensorrt_rtx")
BACKEND_NAME = trt.__name__  # the import path: one library can arrive under two names
VERSION = trt.__version__
# the library itself, whichever package brought it: what manifests and reports record
LIBRARY = "TensorRT-RTX" if IS_RTX else "TensorRT"
LIBRARY_VERSION = f"{LIBRARY} {VERSION}"
