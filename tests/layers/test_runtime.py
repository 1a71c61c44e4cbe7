"""``layers.runtime``: engines built by the real TensorRT package, run on a GPU and compared
with torch. The GPU tests are skipped, with the reason, where no engine can run; the input
checks and conversions that need no GPU run everywhere.

Tolerances (rtol = atol): float32 activations 1e-3, TensorRT's kernels approximate erf; a float32
matmul 1e-2, TensorRT may run it in TF32 (10-bit mantissa); a CUDA-graph replay against a plain
run of the same engine 1e-5."""

import numpy as np
import pytest
import torch

import layers
from layers import functional as F
from layers.runtime import Engine, check_input_shape, gpu_unavailable_reason, to_numpy

REASON = gpu_unavailable_reason()
needs_gpu = pytest.mark.skipif(REASON is not None, reason=str(REASON))

ELEMENTWISE = dict(rtol=1e-3, atol=1e-3)
MATMUL = dict(rtol=1e-2, atol=1e-2)


def build(make_outputs, inputs, profiles=()):
    """Serialized engine of a network: ``inputs`` {name: (dtype, shape)}, ``make_outputs``
    maps the input tensors to {output name: tensor}."""
    builder, network = layers.create_network()
    with layers.net_guard(network):
        handles = {name: layers.add_input(name, *spec) for name, spec in inputs.items()}
        for name, tensor in make_outputs(**handles).items():
            layers.mark_output(tensor, name)
    return layers.build_engine(builder, network, profiles=profiles)


def gelu_twice(x):
    return {"y": F.gelu(x) * 2.0}


def reference_gelu_twice(x):
    return torch.nn.functional.gelu(torch.as_tensor(x)) * 2


# --------------------------------------------------------------------------- no GPU needed
def test_reason_is_given_without_a_gpu():
    if torch.cuda.is_available():
        assert REASON is None
    else:
        assert "GPU" in REASON
        with pytest.raises(RuntimeError, match="GPU"):
            Engine(b"")


def test_engine_from_a_missing_path_says_so(tmp_path):
    with pytest.raises(FileNotFoundError):
        Engine(tmp_path / "model.engine")


def test_serialized_engines_build_here():
    """What the GPU tests run is built by the real TensorRT package on any machine."""
    static = build(gelu_twice, {"x": (layers.float32, (2, 8))})
    dynamic = build(
        gelu_twice, {"x": (layers.float32, (-1, 8))}, [{"x": ((1, 8), (4, 8), (16, 8))}]
    )
    assert len(static) > 1000 and len(dynamic) > 1000


def test_shape_check_names_the_tensor_and_the_allowed_range():
    check_input_shape("x", (4, 8), (1, 8), (16, 8))  # inside the profile: no error
    with pytest.raises(ValueError) as err:
        check_input_shape("x", (17, 8), (1, 8), (16, 8), profile=1)
    message = str(err.value)
    assert "'x'" in message and "1..16 x 8" in message and "profile 1" in message
    assert "(17, 8)" in message and "dim 0 must be in 1..16" in message
    with pytest.raises(ValueError, match=r"'x'.*dim 1 must be 8"):
        check_input_shape("x", (4, 9), (1, 8), (16, 8))
    with pytest.raises(ValueError, match=r"'ids': expected 2 dims, 1 x 128; got shape \(128,\)"):
        check_input_shape("ids", (128,), (1, 128), (1, 128))


def test_to_numpy_keeps_values_and_widens_what_numpy_lacks():
    values = torch.tensor([[1.5, -2.0], [0.25, 3.0]])
    arrays = to_numpy({"a": values, "b": values.to(torch.bfloat16), "c": values > 0})
    assert arrays["a"].dtype == np.float32 and np.array_equal(arrays["a"], values.numpy())
    assert arrays["b"].dtype == np.float32 and np.array_equal(arrays["b"], values.numpy())
    assert arrays["c"].dtype == np.bool_ and arrays["c"].tolist() == [[True, False], [True, True]]


# --------------------------------------------------------------------------- on a GPU
@needs_gpu
def test_engine_runs_and_matches_torch():
    engine = Engine(build(gelu_twice, {"x": (layers.float32, (2, 8))}))
    x = torch.randn(2, 8)
    got = engine({"x": x})["y"]
    assert got.is_cuda and got.dtype == torch.float32
    np.testing.assert_allclose(got.cpu().numpy(), reference_gelu_twice(x).numpy(), **ELEMENTWISE)


@needs_gpu
def test_engine_from_a_path_takes_numpy_and_cuda_inputs(tmp_path):
    path = tmp_path / "model.engine"
    path.write_bytes(build(gelu_twice, {"x": (layers.float32, (2, 8))}))
    engine = Engine(path)
    x = np.random.default_rng(0).standard_normal((2, 8)).astype(np.float32)
    want = reference_gelu_twice(x).numpy()
    np.testing.assert_allclose(to_numpy(engine({"x": x}))["y"], want, **ELEMENTWISE)
    got = engine({"x": torch.from_numpy(x).cuda()})["y"].cpu().numpy()
    np.testing.assert_allclose(got, want, **ELEMENTWISE)


@needs_gpu
def test_linear_with_two_inputs_matches_torch():
    rng = np.random.default_rng(1)
    weight = rng.standard_normal((3, 4)).astype(np.float32)
    linear = layers.Linear(4, 3, bias=False)
    linear.load_weights({"weight": weight})
    spec = {"x": (layers.float32, (5, 4)), "shift": (layers.float32, (5, 3))}
    engine = Engine(build(lambda x, shift: {"out": F.relu(linear(x) + shift)}, spec))
    x, shift = torch.randn(5, 4), torch.randn(5, 3)
    want = torch.relu(x @ torch.from_numpy(weight).T + shift)
    got = engine({"shift": shift, "x": x})["out"].cpu()
    np.testing.assert_allclose(got.numpy(), want.numpy(), **MATMUL)


@needs_gpu
def test_dynamic_shapes_run_at_two_shapes():
    profiles = [{"x": ((1, 8), (4, 8), (16, 8))}]
    engine = Engine(build(gelu_twice, {"x": (layers.float32, (-1, 8))}, profiles))
    assert engine.shape_range("x") == ((1, 8), (16, 8))
    assert engine.set_input_shapes({"x": (3, 8)}) == {"y": (3, 8)}
    for batch in (2, 16):
        x = torch.randn(batch, 8)
        got = engine({"x": x})["y"].cpu()
        assert tuple(got.shape) == (batch, 8)
        np.testing.assert_allclose(got.numpy(), reference_gelu_twice(x).numpy(), **ELEMENTWISE)


@needs_gpu
def test_bad_inputs_are_refused_with_the_tensor_named():
    profiles = [{"x": ((1, 8), (4, 8), (16, 8))}]
    engine = Engine(build(gelu_twice, {"x": (layers.float32, (-1, 8))}, profiles))
    with pytest.raises(ValueError, match=r"'x'.*1\.\.16 x 8.*dim 0 must be in 1\.\.16"):
        engine({"x": torch.randn(17, 8)})
    with pytest.raises(ValueError, match=r"'x': expected 2 dims"):
        engine({"x": torch.randn(4, 8, 1)})
    with pytest.raises(ValueError, match="'x': expected dtype float32, got float64"):
        engine({"x": np.zeros((4, 8))})
    with pytest.raises(ValueError, match=r"missing input\(s\) \['x'\]"):
        engine({})
    with pytest.raises(ValueError, match=r"unknown input\(s\) \['z'\]"):
        engine({"x": torch.randn(4, 8), "z": torch.randn(4, 8)})
    with pytest.raises(ValueError, match="expected a torch tensor or numpy array, got list"):
        engine({"x": [[0.0] * 8]})


@needs_gpu
def test_optimization_profiles_are_chosen_by_index():
    profiles = [{"x": ((1, 8), (2, 8), (4, 8))}, {"x": ((8, 8), (12, 8), (16, 8))}]
    data = build(gelu_twice, {"x": (layers.float32, (-1, 8))}, profiles)
    engine = Engine(data, profile=1)
    assert engine.num_profiles == 2 and engine.shape_range("x") == ((8, 8), (16, 8))
    x = torch.randn(12, 8)
    got = engine({"x": x})["y"].cpu()
    np.testing.assert_allclose(got.numpy(), reference_gelu_twice(x).numpy(), **ELEMENTWISE)
    engine.select_profile(0)
    with pytest.raises(ValueError, match="profile 0"):
        engine({"x": x})
    small = torch.randn(3, 8)
    got = engine({"x": small})["y"].cpu()
    np.testing.assert_allclose(got.numpy(), reference_gelu_twice(small).numpy(), **ELEMENTWISE)
    with pytest.raises(ValueError, match="profile 2 does not exist"):
        engine.select_profile(2)


@needs_gpu
def test_cuda_graph_replay_matches_a_plain_run_for_new_values():
    data = build(gelu_twice, {"x": (layers.float32, (4, 8))})
    plain, graphed = Engine(data), Engine(data, cuda_graph=True)
    first, second = torch.randn(4, 8), torch.randn(4, 8) * 3
    got_first = graphed({"x": first})["y"]
    got_second = graphed({"x": second})["y"]
    # each result is its own tensor: the second replay did not overwrite the first
    for x, got in ((first, got_first), (second, got_second)):
        want = plain({"x": x})["y"].cpu().numpy()
        np.testing.assert_allclose(got.cpu().numpy(), want, rtol=1e-5, atol=1e-5)
        want = reference_gelu_twice(x).numpy()
        np.testing.assert_allclose(got.cpu().numpy(), want, **ELEMENTWISE)


@needs_gpu
def test_cuda_graph_is_captured_again_when_shapes_change():
    profiles = [{"x": ((1, 8), (4, 8), (16, 8))}]
    engine = Engine(build(gelu_twice, {"x": (layers.float32, (-1, 8))}, profiles), cuda_graph=True)
    for batch in (2, 16, 2):
        x = torch.randn(batch, 8)
        got = engine({"x": x})["y"].cpu()
        assert tuple(got.shape) == (batch, 8)
        np.testing.assert_allclose(got.numpy(), reference_gelu_twice(x).numpy(), **ELEMENTWISE)
