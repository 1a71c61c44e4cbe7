"""Keep a stage's chatter (exporter progress, TensorRT warnings) off the terminal, and say in one
line why a stage failed."""

import contextlib
import io
import os
import re
import sys
import tempfile
import warnings

_TERMINAL_COLORS = re.compile(r"\x1b\[[0-9;]*m")  # exporters color their messages


def first_line(text):
    """The first non-empty line; with the next one when it ends in ':' (it introduces a list,
    such as trtgen's unsupported ops)."""
    lines = [line.strip() for line in _TERMINAL_COLORS.sub("", str(text)).splitlines()]
    lines = [line for line in lines if line]
    if not lines:
        return ""
    return f"{lines[0]} {lines[1]}" if lines[0].endswith(":") and len(lines) > 1 else lines[0]


def exc_line(exc):
    """First line of an exception's message, with its type when the message does not say it."""
    message = first_line(exc)
    return f"{type(exc).__name__}: {message}" if message else type(exc).__name__


@contextlib.contextmanager
def quiet():
    """Collect what a stage prints (trtgen's messages, exporter chatter) instead of showing it."""
    out, err = io.StringIO(), io.StringIO()
    with (
        warnings.catch_warnings(),
        contextlib.redirect_stdout(out),
        contextlib.redirect_stderr(err),
    ):
        warnings.simplefilter("ignore")
        yield out, err


@contextlib.contextmanager
def quiet_fds():
    """Also silence file descriptors 1 and 2: the TorchScript exporter prints its IR from C++ on
    failure."""
    sys.stdout.flush()
    sys.stderr.flush()
    saved = [os.dup(1), os.dup(2)]
    with tempfile.TemporaryFile() as sink:
        os.dup2(sink.fileno(), 1)
        os.dup2(sink.fileno(), 2)
        try:
            with quiet() as captured:
                yield captured
        finally:
            os.dup2(saved[0], 1)
            os.dup2(saved[1], 2)
            for fd in saved:
                os.close(fd)
