"""Import a generated ``network.py`` and build its network with the real TensorRT package."""

import hashlib
import importlib.util
import os
import sys

import layers
from layers.weights_file import WeightsFileError

from ..errors import TrtgenError

SCALES_FILE = "quant.safetensors"


def require_folder(out_dir):
    """OUT given as a file (the model, or network.py itself) is a usage mistake: say so."""
    if os.path.isfile(out_dir):
        raise TrtgenError(f"{out_dir} is a file; give the folder `trtgen MODEL.py -o OUT` wrote.")


def import_network_file(out_dir):
    require_folder(out_dir)
    path = os.path.join(os.path.abspath(out_dir), "network.py")
    if not os.path.isfile(path):
        raise TrtgenError(f"{out_dir} has no network.py; run `trtgen MODEL.py -o {out_dir}` first.")
    name = "trtgen_network_" + hashlib.sha1(os.fsencode(path)).hexdigest()[:12]
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    try:
        spec.loader.exec_module(module)
    except Exception as exc:
        raise TrtgenError(f"{path} failed to import: {type(exc).__name__}: {exc}") from exc
    return module


def build_from_output(out_dir):
    """``(builder, network)`` from OUT/network.py and OUT/weights.safetensors."""
    builder, network, _ = build_with_profiles(out_dir)
    return builder, network


def build_with_profiles(out_dir):
    """``(builder, network, profiles)``: the network, and OUT/network.py's optimization
    profiles (its ``PROFILES``; none for static shapes), from one import of the file."""
    module = import_network_file(out_dir)
    builder, network = layers.create_network()
    weights = os.path.join(os.path.abspath(out_dir), "weights.safetensors")
    scales = os.path.join(os.path.abspath(out_dir), SCALES_FILE)
    try:
        if os.path.exists(scales):  # a quantized network: its scales are the third argument
            module.build_network(network, weights, scales)
        else:
            module.build_network(network, weights)
    except WeightsFileError as exc:  # names the file and the key or byte
        raise TrtgenError(f"{exc}; regenerate it with trtgen or fix the file") from exc
    except Exception as exc:  # the (possibly hand-edited) network does not build: say where
        raise TrtgenError(
            f"{out_dir}/network.py did not build: {type(exc).__name__}: {exc}"
        ) from exc
    return builder, network, getattr(module, "PROFILES", [])
