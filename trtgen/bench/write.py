"""Write a benchmark folder (bench.json, bench.md, bench.png) all at once, like OUT."""

import os
import shutil
import tempfile

from ..output import check_target, publish
from .chart import model_chart
from .report import model_markdown, to_json

MARKER = "bench.json"


def check_bench_target(out_dir, force):
    check_target(out_dir, force, marker=MARKER, kind="trtgen bench output")


def write_bench(out_dir, result, force=False):
    """Render everything first (a chart error leaves nothing behind), then move into place."""
    check_bench_target(out_dir, force)
    files = {
        MARKER: to_json(result),
        "bench.md": model_markdown(result),
        "bench.png": model_chart(result),
    }
    out_dir = os.path.abspath(out_dir)
    os.makedirs(os.path.dirname(out_dir), exist_ok=True)
    staging = tempfile.mkdtemp(prefix=".trtgen-bench-", dir=os.path.dirname(out_dir))
    try:
        for name, content in files.items():
            with open(
                os.path.join(staging, name), "wb" if isinstance(content, bytes) else "w"
            ) as f:
                f.write(content)
        publish(staging, out_dir)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return out_dir
