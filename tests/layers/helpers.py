"""Build a tiny network with `layers`, run it with the reference executor, compare with torch."""

import numpy as np
import torch

import layers
from trtgen.reference import execute

_DTYPES = {
    torch.float32: layers.float32,
    torch.float16: layers.float16,
    torch.bfloat16: layers.bfloat16,
    torch.int32: layers.int32,
    torch.int64: layers.int64,
    torch.bool: layers.bool,
    torch.int8: layers.int8,
}


def run_layers(fn, *inputs, return_network=False):
    """Call ``fn`` on network inputs shaped like ``inputs``; return the outputs as torch tensors.

    ``fn`` may return one Tensor or a tuple/list of them.
    """
    builder, network = layers.create_network()
    with layers.net_guard(network):
        handles = [
            layers.add_input(f"input{i}", _DTYPES[t.dtype], tuple(t.shape))
            for i, t in enumerate(inputs)
        ]
        result = fn(*handles)
        outputs = list(result) if isinstance(result, (tuple, list)) else [result]
        for i, out in enumerate(outputs):
            layers.mark_output(out, f"output{i}")
    values = execute(network, {f"input{i}": t for i, t in enumerate(inputs)})
    got = [values[f"output{i}"] for i in range(len(outputs))]
    if return_network:
        return got, (builder, network)
    return got if isinstance(result, (tuple, list)) else got[0]


def assert_close(actual, expected, rtol=1e-5):
    """fp32 rule of the project: max |actual - expected| <= rtol * max(1, max |expected|)."""
    expected = torch.as_tensor(expected)
    actual = torch.as_tensor(actual)
    assert tuple(actual.shape) == tuple(
        expected.shape
    ), f"shape {tuple(actual.shape)} != {tuple(expected.shape)}"
    if expected.dtype == torch.bool or not expected.is_floating_point():
        assert actual.dtype == expected.dtype or not actual.is_floating_point(), (
            actual.dtype,
            expected.dtype,
        )
        assert torch.equal(
            actual.to(expected.dtype), expected
        ), f"values differ:\n{actual}\n{expected}"
        return
    actual = actual.double()
    expected = expected.double()
    scale = max(1.0, expected.abs().max().item()) if expected.numel() else 1.0
    err = (actual - expected).abs().max().item() if expected.numel() else 0.0
    assert err <= rtol * scale, f"max abs error {err:.3g} > {rtol:g} x {scale:.3g}"


def check_op(layers_fn, torch_fn, *inputs, rtol=1e-5):
    """Run ``layers_fn`` through TensorRT + executor and ``torch_fn`` in torch; compare all outputs."""
    got = run_layers(layers_fn, *inputs)
    want = torch_fn(*inputs)
    if isinstance(want, (tuple, list)):
        assert isinstance(got, (tuple, list)) and len(got) == len(want)
        for g, w in zip(got, want):
            assert_close(g, w, rtol)
    else:
        assert_close(got, want, rtol)


def check_and_build(layers_fn, torch_fn, *inputs, rtol=1e-5):
    """``check_op``, then build the engine with TensorRT (the builder rejects layer
    configurations the network API accepted); returns the network."""
    got, (builder, network) = run_layers(layers_fn, *inputs, return_network=True)
    want = torch_fn(*inputs)
    want = list(want) if isinstance(want, (tuple, list)) else [want]
    assert len(got) == len(want)
    for g, w in zip(got, want):
        assert_close(g, w, rtol)
    layers.build_engine(builder, network)
    return network


def layer_types(network):
    return [network.get_layer(i).type for i in range(network.num_layers)]


def param(name, tensor):
    """A loaded ``layers.Parameter`` named ``name`` holding ``tensor``."""
    p = layers.Parameter(tuple(tensor.shape), tensor.dtype)
    p.name = name
    p.set_value(tensor.numpy())
    return p


def rand(*shape, seed=0, dtype=torch.float32):
    generator = torch.Generator().manual_seed(seed)
    return torch.randn(*shape, generator=generator).to(dtype)


__all__ = [
    "run_layers",
    "assert_close",
    "check_op",
    "check_and_build",
    "layer_types",
    "param",
    "rand",
    "np",
]
