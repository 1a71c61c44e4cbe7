"""Calibration mode (layers.quant_calibration): activation quantizers name the tensors they
would quantize and add no Q/DQ layers, so a calibrator can run the float network."""

import numpy as np

import layers as nn
from layers.quant_calibration import calibration_taps


def _linear():
    module = nn.Linear(4, 2, quant="int8")
    module.load_weights({"weight": np.ones((2, 4), np.float32), "bias": np.zeros(2, np.float32)})
    return module


def test_calibration_mode_names_activation_inputs_and_adds_no_qdq():
    builder, network = nn.create_network()
    with calibration_taps() as taps, nn.net_guard(network):
        x = nn.add_input("x", nn.float32, (3, 4))
        nn.mark_output(_linear()(x), "y")
    assert {k: t.name for k, t in taps.items()} == {"input_scale": "x"}
    kinds = {network.get_layer(i).type.name for i in range(network.num_layers)}
    assert "QUANTIZE" not in kinds and "DEQUANTIZE" not in kinds


def test_outside_calibration_the_same_module_adds_qdq_pairs():
    module = _linear()
    module.load_scales(
        {"input_scale": np.array(0.1, np.float32), "weight_scale": np.full(2, 0.01, np.float32)}
    )
    builder, network = nn.create_network()
    with nn.net_guard(network):
        nn.mark_output(module(nn.add_input("x", nn.float32, (3, 4))), "y")
    kinds = [network.get_layer(i).type.name for i in range(network.num_layers)]
    assert kinds.count("QUANTIZE") == 2 and kinds.count("DEQUANTIZE") == 2
