"""`--precision fp16|bf16 --lang python,cpp`: network.cpp converts FP32 state_dict weights as
network.py does.

weights.safetensors stays FP32; an FP16 network's convolution, constant and folded batch norm
weights are rounded to FP16 at build time (numpy astype in Python, ``w.get(key, DataType::kHALF)``
and ``w.batch_norm_scale(prefix, eps, DataType::kHALF)`` in C++). The equivalence tests compile the
builder and compare it with the network.py network layer by layer, weight checksums included, so
every rounded weight must agree bit for bit; the conversion tests compile a small program against
trtgen_builder.h and compare its float -> half / bfloat16 rounding with numpy's. Without TensorRT
headers or a compiler the compile tests skip (cpp_helpers).
"""

import json
import os
import re
import shutil
import struct
import subprocess

import numpy as np
import pytest

from cli_helpers import EXAMPLES, run_trtgen
from cpp_helpers import build_and_describe, cuda_include_dir, tensorrt_include_dir
from trtgen.emit.cpp.render import SUPPORT_DIR

# the FP16 weights include 65520, which numpy's astype rounds to inf (as meant)
pytestmark = pytest.mark.filterwarnings("ignore:overflow encountered in cast:RuntimeWarning")

# conv (with bias) + batch norm in a block used twice, a batch norm without affine, a conv1d
# (its kernel gets a unit width) and a linear whose weights sit at the edges of FP16
SMALL_MODEL = """
import torch


class Block(torch.nn.Module):
    def __init__(self, cin, cout):
        super().__init__()
        self.conv = torch.nn.Conv2d(cin, cout, 3, padding=1)
        self.bn = torch.nn.BatchNorm2d(cout)

    def forward(self, x):
        return torch.relu(self.bn(self.conv(x)))


class Net(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.a = Block(3, 8)
        self.b = Block(8, 8)
        self.norm = torch.nn.BatchNorm2d(8, affine=False)
        self.seq = torch.nn.Conv1d(8, 8, 3)
        self.fc = torch.nn.Linear(8, 5)

    def forward(self, x):
        x = self.norm(self.b(self.a(x)))
        x = self.seq(x.flatten(2))
        return self.fc(x.mean(dim=-1))


def get_model():
    torch.manual_seed(0)
    model = Net()
    with torch.no_grad():
        for module in model.modules():
            if isinstance(module, torch.nn.BatchNorm2d):
                module.running_mean.uniform_(-0.5, 0.5)
                module.running_var.uniform_(0.5, 2.0)
                if module.affine:
                    module.weight.uniform_(0.5, 1.5)
                    module.bias.uniform_(-0.5, 0.5)
        # FP16 edges: 65520 overflows to inf, 65519 rounds to 65504, subnormals, ties to even
        edges = [65520.0, 65519.0, 2.0**-25, 3 * 2.0**-25, 1e-8, 1 + 2.0**-11, -(1 + 3 * 2.0**-11)]
        model.fc.weight.view(-1)[: len(edges)] = torch.tensor(edges)
    return model.eval()


def get_example_inputs():
    return (torch.randn(1, 3, 8, 8, generator=torch.Generator().manual_seed(1)),)
"""


def generate(tmp_path, model, *args, out_name="out"):
    out = tmp_path / out_name
    result = run_trtgen(model, "-o", out, "--lang", "python,cpp", *args)
    assert result.returncode == 0, result.stdout + result.stderr
    return out


def assert_cpp_matches_python(out, tmp_path):
    """The C++-built network is the network.py one: layers, names, dtypes, weight checksums."""
    cpp, python = build_and_describe(out, tmp_path)
    assert cpp["inputs"] == python["inputs"]
    assert cpp["outputs"] == python["outputs"]
    assert len(cpp["layers"]) == len(python["layers"])
    for index, (c, p) in enumerate(zip(cpp["layers"], python["layers"])):
        assert c == p, f"layer {index} differs:\nC++:    {c}\nPython: {p}"
    return python


def safetensors_dtypes(path):
    data = path.read_bytes()
    (length,) = struct.unpack("<Q", data[:8])
    header = json.loads(data[8 : 8 + length])
    return {key: entry["dtype"] for key, entry in header.items() if key != "__metadata__"}


@pytest.fixture(scope="module")
def small_model(tmp_path_factory):
    path = tmp_path_factory.mktemp("model") / "small.py"
    path.write_text(SMALL_MODEL)
    return path


@pytest.fixture(scope="module")
def small_fp16(small_model, tmp_path_factory):
    return generate(tmp_path_factory.mktemp("fp16"), small_model, "--precision", "fp16")


# --------------------------------------------------------------------------- emitted C++
def test_fp16_cpp_reads_fp32_weights_through_converting_lookups(small_fp16):
    source = (small_fp16 / "network.cpp").read_text()
    # one call per weight, as for FP32, with the type the network needs
    assert 'w.get("seq.weight", DataType::kHALF)' in source  # conv1d: the kernel gets a unit width
    assert 'w.get("seq.bias", DataType::kHALF)' in source
    assert 'w.get("fc.weight", DataType::kHALF)' in source  # a CONSTANT layer
    # the block's batch norm folds into its convolution, computed from the FP32 values
    assert (
        'w.conv_batch_norm_kernel(name + ".conv.weight", name + ".bn", 1e-05, DataType::kHALF)'
        in source
    )
    assert (
        'w.conv_batch_norm_bias(name + ".conv.bias", name + ".bn", 1e-05, DataType::kHALF)'
        in source
    )
    assert 'w.batch_norm_shift("norm", 1e-05, DataType::kHALF)' in source  # after a ReLU
    assert 'w.batch_norm_scale("norm", 1e-05, DataType::kHALF)' in source  # no weight / bias
    assert "static uint16_t const" not in source  # nothing inlined
    # the file stays the FP32 state_dict, and the builder checks it as FP32
    assert set(safetensors_dtypes(small_fp16 / "weights.safetensors").values()) == {"F32"}
    assert '{"fc.weight", DataType::kFLOAT, {5, 8}}' in source.replace("\n", "")
    assert "network.cpp" in os.listdir(small_fp16)


def test_fp32_output_keeps_plain_lookups(small_model, tmp_path):
    source = (generate(tmp_path, small_model) / "network.cpp").read_text()
    assert 'w.get("seq.weight")' in source
    assert 'w.conv_batch_norm_kernel(name + ".conv.weight", name + ".bn", 1e-05)' in source
    assert 'w.batch_norm_scale("norm", 1e-05)' in source
    assert "DataType::kHALF" not in source


@pytest.mark.parametrize(
    "network_source, message",
    [
        (
            "x = nn.add_input('x', nn.int32, (4,))\n"
            "        y = x + F.constant(weights['table'].astype(np.int32), name='table')",
            "layer 'table' reads 'table' as int32 [4], but weights.safetensors holds it as int64 "
            "[4]; the C++ builder converts weights only between float32, float16 and bfloat16",
        ),
        (
            "x = nn.add_input('x', nn.float32, (2,))\n"
            "        y = x + F.constant(weights['scale'][:2], name='scale')",
            "layer 'scale' reads 'scale' as float32 [2], but weights.safetensors holds it as "
            "float32 [4]; 2 values, not 4",
        ),
    ],
    ids=["int64_as_int32", "part_of_a_tensor"],
)
def test_unconvertible_weights_keep_a_clear_error(network_source, message):
    from trtgen.emit.cpp.render import render_cpp
    from trtgen.errors import TrtgenError

    network_py = (
        "import numpy as np\nimport layers as nn\nfrom layers import functional as F\n\n"
        "def build_network(network, weights):\n"
        "    with nn.net_guard(network):\n"
        f"        {network_source}\n"
        "        nn.mark_output(y, 'output')\n"
        "    return network\n"
    )
    weights = {"table": np.arange(4, dtype=np.int64), "scale": np.ones(4, np.float32)}
    with pytest.raises(TrtgenError) as error:
        render_cpp(network_py, weights, "Net", "test")
    assert str(error.value) == f"cannot write network.cpp: {message}"


# --------------------------------------------------------------------------- C++ == Python
def test_fp16_small_network_matches_python_layer_by_layer(small_fp16, tmp_path):
    python = assert_cpp_matches_python(small_fp16, tmp_path)
    kernels = [l["weights"]["kernel"] for l in python["layers"] if "kernel" in l["weights"]]
    assert kernels and all(k["type"] == 1 for k in kernels)  # DataType.HALF: compared converted


def test_fp16_resnet18_matches_python_layer_by_layer(tmp_path):
    out = generate(tmp_path, os.path.join(EXAMPLES, "resnet18.py"), "--precision", "fp16")
    source = (out / "network.cpp").read_text()
    assert 'w.conv_batch_norm_kernel("conv1.weight", "bn1", 1e-05, DataType::kHALF)' in source
    assert 'w.get("fc.weight", DataType::kHALF)' in source
    assert_cpp_matches_python(out, tmp_path)


def test_keep_fp32_module_reads_its_weights_as_stored(small_model, tmp_path):
    out = generate(tmp_path, small_model, "--precision", "fp16", "--keep-fp32", "b")
    source = (out / "network.cpp").read_text()
    kernel = 'w.conv_batch_norm_kernel(name + ".conv.weight", name + ".bn", 1e-05'
    assert kernel + ", DataType::kHALF)" in source  # block a
    assert kernel + ")" in source  # block b, FP32
    assert_cpp_matches_python(out, tmp_path)


def test_bf16_network_casts_fp32_constants(small_model, tmp_path):
    # numpy has no bfloat16: the layers keep FP32 CONSTANTs and CAST them to BF16 in the network,
    # so the C++ reads the weights as stored; convolutions take the kernel as an input
    out = generate(tmp_path, small_model, "--precision", "bf16")
    source = (out / "network.cpp").read_text()
    assert 'w.get(name + ".conv.weight")' in source
    assert "no_weights(DataType::kBF16)" in source
    assert "net.addCast(" in source
    assert not re.search(r"w\.(get|batch_norm_\w+)\([^;]*DataType::", source)  # no conversion
    python = assert_cpp_matches_python(out, tmp_path)
    by_name = {l["name"]: l for l in python["layers"]}
    assert by_name["fc.weight"]["outputs"][0]["dtype"] == 0  # FLOAT
    assert any(
        l["inputs"] == ["fc.weight"] and l["outputs"][0]["dtype"] == 7 for l in python["layers"]
    )


# --------------------------------------------------------------------------- conversions
CONVERT_PROGRAM = r"""
#include "trtgen_builder.h"

#include <cstdio>
#include <fstream>
#include <iostream>
#include <vector>

template <typename T> void write(std::ofstream& out, T value)
{
    out.write(reinterpret_cast<char const*>(&value), sizeof value);
}

template <typename T> void write_weights(std::ofstream& out, nvinfer1::Weights const& w)
{
    write(out, static_cast<int32_t>(w.type));
    write(out, w.count);
    out.write(static_cast<char const*>(w.values), static_cast<std::streamsize>(w.count * sizeof(T)));
}

// convert DOUBLES OUT: half bits, bfloat16 bits of each double, then the value of every
// 16-bit pattern as half and as bfloat16; weights WEIGHTS OUT: WeightsFile lookups
int main(int argc, char** argv)
{
    if (argc != 4)
    {
        return 2;
    }
    std::string const mode = argv[1];
    std::ofstream out(argv[3], std::ios::binary);
    if (mode == "convert")
    {
        std::ifstream in(argv[2], std::ios::binary);
        double value = 0.0;
        while (in.read(reinterpret_cast<char*>(&value), sizeof value))
        {
            write(out, trtgen::half_bits(value));
            write(out, trtgen::bfloat16_bits(value));
        }
        for (uint32_t bits = 0; bits < 65536; ++bits)
        {
            write(out, trtgen::half_value(static_cast<uint16_t>(bits)));
            write(out, trtgen::bfloat16_value(static_cast<uint16_t>(bits)));
        }
        return 0;
    }
    trtgen::WeightsFile w(argv[2]);
    write_weights<uint16_t>(out, w.get("f32", nvinfer1::DataType::kHALF));
    write_weights<uint16_t>(out, w.get("f32", nvinfer1::DataType::kBF16));
    write_weights<float>(out, w.get("f32", nvinfer1::DataType::kFLOAT)); // as stored
    write_weights<float>(out, w.get("f16", nvinfer1::DataType::kFLOAT));
    write_weights<uint16_t>(out, w.get("f16", nvinfer1::DataType::kBF16));
    write_weights<uint16_t>(out, w.batch_norm_scale("bn", 1e-5, nvinfer1::DataType::kHALF));
    write_weights<uint16_t>(out, w.batch_norm_shift("bn", 1e-5, nvinfer1::DataType::kHALF));
    write_weights<float>(out, w.batch_norm_shift("bn", 1e-5));
    try
    {
        w.get("i32", nvinfer1::DataType::kHALF);
    }
    catch (trtgen::WeightsError const& error)
    {
        std::cerr << error.what() << "\n";
        return 3;
    }
    return 0;
}
"""


@pytest.fixture(scope="module")
def convert_program(tmp_path_factory):
    include, cuda = tensorrt_include_dir(), cuda_include_dir()
    missing = []
    if include is None:
        missing.append("TensorRT C++ headers (set TENSORRT_INCLUDE_DIR to a folder with NvInfer.h)")
    if cuda is None:
        missing.append("CUDA runtime headers (nvidia-cuda-runtime wheel or CUDA_INCLUDE_DIR)")
    if shutil.which("c++") is None:
        missing.append("a C++ compiler")
    if missing:
        pytest.skip("cannot compile trtgen_builder.h: no " + "; no ".join(missing))
    folder = tmp_path_factory.mktemp("convert")
    source = folder / "convert.cpp"
    source.write_text(CONVERT_PROGRAM)
    exe = folder / "convert"
    flags = ["-std=c++17", "-O1", "-Wall", "-Wextra", "-Werror"]
    compiled = subprocess.run(
        [
            "c++",
            *flags,
            "-I",
            SUPPORT_DIR,
            "-isystem",
            include,
            "-isystem",
            cuda,
            str(source),
            "-o",
            str(exe),
        ],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert compiled.returncode == 0, compiled.stderr[-6000:]
    return exe


def bfloat16_reference(values):
    """float32 -> bfloat16 bits, round to nearest even (NaN: quiet, sign and payload top)."""
    bits = np.asarray(values, np.float32).view(np.uint32).astype(np.uint64)
    rounded = (bits + 0x7FFF + ((bits >> 16) & 1)) >> 16
    nan = np.isnan(np.asarray(values, np.float32))
    rounded[nan] = (bits[nan] >> 16) | 0x40
    return rounded.astype(np.uint16)


def assert_same_bits(actual, expected, values, what):
    """Equal bits; for NaN results, NaN with the same sign (payload bits may differ)."""
    actual, expected = np.asarray(actual, np.uint16), np.asarray(expected, np.uint16)
    exponent = 0x7C00 if what == "half" else 0x7F80
    is_nan = lambda b: ((b & exponent) == exponent) & (
        (b & (0x7FFF & ~exponent)) != 0
    )  # noqa: E731
    nan = is_nan(expected)
    assert np.array_equal(is_nan(actual), nan), what
    assert np.array_equal(actual[nan] >> 15, expected[nan] >> 15), what
    wrong = np.flatnonzero((actual != expected) & ~nan)
    assert wrong.size == 0, [
        (repr(values[i]), hex(int(actual[i])), hex(int(expected[i]))) for i in wrong[:10]
    ]


def run_convert(exe, tmp_path, values):
    with np.errstate(invalid="ignore"):  # signalling NaNs among the random float32 patterns
        values = np.asarray(values, np.float64)
    (tmp_path / "in.bin").write_bytes(values.tobytes())
    result = subprocess.run(
        [str(exe), "convert", str(tmp_path / "in.bin"), str(tmp_path / "out.bin")],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert result.returncode == 0, result.stderr
    data = (tmp_path / "out.bin").read_bytes()
    pairs = np.frombuffer(data[: 4 * values.size], np.uint16).reshape(-1, 2)
    widened = np.frombuffer(data[4 * values.size :], np.float32).reshape(-1, 2)
    return pairs[:, 0], pairs[:, 1], widened


EDGES = [
    0.0, -0.0, 1.0, -2.5, 0.1, 1 / 3,
    2.0**-24, 2.0**-25, 3 * 2.0**-25, 2.0**-26, 1023 * 2.0**-24, 2.0**-14, 2.0**-14 - 2.0**-25,
    2.0**-149, 1e-30, -1e-30,
    65504.0, 65519.0, 65519.99, 65520.0, -65520.0, 65536.0, 1e10, 3.4028235e38, -3.4028235e38,
    3.3895314e38, 3.3961775e38,
    1 + 2.0**-11, 1 + 3 * 2.0**-11, 2049.0, 2051.0, -2049.0,
    1 + 2.0**-8, 1 + 3 * 2.0**-8, 257.0, 259.0,
    float("inf"), float("-inf"), float("nan"), -float("nan"),
]  # fmt: skip


def test_float32_to_half_and_bfloat16_round_like_numpy(convert_program, tmp_path):
    rng = np.random.default_rng(0)
    half_values = np.arange(65536, dtype=np.uint32).astype(np.uint16).view(np.float16)
    finite = half_values[np.isfinite(half_values)].astype(np.float32)
    finite.sort()
    values = np.concatenate(
        [
            np.array(EDGES, np.float32),
            rng.integers(0, 2**32, 200_000, dtype=np.uint64).astype(np.uint32).view(np.float32),
            (finite[:-1] + (finite[1:] - finite[:-1]) / 2),  # every half tie (exact in float32)
            # every bfloat16 tie: low 16 bits 0x8000
            ((rng.integers(0, 2**16, 20_000, dtype=np.uint32) << 16) | 0x8000).view(np.float32),
        ]
    ).astype(np.float32)
    half, bf16, _ = run_convert(convert_program, tmp_path, values)
    with np.errstate(over="ignore"):
        assert_same_bits(half, values.astype(np.float16).view(np.uint16), values, "half")
    assert_same_bits(bf16, bfloat16_reference(values), values, "bfloat16")
    # a few by hand: overflow, ties to even, subnormals
    spot = dict(zip(EDGES, zip(half[: len(EDGES)], bf16[: len(EDGES)])))
    assert spot[65520.0][0] == 0x7C00 and spot[-65520.0][0] == 0xFC00  # inf
    assert spot[65519.0][0] == 0x7BFF  # 65504, the largest half
    assert spot[2.0**-25][0] == 0x0000 and spot[3 * 2.0**-25][0] == 0x0002  # ties to even
    assert spot[1 + 2.0**-11][0] == 0x3C00 and spot[1 + 3 * 2.0**-11][0] == 0x3C02
    assert spot[-0.0] == (0x8000, 0x8000)
    assert spot[1 + 2.0**-8][1] == 0x3F80 and spot[1 + 3 * 2.0**-8][1] == 0x3F82
    assert spot[3.4028235e38][1] == 0x7F80  # FLT_MAX rounds up to bfloat16 inf


def test_double_to_half_rounds_once_like_numpy(convert_program, tmp_path):
    # folded batch norm is computed in double and rounded straight to FP16 (numpy float64 ->
    # float16); rounding through float32 first would break these just-off-tie values
    half_values = np.arange(65536, dtype=np.uint32).astype(np.uint16).view(np.float16)
    finite = np.unique(half_values[np.isfinite(half_values)].astype(np.float64))
    ties = finite[:-1] + (finite[1:] - finite[:-1]) / 2
    rng = np.random.default_rng(1)
    values = np.concatenate(
        [
            ties,
            np.nextafter(ties, np.inf),
            np.nextafter(ties, -np.inf),
            rng.standard_normal(50_000) * np.exp2(rng.integers(-30, 20, 50_000)),
            # NaNs whose payload is only in low bits must not turn into infinity
            np.array([0x7FF0000000000001, 0xFFF0000000000001], np.uint64).view(np.float64),
        ]
    )
    half, bf16, _ = run_convert(convert_program, tmp_path, values)
    with np.errstate(over="ignore", invalid="ignore"):
        assert_same_bits(half, values.astype(np.float16).view(np.uint16), values, "half")
    assert_same_bits(bf16[-2:], [0x7FC0, 0xFFC0], values[-2:], "bfloat16")


def test_half_and_bfloat16_values_widen_exactly(convert_program, tmp_path):
    _, _, widened = run_convert(convert_program, tmp_path, [])
    bits = np.arange(65536, dtype=np.uint32)
    half = bits.astype(np.uint16).view(np.float16).astype(np.float32)
    bf16 = (bits << 16).view(np.float32)
    for actual, expected in ((widened[:, 0], half), (widened[:, 1], bf16)):
        nan = np.isnan(expected)
        assert np.array_equal(np.isnan(actual), nan)
        assert np.array_equal(actual[~nan].view(np.uint32), expected[~nan].view(np.uint32))


def test_weights_file_converts_by_key_and_refuses_non_floats(convert_program, tmp_path):
    from safetensors.numpy import save_file

    rng = np.random.default_rng(2)
    f32 = np.concatenate([rng.standard_normal(1000) * 100, EDGES]).astype(np.float32)
    f16 = rng.standard_normal(300).astype(np.float16)
    bn = {
        "bn.running_mean": rng.uniform(-0.5, 0.5, 16).astype(np.float32),
        "bn.running_var": rng.uniform(0.5, 2.0, 16).astype(np.float32),
        "bn.weight": rng.uniform(0.5, 1.5, 16).astype(np.float32),
        "bn.bias": rng.uniform(-0.5, 0.5, 16).astype(np.float32),
    }
    path = tmp_path / "weights.safetensors"
    save_file({"f32": f32, "f16": f16, "i32": np.arange(3, dtype=np.int32), **bn}, str(path))
    result = subprocess.run(
        [str(convert_program), "weights", str(path), str(tmp_path / "out.bin")],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert result.returncode == 3, result.stderr
    assert (
        f"{path}: weight 'i32' is I32, which cannot be converted to F16 (only between F32, F16 and "
        "BF16)" in result.stderr
    )
    data, at = (tmp_path / "out.bin").read_bytes(), 0
    outputs = []
    while at < len(data):
        dtype, count = struct.unpack_from("<iq", data, at)
        item = 4 if dtype == 0 else 2
        at += 12
        outputs.append((dtype, np.frombuffer(data[at : at + count * item], f"<u{item}")))
        at += count * item
    # folded as the Python layers fold it: in float64 from the stored values, then rounded
    scale = bn["bn.weight"] / np.sqrt(bn["bn.running_var"].astype(np.float64) + 1e-5)
    shift = -bn["bn.running_mean"].astype(np.float64) * scale + bn["bn.bias"]
    with np.errstate(over="ignore"):
        expected = [
            (1, f32.astype(np.float16).view(np.uint16)),  # kHALF = 1
            (7, bfloat16_reference(f32)),  # kBF16 = 7
            (0, f32.view(np.uint32)),
            (0, f16.astype(np.float32).view(np.uint32)),
            (7, bfloat16_reference(f16.astype(np.float32))),
            (1, scale.astype(np.float16).view(np.uint16)),
            (1, shift.astype(np.float16).view(np.uint16)),
            (0, shift.astype(np.float32).view(np.uint32)),
        ]
    assert [d for d, _ in outputs] == [d for d, _ in expected]
    for index, ((_, actual), (dtype, wanted)) in enumerate(zip(outputs, expected)):
        if dtype == 0:  # FP32: exact (as stored, or widened from FP16)
            assert np.array_equal(actual, wanted), index
        else:
            assert_same_bits(actual, wanted, wanted, "half" if dtype == 1 else "bfloat16")


FOLDS_MODEL = """
import torch


class M(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.att = torch.nn.MultiheadAttention(16, 4, batch_first=True)
        self.conv = torch.nn.Conv2d(3, 4, 3)
        self.bn = torch.nn.BatchNorm2d(4)

    def forward(self, x, img):
        y = self.conv(img)
        z = self.bn(y)  # right after the convolution: folds into it
        return self.att(x, x, x, need_weights=False)[0], z, y.relu()


def get_model():
    torch.manual_seed(0)
    return M().eval()


def get_example_inputs():
    torch.manual_seed(1)
    return (torch.randn(2, 5, 16), torch.randn(1, 3, 6, 6))
"""


def test_weights_folded_at_build_time_are_recomputed_in_cpp(tmp_path):
    """Batch norm folded into a convolution (whose output is read again: an unfolded copy) and
    the attention scale folded into the in-projection's q rows: C++ recomputes them from the
    weights file and builds the network.py network layer by layer."""
    model = tmp_path / "folds.py"
    model.write_text(FOLDS_MODEL)
    out = generate(tmp_path, model)
    source = (out / "network.cpp").read_text()
    assert 'w.conv_batch_norm_kernel("conv.weight", "bn", 1e-05)' in source
    assert 'w.conv_batch_norm_bias("conv.bias", "bn", 1e-05)' in source
    assert 'w.get("conv.weight"), w.get("conv.bias")' in source  # the copy for y.relu()
    assert 'w.rows_scaled("att.in_proj_bias", 16, 0.5, 48)' in source
    assert_cpp_matches_python(out, tmp_path)
