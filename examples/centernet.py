"""Example model: a CenterNet detector (ResNet-18 backbone, deconvolution upsampler, one head per
output) in its idiomatic PyTorch form: ``forward(self, input)``, heads ``hm`` / ``wh`` / ``reg``
held as attributes named after their outputs and returned in a dict. Random weights."""

import torch
import torchvision
from torch import nn

HEADS = {"hm": 3, "wh": 2, "reg": 2}


class CenterNet(nn.Module):
    def __init__(self, heads=HEADS, head_conv=64):
        super().__init__()
        resnet = torchvision.models.resnet18()
        self.backbone = nn.Sequential(*list(resnet.children())[:-2])
        layers, channels = [], 512
        for _ in range(3):
            layers += [
                nn.ConvTranspose2d(channels, 128, 4, stride=2, padding=1, bias=False),
                nn.BatchNorm2d(128),
                nn.ReLU(inplace=True),
            ]
            channels = 128
        self.deconv_layers = nn.Sequential(*layers)
        self.heads = heads
        for head, classes in heads.items():
            fc = nn.Sequential(
                nn.Conv2d(channels, head_conv, 3, padding=1),
                nn.ReLU(inplace=True),
                nn.Conv2d(head_conv, classes, 1),
            )
            self.__setattr__(head, fc)

    def forward(self, input):
        x = self.deconv_layers(self.backbone(input))
        ret = {}
        for head in self.heads:
            ret[head] = self.__getattr__(head)(x)
        ret["hm"] = ret["hm"].sigmoid_()
        return ret


def get_model():
    torch.manual_seed(0)
    model = CenterNet()
    for module in model.modules():  # non-trivial statistics, as a trained model has
        if isinstance(module, nn.BatchNorm2d):
            module.running_mean.uniform_(-0.2, 0.2)
            module.running_var.uniform_(0.5, 1.5)
    return model.eval()


def get_example_inputs():
    torch.manual_seed(1)
    return (torch.randn(1, 3, 128, 128),)
