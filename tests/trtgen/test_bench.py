"""`trtgen bench`: both routes measured on a tiny model, checked against independent counts."""

import importlib.util
import json
import os
import statistics
import sys
import textwrap

import pytest
import torch

import layers
from cli_helpers import run_trtgen
from layers.backend import trt
from layers.runtime import gpu_unavailable_reason
from trtgen.commands.bench.extra import require_bench_packages
from trtgen.commands.bench.onnx_route import OnnxRoute
from trtgen.commands.bench.report import zoo_markdown
from trtgen.commands.bench.result import BenchResult
from trtgen.commands.bench.run import _convert
from trtgen.commands.bench.targets import evaluate
from trtgen.commands.bench.trtgen_route import TrtgenRoute
from trtgen.errors import TrtgenError
from trtgen.capture.load import load_model
from trtgen.emit.netfile import build_from_output

PLUMBING = ("SHAPE", "CAST", "SHUFFLE", "CONSTANT", "IDENTITY")
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"

SMALL = """
import torch

class Net(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = torch.nn.Conv2d(3, 8, 3, padding=1)
        self.fc = torch.nn.Linear(8, 4)

    def forward(self, x):
        y = torch.relu(self.conv(x))
        return self.fc(y.flatten(2).mean(2))

def get_model():
    torch.manual_seed(0)
    return Net()

def get_example_inputs():
    return (torch.randn(2, 3, 8, 8),)
"""

TINIEST = """
import torch

def get_model():
    torch.manual_seed(0)
    return torch.nn.Sequential(torch.nn.Linear(4, 3), torch.nn.ReLU())

def get_example_inputs():
    return (torch.randn(2, 4),)
"""


def write_model(folder, body, name):
    path = folder / f"{name}.py"
    path.write_text(textwrap.dedent(body))
    return path


def histogram(network):
    counts = {}
    for i in range(network.num_layers):
        kind = network.get_layer(i).type.name
        counts[kind] = counts.get(kind, 0) + 1
    return network.num_layers, counts


def trtgen_counts(model, out):
    """Generate with the plain `trtgen` command and count the network OUT/network.py builds."""
    result = run_trtgen(model, "-o", out)
    assert result.returncode == 0, result.stderr
    builder, network = build_from_output(str(out))
    return histogram(network)


def onnx_counts(model_path, onnx_path):
    """torch.onnx.export + OnnxParser into a strongly typed network, counted."""
    namespace = {}
    exec(model_path.read_text(), namespace)
    torch.onnx.export(
        namespace["get_model"]().eval(), namespace["get_example_inputs"](), str(onnx_path)
    )
    builder = trt.Builder(layers.network.logger())
    network = builder.create_network(1 << int(trt.NetworkDefinitionCreationFlag.STRONGLY_TYPED))
    parser = trt.OnnxParser(network, layers.network.logger())
    assert parser.parse_from_file(str(onnx_path))
    return histogram(network)


@pytest.fixture(scope="module")
def small_bench(tmp_path_factory):
    """`trtgen bench small.py --no-engine --repeat 2` run from the model's folder (default -o)."""
    folder = tmp_path_factory.mktemp("bench")
    model = write_model(folder, SMALL, "small")
    result = run_trtgen("bench", model.name, "--no-engine", "--repeat", "2", cwd=folder)
    assert result.returncode == 0, result.stderr
    return folder, model, folder / "bench" / "small"


def load(out):
    with open(out / "bench.json") as f:
        return json.load(f)


def test_layer_counts_match_independent_counts(small_bench, tmp_path):
    _, model, out = small_bench
    data = load(out)
    assert data["model"] == "small" and data["order"] == ["trtgen", "onnx"]
    assert data["inputs"] == [{"name": "x", "shape": [2, 3, 8, 8], "dtype": "float32"}]
    ours, theirs = data["routes"]["trtgen"], data["routes"]["onnx"]
    assert (ours["layers"], ours["layer_types"]) == trtgen_counts(model, tmp_path / "out")
    assert (theirs["layers"], theirs["layer_types"]) == onnx_counts(model, tmp_path / "model.onnx")
    assert theirs["details"]["exporter"] == "dynamo" and theirs["details"]["exporter_errors"] == {}
    assert theirs["details"]["onnx_bytes"] > 0
    for route in (ours, theirs):
        assert route["error"] is None
        assert len(route["convert_runs_s"]) == 2
        assert route["convert_s"] == statistics.median(route["convert_runs_s"])
        assert len(route["convert_cpu_runs_s"]) == 2
        assert route["convert_cpu_s"] == statistics.median(route["convert_cpu_runs_s"])
        assert route["network_s"] > 0
        assert route["engine_build_s"] is None and route["engine_bytes"] is None
        assert route["engine_build_runs_s"] == []
    assert data["engine"] is False
    assert len(data["load_average"]) == 2


def test_gpu_numbers_say_why_they_are_missing(small_bench):
    data = load(small_bench[2])
    reason = gpu_unavailable_reason()
    assert data["gpu"]["available"] is (reason is None)
    assert data["gpu"]["reason"] == reason
    # --no-engine: no engine to run, whether or not a GPU is here
    expected = reason or "engine not built (--no-engine)"
    for route in data["routes"].values():
        assert route["gpu"] == {"latency_ms": None, "throughput_per_s": None, "skipped": expected}
    for numbers in data["pytorch"].values():
        if reason is None:
            assert numbers["latency_ms"] > 0 and numbers["skipped"] is None
        else:
            assert numbers == {"latency_ms": None, "throughput_per_s": None, "skipped": reason}


def test_markdown_and_png(small_bench):
    out = small_bench[2]
    data = load(out)
    ours, theirs = data["routes"]["trtgen"], data["routes"]["onnx"]
    text = (out / "bench.md").read_text()
    assert f"| network layers | {ours['layers']} | {theirs['layers']} |" in text
    for kind in PLUMBING:
        row = f"| {kind} layers | {ours['layer_types'].get(kind, 0)} | {theirs['layer_types'].get(kind, 0)} |"
        assert row in text
    for kind in set(ours["layer_types"]) | set(theirs["layer_types"]):
        assert (
            f"| {kind} | {ours['layer_types'].get(kind, 0)} | {theirs['layer_types'].get(kind, 0)} |"
            in text
        )
    assert "| engine build s | — | — |" in text and "| GPU latency ms |" in text
    if data["gpu"]["reason"]:
        assert data["gpu"]["reason"] in text
    png = (out / "bench.png").read_bytes()
    assert png.startswith(PNG_MAGIC) and len(png) > 1000
    assert sorted(os.listdir(out)) == ["bench.json", "bench.md", "bench.png"]


def test_engine_build_and_force_replaces_a_previous_bench(tmp_path):
    model = write_model(tmp_path, TINIEST, "tiniest")
    out = tmp_path / "result"
    out.mkdir()
    (out / "bench.json").write_text("{}")  # a previous bench output: --force may replace it
    result = run_trtgen("bench", model, "-o", out, "--force", "--repeat", "2")
    assert result.returncode == 0, result.stderr
    data = load(out)
    assert data["engine"] is True and data["repeat"] == 2
    ours, theirs = data["routes"]["trtgen"], data["routes"]["onnx"]
    assert (ours["layers"], ours["layer_types"]) == trtgen_counts(model, tmp_path / "gen")
    for route in (ours, theirs):
        assert route["error"] is None
        assert len(route["engine_build_runs_s"]) == 2  # --repeat 2 builds two engines per route
        assert route["engine_build_s"] == statistics.median(route["engine_build_runs_s"])
        assert isinstance(route["engine_bytes"], int) and route["engine_bytes"] > 0
        if gpu_unavailable_reason():
            assert route["gpu"]["skipped"] == gpu_unavailable_reason()
            assert route["gpu"]["latency_ms"] is None
        else:
            assert route["gpu"]["latency_ms"] > 0
    text = (out / "bench.md").read_text()
    assert (
        f"| engine MB | {ours['engine_bytes'] / 1e6:.1f} | {theirs['engine_bytes'] / 1e6:.1f} |"
        in text
    )
    assert [p for p in os.listdir(tmp_path) if p.startswith(".trtgen")] == []


def test_missing_model_is_refused(tmp_path):
    out = tmp_path / "out"
    result = run_trtgen("bench", tmp_path / "missing.py", "-o", out)
    assert result.returncode != 0
    assert "trtgen: error:" in result.stderr and "no such file" in result.stderr.lower()
    assert "Traceback" not in result.stderr
    assert not out.exists()


def test_existing_output_needs_force_and_must_be_a_bench(tmp_path):
    model = write_model(tmp_path, TINIEST, "tiniest")
    out = tmp_path / "out"
    out.mkdir()
    (out / "notes.txt").write_text("mine")
    result = run_trtgen("bench", model, "-o", out)
    assert (
        result.returncode != 0 and "trtgen: error:" in result.stderr and "--force" in result.stderr
    )
    result = run_trtgen("bench", model, "-o", out, "--force")
    assert result.returncode != 0 and "not a trtgen bench output" in result.stderr
    assert sorted(os.listdir(out)) == ["notes.txt"]
    result = run_trtgen("bench", model, "-o", tmp_path / "other", "--repeat", "0")
    assert result.returncode != 0 and "--repeat" in result.stderr
    assert not (tmp_path / "other").exists()


def test_targets_are_computed_from_results(small_bench):
    data = load(small_bench[2])

    def as_model(name, layers=None, types=None, gen=None, export=None, builds=(None, None)):
        copy = json.loads(json.dumps(data))
        copy["model"] = name
        ours, theirs = copy["routes"]["trtgen"], copy["routes"]["onnx"]
        if layers is not None:
            ours["layers"], ours["layer_types"] = layers, types or {}
        if gen is not None:
            ours["convert_s"], theirs["convert_s"] = gen, export
            ours["convert_runs_s"], theirs["convert_runs_s"] = [gen, gen * 1.1], [export]
        ours["engine_build_s"], theirs["engine_build_s"] = builds
        ours["engine_build_runs_s"], theirs["engine_build_runs_s"] = ([b] for b in builds)
        return BenchResult.from_dict(copy)

    passing = [
        as_model("vit_b_16", 350, {"SHUFFLE": 10}, 1.0, 2.0, (3.0, 3.0)),
        as_model("resnet50", 100, {"CONVOLUTION": 53}, 1.0, 4.0, (1.0, 2.0)),
    ]
    assert [verdict for _, _, verdict in evaluate(passing)] == ["PASS"] * 4
    failing = [
        as_model("vit_b_16", 351, {}, 1.1, 2.0, (3.1, 3.0)),
        as_model("resnet50", 100, {"CAST": 1}, 1.0, 4.0, (1.0, 2.0)),
    ]
    verdicts = evaluate(failing)
    assert [verdict for _, _, verdict in verdicts] == ["FAIL"] * 4
    # 1.1 > 0.5 * 2.0 and 3.1 > 3.0 on every run, but one round cannot be tested
    assert verdicts[2][1].endswith(
        "over the limit: vit_b_16 (median over; too few rounds for a sign test: 1)"
    )
    assert verdicts[3][1].endswith(
        "over the limit: vit_b_16 (median over; too few rounds for a sign test: 1)"
    )
    # a median over the limit: a FAIL when the rounds are too few to test, or show it
    # significantly; run-to-run noise (over in some rounds, under in others) is said, not a FAIL
    few = as_model("vit_b_16", 300, {}, 1.1, 2.0, (3.1, 3.0))
    few.routes["trtgen"].convert_runs_s = [0.9, 1.1, 1.2]
    few.routes["onnx"].convert_runs_s = [2.0, 2.0, 2.0]
    statement, measured, verdict = evaluate([few])[2]
    assert verdict == "FAIL" and measured.endswith("too few rounds for a sign test: 3)")

    def builds(ours, theirs):
        model = as_model("resnet50", 100, {}, 1.0, 4.0, (statistics.median(ours), 1.0))
        model.routes["trtgen"].engine_build_runs_s = ours
        model.routes["onnx"].engine_build_runs_s = theirs
        return evaluate([model])[3]

    _, measured, verdict = builds([1.02, 0.99, 1.03, 0.98, 1.01, 1.02], [1.0] * 6)
    assert verdict == "PASS" and "over in 4 of 6 rounds: run-to-run noise" in measured
    _, measured, verdict = builds([1.02, 1.01, 1.03, 1.02, 1.01, 1.02], [1.0] * 6)
    assert verdict == "FAIL" and measured.endswith("(over in 6 of 6 rounds, sign test p=0.016)")
    _, measured, verdict = builds([1.0, 1.0, 0.99, 1.0, 1.0, 1.0], [1.0] * 6)  # ties drop out
    assert verdict == "PASS" and "1.00×" in measured
    assert [verdict for _, _, verdict in evaluate([as_model("small")])][:2] == ["NOT MEASURED"] * 2

    table = zoo_markdown(failing, "python benchmarks/bench_zoo.py")
    assert "| vit_b_16 | 351 / " in table and "**FAIL**" in table


def test_zoo_script_writes_the_docs_files(small_bench, tmp_path):
    """benchmarks/bench_zoo.py's report from results, as it writes it after each model."""
    sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..", "benchmarks"))
    import bench_zoo

    result = BenchResult.from_dict(load(small_bench[2]))
    out = tmp_path / "docs" / "benchmarks.md"
    bench_zoo.write_reports([result], str(out), "python benchmarks/bench_zoo.py small")
    summary = json.loads((tmp_path / "docs" / "benchmarks.json").read_text())
    assert [m["model"] for m in summary["models"]] == ["small"]
    assert len(summary["targets"]) == 4
    assert "| small | " in out.read_text()
    assert (tmp_path / "docs" / "benchmarks.png").read_bytes().startswith(PNG_MAGIC)


def test_a_route_that_fails_is_reported_not_hidden(tmp_path):
    model = write_model(
        tmp_path,
        "import torch\n\nclass Odd(torch.nn.Module):\n    def forward(self, x):\n"
        "        return torch.special.i0(x) + 1\n\ndef get_model():\n    return Odd()\n\n"
        "def get_example_inputs():\n    return (torch.randn(3, 3),)\n",
        "odd",
    )
    out = tmp_path / "out"
    result = run_trtgen("bench", model, "-o", out, "--no-engine")
    assert result.returncode == 1  # the report is written, the failure is the exit code
    ours = load(out)["routes"]["trtgen"]
    assert (
        ours["error"].startswith("generation: UnsupportedOpsError")
        and "special_i0" in ours["error"]
    )
    assert ours["layers"] is None and ours["convert_runs_s"] == []
    assert "trtgen failed at generation" in (out / "bench.md").read_text()
    assert "special_i0" in result.stderr


@pytest.mark.parametrize("route_class", [TrtgenRoute, OnnxRoute], ids=["trtgen", "onnx"])
def test_a_route_keeps_only_its_last_output(route_class, tmp_path):
    """Each run deletes the route's previous output first, and the network is built from the last."""
    model = write_model(tmp_path, TINIEST, "tiniest")
    work = tmp_path / "work"
    work.mkdir()
    route = route_class(load_model(str(model), ()), (), str(work))
    for run in range(3):
        _convert(route, run, log=lambda message: None)
        assert len(os.listdir(work)) == 1, os.listdir(work)
    assert route.result.error is None and len(route.result.convert_runs_s) == 3
    assert os.listdir(work)[0].endswith("-2")
    _, network, _, _ = route.network()
    assert network.num_layers > 0


def test_a_missing_bench_package_is_named_before_any_work(monkeypatch):
    real_find_spec = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util,
        "find_spec",
        lambda name, *args: None if name == "scipy" else real_find_spec(name, *args),
    )
    with pytest.raises(TrtgenError, match=r"needs scipy \(the sign test.*\.\[bench\]"):
        require_bench_packages()
