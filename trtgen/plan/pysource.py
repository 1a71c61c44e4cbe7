"""Python source for values and single statements of the generated network (black formats later)."""

import keyword
import math
import unicodedata

import torch

from ..emit.escape import is_attribute_name
from .library import runs_as_sequential

# the torch dtypes TensorRT networks have tensors of, by their layers name
DTYPE_NAMES = {
    torch.float32: "float32",
    torch.float16: "float16",
    torch.bfloat16: "bfloat16",
    torch.int8: "int8",
    torch.int32: "int32",
    torch.int64: "int64",
    torch.bool: "bool",
    torch.uint8: "uint8",
    torch.float8_e4m3fn: "float8_e4m3fn",
}

RESERVED = {
    "nn",
    "F",
    "self",
    "np",
    "os",
    "sys",
    "argparse",
    "collections",
    "layers",
    "trt",
    "math",
}
# the module-level names network.py.j2 defines: a class of the model must not replace one
TEMPLATE_GLOBALS = {
    "INPUTS",
    "OUTPUTS",
    "PROFILES",
    "PRECISION",
    "FP32_OPS",
    "KEEP_FP32",
    "build_network",
    "load_network",
    "main",
}


def legal_name(name, taken=()):
    """A Python identifier that shadows no builtin, keyword or import of the generated file."""
    import builtins

    # Python reads identifiers NFKC-normalized: write them so, from identifier characters only
    name = unicodedata.normalize("NFKC", name)
    name = "".join(c if ("_" + c).isidentifier() else "_" for c in name) or "v"
    if not name.isidentifier():  # a leading digit
        name = "_" + name
    while keyword.iskeyword(name) or name in RESERVED or hasattr(builtins, name) or name in taken:
        name += "_"
    return name


def value(v, names):
    """Source for an fx argument: node → its variable, literals → Python literals."""
    import torch.fx

    if isinstance(v, torch.fx.Node):
        return names[v]
    if isinstance(v, bool) or v is None:
        return repr(v)
    if isinstance(v, float):
        if math.isinf(v):
            return 'float("inf")' if v > 0 else 'float("-inf")'
        if math.isnan(v):
            return 'float("nan")'
        return repr(v)
    if isinstance(v, (int, str)):
        return repr(v)
    if isinstance(v, torch.dtype):
        return f"nn.{DTYPE_NAMES[v]}"
    if isinstance(v, torch.Size):
        return value(tuple(v), names)
    if isinstance(v, tuple):
        inner = ", ".join(value(x, names) for x in v)
        return f"({inner},)" if len(v) == 1 else f"({inner})"
    if isinstance(v, list):
        return "[" + ", ".join(value(x, names) for x in v) + "]"
    if isinstance(v, dict):
        return "{" + ", ".join(f"{value(k, names)}: {value(x, names)}" for k, x in v.items()) + "}"
    if isinstance(v, slice):
        return f"slice({value(v.start, names)}, {value(v.stop, names)}, {value(v.step, names)})"
    if v is Ellipsis:
        return "..."
    if (
        isinstance(v, torch.device)
        or isinstance(v, torch.memory_format)
        or isinstance(v, torch.layout)
    ):
        return "None"
    raise TypeError(f"cannot write {type(v).__name__} value {v!r} into generated code")


def index(v, names):
    """Subscript source: ``x[:, 0]`` style, slices written with colons."""
    if isinstance(v, tuple):
        return ", ".join(index(x, names) for x in v) if v else "()"
    if isinstance(v, slice):
        parts = ["" if p is None else value(p, names) for p in (v.start, v.stop, v.step)]
        text = f"{parts[0]}:{parts[1]}"
        return text + (f":{parts[2]}" if parts[2] else "")
    return value(v, names)


def call_args(args, kwargs, names):
    parts = [value(a, names) for a in args]
    parts += [f"{k}={value(v, names)}" for k, v in kwargs.items()]
    return ", ".join(parts)


def _indexable(module):
    """Generated counterparts of Sequential (and its forward-less subclasses) and ModuleList index."""
    return type(module) is torch.nn.ModuleList or runs_as_sequential(module)


def attribute_path(module, target):
    """``layer1.0.conv1`` → ``self.layer1[0].conv1`` (index containers, dot attributes)."""
    text, current = "self", module
    for part in target.split("."):
        if _indexable(current) and part.isdigit():
            text += f"[{part}]"
        elif type(current) is torch.nn.ModuleDict:
            text += f"[{part!r}]"
        elif is_attribute_name(part):
            text += f".{part}"
        else:
            text = f"getattr({text}, {part!r})"
        current = getattr(current, part, None) if current is not None else None
    return text
