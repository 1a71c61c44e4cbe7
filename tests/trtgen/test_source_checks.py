"""The sources are black-clean, and the typed stages ([tool.mypy] ``files`` in pyproject.toml)
pass mypy."""

import subprocess
import sys

from cli_helpers import REPO

SOURCES = ["trtgen", "layers", "tests", "benchmarks", "examples"]


def test_typed_stages_pass_mypy():
    result = subprocess.run(
        [sys.executable, "-m", "mypy", "--no-incremental"],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Success" in result.stdout


def test_sources_are_black_clean():
    result = subprocess.run(
        [sys.executable, "-m", "black", "--check", *SOURCES],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert result.returncode == 0, result.stderr
