"""Write a file all at once: a temporary sibling, flushed and fsynced, then renamed over the target.

A reader sees the previous file or the complete new one, never a truncated one, and a failed or
interrupted write leaves the previous file as it was. Temporaries are named
``.trtgen-<pid>-<random>.<name>.tmp`` so a later run can tell one left by a killed process.
"""

import errno
import os
import stat
import tempfile

TEMP_PREFIX = ".trtgen-"

# the leading bytes of a serialized engine: "ftrt" (TensorRT), "vtrt" (TensorRT-RTX), ...
_ENGINE_TAG = b"trt"


def temp_prefix(kind=""):
    """The name prefix of this process's temporaries: ``.trtgen-[kind-]<pid>-``."""
    return f"{TEMP_PREFIX}{kind + '-' if kind else ''}{os.getpid()}-"


def atomic_write(path, data):
    """Write ``data`` (bytes, str, or a callable given the open binary file) to ``path``.

    A path that exists and is neither a file nor a folder (``/dev/stdout``, a FIFO) is written
    directly. A symbolic link to a file keeps the link: its target is replaced. Raises OSError
    (naming ``path``) on failure, after removing the temporary."""
    path = os.fspath(path)
    if os.path.islink(path):
        path = os.path.realpath(path)
    if os.path.isdir(path):
        raise IsADirectoryError(errno.EISDIR, os.strerror(errno.EISDIR), path)
    if os.path.exists(path) and not stat.S_ISREG(os.stat(path).st_mode):
        _write_device(path, data)
        return
    folder = os.path.dirname(os.path.abspath(path))
    try:
        fd, temp = tempfile.mkstemp(
            prefix=temp_prefix(), suffix=f".{os.path.basename(path)}.tmp", dir=folder
        )
    except OSError as exc:
        raise _naming(exc, path) from None
    try:
        with os.fdopen(fd, "wb") as f:
            _write(f, data)
            f.flush()
            os.fsync(f.fileno())
        os.chmod(temp, 0o666 & ~current_umask())  # mkstemp makes the file private
        os.replace(temp, path)
    except BaseException as exc:
        try:
            os.unlink(temp)
        except OSError:
            pass
        if isinstance(exc, OSError):
            raise _naming(exc, path) from None
        raise
    fsync_dir(folder)


def save_engine(path, engine):
    """Write a serialized engine to ``path`` atomically, refusing to overwrite an existing file
    that is not one (a network.py or weights file given as the engine path by mistake)."""
    if os.path.isfile(path) and not looks_like_engine(path):
        raise FileExistsError(
            errno.EEXIST, "exists and is not a serialized engine; refusing to overwrite it", path
        )
    atomic_write(path, engine)


def looks_like_engine(path):
    """True when the file at ``path`` starts like a serialized TensorRT(-RTX) engine."""
    try:
        with open(path, "rb") as f:
            head = f.read(4)
    except OSError:
        return False
    return len(head) == 4 and head[1:] == _ENGINE_TAG


def fsync_dir(folder):
    """Make a rename in ``folder`` durable (file systems that cannot sync a folder are skipped)."""
    try:
        fd = os.open(folder, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError as exc:
        if exc.errno not in (errno.EINVAL, errno.ENOTSUP, errno.EBADF, errno.EROFS):
            raise
    finally:
        os.close(fd)


def fsync_file(path):
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _write(f, data):
    if callable(data):
        data(f)
    else:
        f.write(data.encode() if isinstance(data, str) else data)


def _write_device(path, data):
    try:
        with open(path, "wb") as f:
            _write(f, data)
            f.flush()
    except OSError as exc:
        raise _naming(exc, path) from None


def _naming(exc, path):
    """``exc`` as an OSError whose filename is ``path`` (not the temporary's name)."""
    if exc.errno is None:
        return exc
    return type(exc)(exc.errno, exc.strerror or os.strerror(exc.errno), path)


def current_umask():
    """The process's umask (reading it means setting it: set it straight back)."""
    umask = os.umask(0)
    os.umask(umask)
    return umask
