"""Write OUT all at once: a temporary sibling directory, renamed into place when complete.

OUT is never half-written, and an existing OUT is replaced only with ``--force`` and only when
it is a previous trtgen output (it holds ``trtgen.json``): other folders are never overwritten.
"""

import json
import os
import shutil
import tempfile

from safetensors.numpy import save_file

from .errors import TrtgenError
from .netfile import SCALES_FILE

MANIFEST = "trtgen.json"


def check_target(out_dir, force, marker=MANIFEST, kind="trtgen output"):
    """Refuse early (before any work) when OUT cannot be written.

    ``marker`` is the file every output of this ``kind`` holds: only such folders are replaced."""
    if not os.path.exists(out_dir):
        return
    if not force:
        raise TrtgenError(f"{out_dir} already exists; pass --force to replace it (or choose another -o).")
    if not os.path.isdir(out_dir) or not os.path.isfile(os.path.join(out_dir, marker)):
        raise TrtgenError(
            f"{out_dir} exists and is not a {kind} (no {marker}); refusing to replace it "
            "even with --force. Choose another -o."
        )


def write_output(out_dir, generated, force=False):
    check_target(out_dir, force)
    out_dir = os.path.abspath(out_dir)
    parent = os.path.dirname(out_dir)
    os.makedirs(parent, exist_ok=True)
    staging = tempfile.mkdtemp(prefix=".trtgen-", dir=parent)
    try:
        for name, content in sorted(generated.files.items()):
            mode = "wb" if isinstance(content, bytes) else "w"
            encoding = None if mode == "wb" else "utf-8"  # what Python and C++ compilers read
            with open(os.path.join(staging, name), mode, encoding=encoding) as f:
                f.write(content)
        save_file(generated.weights, os.path.join(staging, "weights.safetensors"),
                  metadata={"generator": f"trtgen {generated.manifest['trtgen']}"})
        if generated.scales is not None:  # a quantized network, even one with every layer skipped
            save_file(generated.scales, os.path.join(staging, SCALES_FILE), metadata=generated.scales_metadata)
        with open(os.path.join(staging, MANIFEST), "w") as f:
            json.dump(generated.manifest, f, indent=2, sort_keys=True)
            f.write("\n")
        publish(staging, out_dir)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return out_dir


def publish(staging, out_dir):
    """Move a completely written ``staging`` folder (a sibling of ``out_dir``) into place."""
    _apply_umask(staging)
    _swap_into_place(staging, out_dir)


def _apply_umask(staging):
    """mkdtemp makes a private folder; the output should get the user's usual permissions."""
    umask = os.umask(0)
    os.umask(umask)
    os.chmod(staging, 0o777 & ~umask)
    for name in os.listdir(staging):
        os.chmod(os.path.join(staging, name), 0o666 & ~umask)


def _swap_into_place(staging, out_dir):
    if not os.path.exists(out_dir):
        os.rename(staging, out_dir)
        return
    retired = tempfile.mkdtemp(prefix=".trtgen-old-", dir=os.path.dirname(out_dir))
    os.rmdir(retired)
    os.rename(out_dir, retired)
    try:
        os.rename(staging, out_dir)
    except BaseException:
        os.rename(retired, out_dir)  # put the previous output back
        raise
    shutil.rmtree(retired, ignore_errors=True)


def read_manifest(out_dir):
    path = os.path.join(out_dir, MANIFEST)
    if not os.path.isfile(path):
        raise TrtgenError(f"{out_dir} is not a trtgen output (no {MANIFEST}); run `trtgen MODEL.py -o {out_dir}` first.")
    with open(path) as f:
        return json.load(f)
