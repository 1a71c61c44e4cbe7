"""``trtgen build OUT``: serialize an engine from OUT/network.py (TensorRT-RTX builds on a CPU)."""

import os

import layers

from .netfile import build_with_profiles


def build(out_dir, engine_path=None):
    engine_path = engine_path or os.path.join(out_dir, "model.engine")
    builder, network, profiles = build_with_profiles(out_dir)
    engine = layers.build_engine(builder, network, profiles=profiles)
    partial = engine_path + ".partial"
    with open(partial, "wb") as f:
        f.write(engine)
    os.replace(partial, engine_path)  # never leave a truncated engine under the real name
    return engine_path
