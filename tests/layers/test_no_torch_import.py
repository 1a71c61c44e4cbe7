"""``import layers`` must never import torch: generated code runs where only TensorRT is installed.

Runs in a fresh interpreter (this test process has torch loaded already), with an import hook
that refuses torch, so a hidden ``import torch`` fails loudly instead of passing unnoticed.
"""

import os
import pathlib
import subprocess
import sys
import textwrap

ROOT = pathlib.Path(__file__).resolve().parents[2]

SCRIPT = textwrap.dedent("""
    import importlib.abc
    import sys

    attempts = []

    class RefuseTorch(importlib.abc.MetaPathFinder):
        def find_spec(self, name, path=None, target=None):
            if name == "torch" or name.startswith("torch."):
                attempts.append(name)
                raise ImportError(f"layers must not import {name}")
            return None

    sys.meta_path.insert(0, RefuseTorch())

    import numpy as np

    import layers
    import layers.functional
    import layers.nn
    import layers.runtime

    # the runtime imports torch only when asked to run, and then says why it cannot
    assert layers.runtime.gpu_unavailable_reason().startswith("torch is not installed")
    attempts.clear()

    model = layers.Sequential(layers.Conv2d(3, 4, 3, padding=1), layers.ReLU())
    model.load_weights(
        {
            "0.weight": np.ones((4, 3, 3, 3), dtype=np.float32),
            "0.bias": np.zeros((4,), dtype=np.float32),
        }
    )
    builder, network = layers.create_network()
    with layers.net_guard(network):
        x = layers.add_input("x", layers.float32, (1, 3, 8, 8))
        y = layers.mark_output(model(x), "y")
    kinds = [network.get_layer(i).type for i in range(network.num_layers)]
    LT = layers.trt.LayerType
    assert LT.CONVOLUTION in kinds and LT.ACTIVATION in kinds, kinds
    assert tuple(y.shape) == (1, 4, 8, 8), y.shape

    assert not attempts, attempts
    assert "torch" not in sys.modules
    print("ok")
    """)


def test_layers_imports_and_builds_without_torch():
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
    result = subprocess.run(
        [sys.executable, "-c", SCRIPT],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0 and result.stdout.strip().endswith(
        "ok"
    ), f"exit {result.returncode}\nstdout:\n{result.stdout}\nstderr:\n{result.stderr}"
