"""``Module`` / ``Parameter`` / containers mirroring ``torch.nn``.

Dotted parameter names equal the PyTorch ``state_dict`` keys, and every layer a module adds is
named after its path (``layer1.0.conv1/conv``); the module's output tensor is named the path
itself (``layer1.0.conv1``), so TensorRT logs, profiles and layerwise checks map back to PyTorch.
"""

import collections
import inspect
import os

import numpy as np

from . import dtypes
from .network import current, name_scope
from .precision import island_call
from .tensor import Tensor
from .weights_file import key_problems, load_file


class Parameter(Tensor):
    """A named weight: declared shape and dtype now, value from ``Module.load_weights``.

    Usable wherever a Tensor is (``x + self.pos_embedding``): on first use in a network it
    becomes one CONSTANT layer named by its state_dict key. Layers that take build-time
    weights (convolution, batch norm) read ``numpy()`` instead.
    """

    # plain class attributes shadow Tensor's ITensor-backed properties
    name = None
    shape = None
    dtype = None

    def __init__(self, shape, dtype=dtypes.float32, kind="weight"):
        self.shape = tuple(int(d) for d in shape)
        # "weight": a state_dict tensor (weights.safetensors); "scale": a quantization scale
        # (quant.safetensors), loaded by load_scales
        self.kind = kind
        self.dtype = dtypes.to_trt(dtype)
        self.stored_dtype = self.dtype  # the weights file's dtype; Module.to changes only dtype
        self.name = None  # state_dict key, set when the owning module tree is named
        self.value = None
        self._tensor = None  # (network context, Tensor): one CONSTANT layer per network

    def set_value(self, array):
        array = np.asarray(array)
        if tuple(array.shape) != self.shape:
            raise ValueError(
                f"weight {self.name!r}: expected shape {list(self.shape)}, got {list(array.shape)}"
            )
        stored = self.stored_dtype
        expected = dtypes.to_numpy(stored) if stored != dtypes.bfloat16 else None
        if expected is not None and array.dtype != expected:
            raise TypeError(
                f"weight {self.name!r}: expected dtype {np.dtype(expected).name}, "
                f"got {array.dtype.name}"
            )
        self.value = (
            np.array(array, order="C", copy=False)
            if array.flags.c_contiguous
            else np.array(array, order="C")
        )
        self._tensor = None

    @property
    def trt(self):
        return self.tensor().trt

    @property
    def ndim(self):
        return len(self.shape)

    def numpy(self):
        """The value in this parameter's dtype (float32 for bfloat16, which numpy lacks)."""
        value = self.stored()
        if self.dtype in (self.stored_dtype, dtypes.bfloat16):
            return value
        return value.astype(dtypes.to_numpy(self.dtype))

    def stored(self):
        """The value as loaded, before any ``Module.to`` (folding math wants full precision)."""
        if self.value is None:
            raise ValueError(
                f"weight {self.name!r} has no value: call load_weights() on the model first"
            )
        return self.value

    def as_dtype(self, dtype):
        """This weight as ``dtype`` (same key and value): an FP32 view for an FP32 island."""
        twin = object.__new__(Parameter)
        twin.__dict__.update(self.__dict__)
        twin.dtype, twin._tensor = dtypes.to_trt(dtype), None
        return twin

    def tensor(self):
        """This parameter as a network tensor (a CONSTANT layer named by its key)."""
        from .functional.constant import constant

        context = current()
        if self._tensor is None or self._tensor[0] is not context:
            self._tensor = (context, constant(self.numpy(), name=self.name, dtype=self.dtype))
        return self._tensor[1]

    def __repr__(self):
        return f"Parameter({self.name!r}, shape={list(self.shape)}, dtype={dtypes.name_of(self.dtype)})"


class Module:
    """Base class: assign ``Parameter`` / ``Module`` attributes in ``__init__``, write ``forward``."""

    def __init__(self):
        object.__setattr__(self, "_parameters", collections.OrderedDict())
        object.__setattr__(self, "_modules", collections.OrderedDict())
        object.__setattr__(self, "_path", "")

    def __setattr__(self, name, value):
        if "_parameters" not in self.__dict__:
            raise RuntimeError(f"{type(self).__name__}.__init__ must call super().__init__() first")
        self._parameters.pop(name, None)
        self._modules.pop(name, None)
        if isinstance(value, Parameter):
            self._parameters[name] = value
        elif isinstance(value, Module) or (value is None and name in self._modules):
            self._modules[name] = value
        object.__setattr__(self, name, value)

    def register_parameter(self, name, param):
        setattr(self, name, param)

    def add_module(self, name, module):
        self._modules[str(name)] = module
        object.__setattr__(self, str(name), module)

    # ------------------------------------------------------------------ traversal
    def named_modules(self, prefix=""):
        yield prefix, self
        for name, child in self._modules.items():
            if child is not None:
                yield from child.named_modules(f"{prefix}.{name}" if prefix else name)

    def named_parameters(self, prefix=""):
        for path, module in self.named_modules(prefix):
            for name, param in module._parameters.items():
                if param is not None:
                    yield (f"{path}.{name}" if path else name), param

    def parameters(self):
        return [p for _, p in self.named_parameters()]

    def children(self):
        return [m for m in self._modules.values() if m is not None]

    def _assign_names(self):
        for path, module in self.named_modules():
            object.__setattr__(module, "_path", path)
        for key, param in self.named_parameters():
            param.name = key

    # ------------------------------------------------------------------ weights
    def load_weights(self, weights, strict=True):
        """Fill every parameter from ``weights``: a mapping key → array, or a safetensors path.

        Errors name the key and the expected and actual shape or dtype. With ``strict``,
        keys the model does not declare are an error too, except PyTorch's bookkeeping
        ``*.num_batches_tracked`` buffers, so a full state_dict loads (network.cpp follows the
        same rule). A safetensors file is checked as untrusted input first
        (``layers.weights_file``). Quantization scales are not weights: ``load_scales`` fills them.
        """
        return self._load("weight", weights, strict, "weights")

    def load_scales(self, scales, strict=True):
        """Fill every quantization scale (``<module>.input_scale``...) from ``scales``: a
        mapping or a safetensors path (quant.safetensors); errors as ``load_weights``."""
        return self._load("scale", scales, strict, "scales")

    def _load(self, kind, values, strict, what):
        self._assign_names()
        where = ""
        if isinstance(values, (str, os.PathLike)):
            where = f"{os.fspath(values)}: "
            values = load_file(values)
        declared = {k: p for k, p in self.named_parameters() if p.kind == kind}
        # the rule network.cpp follows too (weights_file.key_problems); strict=False keeps only
        # the missing-key half of it
        problem = key_problems(
            values,
            declared if strict else set(declared) | set(values),
            what,
            extra_hint=" (pass strict=False to ignore them)",
        )
        if problem:
            raise KeyError(where + problem)
        for key, param in declared.items():
            param.set_value(values[key])
        return self

    # ------------------------------------------------------------------ precision
    def to(self, dtype, keep_fp32=()):
        """Weights in ``dtype`` (float16 / bfloat16 / float32), except under ``keep_fp32``.

        ``keep_fp32`` lists module paths (``encoder.ln``) that run wholly in FP32: their
        reduced-precision inputs are cast to FP32 and their outputs cast back (layers.precision).
        Only floating weights change; the values stay as loaded, so this may come before or
        after ``load_weights``.
        """
        self._assign_names()
        dtype = dtypes.to_trt(dtype)
        modules = dict(self.named_modules())
        unknown = [path for path in keep_fp32 if path not in modules]
        if unknown:
            raise KeyError(f"keep_fp32: no module {', '.join(map(repr, unknown))} in the model")
        kept = tuple(keep_fp32)
        for path, module in modules.items():
            inside = any(path == k or path.startswith(k + ".") for k in kept)
            object.__setattr__(module, "_fp32_island", path in kept)
            for param in module._parameters.values():
                if param is None or param.kind == "scale":  # scales stay FP32
                    continue
                if dtypes.is_floating(param.stored_dtype):
                    param.dtype = dtypes.float32 if inside else dtype
                    param._tensor = None
        return self

    def state_dict(self):
        return {key: param.numpy() for key, param in self.named_parameters()}

    # ------------------------------------------------------------------ calling
    def forward(self, *args, **kwargs):
        raise NotImplementedError(f"{type(self).__name__} must define forward()")

    def __call__(self, *args, **kwargs):
        if not self._path and self._is_root():
            self._assign_names()
        context = current()
        context.note("enter", self._path, self, _argument_names(self.forward, args, kwargs))
        with name_scope(self._path):
            inputs = {id(t) for t in _tensors(args) + _tensors(list(kwargs.values()))}
            if self.__dict__.get("_fp32_island"):
                output = island_call(self.forward, args, kwargs)
            else:
                output = self.forward(*args, **kwargs)
        _name_outputs(output, self._path, inputs)
        context.note("exit", self._path)
        return output

    def _is_root(self):
        return not current().scopes

    def __repr__(self):
        return f"{type(self).__name__}()"


def _tensors(values):
    found = []
    for value in values:
        if isinstance(value, Tensor):
            found.append(value)
        elif isinstance(value, (list, tuple)):
            found.extend(_tensors(value))
        elif isinstance(value, dict):
            found.extend(_tensors(list(value.values())))
    return found


def _argument_names(forward, args, kwargs):
    """``{tensor name: forward parameter name}`` for the Tensor arguments of a call."""
    if current().journal is None:
        return {}
    try:
        bound = inspect.signature(forward).bind(*args, **kwargs).arguments
    except TypeError:
        return {}
    tensors = ((k, t) for k, v in bound.items() for t in _tensors([v]))
    return {t.trt.name: k for k, t in tensors if not isinstance(t, Parameter)}


def _name_outputs(output, path, inputs):
    """Name a module's new output tensor(s) after the module path (``layer1.0``, ``heads:1``)."""
    if not path:
        return
    outputs = [t for t in _tensors([output]) if id(t) not in inputs]
    context = current()
    for index, tensor in enumerate(outputs):
        wanted = path if len(outputs) == 1 else f"{path}:{index}"
        if tensor.trt.is_network_input or tensor.trt.is_network_output:
            continue
        # the old name stays taken: the producing layer still carries it
        new_name = context.unique(wanted)
        context.note("rename", tensor.trt.name, new_name)
        tensor.trt.name = new_name


class Sequential(Module):
    def __init__(self, *modules):
        super().__init__()
        if len(modules) == 1 and isinstance(modules[0], collections.OrderedDict):
            for name, module in modules[0].items():
                self.add_module(name, module)
        else:
            for index, module in enumerate(modules):
                self.add_module(str(index), module)

    def __getitem__(self, index):
        return list(self._modules.values())[index]

    def __len__(self):
        return len(self._modules)

    def __iter__(self):
        return iter(self._modules.values())

    def forward(self, x):
        for module in self._modules.values():
            x = module(x)
        return x


class ModuleList(Module):
    def __init__(self, modules=()):
        super().__init__()
        for module in modules:
            self.append(module)

    def append(self, module):
        self.add_module(str(len(self._modules)), module)
        return self

    def extend(self, modules):
        for module in modules:
            self.append(module)
        return self

    def __getitem__(self, index):
        if isinstance(index, slice):
            return ModuleList(list(self._modules.values())[index])
        return list(self._modules.values())[index]

    def __len__(self):
        return len(self._modules)

    def __iter__(self):
        return iter(self._modules.values())


class ModuleDict(Module):
    def __init__(self, modules=None):
        super().__init__()
        for name, module in (modules or {}).items():
            self.add_module(name, module)

    def __getitem__(self, key):
        return self._modules[key]

    def __contains__(self, key):
        return key in self._modules

    def keys(self):
        return self._modules.keys()

    def values(self):
        return self._modules.values()

    def items(self):
        return self._modules.items()

    def __iter__(self):
        return iter(self._modules)

    def __len__(self):
        return len(self._modules)
