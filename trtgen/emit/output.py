"""Write OUT all at once: a temporary sibling directory, renamed into place when complete.

OUT is never half-written. An existing OUT is replaced only with ``--force`` and only when it is
provably trtgen output: a ``trtgen.json`` whose ``files`` list names every file in the folder,
apart from the build products the docs tell users to put there (``model.engine`` and other
``*.engine`` files, timing caches ``*.cache``, the ``--describe`` output ``net.json``, the CMake
folder ``build/``, ``__pycache__/``). Build products are carried over into the new OUT. Anything
else is named and nothing is touched. A symbolic link OUT is followed: the folder it points to is
replaced and the link is kept.

Staging folders are named ``.trtgen-<pid>-*`` (``.trtgen-old-<pid>-*`` for the OUT being
replaced): one whose process is gone is left from a killed run, and the next run writing beside
it removes it when it holds only files trtgen writes, or names it.
"""

import errno
import filecmp
import fnmatch
import json
import os
import re
import shutil
import sys
import tempfile

from safetensors.numpy import save_file

from layers.atomic import (
    TEMP_PREFIX,
    atomic_write,
    current_umask,
    fsync_dir,
    fsync_file,
    temp_prefix,
)

from ..errors import TrtgenError
from .netfile import SCALES_FILE, require_folder

MANIFEST = "trtgen.json"

# what trtgen writes into OUT, by name: outputs written before the manifest listed its files
# are judged by these
KNOWN_FILES = (
    "network.py",
    "network.cpp",
    "CMakeLists.txt",
    "README.md",
    "weights.safetensors",
    SCALES_FILE,
    MANIFEST,
    ".clang-format",
    "trtgen_*.h",
)
# what the docs tell users to put into OUT: kept when OUT is replaced
PRODUCT_FILES = ("*.engine", "*.cache", "net.json")
PRODUCT_DIRS = ("build", "__pycache__")
# what `trtgen bench -o` writes (trtgen.commands.bench.write)
BENCH_FILES = ("bench.json", "bench.md", "bench.png")

_TEMP = re.compile(re.escape(TEMP_PREFIX) + r"(?:[a-z]+-)?(\d+)-")


def write_error(path, exc):
    """An OSError while writing ``path`` as one line: the path and the system's reason."""
    reason = exc.strerror or str(exc)
    return TrtgenError(f"cannot write {path}: {reason}")


def write_file(path, data):
    """``layers.atomic.atomic_write`` with failures as a TrtgenError naming ``path``."""
    try:
        atomic_write(path, data)
    except OSError as exc:
        raise write_error(path, exc) from None


class Target:
    """Where an output folder goes: ``path`` (symbolic links resolved), and the build products
    of the previous output there, to carry over."""

    def __init__(self, path, products=()):
        self.path = path
        self.products = list(products)


def check_target(
    out_dir, force, marker=MANIFEST, kind="trtgen output", known=KNOWN_FILES, products=True
):
    """Refuse early (before any work) when OUT cannot be written; returns a ``Target``.

    ``marker`` is the manifest every output of this ``kind`` holds; ``known`` the names such
    outputs hold when the manifest does not list its files."""
    path = os.path.realpath(out_dir)  # a symbolic link is followed: its target is written
    parent = os.path.dirname(path)
    if os.path.exists(parent) and not os.path.isdir(parent):
        raise TrtgenError(f"cannot write {out_dir}: {parent} is a file, not a folder")
    if not os.path.exists(path):
        return Target(path)
    if not force:
        raise TrtgenError(
            f"{out_dir} already exists; pass --force to replace it (or choose another -o)."
        )
    if not os.path.isdir(path):
        raise TrtgenError(
            f"{out_dir} exists and is not a folder; refusing to replace it even with --force."
        )
    listed = listed_files(path, marker, known)
    if listed is None:
        raise TrtgenError(
            f"{out_dir} exists and is not a {kind} (no valid {marker}); refusing to replace it "
            "even with --force. Choose another -o."
        )
    kept, foreign = [], []
    for name in sorted(os.listdir(path)):
        full = os.path.join(path, name)
        if matches_any(name, listed) and not (os.path.isdir(full) and not os.path.islink(full)):
            continue
        if products and _is_product(name, full):
            kept.append(name)
        elif _temporary_state(full) == "stale":
            continue  # left by a killed run: goes with the previous output
        else:
            foreign.append(name + ("/" if os.path.isdir(full) else ""))
    if foreign:
        shown = ", ".join(foreign[:8]) + (
            f" and {len(foreign) - 8} more" if len(foreign) > 8 else ""
        )
        raise TrtgenError(
            f"{out_dir} holds files trtgen did not write ({shown}); refusing to replace it even "
            "with --force. Move them elsewhere or choose another -o."
        )
    return Target(path, kept)


def listed_files(folder, marker, known):
    """The names the output in ``folder`` is made of (glob patterns), or None when ``marker``
    is missing or is not a manifest."""
    try:
        with open(os.path.join(folder, marker)) as f:
            manifest = json.load(f)
    except (OSError, ValueError):
        return None
    if not isinstance(manifest, dict):
        return None
    files = manifest.get("files")
    if files is None:  # written before the manifest listed its files
        return list(known)
    if not isinstance(files, list) or not all(isinstance(n, str) and "/" not in n for n in files):
        return None
    if not all(matches_any(name, known) for name in files):  # a hand-edited list claims a user file
        return None
    return [glob.replace("[", "[[]") for glob in files] + [marker]  # literal names


def matches_any(name, patterns):
    return any(fnmatch.fnmatchcase(name, pattern) for pattern in patterns)


def _is_product(name, full):
    if os.path.isdir(full) and not os.path.islink(full):
        return name in PRODUCT_DIRS
    return matches_any(name, PRODUCT_FILES)


def _temporary_state(full):
    """``"stale"`` for a trtgen temporary whose process is gone, ``"live"`` for one whose process
    runs, None for anything else (including temporaries of older trtgen versions)."""
    match = _TEMP.match(os.path.basename(full))
    if not match:
        return None
    return "live" if _alive(int(match.group(1))) else "stale"


def _alive(pid):
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:  # exists, owned by someone else
        return True
    return True


def sweep_stale(parent, log=None):
    """Remove what killed trtgen runs left in ``parent``: temporaries and staging folders whose
    process is gone and that hold only files trtgen writes. Others are named, never removed."""
    log = log or _note
    try:
        names = sorted(os.listdir(parent))
    except OSError:
        return
    for name in names:
        if not name.startswith(TEMP_PREFIX):
            continue
        full = os.path.join(parent, name)
        state = _temporary_state(full)
        if state == "live":
            continue  # another trtgen run is writing beside us
        if state == "stale" and _only_trtgen_files(full):
            try:
                if os.path.isdir(full) and not os.path.islink(full):
                    shutil.rmtree(full)
                else:
                    os.unlink(full)
            except OSError:
                pass
            else:
                log(f"removed {full}, left by an interrupted trtgen run")
                continue
        log(f"{full} is left from an interrupted trtgen run; move out what you need and delete it")


def _only_trtgen_files(full):
    if not (os.path.isdir(full) and not os.path.islink(full)):
        return True  # a temporary file
    # an output moved aside lists its files; a staging folder may not have its manifest yet
    patterns = listed_files(full, MANIFEST, KNOWN_FILES) or [*KNOWN_FILES, *BENCH_FILES]
    return all(
        matches_any(name, patterns) and os.path.isfile(os.path.join(full, name))
        for name in os.listdir(full)
    )


def _note(message):
    print(f"trtgen: note: {message}", file=sys.stderr)


def manifest_files(generated):
    """Every file trtgen writes into OUT for ``generated``, sorted (the manifest's ``files``)."""
    names = {*generated.files, "weights.safetensors", MANIFEST}
    if generated.scales is not None:
        names.add(SCALES_FILE)
    return sorted(names)


def _save_tensors(tensors, path, metadata):
    """``safetensors.numpy.save_file``, then a check that the file is whole: the writer drops
    the error of a write that did not fit on the disk."""
    save_file(tensors, path, metadata=metadata)
    actual = os.path.getsize(path)
    expected = _safetensors_size(path)
    if actual != expected:
        raise OSError(
            errno.ENOSPC,
            f"{os.path.basename(path)} was cut short ({actual} of "
            f"{expected or 'more'} bytes; is the disk full?)",
        )


def _safetensors_size(path):
    """The size the safetensors file at ``path`` declares in its header (None if unreadable)."""
    with open(path, "rb") as f:
        head = f.read(8)
        size = int.from_bytes(head, "little") if len(head) == 8 else 0
        try:
            header = json.loads(f.read(size)) if size else None
        except ValueError:
            return None
    if not isinstance(header, dict):
        return None
    ends = [e["data_offsets"][1] for k, e in header.items() if k != "__metadata__"]
    return 8 + size + max(ends, default=0)


def write_output(out_dir, generated, force=False, log=None):
    target = check_target(out_dir, force)
    manifest = dict(generated.manifest, files=manifest_files(generated))

    def write(staging):
        for name, content in sorted(generated.files.items()):
            mode = "wb" if isinstance(content, bytes) else "w"
            encoding = None if mode == "wb" else "utf-8"  # what Python and C++ compilers read
            with open(os.path.join(staging, name), mode, encoding=encoding) as f:
                f.write(content)
        _save_tensors(
            generated.weights,
            os.path.join(staging, "weights.safetensors"),
            {"generator": f"trtgen {generated.manifest['trtgen']}"},
        )
        if generated.scales is not None:  # a quantized network, even one with every layer skipped
            _save_tensors(
                generated.scales, os.path.join(staging, SCALES_FILE), generated.scales_metadata
            )
        with open(os.path.join(staging, MANIFEST), "w") as f:  # last: marks the staging complete
            json.dump(manifest, f, indent=2, sort_keys=True)
            f.write("\n")

    write_folder(out_dir, target, write, log=log)
    return target.path


def write_folder(out_dir, target, write, log=None):
    """Stage a folder with ``write(staging)``, make it durable, and move it into place at
    ``target`` (a ``check_target`` result), carrying over the previous output's build products."""
    log = log or _note
    parent = os.path.dirname(target.path)
    try:
        os.makedirs(parent, exist_ok=True)
    except OSError as exc:
        raise write_error(out_dir, exc) from None
    sweep_stale(parent, log)
    try:
        staging = tempfile.mkdtemp(prefix=temp_prefix(), dir=parent)
    except OSError as exc:
        raise write_error(out_dir, exc) from None
    try:
        write(staging)
        _apply_umask(staging)
        for name in os.listdir(staging):
            fsync_file(os.path.join(staging, name))
        fsync_dir(staging)
        changed = _swap_into_place(staging, target)
    except BaseException as exc:
        shutil.rmtree(staging, ignore_errors=True)
        if isinstance(exc, OSError):
            raise write_error(out_dir, exc) from None
        raise
    if target.products:
        kept = ", ".join(n + ("/" if n in PRODUCT_DIRS else "") for n in target.products)
        engines = [n for n in target.products if fnmatch.fnmatchcase(n, "*.engine")]
        stale = (
            (
                f"; {', '.join(engines)} {'was' if len(engines) == 1 else 'were'} built from "
                f"the previous network: rebuild (trtgen build {out_dir})"
            )
            if engines and changed
            else ""
        )
        log(f"kept {kept} from the previous {out_dir}{stale}")


def _apply_umask(staging):
    """mkdtemp makes a private folder; the output should get the user's usual permissions."""
    umask = current_umask()
    os.chmod(staging, 0o777 & ~umask)
    for name in os.listdir(staging):
        os.chmod(os.path.join(staging, name), 0o666 & ~umask)


def _swap_into_place(staging, target):
    """Rename ``staging`` to ``target.path``; returns whether the previous output there (if any)
    differed from the new one. Its build products move into the new output first."""
    out_dir, parent = target.path, os.path.dirname(target.path)
    if not os.path.exists(out_dir):
        os.rename(staging, out_dir)
        fsync_dir(parent)
        return True
    changed = _differs(out_dir, staging)
    retired = tempfile.mkdtemp(prefix=temp_prefix("old"), dir=parent)
    os.rmdir(retired)
    os.rename(out_dir, retired)
    moved = []
    try:
        for name in target.products:
            os.rename(os.path.join(retired, name), os.path.join(staging, name))
            moved.append(name)
        os.rename(staging, out_dir)
    except BaseException:
        for name in moved:  # put the previous output back as it was
            os.rename(os.path.join(staging, name), os.path.join(retired, name))
        os.rename(retired, out_dir)
        raise
    fsync_dir(parent)
    shutil.rmtree(retired, ignore_errors=True)
    return changed


def _differs(old, new):
    """Whether the files of the new output differ from the same-named ones of the old."""
    for name in os.listdir(new):
        if name in (MANIFEST, "README.md"):  # describe the network, do not define it
            continue
        previous = os.path.join(old, name)
        if not os.path.isfile(previous) or not filecmp.cmp(
            previous, os.path.join(new, name), shallow=False
        ):
            return True
    return False


def _is_str(value):
    return isinstance(value, str)


def _is_dims(value):
    return isinstance(value, list) and all(
        isinstance(d, int) and not isinstance(d, bool) for d in value
    )


def _is_list_of(check):
    return lambda value: isinstance(value, list) and all(check(item) for item in value)


def _is_entry(**fields):
    return lambda value: isinstance(value, dict) and all(
        name in value and check(value[name]) for name, check in fields.items()
    )


# what commands reading OUT take from its manifest: field -> (required, check, what it must be)
MANIFEST_FIELDS = {
    "source": (True, _is_str, "a model path"),
    "entry": (True, _is_str, "an entry point name"),
    "inputs": (
        True,
        _is_list_of(_is_entry(name=_is_str, dtype=_is_str, shape=_is_dims)),
        "a list of {name, dtype, shape}",
    ),
    "outputs": (True, _is_list_of(_is_entry(name=_is_str)), "a list of {name, ...}"),
    "source_from_output": (False, lambda v: v is None or _is_str(v), "a relative path"),
    "input_shapes": (False, _is_list_of(_is_dims), "a list of shapes"),
    "precision": (False, _is_str, "a precision name"),
    "quant": (False, lambda v: v is None or _is_str(v), "a quantization name"),
}


def read_manifest(out_dir):
    path = os.path.join(out_dir, MANIFEST)
    require_folder(out_dir)
    if not os.path.isfile(path):
        raise TrtgenError(
            f"{out_dir} is not a trtgen output (no {MANIFEST}); run `trtgen MODEL.py -o {out_dir}` first."
        )
    regenerate = f"regenerate {out_dir} with `trtgen MODEL.py -o {out_dir} --force`"
    try:
        with open(path, encoding="utf-8") as f:
            manifest = json.load(f)
    except (ValueError, UnicodeDecodeError) as err:  # JSONDecodeError is a ValueError
        raise TrtgenError(f"{path} is not valid JSON ({err}); {regenerate}") from None
    if not isinstance(manifest, dict):
        raise TrtgenError(f"{path} is not a trtgen manifest (not a JSON object); {regenerate}")
    missing = [
        name
        for name, (required, _, _) in MANIFEST_FIELDS.items()
        if required and name not in manifest
    ]
    if missing:
        raise TrtgenError(
            f"{path} is not a trtgen manifest (no {', '.join(missing)}); {regenerate}"
        )
    for name, (_, check, what) in MANIFEST_FIELDS.items():
        if name in manifest and not check(manifest[name]):
            raise TrtgenError(f"{path}: {name!r} is not {what}; {regenerate}")
    return manifest
