"""Example model for trtgen: torchvision ResNet-18 with random weights (no download)."""

import torch
import torchvision


def get_model():
    torch.manual_seed(0)
    model = torchvision.models.resnet18()
    # non-trivial BatchNorm statistics, as a trained model has
    for module in model.modules():
        if isinstance(module, torch.nn.BatchNorm2d):
            module.running_mean.uniform_(-0.5, 0.5)
            module.running_var.uniform_(0.5, 2.0)
            module.weight.data.uniform_(0.5, 1.5)
            module.bias.data.uniform_(-0.5, 0.5)
    return model


def get_example_inputs():
    torch.manual_seed(1)
    return (torch.randn(1, 3, 224, 224),)
