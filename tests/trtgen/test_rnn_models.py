"""Models with nn.LSTM / nn.GRU / nn.RNN: they generate network.py that reads like the model
(``self.lstm = nn.LSTM(...)``, ``out, (h, c) = self.lstm(x)``) and pass ``trtgen check``
(fp32: max|trt - torch| <= 1e-4 * max(1, max|torch|)), also with a dynamic sequence length
checked at other lengths inside the profile."""

import os
import subprocess
import sys
import textwrap

import pytest

from cli_helpers import EXAMPLES
from trtgen.commands.check import check
from trtgen.commands.cli import main

SPEAKER = os.path.join(EXAMPLES, "speaker_encoder.py")
CRNN = os.path.join(EXAMPLES, "crnn.py")


def _generate(model, out, *args):
    assert main([str(model), "-o", str(out), *args]) == 0
    return (out / "network.py").read_text()


def _passes(out, shapes=None):
    lines = []
    ok = check(str(out), log=lines.append, shapes=shapes)
    assert ok, "\n".join(lines)


def _builds_engine(out, tmp_path):
    engine = tmp_path / "model.engine"
    result = subprocess.run(
        [sys.executable, str(out / "network.py"), "--engine", str(engine)],
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert engine.stat().st_size > 0


def test_speaker_encoder(tmp_path):
    """3-layer LSTM over 40-dim frames; the last layer's final hidden state → Linear → L2 norm."""
    source = _generate(SPEAKER, tmp_path / "out")
    assert "self.lstm = nn.LSTM(40, 256, num_layers=3, batch_first=True)" in source
    assert "_, (hidden, _) = self.lstm(mels)" in source  # the model's own names
    _passes(tmp_path / "out")


@pytest.fixture(scope="module")
def speaker_dynamic(tmp_path_factory):
    out = tmp_path_factory.mktemp("speaker") / "out"
    source = _generate(SPEAKER, out, "--dynamic", "mels:1=10:50:160", "--dynamic", "mels:0=1:2:4")
    assert 'INPUTS = {"mels": (nn.float32, (-1, -1, 40))}' in source
    return out


@pytest.mark.parametrize("shape", [(2, 123, 40), (1, 10, 40), (4, 160, 40)])
def test_speaker_encoder_dynamic_length(speaker_dynamic, shape):
    _passes(speaker_dynamic, {"mels": shape})


def test_speaker_encoder_dynamic_engine_builds(speaker_dynamic, tmp_path):
    _builds_engine(speaker_dynamic, tmp_path)


@pytest.fixture(scope="module")
def crnn_dynamic(tmp_path_factory):
    out = tmp_path_factory.mktemp("crnn") / "out"
    source = _generate(CRNN, out, "--dynamic", "image:3=32:100:256")
    assert (
        "self.rnn = nn.GRU(256, 64, num_layers=2, batch_first=True, bidirectional=True)" in source
    )
    assert "recurrent, _ = self.rnn(" in source
    return out


def test_crnn(crnn_dynamic):
    _passes(crnn_dynamic)


@pytest.mark.parametrize("width", [32, 164, 256])
def test_crnn_dynamic_width(crnn_dynamic, width):
    """The GRU's sequence is the image's width / 4: one loop runs every length."""
    _passes(crnn_dynamic, {"image": (1, 1, 32, width)})


def test_crnn_dynamic_engine_builds(crnn_dynamic, tmp_path):
    _builds_engine(crnn_dynamic, tmp_path)


HEADER = "import torch\nfrom torch import nn\n\n"


def _model_file(tmp_path, body, inputs):
    """tmp_path/model.py: ``body`` (defining M) with seeded get_model / get_example_inputs."""
    model = tmp_path / "model.py"
    model.write_text(
        HEADER
        + textwrap.dedent(body)
        + "\n\ndef get_model():\n    torch.manual_seed(0)\n    return M().eval()\n"
        + f"\n\ndef get_example_inputs():\n    torch.manual_seed(1)\n    return {inputs}\n"
    )
    return model


def _case(tmp_path, body, inputs, *args):
    out = tmp_path / "out"
    source = _generate(_model_file(tmp_path, body, inputs), out, *args)
    _passes(out)
    return source


def test_constructor_arguments_read_back(tmp_path):
    """bias=False, nonlinearity, dropout and proj_size come back from the torch instance."""
    source = _case(
        tmp_path,
        """
        class M(nn.Module):
            def __init__(self):
                super().__init__()
                self.rnn = nn.RNN(6, 8, num_layers=2, nonlinearity="relu", bias=False)
                self.lstm = nn.LSTM(8, 10, proj_size=4, dropout=0.2, num_layers=2)

            def forward(self, x):
                y, h = self.rnn(x)
                z, (hz, cz) = self.lstm(y)
                return z, h, hz, cz
        """,
        "(torch.randn(5, 2, 6),)",
    )
    assert 'self.rnn = nn.RNN(6, 8, num_layers=2, nonlinearity="relu", bias=False)' in source
    assert "self.lstm = nn.LSTM(8, 10, num_layers=2, dropout=0.2, proj_size=4)" in source
    assert "y, h = self.rnn(x)" in source
    assert "z, (hz, cz) = self.lstm(y)" in source


def test_initial_states_and_partial_unpacking(tmp_path):
    """Given initial states; results named where the model names them, torch's names where it
    indexes the call (``self.gru(x, h0)[0]``: ``gru, _ = ...``), and a hidden pair kept whole when it is passed on.
    """
    source = _case(
        tmp_path,
        """
        class M(nn.Module):
            def __init__(self):
                super().__init__()
                self.gru = nn.GRU(4, 6, bidirectional=True, batch_first=True)
                self.lstm = nn.LSTM(12, 6)
                self.lstm2 = nn.LSTM(6, 6)

            def forward(self, x, h0):
                y = self.gru(x, h0)[0].transpose(0, 1)
                out, hidden = self.lstm(y)
                out2, (h2, c2) = self.lstm2(out, hidden)
                return out2 + hidden[0].sum(), c2
        """,
        "(torch.randn(3, 7, 4), torch.randn(2, 3, 6))",
    )
    assert "gru, _ = self.gru(x, h0)" in source
    assert "out, hidden = self.lstm(" in source
    assert "out2, (_, c2) = self.lstm2(out, hidden)" in source


def test_result_returned_whole(tmp_path):
    """A call whose tuple is returned as it is stays one expression; outputs are its leaves."""
    source = _case(
        tmp_path,
        """
        class M(nn.Module):
            def __init__(self):
                super().__init__()
                self.lstm = nn.LSTM(4, 5, num_layers=2)

            def forward(self, x):
                return self.lstm(x)
        """,
        "(torch.randn(6, 2, 4),)",
    )
    assert "return self.lstm(x)" in source


EXPORTED = (
    """
    class M(nn.Module):
        def __init__(self):
            super().__init__()
            self.gru = nn.GRU(8, 16, num_layers=2, bidirectional=True)
            self.lstm = nn.LSTM(32, 12)
            self.head = nn.Linear(12, 4)

        def forward(self, x, h0):
            if x.dim() == 2:  # Python control flow on a shape: captured with torch.export
                x = x.unsqueeze(1)
            y, h = self.gru(x, h0)
            z, (hz, cz) = self.lstm(y)
            return self.head(z), h, cz
    """,
    "(torch.randn(7, 3, 8), torch.randn(4, 3, 16))",
)


def test_export_capture(tmp_path):
    """A module symbolic_trace cannot follow is exported; its recurrent children stay calls."""
    source = _case(tmp_path, *EXPORTED)
    # an export keeps no source lines: torch's result names, the main output after the module
    assert "gru, h_n = self.gru(x, h0)" in source
    assert "lstm, (_, c_n) = self.lstm(gru)" in source


UNBATCHED = (
    """
    class M(nn.Module):
        def __init__(self):
            super().__init__()
            self.lstm = nn.LSTM(4, 6, batch_first=True, proj_size=3, bidirectional=True)

        def forward(self, x):
            if x.dim() == 2:  # one sequence, no batch dim: captured with torch.export
                out, (h, c) = self.lstm(x)
                return out, h, c
            return x
    """,
    "(torch.randn(9, 4),)",
)


@pytest.mark.parametrize(
    "case,dynamic,shapes",
    [
        (EXPORTED, "x:0=2:7:16", [(13, 3, 8), (2, 3, 8)]),
        (UNBATCHED, "x:0=2:9:32", [(31, 4), (3, 4)]),
    ],
    ids=["gru_lstm", "unbatched_projected_lstm"],
)
def test_export_capture_dynamic_length(tmp_path, case, dynamic, shapes):
    """torch.export does not trace into recurrent layers (it would pin the sequence length):
    a dynamic time dim stays dynamic, and the network is right at other lengths."""
    _case(tmp_path, *case, "--dynamic", dynamic)
    for shape in shapes:
        _passes(tmp_path / "out", {"x": shape})


TWICE = (
    """
    class M(nn.Module):
        def __init__(self):
            super().__init__()
            self.enc = nn.GRU(4, 6, batch_first=True, bidirectional=True)

        def forward(self, a, b):
            ya, ha = self.enc(a)
            yb, hb = self.enc(b, ha)
            return ya.mean(1) * yb.mean(1), hb
    """,
    "(torch.randn(2, 5, 4), torch.randn(2, 8, 4))",
)


def test_layer_called_twice(tmp_path):
    """One GRU over two sequences of different lengths, the second from the first's state:
    two sets of loops, each named apart."""
    source = _case(tmp_path, *TWICE)
    assert "ya, ha = self.enc(a)" in source and "yb, hb = self.enc(b, ha)" in source


BLOCKS = """
class Block(nn.Module):
    def __init__(self, cin, hidden):
        super().__init__()
        self.gru = nn.GRU(cin, hidden, batch_first=True, bidirectional=True)
        self.proj = nn.Linear(2 * hidden, cin)

    def forward(self, x):
        y, _ = self.gru(x)
        return x + self.proj(y)


class M(nn.Module):
    def __init__(self):
        super().__init__()
        self.blocks = nn.Sequential(Block(8, 6), Block(8, 10), Block(8, 6))
        self.cell = nn.LSTMCell(8, 5)

    def forward(self, x):
        y = self.blocks(x)
        h, c = self.cell(y[:, -1])
        return y, h, c
"""


def _recurrence_inputs_follow_their_producers(cpp):
    """Every ``state->setInput(1, *next->getOutput(0))`` comes after ``next`` is made."""
    lines = cpp.splitlines()
    back_edges = 0
    for i, line in enumerate(lines):
        if "->setInput(1, *" not in line:
            continue
        producer = line.split("*", 1)[1].split("->", 1)[0]
        made = [j for j, text in enumerate(lines) if f"auto* {producer} =" in text]
        assert made and made[0] < i, line
        back_edges += 1
    return back_edges


def test_cpp_builds_loops_like_python(tmp_path):
    """network.cpp declares each ILoop and sets a recurrence's next state once the body made it
    (the C++ compile and the layer-by-layer comparison with network.py are in the next test)."""
    out = tmp_path / "out"
    _generate(SPEAKER, out, "--lang", "python,cpp")
    cpp = (out / "network.cpp").read_text()
    assert cpp.count("net.addLoop()") == 3  # one per layer
    assert 'lstm_l0_loop->setName(std::string("lstm/l0/loop").c_str());' in cpp
    assert "LoopOutput::kCONCATENATE" in cpp and "LoopOutput::kLAST_VALUE" in cpp
    assert _recurrence_inputs_follow_their_producers(cpp) >= 6  # h and c of 3 layers


@pytest.mark.parametrize("case", ["crnn_dynamic", "blocks", "export", "twice"])
def test_cpp_matches_python(tmp_path, case):
    """Compiled against TensorRT headers (skips without them, see docs/cpp.md): the C++ builder
    makes the same network as network.py, layer by layer, and builds an engine."""
    from cpp_helpers import build_and_describe, require_toolchain

    require_toolchain()
    out = tmp_path / "out"
    if case == "crnn_dynamic":
        _generate(CRNN, out, "--lang", "python,cpp", "--dynamic", "image:3=32:100:256")
    else:
        body, inputs = {
            "blocks": (BLOCKS, "(torch.randn(2, 9, 8),)"),
            "export": EXPORTED,
            "twice": TWICE,
        }[case]
        _generate(_model_file(tmp_path, body, inputs), out, "--lang", "python,cpp")
    cpp, python = build_and_describe(out, tmp_path)
    assert cpp == python


@pytest.mark.parametrize("precision", ["fp16", "bf16"])
def test_reduced_precision(tmp_path, precision):
    """The loops run in the network's float type (states, gates and weights alike), judged at
    that precision's tolerance (<= 1e-2 x max(1, max|torch|), cosine >= 0.999)."""
    _generate(CRNN, tmp_path / "out", "--precision", precision)
    _passes(tmp_path / "out")


def test_packed_sequences_are_refused_at_generation(tmp_path, capsys):
    """pack_padded_sequence makes shapes depend on the lengths' values: refused, nothing written."""
    model = tmp_path / "model.py"
    model.write_text(HEADER + textwrap.dedent("""
            from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence

            class M(nn.Module):
                def __init__(self):
                    super().__init__()
                    self.lstm = nn.LSTM(4, 6, batch_first=True)

                def forward(self, x, lengths):
                    packed = pack_padded_sequence(x, lengths, batch_first=True, enforce_sorted=False)
                    out, _ = self.lstm(packed)
                    return pad_packed_sequence(out, batch_first=True)[0]

            def get_model():
                return M().eval()

            def get_example_inputs():
                return (torch.randn(3, 5, 4), torch.tensor([5, 3, 2]))
            """))
    out = tmp_path / "out"
    assert main([str(model), "-o", str(out)]) != 0
    err = capsys.readouterr().err
    assert err.startswith("trtgen: error:") and "LSTM called on a PackedSequence" in err, err
    assert not out.exists()


def test_functional_cells(tmp_path):
    """torch.lstm_cell / torch.gru_cell on the model's own parameters: F.lstm_cell / F.gru_cell."""
    source = _case(
        tmp_path,
        """
        class M(nn.Module):
            def __init__(self):
                super().__init__()
                self.w_ih = nn.Parameter(torch.randn(16, 3))
                self.w_hh = nn.Parameter(torch.randn(16, 4))
                self.b_ih = nn.Parameter(torch.randn(16))
                self.b_hh = nn.Parameter(torch.randn(16))
                self.g_ih = nn.Parameter(torch.randn(12, 3))
                self.g_hh = nn.Parameter(torch.randn(12, 4))

            def forward(self, x, h, c):
                h1, c1 = torch.lstm_cell(x, (h, c), self.w_ih, self.w_hh, self.b_ih, self.b_hh)
                return h1, c1, torch.gru_cell(x, h1, self.g_ih, self.g_hh)
        """,
        "(torch.randn(2, 3), torch.randn(2, 4), torch.randn(2, 4))",
    )
    assert "F.lstm_cell(x, (h, c), self.w_ih, self.w_hh, self.b_ih, self.b_hh)" in source


def test_torch_gru_called_directly(tmp_path):
    """torch.gru / torch.lstm (aten-level, flat weights) lower to F.gru / F.lstm as written."""
    source = _case(
        tmp_path,
        """
        class M(nn.Module):
            def __init__(self):
                super().__init__()
                self.w_ih = nn.Parameter(torch.randn(18, 4))
                self.w_hh = nn.Parameter(torch.randn(18, 6))
                self.b_ih = nn.Parameter(torch.randn(18))
                self.b_hh = nn.Parameter(torch.randn(18))
                self.rnn = nn.LSTM(6, 5)

            def forward(self, x, h0):
                weights = [self.w_ih, self.w_hh, self.b_ih, self.b_hh]
                y, h = torch.gru(x, h0, weights, True, 1, 0.0, False, False, True)
                flat = self.rnn._flat_weights
                state = (h[:, :, :5], h[:, :, 1:])
                z, hz, cz = torch.lstm(y, state, flat, True, 1, 0.0, False, False, True)
                return z, cz
        """,
        "(torch.randn(2, 7, 4), torch.randn(1, 2, 6))",
    )
    assert "F.gru(" in source and "F.lstm(" in source
