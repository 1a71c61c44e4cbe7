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
