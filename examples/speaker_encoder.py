"""A GE2E-style speaker encoder: a 3-layer LSTM over 40-dim log-mel frames; the last layer's
final hidden state goes through a Linear + ReLU and is L2-normalized into an embedding."""

import torch
import torch.nn.functional as F
from torch import nn


class SpeakerEncoder(nn.Module):
    def __init__(self, mel_channels=40, hidden_size=256, embedding_size=256, num_layers=3):
        super().__init__()
        self.lstm = nn.LSTM(mel_channels, hidden_size, num_layers=num_layers, batch_first=True)
        self.linear = nn.Linear(hidden_size, embedding_size)
        self.relu = nn.ReLU()

    def forward(self, mels):
        _, (hidden, _) = self.lstm(mels)
        embeds = self.relu(self.linear(hidden[-1]))
        return F.normalize(embeds, p=2, dim=1)


def get_model():
    torch.manual_seed(0)
    return SpeakerEncoder().eval()


def get_example_inputs():
    generator = torch.Generator().manual_seed(1)
    return (torch.randn(2, 50, 40, generator=generator),)  # (batch, frames, mel channels)
