import pytest

import weights_fuzz


def pytest_configure(config):
    config.addinivalue_line(
        "markers", "fuzz: deterministic (seeded) mutation fuzzing; runs by default"
    )


@pytest.fixture(scope="session")
def read_weights(tmp_path_factory):
    """tests/fuzz/read_weights.cpp built with AddressSanitizer and UBSan (g++ only, no TensorRT)."""
    binary = weights_fuzz.compile_harness(str(tmp_path_factory.mktemp("read_weights")))
    if binary is None:
        pytest.skip("no g++ on PATH to build the C++ weights reader harness")
    return binary
