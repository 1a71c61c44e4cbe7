import importlib.util
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


def generate_source(tmp_path, source, *args):
    """Write ``source`` as tmp_path/model.py and run ``trtgen`` on it into tmp_path/out;
    returns (model path, OUT, CompletedProcess)."""
    model = tmp_path / "model.py"
    model.write_text(source)
    out = tmp_path / "out"
    return model, out, run_trtgen(model, "-o", out, *args)


def import_model_file(path, name):
    """The model file at ``path``, imported as module ``name`` (to call its get_model())."""
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


# A one-Linear model for command-line tests; add get_model() / get_example_inputs() as needed.
TINY_NET = """
import torch

class Net(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = torch.nn.Linear(4, 3)

    def forward(self, x):
        return torch.relu(self.fc(x))
"""
TINY_MODEL = (
    TINY_NET
    + "\ndef get_model():\n    return Net()\n\ndef get_example_inputs():\n    return (torch.randn(2, 4),)\n"
)


MODEL_HEADER = "import torch\nfrom torch import nn\n"
MODEL_FOOTER = (
    "\n\ndef get_model():\n    torch.manual_seed(0)\n    return M().eval()\n\n\n"
    "def get_example_inputs():\n    torch.manual_seed(1)\n    return INPUTS\n"
)


def write_model(tmp_path, body, name="model"):
    """``body`` (defining class M and INPUTS, dedented) as a MODEL.py in tmp_path."""
    import textwrap

    model = tmp_path / f"{name}.py"
    model.write_text(MODEL_HEADER + textwrap.dedent(body) + MODEL_FOOTER)
    return model
