"""Write a benchmark folder (bench.json, bench.md, bench.png) all at once, like OUT.

An existing folder is replaced (with ``--force``) only when it holds nothing but those files."""

import os

from ...emit.output import BENCH_FILES, check_target, write_folder
from .chart import model_chart
from .report import model_markdown, to_json

MARKER = "bench.json"


def check_bench_target(out_dir, force):
    return check_target(
        out_dir, force, marker=MARKER, kind="trtgen bench output", known=BENCH_FILES, products=False
    )


def write_bench(out_dir, result, force=False):
    """Render everything first (a chart error leaves nothing behind), then move into place."""
    target = check_bench_target(out_dir, force)
    files = {
        MARKER: to_json(result),
        "bench.md": model_markdown(result),
        "bench.png": model_chart(result),
    }

    def write(staging):
        for name, content in files.items():
            with open(
                os.path.join(staging, name), "wb" if isinstance(content, bytes) else "w"
            ) as f:
                f.write(content)

    write_folder(out_dir, target, write)
    return target.path
