"""``trtgen build OUT``: serialize an engine from OUT/network.py (TensorRT-RTX builds on a CPU)."""

import os

import layers
from layers.atomic import looks_like_engine

from ..emit.netfile import build_with_profiles
from ..emit.output import KNOWN_FILES, MANIFEST, listed_files, matches_any, sweep_stale, write_file
from ..errors import TrtgenError


def build(out_dir, engine_path=None):
    engine_path = engine_path or os.path.join(out_dir, "model.engine")
    check_engine_path(out_dir, engine_path)  # before the (slow) build
    builder, network, profiles = build_with_profiles(out_dir)
    engine = layers.build_engine(builder, network, profiles=profiles)
    check_engine_path(out_dir, engine_path)
    sweep_stale(os.path.dirname(os.path.abspath(engine_path)))  # temporaries of killed builds
    write_file(engine_path, engine)  # a temporary sibling renamed into place: never truncated
    return engine_path


def check_engine_path(out_dir, engine_path):
    """Refuse an engine path that is one of OUT's sources, or an existing file that is not a
    serialized engine (the engine would replace it)."""
    if os.path.isdir(engine_path):
        raise TrtgenError(f"-o {engine_path} is a folder; give the engine's file name")
    if not os.path.exists(engine_path):
        return
    real = os.path.realpath(engine_path)
    folder = os.path.realpath(out_dir)
    sources = listed_files(folder, MANIFEST, KNOWN_FILES) or KNOWN_FILES
    if os.path.dirname(real) == folder and matches_any(os.path.basename(real), sources):
        raise TrtgenError(
            f"-o {engine_path} is one of {out_dir}'s sources; refusing to overwrite it with the "
            f"engine (default: {os.path.join(out_dir, 'model.engine')})"
        )
    if not looks_like_engine(real):
        raise TrtgenError(
            f"-o {engine_path} exists and is not a serialized engine; refusing to overwrite it "
            "(remove it first, or choose another path)"
        )
