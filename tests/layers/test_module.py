"""Module / Parameter / containers: torch-identical names, weight checks, layer naming."""

import numpy as np
import pytest
import torch
from safetensors.numpy import save_file

import layers
from helpers import assert_close
from trtgen.reference import execute


class TorchBlock(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = torch.nn.Conv2d(3, 4, 3, padding=1, bias=False)
        self.bn = torch.nn.BatchNorm2d(4)
        self.heads = torch.nn.ModuleList([torch.nn.Linear(4, 2), torch.nn.Linear(4, 3)])

    def forward(self, x):
        y = torch.relu(self.bn(self.conv(x))).mean(dim=(2, 3))
        return self.heads[0](y), self.heads[1](y)


class Block(layers.Module):
    def __init__(self):
        super().__init__()
        self.conv = layers.Conv2d(3, 4, 3, padding=1, bias=False)
        self.bn = layers.BatchNorm2d(4)
        self.heads = layers.ModuleList([layers.Linear(4, 2), layers.Linear(4, 3)])

    def forward(self, x):
        y = layers.functional.relu(self.bn(self.conv(x))).mean(dim=(2, 3))
        return self.heads[0](y), self.heads[1](y)


def torch_weights(model):
    with torch.no_grad():
        model.bn.running_mean.uniform_(-1, 1)
        model.bn.running_var.uniform_(0.5, 2)
    return {
        k: v.numpy() for k, v in model.state_dict().items() if not k.endswith("num_batches_tracked")
    }


def test_parameter_names_are_state_dict_keys():
    names = [name for name, _ in Block().named_parameters()]
    expected = [k for k in TorchBlock().state_dict() if not k.endswith("num_batches_tracked")]
    assert sorted(names) == sorted(expected)


def test_load_weights_from_mapping_and_file_matches_torch(tmp_path):
    torch.manual_seed(0)
    reference = TorchBlock().eval()
    weights = torch_weights(reference)
    path = tmp_path / "w.safetensors"
    save_file(weights, str(path))
    x = torch.randn(1, 3, 8, 8)
    for source in (weights, str(path)):
        model = Block().load_weights(source)
        builder, network = layers.create_network()
        with layers.net_guard(network):
            a, b = model(layers.add_input("x", layers.float32, (1, 3, 8, 8)))
            layers.mark_output(a, "a")
            layers.mark_output(b, "b")
        got = execute(network, {"x": x})
        with torch.no_grad():
            want = reference(x)
        assert_close(got["a"], want[0])
        assert_close(got["b"], want[1])


def test_layers_and_outputs_are_named_after_module_paths():
    torch.manual_seed(0)
    model = Block().load_weights(torch_weights(TorchBlock()))
    builder, network = layers.create_network()
    with layers.net_guard(network):
        a, _ = model(layers.add_input("x", layers.float32, (1, 3, 8, 8)))
        layers.mark_output(a, "a")
    layer_names = [network.get_layer(i).name for i in range(network.num_layers)]
    assert any(name.startswith("conv/") for name in layer_names)
    assert any(name.startswith("heads.1/") for name in layer_names)
    tensor_names = {network.get_layer(i).get_output(0).name for i in range(network.num_layers)}
    assert {"bn", "heads.1"} <= tensor_names  # a module's output tensor is its path
    # bn folded into conv: one layer, named after the convolution, its output after bn
    assert network.get_layer(layer_names.index("conv/conv")).get_output(0).name == "bn"
    assert len(set(layer_names)) == len(layer_names)


def test_load_weights_errors_name_key_and_shapes():
    weights = torch_weights(TorchBlock())
    bad_shape = dict(weights, **{"conv.weight": np.zeros((4, 3, 5, 5), np.float32)})
    with pytest.raises(ValueError, match=r"conv\.weight.*\[4, 3, 3, 3\].*\[4, 3, 5, 5\]"):
        Block().load_weights(bad_shape)
    bad_dtype = dict(weights, **{"bn.weight": weights["bn.weight"].astype(np.float16)})
    with pytest.raises(TypeError, match=r"bn\.weight.*float32.*float16"):
        Block().load_weights(bad_dtype)
    missing = {k: v for k, v in weights.items() if k != "heads.0.bias"}
    with pytest.raises(KeyError, match=r"heads\.0\.bias"):
        Block().load_weights(missing)
    extra = dict(weights, **{"head.extra": np.zeros(2, np.float32)})
    with pytest.raises(KeyError, match=r"head\.extra.*strict=False"):
        Block().load_weights(extra)
    Block().load_weights(extra, strict=False)


def test_forward_without_weights_says_what_to_do():
    builder, network = layers.create_network()
    with layers.net_guard(network):
        x = layers.add_input("x", layers.float32, (1, 3, 8, 8))
        with pytest.raises(ValueError, match="load_weights"):
            Block()(x)


def test_sequential_and_parameter_as_tensor():
    class WithParam(layers.Module):
        def __init__(self):
            super().__init__()
            self.body = layers.Sequential(layers.Linear(4, 4), layers.ReLU())
            self.offset = layers.Parameter((1, 4))

        def forward(self, x):
            return self.body(x) + self.offset

    torch.manual_seed(0)
    linear = torch.nn.Linear(4, 4)
    offset = torch.randn(1, 4)
    weights = {
        "body.0.weight": linear.weight.detach().numpy(),
        "body.0.bias": linear.bias.detach().numpy(),
        "offset": offset.numpy(),
    }
    model = WithParam().load_weights(weights)
    builder, network = layers.create_network()
    with layers.net_guard(network):
        layers.mark_output(model(layers.add_input("x", layers.float32, (2, 4))), "y")
    x = torch.randn(2, 4)
    with torch.no_grad():
        assert_close(execute(network, {"x": x})["y"], torch.relu(linear(x)) + offset)
    assert any(network.get_layer(i).name == "offset" for i in range(network.num_layers))


def test_ops_outside_a_network_fail_clearly():
    with pytest.raises(RuntimeError, match="net_guard"):
        layers.functional.constant(np.zeros(2, np.float32))


def test_build_engine_returns_a_serialized_engine():
    builder, network = layers.create_network()
    with layers.net_guard(network):
        x = layers.add_input("x", layers.float32, (1, 4))
        layers.mark_output(layers.functional.relu(x), "y")
    engine = layers.build_engine(builder, network)
    assert isinstance(engine, bytes) and len(engine) > 1000
