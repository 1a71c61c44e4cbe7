"""``trtgen MODEL -o OUT`` then ``trtgen check OUT``, in-process, classified.

The op-conformance suite (``tests/conformance``, ``benchmarks/op_conformance.py``) runs every
case through the same command line and check a user runs, without a new interpreter per case.
"""

import contextlib
import dataclasses
import io

from .check import check
from .cli import main

PASS, REFUSED, FAILED = "pass", "refused", "failed"


@dataclasses.dataclass(frozen=True)
class Outcome:
    status: str  # pass | refused (trtgen: error: at generation) | failed
    message: str  # the refusal, the error, or the failing comparison


def generate_and_check(model_path, out_dir, args=(), shapes=()):
    """Generate ``model_path`` into ``out_dir`` and check it on its example inputs, then at each
    of ``shapes`` ({input name: shape}, for dynamic networks).

    pass: generated, built and matched PyTorch. refused: generation stopped with a
    ``trtgen: error:`` line. failed: an internal error, a network that does not build, or wrong
    numbers."""
    stderr = io.StringIO()
    with contextlib.redirect_stderr(stderr), contextlib.redirect_stdout(io.StringIO()):
        code = main([str(model_path), "-o", str(out_dir), "--force", *args])
    if code == 2:
        return Outcome(REFUSED, stderr.getvalue().strip())
    if code != 0:
        return Outcome(FAILED, stderr.getvalue().strip() or f"exit {code}")
    for shape in ({}, *shapes):
        lines = []
        try:
            ok = check(str(out_dir), log=lines.append, shapes=shape or None)
        except Exception as err:  # a network that does not build counts as a failure, not a refusal
            return Outcome(FAILED, f"check{_at(shape)}: {type(err).__name__}: {err}")
        if not ok:
            return Outcome(FAILED, f"check{_at(shape)}: wrong numbers\n" + "\n".join(lines))
    return Outcome(PASS, "")


def _at(shape):
    return f" at {shape}" if shape else ""
