"""Run trtgen generate + check over (a subset of) the corpus in one process; print a line per model."""

import io
import os
import sys
import tempfile
import time
import traceback

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import corpus  # noqa: E402

from trtgen.commands.check import check  # noqa: E402
from trtgen.commands.cli import main  # noqa: E402


def probe(name, folder):
    model = corpus.model_file(name, folder)
    out = os.path.join(folder, name + "_out")
    start = time.time()
    err = io.StringIO()
    old = sys.stderr
    sys.stderr = err
    try:
        code = main([model, "-o", out, "--force"])
    except Exception:
        code = "crash: " + traceback.format_exc().strip().splitlines()[-1]
    finally:
        sys.stderr = old
    if code != 0:
        return f"{name}: GEN FAIL {code} {err.getvalue().strip()[-400:]}"
    lines = []
    try:
        ok = check(out, log=lines.append)
    except Exception:
        return f"{name}: CHECK CRASH {traceback.format_exc().strip().splitlines()[-1][:300]}"
    return f"{name}: {'PASS' if ok else 'CHECK FAIL'} {time.time() - start:.0f}s {' | '.join(lines[1:-1])[:300] if not ok else ''}"


if __name__ == "__main__":
    names = sys.argv[1:] or list(corpus.CORPUS)
    folder = tempfile.mkdtemp()
    for name in names:
        print(probe(name, folder), flush=True)
