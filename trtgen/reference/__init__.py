"""CPU reference executor for real TensorRT network definitions (``execute``).

Used to check generated networks against PyTorch without a GPU: build the network with the real
TensorRT(-RTX) API, run ``execute(network, inputs)``, compare with the PyTorch model.
"""

from .errors import (
    AssertionLayerError,
    LayerExecutionError,
    NetworkInputError,
    ReferenceExecutionError,
    UnsupportedLayerError,
)
from .executor import execute
from .registry import HANDLERS

__all__ = [
    "execute",
    "HANDLERS",
    "ReferenceExecutionError",
    "NetworkInputError",
    "UnsupportedLayerError",
    "LayerExecutionError",
    "AssertionLayerError",
]
