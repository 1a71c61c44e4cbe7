"""The sources are black-clean, the typed stages ([tool.mypy] ``files`` in pyproject.toml)
pass mypy, and pyproject.toml lists every package a wheel must hold."""

import os
import subprocess
import sys

import pytest

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


def test_every_package_is_listed_for_the_wheel():
    """``[tool.setuptools] packages`` is a list (templates/ is installed as trtgen.templates,
    which no search of the folders finds): it names every folder with an ``__init__.py``."""
    tomllib = pytest.importorskip("tomllib")  # Python 3.11+
    with open(os.path.join(REPO, "pyproject.toml"), "rb") as f:
        listed = set(tomllib.load(f)["tool"]["setuptools"]["packages"])
    found = {"trtgen.templates"}
    for top in ("trtgen", "layers"):
        for folder, _, files in os.walk(os.path.join(REPO, top)):
            if "__init__.py" in files:
                found.add(os.path.relpath(folder, REPO).replace(os.sep, "."))
    assert listed == found
