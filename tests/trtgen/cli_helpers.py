import os
import subprocess
import sys


REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
EXAMPLES = os.path.join(REPO, "examples")


def run_trtgen(*args, cwd=None):
    """Run the real command line in a subprocess; returns CompletedProcess (text)."""
    return subprocess.run(
        [sys.executable, "-m", "trtgen", *map(str, args)],
        cwd=cwd or REPO,
        capture_output=True,
        text=True,
        timeout=1800,
    )
