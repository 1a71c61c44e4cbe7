"""Detection-style networks written in plain PyTorch, the way deployment code usually has them."""

import torch
import torch.nn as nn
import torch.nn.functional as F
import torchvision


class UpBlock(nn.Module):
    """CenterNet's ConvTranspose2d + BatchNorm + ReLU upsampler."""

    def __init__(self, cin, cout):
        super().__init__()
        self.deconv = nn.ConvTranspose2d(
            cin, cout, 4, stride=2, padding=1, output_padding=0, bias=False
        )
        self.bn = nn.BatchNorm2d(cout)
        self.relu = nn.ReLU(inplace=True)

    def forward(self, x):
        return self.relu(self.bn(self.deconv(x)))


class Head(nn.Sequential):
    def __init__(self, cin, cout, hidden=32):
        super().__init__(
            nn.Conv2d(cin, hidden, 3, padding=1), nn.ReLU(inplace=True), nn.Conv2d(hidden, cout, 1)
        )


class CenterNet(nn.Module):
    def __init__(self, num_classes=4):
        super().__init__()
        backbone = torchvision.models.resnet18()
        self.backbone = nn.Sequential(*list(backbone.children())[:-2])
        self.up = nn.Sequential(UpBlock(512, 128), UpBlock(128, 64), UpBlock(64, 64))
        self.heads = nn.ModuleDict(
            {"hm": Head(64, num_classes), "wh": Head(64, 2), "reg": Head(64, 2)}
        )

    def forward(self, x):
        features = self.up(self.backbone(x))
        out = {name: head(features) for name, head in self.heads.items()}
        out["hm"] = out["hm"].sigmoid()
        return out


def autopad(k, p=None):
    return k // 2 if p is None else p


class Conv(nn.Module):
    """Conv2d + BatchNorm + SiLU, as in YOLOv8."""

    def __init__(self, c1, c2, k=1, s=1, p=None):
        super().__init__()
        self.conv = nn.Conv2d(c1, c2, k, s, autopad(k, p), bias=False)
        self.bn = nn.BatchNorm2d(c2)
        self.act = nn.SiLU()

    def forward(self, x):
        return self.act(self.bn(self.conv(x)))


class Bottleneck(nn.Module):
    def __init__(self, c1, c2, shortcut=True):
        super().__init__()
        self.cv1 = Conv(c1, c2, 3)
        self.cv2 = Conv(c2, c2, 3)
        self.add = shortcut and c1 == c2

    def forward(self, x):
        return x + self.cv2(self.cv1(x)) if self.add else self.cv2(self.cv1(x))


class C2f(nn.Module):
    def __init__(self, c1, c2, n=1, shortcut=False):
        super().__init__()
        self.c = c2 // 2
        self.cv1 = Conv(c1, 2 * self.c, 1)
        self.cv2 = Conv((2 + n) * self.c, c2, 1)
        self.m = nn.ModuleList(Bottleneck(self.c, self.c, shortcut) for _ in range(n))

    def forward(self, x):
        y = list(self.cv1(x).chunk(2, 1))
        y.extend(m(y[-1]) for m in self.m)
        return self.cv2(torch.cat(y, 1))


class SPPF(nn.Module):
    def __init__(self, c1, c2, k=5):
        super().__init__()
        c_ = c1 // 2
        self.cv1 = Conv(c1, c_, 1)
        self.cv2 = Conv(c_ * 4, c2, 1)
        self.m = nn.MaxPool2d(kernel_size=k, stride=1, padding=k // 2)

    def forward(self, x):
        x = self.cv1(x)
        y1 = self.m(x)
        y2 = self.m(y1)
        return self.cv2(torch.cat((x, y1, y2, self.m(y2)), 1))


class YOLOv8(nn.Module):
    def __init__(self, w=16, num_outputs=8):
        super().__init__()
        self.stem = Conv(3, w, 3, 2)
        self.stage1 = nn.Sequential(Conv(w, 2 * w, 3, 2), C2f(2 * w, 2 * w, 1, True))
        self.stage2 = nn.Sequential(Conv(2 * w, 4 * w, 3, 2), C2f(4 * w, 4 * w, 2, True))
        self.stage3 = nn.Sequential(
            Conv(4 * w, 8 * w, 3, 2), C2f(8 * w, 8 * w, 1, True), SPPF(8 * w, 8 * w)
        )
        self.up = nn.Upsample(scale_factor=2, mode="nearest")
        self.neck = C2f(12 * w, 4 * w, 1)
        self.detect = nn.ModuleList(
            [nn.Conv2d(4 * w, num_outputs, 1), nn.Conv2d(8 * w, num_outputs, 1)]
        )

    def forward(self, x):
        p3 = self.stage2(self.stage1(self.stem(x)))
        p4 = self.stage3(p3)
        n3 = self.neck(torch.cat([self.up(p4), p3], 1))
        outputs = [self.detect[0](n3), self.detect[1](p4)]
        b = x.shape[0]
        return torch.cat([o.view(b, o.shape[1], -1) for o in outputs], 2)


class MultiIO(nn.Module):
    """Several inputs and nested outputs, in-place ops, Python arithmetic on shapes, getattr/getitem."""

    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(3, 8, 3, padding=1)
        self.fc = nn.Linear(8 * 8 * 8, 10)
        self.proj = nn.Linear(6, 10)

    def forward(self, image, features):
        x = self.conv(image)
        x.relu_()
        x += 1.0
        flat = x.view(x.size(0), -1)
        logits = self.fc(flat)
        side = self.proj(features)
        half = logits.shape[-1] // 2
        return {"logits": logits, "parts": (logits[:, :half], side[:, half:] * 2)}, side.mean(
            dim=-1
        )


def centernet():
    torch.manual_seed(0)
    return CenterNet()


def yolov8():
    torch.manual_seed(0)
    return YOLOv8()


def multi_io():
    torch.manual_seed(0)
    return MultiIO()
