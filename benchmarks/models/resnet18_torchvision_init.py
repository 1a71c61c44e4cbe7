"""torchvision ResNet-18 exactly as torchvision initializes it (no download, no BN changes).

Its logits are dominated by the untrained head, so every input gets the same top class; the
accuracy benchmark reports it beside examples/resnet18.py to show how much top-1 agreement on
random-weight models says about the model rather than the quantization.
"""

import torch
import torchvision


def get_model():
    torch.manual_seed(0)
    return torchvision.models.resnet18()


def get_example_inputs():
    torch.manual_seed(1)
    return (torch.randn(1, 3, 224, 224),)
