"""Problems the user or the machine causes end in one ``trtgen: error:`` line with a documented
exit code (README: Exit codes); "internal error" (exit 3) is left for trtgen's own bugs."""

import os
import signal
import subprocess
import sys
import time

import pytest

from cli_helpers import REPO, TINY_NET, run_trtgen
from test_bad_input import assert_refused, write

GOOD_ENTRY_POINTS = "\ndef get_model():\n    return Net()\n\ndef get_example_inputs():\n    return (torch.randn(2, 4),)\n"


def assert_one_error_line(result, exit_code=2):
    assert result.returncode == exit_code, result.stdout + result.stderr
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("trtgen: error:"), result.stderr
    assert "internal error" not in result.stderr
    return lines[0]


@pytest.mark.parametrize(
    "inputs, phrases",
    [
        ("(torch.randn(2, 4, dtype=torch.complex64),)", ["input #0 is complex64", "view_as_real"]),
        ("(torch.randn(2, 4, dtype=torch.float64),)", ["input #0 is float64", "float32"]),
    ],
)
def test_input_types_tensorrt_lacks_are_refused(tmp_path, inputs, phrases):
    model = write(
        tmp_path,
        TINY_NET
        + f"\ndef get_model():\n    return Net()\n\ndef get_example_inputs():\n    return {inputs}\n",
    )
    out = tmp_path / "out"
    result = run_trtgen(model, "-o", out)
    assert_refused(result, str(out), *phrases)
    assert_one_error_line(result)


@pytest.mark.parametrize(
    "dims", ["-1x3x8x8", "0x3x8x8", "9223372036854775808x3x8x8", "2147483648x2"]
)
def test_input_dims_out_of_range_are_refused(tmp_path, dims):
    out = tmp_path / "out"
    result = run_trtgen("torchvision.models:resnet18", f"--input={dims}", "-o", out)
    assert_refused(result, str(out), "bad --input shape", "from 1 to 2147483647")
    assert_one_error_line(result)


def test_model_file_that_is_not_python_is_refused(tmp_path):
    model = write(tmp_path, TINY_NET + GOOD_ENTRY_POINTS, name="model.txt")
    out = tmp_path / "out"
    result = run_trtgen(model, "-o", out)
    assert_refused(result, str(out), "must be python source ending in .py")


@pytest.mark.parametrize("where", ["get_model", "import"])
def test_sys_exit_in_the_model_file_is_an_error_not_a_silent_success(tmp_path, where):
    if where == "get_model":
        body = (
            TINY_NET
            + "\nimport sys\n\ndef get_model():\n    sys.exit(0)\n\ndef get_example_inputs():\n    return (torch.randn(2, 4),)\n"
        )
        phrase = "get_model() called sys.exit(0)"
    else:
        body = "import sys\nsys.exit(0)\n"
        phrase = "importing it called sys.exit(0)"
    model = write(tmp_path, body)
    out = tmp_path / "out"
    result = run_trtgen(model, "-o", out)
    assert_refused(result, str(out), phrase)
    assert_one_error_line(result)


def test_data_dependent_loop_is_refused_without_a_graph_dump(tmp_path):
    body = (
        "import torch\n\nclass Net(torch.nn.Module):\n    def forward(self, x):\n"
        "        while x.sum() > 0:\n            x = x - 1\n        return x\n"
        "\ndef get_model():\n    return Net()\n\ndef get_example_inputs():\n    return (torch.rand(2, 4),)\n"
    )
    model = write(tmp_path, body)
    out = tmp_path / "out"
    result = run_trtgen(model, "-o", out)
    assert_refused(result, str(out), "cannot capture")
    assert "def forward" not in result.stderr  # torch.export's partial graph stays hidden
    assert_one_error_line(result)


@pytest.mark.parametrize(
    "sig, exit_code, said",
    [(signal.SIGINT, 130, "interrupted"), (signal.SIGTERM, 143, "stopped by SIGTERM")],
)
def test_a_signal_ends_the_command_in_one_line_with_nothing_left(tmp_path, sig, exit_code, said):
    started = tmp_path / "started"
    body = (
        TINY_NET + "\nimport time\n\ndef get_model():\n"
        f"    open({str(started)!r}, 'w').close()\n    time.sleep(60)\n    return Net()\n"
        "\ndef get_example_inputs():\n    return (torch.randn(2, 4),)\n"
    )
    model = write(tmp_path, body)
    out = tmp_path / "out"
    process = subprocess.Popen(
        [sys.executable, "-m", "trtgen", str(model), "-o", str(out)],
        cwd=REPO,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    deadline = time.monotonic() + 120
    while not started.exists() and process.poll() is None and time.monotonic() < deadline:
        time.sleep(0.1)
    assert started.exists(), "the model never started loading"
    process.send_signal(sig)
    _, stderr = process.communicate(timeout=60)
    assert process.returncode == exit_code, stderr
    assert stderr.strip().splitlines() == [f"trtgen: {said}; nothing was written"]
    assert not out.exists()
    assert not [p for p in os.listdir(tmp_path) if p.startswith(".trtgen-")]


@pytest.fixture(scope="module")
def generated_tiny(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("tiny")
    model = write(tmp, TINY_NET + GOOD_ENTRY_POINTS)
    out = tmp / "out"
    result = run_trtgen(model, "-o", out)
    assert result.returncode == 0, result.stderr
    return out


def test_check_with_weights_of_another_shape_names_the_key(generated_tiny, tmp_path):
    import shutil

    import numpy as np
    from safetensors.numpy import load_file, save_file

    out = tmp_path / "edited"
    shutil.copytree(generated_tiny, out)
    weights = load_file(out / "weights.safetensors")
    weights["fc.weight"] = np.zeros((5, 4), np.float32)
    save_file(weights, out / "weights.safetensors")
    line = assert_one_error_line(run_trtgen("check", out))
    assert "'fc.weight' is [5, 4] but the model" in line and "[3, 4]" in line


def test_environment_errors_are_one_line_with_the_path(tmp_path):
    blocker = tmp_path / "a_file"
    blocker.write_text("")
    model = write(tmp_path, TINY_NET + GOOD_ENTRY_POINTS)
    result = run_trtgen(model, "-o", blocker / "out")
    line = assert_one_error_line(result)
    assert str(blocker) in line


def test_manifest_records_the_library_not_the_package_it_came_in(tmp_path):
    """One TensorRT-RTX library arrives as module tensorrt_rtx (the tensorrt-rtx-cu13
    metapackage) or tensorrt_rtx_bindings (the standalone wheel); OUT is the same either way."""
    import importlib.util
    import json

    packages = [
        name for name in ("tensorrt_rtx", "tensorrt_rtx_bindings") if importlib.util.find_spec(name)
    ]
    if len(packages) < 2:
        pytest.skip(f"only {packages} installed; the test extra installs both")
    model = write(tmp_path, TINY_NET + GOOD_ENTRY_POINTS)
    texts = {}
    for package in packages:
        out = tmp_path / package
        env = dict(os.environ, LAYERS_TRT_BACKEND=package)
        result = subprocess.run(
            [sys.executable, "-m", "trtgen", str(model), "-o", str(out), "--lang", "python,cpp"],
            cwd=REPO,
            env=env,
            capture_output=True,
            text=True,
            timeout=600,
        )
        assert result.returncode == 0, result.stderr
        manifest = json.loads((out / "trtgen.json").read_text())
        assert manifest["versions"]["tensorrt"].startswith("TensorRT-RTX ")
        manifest.pop("source_from_output")
        texts[package] = (
            manifest,
            (out / "network.py").read_text(),
            (out / "network.cpp").read_text(),
        )
    assert texts[packages[0]] == texts[packages[1]]


@pytest.mark.parametrize(
    "content, phrases",
    [
        ("{bad", ["is not valid json", "regenerate"]),
        ("[1, 2]", ["is not a trtgen manifest", "not a json object"]),
        (
            '{"source": "m.py", "entry": "get_model", "inputs": [{"name": "x"}], "outputs": []}',
            ["'inputs' is not a list of {name, dtype, shape}"],
        ),
        ("{}", ["is not a trtgen manifest", "source, entry, inputs, outputs"]),
    ],
)
def test_check_with_a_damaged_manifest_names_it(generated_tiny, tmp_path, content, phrases):
    import shutil

    out = tmp_path / "damaged"
    shutil.copytree(generated_tiny, out)
    (out / "trtgen.json").write_text(content)
    line = assert_one_error_line(run_trtgen("check", out)).lower()
    assert "trtgen.json" in line
    for phrase in phrases:
        assert phrase in line, line


@pytest.mark.parametrize(
    "template, phrases",
    [
        (None, ["--templates", "not a folder"]),
        ("{% if %}\n", ["rendering failed at", "network.py.j2:1", "templatesyntaxerror"]),
        ("def broken(:\n", ["rendering failed", "invalidinput"]),
    ],
)
def test_broken_user_templates_are_the_users_to_fix(tmp_path, template, phrases):
    model = write(tmp_path, TINY_NET + GOOD_ENTRY_POINTS)
    templates = tmp_path / "templates"
    if template is not None:
        templates.mkdir()
        (templates / "network.py.j2").write_text(template)
    out = tmp_path / "out"
    result = run_trtgen(model, "-o", out, "--templates", templates)
    assert_refused(result, str(out), *phrases)
    assert_one_error_line(result)


def test_a_successful_generation_prints_nothing_to_stderr(tmp_path):
    """Capture tries replays and exports that may fail on the way; their chatter stays hidden."""
    result = run_trtgen(os.path.join(REPO, "examples", "bert_encoder.py"), "-o", tmp_path / "out")
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""


@pytest.mark.parametrize(
    "sample, phrases",
    [
        ("pickled", ["cannot read it as a numpy.save array", "allow_pickle"]),
        ("complex", ["is complex64, the example input float32", "would change its values"]),
    ],
)
def test_calibration_files_are_never_unpickled_nor_silently_cast(tmp_path, sample, phrases):
    import numpy as np

    model = write(tmp_path, TINY_NET + GOOD_ENTRY_POINTS)
    calib = tmp_path / "calib"
    calib.mkdir()
    if sample == "pickled":  # loading it would run whatever the pickle says
        np.save(calib / "a.npy", np.array([{"x": 1}], dtype=object), allow_pickle=True)
    else:
        np.save(calib / "a.npy", np.ones((2, 4), np.complex64))
    out = tmp_path / "out"
    result = run_trtgen(model, "-o", out, "--quant", "int8", "--calib", calib)
    assert_refused(result, str(out), *phrases)
    assert_one_error_line(result)


@pytest.mark.parametrize("command", ["check", "build", "run"])
def test_out_given_as_a_file_is_named_as_a_usage_mistake(tmp_path, command):
    model = write(tmp_path, TINY_NET + GOOD_ENTRY_POINTS)
    line = assert_one_error_line(run_trtgen(command, model))
    assert "is a file; give the folder" in line


def test_children_named_like_network_module_methods_are_refused_by_name(tmp_path):
    body = (
        "import torch\n\nclass Net(torch.nn.Module):\n    def __init__(self):\n        super().__init__()\n"
        "        self.load_weights = torch.nn.Linear(4, 4)\n\n    def forward(self, x):\n"
        "        return self.load_weights(x)\n" + GOOD_ENTRY_POINTS
    )
    model = write(tmp_path, body)
    out = tmp_path / "out"
    result = run_trtgen(model, "-o", out)
    assert_refused(
        result, str(out), "net has 'load_weights', named like a method", "rename the attribute"
    )
    assert_one_error_line(result)
