"""The packages `trtgen bench` needs beyond trtgen's own: the `bench` extra."""

import importlib.util

from ...errors import TrtgenError

BENCH_PACKAGES = {"matplotlib": "the PNG charts", "scipy": "the sign test of the timing targets"}


def require_bench_packages():
    """Fail before a long run, not after it, when a package of the report is missing."""
    missing = [
        f"{name} ({use})"
        for name, use in BENCH_PACKAGES.items()
        if importlib.util.find_spec(name) is None
    ]
    if missing:
        raise TrtgenError(
            f"trtgen bench needs {', '.join(missing)}: pip install -e '.[bench]' in trtgen's folder"
        )
