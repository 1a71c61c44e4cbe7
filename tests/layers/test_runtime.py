"""Engine execution on a GPU; skipped, with the reason, where no engine can run."""

import numpy as np
import pytest
import torch

import layers
from layers.runtime import Engine, gpu_unavailable_reason

REASON = gpu_unavailable_reason()


def test_reason_is_given_without_a_gpu():
    if torch.cuda.is_available():
        assert REASON is None
    else:
        assert "GPU" in REASON
        with pytest.raises(RuntimeError, match="GPU"):
            Engine(b"")


@pytest.mark.skipif(REASON is not None, reason=str(REASON))
def test_engine_runs_and_matches_torch():
    builder, network = layers.create_network()
    with layers.net_guard(network):
        x = layers.add_input("x", layers.float32, (2, 8))
        layers.mark_output(layers.functional.gelu(x) * 2.0, "y")
    engine = Engine(layers.build_engine(builder, network))
    x = torch.randn(2, 8)
    got = engine({"x": x})["y"].cpu()
    np.testing.assert_allclose(got.numpy(), (torch.nn.functional.gelu(x) * 2).numpy(), rtol=1e-3, atol=1e-3)
