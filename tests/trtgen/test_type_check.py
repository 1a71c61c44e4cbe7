"""The typed stages listed in pyproject.toml's [tool.mypy] ``files`` are clean under mypy."""

import subprocess
import sys

from cli_helpers import REPO


def test_typed_stages_pass_mypy():
    result = subprocess.run(
        [sys.executable, "-m", "mypy", "--no-incremental"], cwd=REPO, capture_output=True, text=True, timeout=900
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Success" in result.stdout
