"""A user edits the generated network: the edited file still builds and matches the edited model."""

import os
import re

import torch

import layers
from cli_helpers import EXAMPLES, import_model_file
from trtgen.commands.cli import main
from trtgen.commands.compare import compare
from trtgen.reference import execute


def _import(path):
    return import_model_file(path, "edited_network")


def test_swap_activation_and_mark_intermediate_output(tmp_path):
    out = tmp_path / "resnet18"
    assert main([os.path.join(EXAMPLES, "resnet18.py"), "-o", str(out)]) == 0
    source = (out / "network.py").read_text()

    # 1. one block uses SiLU instead of ReLU
    edited, swaps = re.subn(
        r"(\n(\s+)model\.load_weights\(weights\)\n)",
        r"\1\2model.layer1[0].relu = nn.SiLU()\n",
        source,
    )
    assert swaps == 1
    # 2. an intermediate tensor becomes an extra network output
    edited, marks = re.subn(
        r"(\n(\s+)(x) = self\.layer2\(.*\)\n)",
        r'\1\2nn.mark_output(\3, "layer2_features")\n',
        edited,
    )
    assert marks == 1
    (out / "network.py").write_text(edited)

    network_py = _import(out / "network.py")
    builder, network = layers.create_network()
    network_py.build_network(network, str(out / "weights.safetensors"))
    outputs = [network.get_output(i).name for i in range(network.num_outputs)]
    assert sorted(outputs) == ["layer2_features", "output"]
    swapped = [
        network.get_layer(i)
        for i in range(network.num_layers)
        if network.get_layer(i).name.startswith("layer1.0.relu/")
    ]
    names = sorted(layer.name for layer in swapped)  # SiLU is x * sigmoid(x); used twice per block
    assert names == [
        "layer1.0.relu/mul",
        "layer1.0.relu/mul_1",
        "layer1.0.relu/sigmoid",
        "layer1.0.relu/sigmoid_1",
    ]

    # the same edits on the PyTorch side
    import sys

    sys.path.insert(0, EXAMPLES)
    import resnet18 as example

    model = example.get_model().eval()
    model.layer1[0].relu = torch.nn.SiLU()
    captured = {}

    def keep_layer2(module, args, result):  # returns None: the hook must not replace the output
        captured["layer2"] = result.detach().clone()

    model.layer2.register_forward_hook(keep_layer2)
    (x,) = example.get_example_inputs()
    with torch.no_grad():
        want = model(x)
    got = execute(network, {"x": x})
    for name, expected in (("output", want), ("layer2_features", captured["layer2"])):
        row = compare(name, got[name], expected, 1e-4)
        assert row.ok, row
    # the unedited network would not match: the edit really changed the computation
    model.layer1[0].relu = torch.nn.ReLU()
    with torch.no_grad():
        assert not compare("output", got["output"], model(x), 1e-4).ok

    engine = layers.build_engine(builder, network)
    assert len(engine) > 0
