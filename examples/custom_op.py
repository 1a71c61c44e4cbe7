"""Example model with a custom op (a torch.library op, as custom CUDA kernels are registered).

trtgen cannot know what ``scaled_tanh`` computes; ``examples/custom_op_rules.py`` tells it:

    trtgen examples/custom_op.py --rules examples/custom_op_rules.py -o out/custom_op
"""

import torch


@torch.library.custom_op("trtgen_example::scaled_tanh", mutates_args=())
def scaled_tanh(x: torch.Tensor, scale: float) -> torch.Tensor:
    return torch.tanh(x) * scale


@scaled_tanh.register_fake
def _(x, scale):
    return torch.empty_like(x)


class Net(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.fc1 = torch.nn.Linear(16, 32)
        self.fc2 = torch.nn.Linear(32, 4)

    def forward(self, x):
        return self.fc2(torch.ops.trtgen_example.scaled_tanh(self.fc1(x), 2.5))


def get_model():
    torch.manual_seed(0)
    return Net()


def get_example_inputs():
    torch.manual_seed(1)
    return (torch.randn(2, 16),)
