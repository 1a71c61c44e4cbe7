"""Errors raised by the reference executor; each names the input or layer at fault."""

from trtgen.errors import TrtgenError


class ReferenceExecutionError(TrtgenError):
    """Base class: the network could not be executed on the CPU reference."""


class NetworkInputError(ReferenceExecutionError):
    """A network input is missing, has the wrong shape, or an incompatible dtype."""


class UnsupportedLayerError(ReferenceExecutionError):
    """The network contains a layer type the reference executor has no handler for."""

    def __init__(self, layer_name, layer_type):
        self.layer_name = layer_name
        self.layer_type = layer_type
        super().__init__(
            f"layer {layer_name!r} has type {layer_type}, which the reference executor does not "
            "support (no handler registered in trtgen.reference.ops)"
        )


class LayerExecutionError(ReferenceExecutionError):
    """A handler failed or produced a result that contradicts the network definition."""

    def __init__(self, layer_name, layer_type, message):
        self.layer_name = layer_name
        self.layer_type = layer_type
        super().__init__(f"layer {layer_name!r} ({layer_type}): {message}")


class AssertionLayerError(LayerExecutionError):
    """An ASSERTION layer saw a false condition, as TensorRT would report at run time."""
