"""A CRNN text recognizer: a small conv stack over a 32-pixel-high line image, its columns as a
sequence, a 2-layer bidirectional GRU, and a per-step Linear into character log-probabilities."""

import torch
from torch import nn


def conv_block(cin, cout, pool):
    return nn.Sequential(
        nn.Conv2d(cin, cout, 3, padding=1, bias=False),
        nn.BatchNorm2d(cout),
        nn.ReLU(inplace=True),
        nn.MaxPool2d(pool, pool),
    )


class CRNN(nn.Module):
    def __init__(self, num_classes=37, hidden_size=64):
        super().__init__()
        self.cnn = nn.Sequential(
            conv_block(1, 16, (2, 2)), conv_block(16, 32, (2, 2)), conv_block(32, 64, (2, 1))
        )
        self.rnn = nn.GRU(64 * 4, hidden_size, num_layers=2, bidirectional=True, batch_first=True)
        self.fc = nn.Linear(2 * hidden_size, num_classes)

    def forward(self, image):
        features = self.cnn(image)  # (batch, 64, 4, width / 4)
        b, c, h, w = features.size()
        sequence = features.view(b, c * h, w).permute(0, 2, 1)  # (batch, width / 4, 256)
        recurrent, _ = self.rnn(sequence)
        return self.fc(recurrent).log_softmax(-1)


def get_model():
    torch.manual_seed(0)
    model = CRNN()
    with torch.no_grad():  # non-trivial batch norm statistics
        for module in model.modules():
            if isinstance(module, nn.BatchNorm2d):
                module.running_mean.uniform_(-0.5, 0.5)
                module.running_var.uniform_(0.5, 1.5)
    return model.eval()


def get_example_inputs():
    generator = torch.Generator().manual_seed(1)
    return (torch.randn(1, 1, 32, 100, generator=generator),)  # (batch, 1, height, width)
