"""torchvision's Swin-T (random weights): shifted-window attention with relative position
bias, patch merging, stochastic depth."""

import torch
import torchvision


def get_model():
    return torchvision.models.swin_t().eval()


def get_example_inputs():
    return (torch.randn(1, 3, 224, 224, generator=torch.Generator().manual_seed(0)),)
