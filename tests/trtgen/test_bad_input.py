"""Every bad input gives a short error saying what to do, a non-zero exit, and writes nothing."""

import os
import textwrap

import pytest

from cli_helpers import TINY_NET, run_trtgen

TINY = TINY_NET


def write(tmp_path, body, name="model.py"):
    path = tmp_path / name
    path.write_text(textwrap.dedent(body))
    return path


def assert_refused(result, out, *phrases):
    assert result.returncode != 0, result.stdout + result.stderr
    message = result.stderr.lower()
    assert "trtgen: error:" in message
    assert "traceback (most recent call last)" not in message.split("trtgen: error:")[0]
    for phrase in phrases:
        assert phrase.lower() in message, message
    assert not os.path.exists(out), "nothing may be written on error"
    leftovers = [p for p in os.listdir(os.path.dirname(out)) if p.startswith(".trtgen-")]
    assert not leftovers, leftovers


CASES = {
    "missing file": (None, ["no such file"]),
    "import raises": (
        "import torch\nraise RuntimeError('broken model file')\n",
        ["raised while being imported", "broken model file"],
    ),
    "get_model raises": (
        TINY
        + "\ndef get_model():\n    raise ValueError('bad config')\n\ndef get_example_inputs():\n    return (torch.randn(2, 4),)\n",
        ["get_model() raised", "bad config"],
    ),
    "no entry points": ("import torch\n", ["get_model()"]),
    "no example inputs": (
        TINY + "\ndef get_model():\n    return Net()\n",
        ["get_example_inputs()"],
    ),
    "not a module": (
        TINY
        + "\ndef get_model():\n    return 42\n\ndef get_example_inputs():\n    return (torch.randn(2, 4),)\n",
        ["not a torch.nn.Module"],
    ),
    "inputs not tensors": (
        TINY
        + "\ndef get_model():\n    return Net()\n\ndef get_example_inputs():\n    return ([1.0, 2.0], 3)\n",
        ["must be a torch.Tensor"],
    ),
    "cannot capture": (
        "import torch\n\nclass Branchy(torch.nn.Module):\n    def forward(self, x):\n"
        "        if x.sum().item() > 0:\n            return x * 2\n        return x\n\n"
        "def get_model():\n    return Branchy()\n\ndef get_example_inputs():\n    return (torch.randn(2, 4),)\n",
        ["cannot capture"],
    ),
    "output is a cache": (
        "import torch\nfrom transformers import DynamicCache\n\nclass Decoder(torch.nn.Module):\n"
        "    def forward(self, x):\n        return {'logits': x * 2, 'past_key_values': DynamicCache()}\n\n"
        "def get_model():\n    return Decoder()\n\ndef get_example_inputs():\n    return (torch.randn(2, 4),)\n",
        ["output 'past_key_values' has type dynamiccache", "config.use_cache = false"],
    ),
    "unsupported ops": (
        "import torch\n\nclass Odd(torch.nn.Module):\n    def forward(self, x):\n"
        "        y = torch.linalg.inv(x)\n        z = torch.special.i0(x)\n        return torch.linalg.inv(y + z)\n\n"
        "def get_model():\n    return Odd()\n\ndef get_example_inputs():\n    return (torch.randn(3, 3),)\n",
        ["2 unsupported op(s)", "linalg_inv", "x2", "special_i0"],
    ),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_bad_model_file(tmp_path, case):
    body, phrases = CASES[case]
    model = tmp_path / "missing.py" if body is None else write(tmp_path, body)
    out = tmp_path / "out"
    result = run_trtgen(model, "-o", out)
    assert_refused(result, str(out), *phrases)


def test_bad_factory_and_shape(tmp_path):
    out = tmp_path / "out"
    assert_refused(
        run_trtgen("torchvision.models:no_such_model", "--input", "1x3x8x8", "-o", out),
        str(out),
        "cannot find",
    )
    assert_refused(
        run_trtgen("torchvision.models:resnet18", "--input", "1xthree", "-o", out),
        str(out),
        "bad --input shape",
    )
    assert_refused(run_trtgen("torchvision.models:resnet18", "-o", out), str(out), "--input")


def _good_model(tmp_path):
    return write(
        tmp_path,
        TINY
        + "\ndef get_model():\n    return Net()\n\ndef get_example_inputs():\n    return (torch.randn(2, 4),)\n",
    )


def test_existing_output_is_kept_without_force(tmp_path):
    model = _good_model(tmp_path)
    out = tmp_path / "out"
    out.mkdir()
    (out / "notes.txt").write_text("mine")
    result = run_trtgen(model, "-o", out)
    assert result.returncode != 0 and "--force" in result.stderr
    assert (out / "notes.txt").read_text() == "mine"
    # --force still refuses a folder that is not a trtgen output
    result = run_trtgen(model, "-o", out, "--force")
    assert result.returncode != 0 and "not a trtgen output" in result.stderr
    assert sorted(os.listdir(out)) == ["notes.txt"]


def test_force_replaces_previous_output(tmp_path):
    model = _good_model(tmp_path)
    out = tmp_path / "out"
    assert run_trtgen(model, "-o", out).returncode == 0
    generated = (out / "network.py").read_text()
    (out / "network.py").write_text("old")
    again = run_trtgen(model, "-o", out)
    assert again.returncode != 0 and "--force" in again.stderr
    replaced = run_trtgen(model, "-o", out, "--force")
    assert replaced.returncode == 0, replaced.stderr
    assert sorted(os.listdir(out)) == [
        "README.md",
        "network.py",
        "trtgen.json",
        "weights.safetensors",
    ]
    assert (out / "network.py").read_text() == generated
    assert [p for p in os.listdir(tmp_path) if p.startswith(".trtgen")] == []


def test_check_build_and_run_need_an_output_dir(tmp_path):
    for command in ("check", "build", "run"):
        result = run_trtgen(command, tmp_path / "nothing")
        assert result.returncode != 0
        assert "not a trtgen output" in result.stderr or "no network.py" in result.stderr
