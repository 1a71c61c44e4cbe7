"""nn.Identity/Dropout/Flatten/Unflatten/Upsample/PixelShuffle/padding modules and nn.Embedding
against the torch.nn modules built with the same arguments (and the same weights)."""

import pytest
import torch

import layers
from layers import functional as F

from helpers import rand
from test_shape import check

X = rand(2, 4, 4, 6)

MODULES = [  # class name, constructor args, kwargs
    ("Identity", (), {}),
    ("Identity", (54,), {"unused": 1}),
    ("Dropout", (0.3,), {}),
    ("Dropout", (), {"inplace": True}),
    ("Dropout2d", (0.1,), {}),
    ("AlphaDropout", (0.2,), {}),
    ("Flatten", (), {}),
    ("Flatten", (0, 2), {}),
    ("Flatten", (), {"start_dim": -2}),
    ("Unflatten", (1, (2, 2)), {}),
    ("Unflatten", (-1, (2, -1)), {}),
    ("Upsample", (), {"scale_factor": 2}),
    ("Upsample", ((5, 7),), {"mode": "bilinear"}),
    ("Upsample", (), {"scale_factor": 2, "mode": "bicubic", "align_corners": True}),
    ("UpsamplingNearest2d", (), {"scale_factor": 2}),
    ("UpsamplingBilinear2d", ((5, 6),), {}),
    ("PixelShuffle", (2,), {}),
    ("PixelUnshuffle", (2,), {}),
    ("ZeroPad2d", (1,), {}),
    ("ZeroPad2d", ((1, 0, 2, 1),), {}),
    ("ZeroPad1d", ((2, 1),), {}),
    ("ConstantPad2d", (2, 3.5), {}),
    ("ConstantPad1d", ((0, 2), -1.0), {}),
    ("ConstantPad3d", (1, 0.5), {}),
    ("ReflectionPad2d", ((1, 2, 0, 2),), {}),
    ("ReflectionPad1d", (2,), {}),
    ("ReplicationPad2d", (2,), {}),
    ("ReplicationPad3d", ((1, 0, 0, 1, 1, 1),), {}),
    ("CircularPad2d", ((1, 2, 2, 0),), {}),
    ("CircularPad1d", (1,), {}),
]


@pytest.mark.parametrize("name,args,kwargs", MODULES, ids=[f"{m[0]}{m[1]}" for m in MODULES])
def test_module_matches_torch(name, args, kwargs):
    ours = getattr(layers, name)(*args, **kwargs)
    theirs = getattr(torch.nn, name)(*args, **kwargs).eval()
    x = X[0] if name.endswith("1d") else X[None] if name.endswith("3d") else X
    check(lambda t: ours(t), lambda t: theirs(t), x)


def test_module_attributes_are_torchs():
    assert layers.Flatten().start_dim == torch.nn.Flatten().start_dim == 1
    assert layers.Dropout(0.25).p == 0.25
    assert (
        layers.Upsample(scale_factor=2).scale_factor
        == torch.nn.Upsample(scale_factor=2).scale_factor
    )
    assert layers.ReflectionPad2d(3).padding == torch.nn.ReflectionPad2d(3).padding
    assert layers.ConstantPad2d(1, 2.0).value == torch.nn.ConstantPad2d(1, 2.0).value
    assert layers.PixelShuffle(3).upscale_factor == 3


def test_dropout_and_identity_add_no_layer():
    builder, network = layers.create_network()
    with layers.net_guard(network):
        x = layers.add_input("x", layers.float32, (2, 3))
        assert layers.Dropout(0.5)(x) is x and layers.Identity()(x) is x
    assert network.num_layers == 0


@pytest.mark.parametrize("padding_idx", [None, 0])
def test_embedding(padding_idx):
    torch.manual_seed(0)
    theirs = torch.nn.Embedding(11, 6, padding_idx=padding_idx).eval()
    ours = layers.Embedding(11, 6, padding_idx=padding_idx)
    ours.load_weights({k: v.detach().numpy() for k, v in theirs.state_dict().items()})
    ids = torch.tensor([[0, 3, 10], [7, 7, 1]])
    network = check(lambda t: ours(t), lambda t: theirs(t).detach(), ids)
    assert network.get_layer(0).name == "weight"  # the CONSTANT is named by its state_dict key


def test_embedding_in_a_model_uses_state_dict_keys():
    class Model(layers.Module):
        def __init__(self):
            super().__init__()
            self.tok = layers.Embedding(5, 3)

        def forward(self, ids):
            return F.flatten(self.tok(ids), 1)

    theirs = torch.nn.Embedding(5, 3)
    model = Model()
    model.load_weights({"tok.weight": theirs.weight.detach().numpy()})
    ids = torch.tensor([[4, 0], [2, 2]], dtype=torch.int32)
    network = check(lambda t: model(t), lambda t: theirs(t.long()).detach().flatten(1), ids)
    names = [network.get_layer(i).name for i in range(network.num_layers)]
    assert "tok.weight" in names and "tok/gather" in names
