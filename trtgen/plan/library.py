"""What ``layers`` offers, as seen from torch: module classes and their constructor arguments.

A ``torch.nn`` class is a leaf when ``layers`` has a class of the same name; its constructor
arguments are read back from the torch instance's attributes by the ``layers`` signature
(torch keeps them: ``conv.in_channels``, ``conv.kernel_size``...), so the table below only
lists the exceptions.
"""

import inspect

import torch

import layers


def layers_class(module):
    """The ``layers`` class mirroring ``type(module)``, or None. trtgen's own stand-in modules
    (a quantizer placed in a captured graph) name theirs in ``layers_class_name``."""
    cls = type(module)
    stand_in = getattr(cls, "layers_class_name", None)
    if stand_in is not None:
        return getattr(layers, stand_in)
    if not cls.__module__.startswith("torch.nn."):
        return None
    return getattr(layers, cls.__name__, None)


def has_layers_class(module):
    return layers_class(module) is not None


def _bias(module):
    return getattr(module, "bias", None) is not None


def _normalized_shape(module):
    shape = tuple(module.normalized_shape)
    return shape[0] if len(shape) == 1 else shape


def _mha_bias(module):
    return module.in_proj_bias is not None


def _mha_kdim(module):
    return None if module._qkv_same_embed_dim else module.kdim


def _mha_vdim(module):
    return None if module._qkv_same_embed_dim else module.vdim


_RECURRENT = ("RNN", "LSTM", "GRU", "RNNCell", "LSTMCell", "GRUCell")

# (class name, argument) -> how to read it back when torch stores it differently
_SPECIAL = {
    ("*", "bias"): _bias,
    ("LayerNorm", "normalized_shape"): _normalized_shape,
    ("RMSNorm", "normalized_shape"): _normalized_shape,
    ("MultiheadAttention", "bias"): _mha_bias,
    ("MultiheadAttention", "kdim"): _mha_kdim,
    ("MultiheadAttention", "vdim"): _mha_vdim,
    ("MultiheadAttention", "add_bias_kv"): lambda m: m.bias_k is not None,
    ("Embedding", "_weight"): lambda m: None,
    ("Embedding", "_freeze"): lambda m: False,
    ("LayerNorm", "elementwise_affine"): lambda m: m.weight is not None,
    ("ReLU6", "inplace"): lambda m: False,
    # recurrent layers keep ``bias`` as the bool they were given
    **{(name, "bias"): lambda m: bool(m.bias) for name in _RECURRENT},
}

_SKIP = {"self", "device", "dtype", "inplace", "args", "kwargs"}

# shapes, not per-dim sizes: (6, 6) is not 6 (a LayerNorm over two dims is not one over one)
_SHAPES = {
    ("LayerNorm", "normalized_shape"),
    ("RMSNorm", "normalized_shape"),
    ("Unflatten", "unflattened_size"),
}


def constructor_args(module):
    """``[(name, value, default, positional)]`` to rebuild ``module`` with its layers class."""
    cls = layers_class(module)
    name = type(module).__name__
    args = []
    for param in inspect.signature(cls.__init__).parameters.values():
        if param.name in _SKIP or param.kind in (param.VAR_POSITIONAL, param.VAR_KEYWORD):
            continue
        reader = _SPECIAL.get((name, param.name)) or (
            _SPECIAL[("*", "bias")]
            if param.name == "bias" and isinstance(param.default, bool)
            else None
        )
        if reader is not None:
            value = reader(module)
        elif hasattr(module, param.name):
            value = getattr(module, param.name)
        else:
            continue  # no attribute to read: leave the layers default
        if (name, param.name) not in _SHAPES:
            value = simplify(value)
        elif isinstance(value, (list, torch.Size)):
            value = tuple(value)
        args.append((param.name, value, param.default, param.default is param.empty))
    return args


def simplify(value):
    """Tuples of equal ints collapse to one int, as torch accepts (``(3, 3)`` → ``3``)."""
    if isinstance(value, torch.Size):
        value = tuple(value)
    if (
        isinstance(value, (tuple, list))
        and len(value) >= 1
        and all(v == value[0] and type(v) is int for v in value)
    ):
        return value[0]
    if isinstance(value, list):
        return tuple(value)
    return value


# What the tuple a class returns holds, by torch's documented names (None: the main output,
# named like any call's result, after the module): generated calls unpack it
# (``lstm, (h_n, c_n) = self.lstm(x)``) when the model's own line does not name it.
_RESULT_NAMES = {
    "LSTM": (None, ("h_n", "c_n")),
    "GRU": (None, "h_n"),
    "RNN": (None, "h_n"),
    "LSTMCell": ("h_1", "c_1"),
}


def result_names(module):
    """Nested tuple of names for what ``module`` returns, or None (one tensor, or unknown)."""
    if layers_class(module) is None:
        return None
    return _RESULT_NAMES.get(type(module).__name__)


def is_container(module):
    return isinstance(module, (torch.nn.Sequential, torch.nn.ModuleList, torch.nn.ModuleDict))


def runs_as_sequential(module):
    """A Sequential (or subclass) whose forward is Sequential's: generated as ``nn.Sequential``."""
    return (
        isinstance(module, torch.nn.Sequential)
        and type(module).forward is torch.nn.Sequential.forward
    )
