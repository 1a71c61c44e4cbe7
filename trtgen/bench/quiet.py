"""Keep a stage's chatter (exporter progress, TensorRT warnings) off the terminal, and say in one
line why a stage failed."""

import contextlib
import io
import os
import sys
import tempfile
import warnings


def first_line(text):
    for line in str(text).strip().splitlines():
        if line.strip():
            return line.strip()
    return ""


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
