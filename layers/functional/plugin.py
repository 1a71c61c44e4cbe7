"""``plugin``: an op with no TensorRT layer, as an IPluginV3 the user supplies."""

import numpy as np

from ..backend import IS_RTX, trt
from ._common import network, output

_FIELD_TYPES = {
    np.dtype(np.float32): "FLOAT32",
    np.dtype(np.float64): "FLOAT64",
    np.dtype(np.int32): "INT32",
    np.dtype(np.int64): "INT64",
    np.dtype(np.int8): "INT8",
}


def _field(name, value):
    if isinstance(value, str):
        return trt.PluginField(
            name, np.frombuffer(value.encode() + b"\0", np.int8), trt.PluginFieldType.CHAR
        )
    array = np.ascontiguousarray(np.asarray(0 if value is None else value))
    if array.dtype == np.bool_:
        array = array.astype(np.int32)
    return trt.PluginField(name, array, getattr(trt.PluginFieldType, _FIELD_TYPES[array.dtype]))


def plugin(name, inputs, fields=None, version="1", namespace=""):
    """Add the registered IPluginV3 ``name`` with ``inputs`` and ``fields`` (its attributes).

    The plugin's library must be loaded (and its creator registered) before this runs.
    """
    if IS_RTX:
        raise NotImplementedError(
            f"op {name!r} is a plugin placeholder, and TensorRT-RTX has no plugins: replace the "
            f"F.plugin({name!r}, ...) call with layers ops, or build with datacenter TensorRT"
        )
    creator = trt.get_plugin_registry().get_creator(name, version, namespace)
    if creator is None:
        raise RuntimeError(
            f"no TensorRT plugin {name!r} (version {version!r}, namespace {namespace!r}) is registered: "
            "load the plugin library that implements it before building this network"
        )
    collection = trt.PluginFieldCollection([_field(k, v) for k, v in (fields or {}).items()])
    instance = creator.create_plugin(name, collection, trt.TensorRTPhase.BUILD)
    layer = network().add_plugin_v3([t.trt for t in inputs], [], instance)
    return output(layer, name)


__all__ = ["plugin"]
