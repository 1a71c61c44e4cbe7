"""The one exception type the command line turns into a short message and a non-zero exit, and
the other ways a command ends: interrupted by a signal, or stopped by its environment.

Exit codes (the README's table): 0 success; 1 a check that ran and failed, or no GPU to run an
engine; 2 a problem with the input or the environment, said in one ``trtgen: error:`` line;
3 an internal error (a trtgen bug); 128 + N when signal N (SIGINT 130, SIGTERM 143) stopped it.
"""

import contextlib
import errno
import os
import signal
import threading

from .plan import data_dependent

INTERNAL_ERROR_EXIT = 3

# OSErrors that the machine causes, not trtgen: a full, read-only or missing place to write
ENVIRONMENT_ERRNOS = frozenset(
    {
        errno.ENOSPC,
        errno.EDQUOT,
        errno.EROFS,
        errno.EACCES,
        errno.EPERM,
        errno.ENOTDIR,
        errno.EISDIR,
        errno.ENOENT,
        errno.EEXIST,
        errno.ENAMETOOLONG,
        errno.ELOOP,
        errno.EIO,
        errno.EMFILE,
        errno.ENFILE,
        errno.EFBIG,
        errno.EXDEV,
        errno.EBUSY,
        errno.ETXTBSY,
    }
)


class TrtgenError(Exception):
    """A problem with the user's input: ``str(err)`` says what is wrong and what to do."""

    exit_code = 2


class NoGpuError(TrtgenError):
    """The input is fine, but the engine cannot run here (no GPU, or one TensorRT rejects)."""

    exit_code = 1


class UnsupportedOpsError(TrtgenError):
    """Ops with no lowering rule, collected over the whole graph."""

    def __init__(self, report):
        self.report = report  # list of (op, count, [where, ...])
        lines = [f"{len(report)} unsupported op(s) — nothing was written:"]
        for op, count, where in report:
            shown = ", ".join(where[:3]) + (", ..." if len(where) > 3 else "")
            reason = data_dependent.REASONS.get(op)
            lines.append(f"  {op}  x{count}  at {shown}" + (f": {reason}" if reason else ""))
        lines.append(
            "Register a lowering rule with --rules my_rules.py, or rewrite these ops in the model."
        )
        super().__init__("\n".join(lines))


class Stopped(KeyboardInterrupt):
    """SIGINT or SIGTERM arrived: raised in the main thread so every writer's clean-up runs."""

    def __init__(self, signum):
        self.signum = signum
        self.reason = (
            "interrupted"
            if signum == signal.SIGINT
            else f"stopped by {signal.Signals(signum).name}"
        )
        self.exit_code = 128 + signum
        super().__init__(self.reason)


@contextlib.contextmanager
def signals_as_exceptions():
    """SIGINT and SIGTERM raise ``Stopped`` while the block runs (main thread only: Python
    delivers signals there), so temporary files are removed and the command ends in one line."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def stop(signum, frame):
        raise Stopped(signum)

    previous = {sig: signal.signal(sig, stop) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def environment_message(err):
    """One line for an OSError the machine caused: the path, the reason, what to do."""
    reason = os.strerror(err.errno) if err.errno else str(err)
    where = " -> ".join(str(p) for p in (err.filename, err.filename2) if p is not None)
    hint = {
        errno.ENOSPC: "free some space or write elsewhere (-o)",
        errno.EDQUOT: "free some space or write elsewhere (-o)",
        errno.EROFS: "write somewhere writable (-o)",
        errno.EACCES: "check the permissions, or write elsewhere (-o)",
        errno.EPERM: "check the permissions, or write elsewhere (-o)",
        errno.ENOTDIR: "a part of the path is a file, not a folder; choose another path",
        errno.ENOENT: "check the path",
        errno.EEXIST: "something of that name is in the way; choose another path",
    }.get(err.errno, "check the path and the machine")
    return f"{where + ': ' if where else ''}{reason}; {hint}"
