"""Fixtures for the reference-executor tests."""

import pytest

from reference_helpers import Net


@pytest.fixture
def net():
    """A fresh strongly typed network; see reference_helpers.Net."""
    return Net()
