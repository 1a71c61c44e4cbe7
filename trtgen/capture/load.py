"""Load the user's model: ``MODEL.py`` entry points or ``package.module:factory``.

Also records the arguments every ``nn.Module`` was constructed with, so generated classes can
take the same constructor parameters as the user's (``Bottleneck(inplanes, planes, stride)``).
"""

import dataclasses
import importlib
import importlib.machinery
import importlib.util
import inspect
import os
import sys
import traceback
import unicodedata

import torch

from ..errors import TrtgenError
from ..plan.pysource import DTYPE_NAMES
from .dynamic import dynamic_specs

USER_MODULE_PREFIX = "trtgen_user_model_"  # MODEL.py is imported under this prefix + its stem


@dataclasses.dataclass
class LoadedModel:
    model: torch.nn.Module
    example_inputs: tuple
    source: str  # what the user passed: path or "pkg.mod:factory"
    entry: str  # "get_model" / "model" / factory name
    init_args: dict  # id(module) -> {param name: value} as passed to its __init__
    input_names: list
    dynamic_specs: list = dataclasses.field(
        default_factory=list
    )  # get_dynamic_shapes(), as --dynamic
    calibration_data: object = None  # MODEL.py's get_calibration_data, when it defines one


def _record_init_args():
    """Profile hook capturing the bound arguments of each module's outermost ``__init__``."""
    records = {}

    def profile(frame, event, arg):
        if event != "call" or frame.f_code.co_name != "__init__":
            return
        self = frame.f_locals.get("self")
        if isinstance(self, torch.nn.Module) and id(self) not in records:
            code = frame.f_code
            names = code.co_varnames[: code.co_argcount + code.co_kwonlyargcount]
            records[id(self)] = {n: frame.f_locals[n] for n in names[1:] if n in frame.f_locals}

    return records, profile


def _call_recording(factory, *args):
    records, profile = _record_init_args()
    previous = sys.getprofile()
    sys.setprofile(profile)
    try:
        result = factory(*args)
    finally:
        sys.setprofile(previous)
    return result, records


def user_module_name(path):
    """The module name MODEL.py is imported under: the prefix + its stem as an identifier
    (the name shows in generated docstrings; a file name may hold quotes, spaces, any bytes)."""
    stem = unicodedata.normalize("NFKC", os.path.splitext(os.path.basename(path))[0])
    return USER_MODULE_PREFIX + "".join(c if ("_" + c).isidentifier() else "_" for c in stem)


def _is_utf8(path):
    try:
        path.encode("utf-8")
        return True
    except UnicodeEncodeError:
        return False


class _NonUtf8PathLoader(importlib.machinery.SourceFileLoader):
    """Compiles a MODEL.py whose path is not UTF-8 (Linux allows any bytes) under a printable
    file name (``\\xff`` for the byte): torch's tracers pass code file names to C++, which
    cannot take the lone surrogates ``os.fsdecode`` gives. ``__file__`` stays the real path."""

    def get_code(self, fullname):
        shown = os.fsencode(self.path).decode("utf-8", "backslashreplace")
        return compile(self.get_data(self.path), shown, "exec", dont_inherit=True)


def _import_file(path):
    if not os.path.isfile(path):
        what = "a folder, not a file" if os.path.isdir(path) else "no such file"
        raise TrtgenError(
            f"{path}: {what}. Pass the path of a Python file that defines get_model()."
        )
    if not path.endswith(".py"):
        raise TrtgenError(
            f"{path}: a model file must be Python source ending in .py; rename it "
            "(or pass package.module:factory)."
        )
    name = user_module_name(path)
    loader = _NonUtf8PathLoader if not _is_utf8(path) else None
    spec = importlib.util.spec_from_file_location(
        name, os.path.abspath(path), loader=loader and loader(name, os.path.abspath(path))
    )
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    sys.path.insert(0, os.path.dirname(os.path.abspath(path)))
    try:
        spec.loader.exec_module(module)
    except SystemExit as exc:
        raise TrtgenError(_exited(path, "importing it", exc)) from None
    except Exception as exc:  # the user's code failed: show where, briefly
        raise TrtgenError(f"{path} raised while being imported:\n{_short_traceback(exc)}") from exc
    finally:
        sys.path.pop(0)
    return module


def _short_traceback(exc):
    lines = traceback.format_exception(type(exc), exc, exc.__traceback__)
    return "".join(lines[-6:]).rstrip()


def _from_file(path):
    module = _import_file(path)
    if hasattr(module, "get_model"):
        entry = "get_model"
        model, records = _call_user(path, "get_model()", lambda: _call_recording(module.get_model))
    elif isinstance(getattr(module, "model", None), torch.nn.Module):
        entry, model = "model", module.model
        records = {}
    else:
        raise TrtgenError(
            f"{path} defines neither get_model() nor a module-level `model`. Add "
            "`def get_model(): return MyNet()` and `def get_example_inputs(): return (torch.randn(1, 3, 224, 224),)`."
        )
    if hasattr(module, "get_example_inputs"):
        inputs = _call_user(path, "get_example_inputs()", module.get_example_inputs)
    elif hasattr(module, "example_inputs"):
        inputs = module.example_inputs
    else:
        raise TrtgenError(
            f"{path} defines neither get_example_inputs() nor `example_inputs`. Add "
            "`def get_example_inputs(): return (torch.randn(1, 3, 224, 224),)`."
        )
    return model, inputs, entry, records, module


def _call_user(path, what, function):
    try:
        return function()
    except TrtgenError:
        raise
    except SystemExit as exc:
        raise TrtgenError(_exited(path, what, exc)) from None
    except Exception as exc:
        raise TrtgenError(f"{path}: {what} raised:\n{_short_traceback(exc)}") from exc


def _exited(path, what, exc):
    return (
        f"{path}: {what} called sys.exit({exc.code!r}), so there is no model to convert; "
        "return the model instead of exiting"
    )


def _from_factory(spec, input_shapes):
    module_name, _, attr = spec.partition(":")
    try:
        factory = getattr(importlib.import_module(module_name), attr)
    except (ImportError, AttributeError) as exc:
        raise TrtgenError(
            f"cannot find {spec!r}: {exc}. Use package.module:factory, e.g. torchvision.models:resnet50."
        ) from exc
    if not input_shapes:
        raise TrtgenError(f"{spec}: give the input shape(s), e.g. --input 1x3x224x224.")
    model, records = _call_user(spec, f"{attr}()", lambda: _call_recording(factory))
    torch.manual_seed(0)
    try:
        inputs = tuple(torch.randn(*shape) for shape in input_shapes)
    except (RuntimeError, MemoryError) as exc:  # too large to allocate
        shapes = ", ".join("x".join(map(str, s)) for s in input_shapes)
        raise TrtgenError(
            f"cannot make random inputs of shape {shapes}: {exc}; use smaller --input shapes"
        ) from None
    return model, inputs, attr, records, None


# TensorRT dimensions are 64-bit, but no input of 2**31 elements along one axis fits in memory
MAX_INPUT_DIM = 2**31 - 1


def parse_shape(text):
    try:
        dims = tuple(int(d) for d in text.lower().split("x"))
    except ValueError:
        raise TrtgenError(
            f"bad --input shape {text!r}: write dims joined by x, e.g. 1x3x224x224"
        ) from None
    if any(not 1 <= d <= MAX_INPUT_DIM for d in dims):
        raise TrtgenError(
            f"bad --input shape {text!r}: every dim must be a whole number from 1 to "
            f"{MAX_INPUT_DIM}, e.g. 1x3x224x224"
        )
    return dims


def _seed_random_generators(seed=0):
    """Random weights and example inputs come out the same on every load (generation and
    ``trtgen check``, two generations), so output is byte-identical for the same input."""
    import random

    import numpy as np

    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)


def load_model(source, input_shapes=()):
    """Import and instantiate the model; check it and its example inputs."""
    _seed_random_generators()
    module = None
    if source.endswith(".py") or os.path.sep in source:
        model, inputs, entry, records, module = _from_file(source)
    else:
        model, inputs, entry, records, _ = _from_factory(source, input_shapes)
    if not isinstance(model, torch.nn.Module):
        raise TrtgenError(
            f"{source}: {entry} returned {type(model).__name__}, not a torch.nn.Module."
        )
    if isinstance(inputs, torch.Tensor):
        inputs = (inputs,)
    if not isinstance(inputs, (tuple, list)) or not inputs:
        raise TrtgenError(
            f"{source}: example inputs must be a non-empty tuple of tensors, got {type(inputs).__name__}."
        )
    bad = [i for i, t in enumerate(inputs) if not isinstance(t, torch.Tensor)]
    if bad:
        kinds = ", ".join(f"#{i} is {type(inputs[i]).__name__}" for i in bad)
        raise TrtgenError(f"{source}: every example input must be a torch.Tensor ({kinds}).")
    _check_input_dtypes(source, inputs)
    model.eval()
    names = input_names(model, len(inputs))
    specs = []
    if module is not None and hasattr(module, "get_dynamic_shapes"):
        shapes = _call_user(source, "get_dynamic_shapes()", module.get_dynamic_shapes)
        specs = dynamic_specs(source, shapes, dict(zip(names, inputs)))
    calibration = getattr(module, "get_calibration_data", None) if module is not None else None
    return LoadedModel(model, tuple(inputs), source, entry, records, names, specs, calibration)


def _check_input_dtypes(source, inputs):
    """Refuse input types TensorRT networks have no tensors of, before capture trips over them."""
    for i, tensor in enumerate(inputs):
        if tensor.dtype in DTYPE_NAMES:
            continue
        dtype = str(tensor.dtype).removeprefix("torch.")
        if tensor.dtype.is_complex:
            what = (
                "TensorRT has no complex tensors. Pass the real and imaginary parts as a real input "
                "(torch.view_as_real) and rewrite forward to use them"
            )
        else:
            what = f"a network input must be one of {', '.join(DTYPE_NAMES.values())}; convert it in MODEL.py"
        raise TrtgenError(f"{source}: example input #{i} is {dtype}: {what}.")


def input_names(model, count):
    """The model's own ``forward`` parameter names (``x`` for torchvision models)."""
    parameters = list(inspect.signature(model.forward).parameters.values())
    names = [p.name for p in parameters if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
    names = names[:count]
    rest = next((p.name for p in parameters if p.kind == p.VAR_POSITIONAL), "input")
    # forward(self, *args): args_0, args_1 (torch.export's names for them)
    return names + [f"{rest}_{i}" for i in range(count - len(names))]
