"""`trtgen MODEL.py --lang python,cpp`: network.cpp is the network.py network, layer by layer.

The equivalence tests compile the generated builder against real TensorRT-RTX headers, link
libtensorrt_rtx from its wheel, build an engine on the CPU and compare `build_engine --describe`
with the description of the network network.py builds (types, names, inputs, output shapes and
dtypes, every emitted attribute, weight checksums). Without headers they skip (cpp_helpers).
"""

import json
import os
import struct
import subprocess
import sys

import pytest

from cli_helpers import EXAMPLES, REPO, TINY_MODEL, run_trtgen
from cpp_helpers import build_and_describe, compile_builder, run_builder
from trtgen.emit.cpp.render import clang_format_path

sys.path.insert(0, os.path.join(REPO, "benchmarks"))
import corpus  # noqa: E402

# forward parameters named like what the generated Python and C++ builders use
COLLIDING_NAMES = """
import torch

class M(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = torch.nn.Linear(4, 4)

    def forward(self, input, w, net, name, dims, network, weights):
        return self.fc(input) * w + net - name / (dims.abs() + 1) + network * weights

def get_model():
    return M()

def get_example_inputs():
    return tuple(torch.randn(2, 4) for _ in range(7))
"""


def _model_source(tmp, name, source):
    path = os.path.join(str(tmp), f"{name}.py")
    with open(path, "w") as f:
        f.write(source)
    return path


# classes named like C++ keywords, network.cpp's functions and the nvinfer1 types it uses
COLLIDING_CLASS_NAMES = """
import torch

def block(name):
    def __init__(self):
        torch.nn.Module.__init__(self)
        self.fc = torch.nn.Linear(4, 4)
    return type(name, (torch.nn.Module,), {"__init__": __init__, "forward": lambda self, x: torch.relu(self.fc(x))})

class M(torch.nn.Module):
    def __init__(self):
        super().__init__()
        names = ["main", "namespace", "int", "build_network", "WeightsFile", "INetworkDefinition", "ITensor", "dims"]
        self.blocks = torch.nn.Sequential(*(block(name)() for name in names))

    def forward(self, x):
        return self.blocks(x)

def get_model():
    return M()

def get_example_inputs():
    return (torch.randn(2, 4),)
"""


MODELS = {
    "colliding_names": lambda tmp: _model_source(tmp, "colliding_names", COLLIDING_NAMES),
    "colliding_class_names": lambda tmp: _model_source(
        tmp, "colliding_class_names", COLLIDING_CLASS_NAMES
    ),
    "resnet18": lambda tmp: os.path.join(EXAMPLES, "resnet18.py"),
    "bert_encoder": lambda tmp: os.path.join(EXAMPLES, "bert_encoder.py"),
    "centernet": lambda tmp: os.path.join(EXAMPLES, "centernet.py"),
    "yolov8_c2f": lambda tmp: os.path.join(EXAMPLES, "yolov8_c2f.py"),
    "mobilenet_v2": lambda tmp: corpus.model_file("mobilenet_v2", str(tmp)),
    "vit_b_16": lambda tmp: corpus.model_file("vit_b_16", str(tmp)),
    "gpt2_tiny": lambda tmp: os.path.join(EXAMPLES, "gpt2_tiny.py"),
    "llama_tiny": lambda tmp: os.path.join(EXAMPLES, "llama_tiny.py"),
    "swin_t": lambda tmp: os.path.join(EXAMPLES, "swin_t.py"),
}


def generate(tmp_path, model, out_name="out"):
    out = tmp_path / out_name
    result = run_trtgen(model, "-o", out, "--lang", "python,cpp")
    assert result.returncode == 0, result.stdout + result.stderr
    return out


@pytest.fixture(scope="module")
def resnet18(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("cpp_resnet18")
    return generate(tmp, MODELS["resnet18"](tmp))


@pytest.fixture(scope="module")
def resnet18_builder(resnet18, tmp_path_factory):
    return compile_builder(resnet18, tmp_path_factory.mktemp("build"))


def test_outputs_and_one_helper_per_class(resnet18):
    names = sorted(os.listdir(resnet18))
    for expected in (
        "network.py",
        "network.cpp",
        "CMakeLists.txt",
        "trtgen_safetensors.h",
        "trtgen_builder.h",
        "trtgen_describe.h",
        "trtgen_main.h",
        ".clang-format",
        "weights.safetensors",
    ):
        assert expected in names
    source = (resnet18 / "network.cpp").read_text()
    # BasicBlock with and without its optional downsample child: one helper, 8 calls
    assert source.count("ITensor* basic_block(") == 1
    assert source.count("= basic_block(") == 8
    assert "if (has_downsample)" in source
    # weights by state_dict key; each batch norm folded into the convolution before it
    assert 'w.conv_batch_norm_kernel(name + ".conv1.weight", name + ".bn1", 1e-05)' in source
    assert 'w.conv_batch_norm_bias("", name + ".bn1", 1e-05)' in source
    assert 'w.get("fc.weight")' in source
    assert "#include <torch" not in source


def test_resnet50_has_one_bottleneck_helper_called_16_times(tmp_path):
    out = generate(tmp_path, corpus.model_file("resnet50", str(tmp_path)))
    source = (out / "network.cpp").read_text()
    assert source.count("ITensor* bottleneck(") == 1
    assert source.count("= bottleneck(") == 16


def test_cpp_is_deterministic_and_clang_formatted(resnet18, tmp_path):
    again = generate(tmp_path, MODELS["resnet18"](tmp_path), "again")
    for name in ("network.cpp", "CMakeLists.txt", "trtgen_describe.h"):
        assert (again / name).read_bytes() == (resnet18 / name).read_bytes(), name
    style = os.path.join(REPO, ".clang-format")
    result = subprocess.run(
        [
            clang_format_path(),
            f"--style=file:{style}",
            "--dry-run",
            "--Werror",
            str(resnet18 / "network.cpp"),
        ],
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stderr[:2000]


@pytest.mark.parametrize("name", sorted(MODELS))
def test_cpp_network_matches_python_layer_by_layer(tmp_path, name):
    out = generate(tmp_path, MODELS[name](tmp_path))
    cpp, python = build_and_describe(out, tmp_path)
    assert cpp["inputs"] == python["inputs"]
    assert cpp["outputs"] == python["outputs"]
    assert len(cpp["layers"]) == len(python["layers"])
    for index, (c, p) in enumerate(zip(cpp["layers"], python["layers"])):
        assert c == p, f"layer {index} differs:\nC++:    {c}\nPython: {p}"


# --------------------------------------------------------------------------- bad weights
def _corrupt(path, how):
    data = bytearray(path.read_bytes())
    (length,) = struct.unpack("<Q", data[:8])
    header = json.loads(data[8 : 8 + length])
    if how == "truncated":
        return bytes(data[: len(data) - 1000])
    if how == "bad_json":
        data[8] = ord("[")
        return bytes(data)
    if how == "huge_header":
        return struct.pack("<Q", 1 << 40) + bytes(data[8:])
    key = "conv1.weight"
    if how == "missing_key":
        header["renamed.weight"] = header.pop(key)
    elif how == "wrong_shape":
        header[key]["shape"] = [32, 6, 7, 7]
    elif how == "wrong_dtype":
        header[key]["dtype"] = "I32"
    text = json.dumps(header).encode()
    text += b" " * ((8 - len(text) % 8) % 8)
    return struct.pack("<Q", len(text)) + text + bytes(data[8 + length :])


@pytest.mark.parametrize(
    "how, message",
    [
        ("missing_key", "weights are missing 1 key(s): conv1.weight"),
        (
            "wrong_shape",
            "weight 'conv1.weight' is F32 [32, 6, 7, 7], the network expects F32 [64, 3, 7, 7]",
        ),
        ("wrong_dtype", "weight 'conv1.weight' is I32"),
        ("truncated", "truncated or corrupt"),
        ("bad_json", "bad header JSON at byte"),
        ("huge_header", "over the 100000000-byte limit"),
    ],
)
def test_bad_weights_fail_clearly_without_an_engine(
    resnet18, resnet18_builder, tmp_path, how, message
):
    exe, lib = resnet18_builder
    weights = tmp_path / "weights.safetensors"
    weights.write_bytes(_corrupt(resnet18 / "weights.safetensors", how))
    engine = tmp_path / "model.engine"
    result = run_builder(exe, lib, "--weights", weights, "--engine", engine)
    assert result.returncode != 0
    assert message in result.stderr, result.stderr
    assert not engine.exists() and not (tmp_path / "model.engine.partial").exists()


def test_build_options(resnet18, resnet18_builder, tmp_path):
    exe, lib = resnet18_builder
    engine = tmp_path / "model.engine"
    weights = resnet18 / "weights.safetensors"
    result = run_builder(
        exe,
        lib,
        "--weights",
        weights,
        "--engine",
        engine,
        "--opt-level",
        "0",
        "--workspace",
        "256",
        "--compute-capability",
        "sm86",
    )
    assert result.returncode == 0, result.stderr
    assert engine.stat().st_size > 0
    engine.unlink()
    result = run_builder(
        exe, lib, "--weights", weights, "--engine", engine, "--compute-capability", "sm99"
    )
    assert result.returncode == 1
    assert "--compute-capability sm99: choose from sm75, sm80, sm86, sm89, sm120" in result.stderr
    assert not engine.exists()


def test_bad_lang_is_refused_before_anything_is_written(tmp_path):
    out = tmp_path / "out"
    result = run_trtgen(os.path.join(EXAMPLES, "resnet18.py"), "-o", out, "--lang", "rust")
    assert result.returncode == 2
    assert "--lang 'rust': choose from python, cpp" in result.stderr
    assert not out.exists()


def test_cpp_only_output_has_no_network_py(tmp_path):
    out = tmp_path / "out"
    result = run_trtgen(os.path.join(EXAMPLES, "resnet18.py"), "-o", out, "--lang", "cpp")
    assert result.returncode == 0, result.stderr
    assert (out / "network.cpp").exists() and not (out / "network.py").exists()
    assert "network.cpp" in (out / "README.md").read_text()


def test_run_flag_needs_a_gpu(resnet18, resnet18_builder, tmp_path):
    from layers.runtime import gpu_unavailable_reason

    reason = gpu_unavailable_reason()
    if reason:
        pytest.skip(f"--run executes the engine: {reason}")
    exe, lib = resnet18_builder
    result = run_builder(
        exe,
        lib,
        "--weights",
        resnet18 / "weights.safetensors",
        "--engine",
        tmp_path / "m.engine",
        "--run",
    )
    assert result.returncode == 0, result.stderr
    assert "latency:" in result.stdout


def test_clang_format_is_found_without_an_activated_environment(tmp_path):
    """The clang-format package's own binary formats network.cpp when its bin/ is not on PATH
    (``/path/to/venv/bin/trtgen --lang cpp``)."""
    model = tmp_path / "tiny.py"
    model.write_text(TINY_MODEL)
    env = {**os.environ, "PATH": "/nonexistent"}
    result = subprocess.run(
        [sys.executable, "-m", "trtgen", str(model), "-o", str(tmp_path / "out"), "--lang", "cpp"],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert result.returncode == 0, result.stderr
    assert "ITensor" in (tmp_path / "out" / "network.cpp").read_text()


@pytest.mark.parametrize(
    "extra, accepted", [("bn1.num_batches_tracked", True), ("fc.extra", False)]
)
def test_extra_keys_follow_the_same_rule_as_network_py(
    resnet18, resnet18_builder, tmp_path, extra, accepted
):
    """A full state_dict (with BatchNorm's num_batches_tracked) drops in; any other key the
    network does not declare is refused, as network.py's load_weights does."""
    import numpy as np
    from safetensors.numpy import load_file, save_file

    import layers

    exe, lib = resnet18_builder
    weights = load_file(resnet18 / "weights.safetensors")
    weights[extra] = np.array(7, np.int64)
    path = tmp_path / "weights.safetensors"
    save_file(weights, path)
    engine = tmp_path / "model.engine"
    result = run_builder(exe, lib, "--weights", path, "--engine", engine)
    assert (result.returncode == 0) == accepted, result.stderr
    assert engine.exists() == accepted
    builder, network = layers.create_network()
    namespace = {}
    exec(
        compile((resnet18 / "network.py").read_text(), str(resnet18 / "network.py"), "exec"),
        namespace,
    )
    if accepted:
        namespace["build_network"](network, str(path))
    else:
        assert "key(s) the model does not declare: fc.extra" in result.stderr
        with pytest.raises(KeyError, match="key\\(s\\) the model does not declare: fc.extra"):
            namespace["build_network"](network, str(path))
