"""nn.RNN / LSTM / GRU and their cells against torch.nn with the same weights.

The torch module gets random parameters; its state_dict is loaded into the layers module
(strict: the parameter names must be torch's keys, in torch's order). Every output — the
sequence output and the final states — is compared at the fp32 tolerance of the project:
max |ours - torch| <= 1e-5 * max(1, max |torch|) (``helpers.assert_close``).
"""

import pytest
import torch
from torch import nn as tnn

import layers
from trtgen.reference import execute

from helpers import assert_close, param, rand, run_layers
from layers import functional as F
from test_nn_modules import randomize, state

LOOP = layers.trt.LayerType.LOOP_OUTPUT


def _flat(result):
    """(output, h) / (output, (h, c)) → [output, h(, c)]."""
    output, hidden = result
    return [output, *(hidden if isinstance(hidden, tuple) else (hidden,))]


def _pair(name, args, kwargs, seed=0):
    reference = randomize(getattr(tnn, name)(*args, **kwargs), seed)
    ours = getattr(layers, name)(*args, **kwargs)
    ours.load_weights(state(reference))
    assert [k for k, _ in ours.named_parameters()] == list(state(reference))
    return reference, ours


def compare(name, args, kwargs, x, hx=None, build=False):
    """Run ``layers.<name>`` and ``torch.nn.<name>`` on ``x`` (and initial states ``hx``)."""
    reference, ours = _pair(name, args, kwargs)
    with torch.no_grad():
        want = _flat(reference(x, hx))
    inputs = [x] + ([] if hx is None else list(hx if isinstance(hx, tuple) else (hx,)))

    def call(h, *states):
        if not states:
            return _flat(ours(h))
        return _flat(ours(h, tuple(states) if len(states) > 1 else states[0]))

    got, (builder, network) = run_layers(call, *inputs, return_network=True)
    assert len(got) == len(want)
    for g, w in zip(got, want):
        assert_close(g, w)
    if build:
        layers.build_engine(builder, network)
    return network


def _states(name, num_layers, directions, batch, hidden, proj=0, seed=7):
    shape = (num_layers * directions,) + ((batch,) if batch else ()) + (proj or hidden,)
    h0 = rand(*shape, seed=seed)
    if name != "LSTM":
        return h0
    c_shape = shape[:-1] + (hidden,)
    return h0, rand(*c_shape, seed=seed + 1)


CONFIGS = [
    dict(num_layers=1),
    dict(num_layers=2),
    dict(num_layers=2, bidirectional=True),
    dict(num_layers=1, bidirectional=True, batch_first=True),
    dict(num_layers=3, batch_first=True, bias=False),
    dict(num_layers=2, bidirectional=True, bias=False, dropout=0.3),
]


@pytest.mark.parametrize("name", ["LSTM", "GRU", "RNN"])
@pytest.mark.parametrize(
    "config", CONFIGS, ids=lambda c: "-".join(f"{k}={v}" for k, v in c.items())
)
@pytest.mark.parametrize("initial", [False, True], ids=["zeros", "given"])
def test_recurrent_modules(name, config, initial):
    batch, steps, features, hidden = 3, 5, 4, 6
    shape = (batch, steps, features) if config.get("batch_first") else (steps, batch, features)
    x = rand(*shape, seed=1)
    directions = 2 if config.get("bidirectional") else 1
    hx = _states(name, config["num_layers"], directions, batch, hidden) if initial else None
    network = compare(name, (features, hidden), config, x, hx)
    # one loop per layer and direction: each has one CONCATENATE/REVERSE output + final states
    loops = {
        network.get_layer(i).name.rsplit("/", 1)[0]
        for i in range(network.num_layers)
        if network.get_layer(i).type == LOOP
    }
    assert len(loops) == config["num_layers"] * directions


@pytest.mark.parametrize("nonlinearity", ["tanh", "relu"])
def test_rnn_nonlinearity(nonlinearity):
    x = rand(7, 2, 3, seed=2)
    compare("RNN", (3, 5), dict(num_layers=2, nonlinearity=nonlinearity), x, build=True)


@pytest.mark.parametrize("bidirectional", [False, True])
def test_lstm_projection(bidirectional):
    x = rand(2, 6, 4, seed=3)
    kwargs = dict(num_layers=2, batch_first=True, proj_size=3, bidirectional=bidirectional)
    directions = 2 if bidirectional else 1
    hx = _states("LSTM", 2, directions, 2, 6, proj=3)
    compare("LSTM", (4, 6), kwargs, x, hx)


@pytest.mark.parametrize("name", ["LSTM", "GRU"])
def test_unbatched_sequence(name):
    x = rand(5, 4, seed=4)  # (time, features), as torch accepts
    hx = _states(name, 2, 2, 0, 3)
    compare(name, (4, 3), dict(num_layers=2, bidirectional=True), x)
    compare(name, (4, 3), dict(num_layers=2, bidirectional=True), x, hx)


@pytest.mark.parametrize("name", ["LSTM", "GRU", "RNN"])
def test_engine_builds(name):
    """TensorRT's builder accepts the loops (AOT on the CPU)."""
    x = rand(2, 4, 3, seed=5)
    compare(name, (3, 4), dict(num_layers=2, bidirectional=True, batch_first=True), x, build=True)


@pytest.mark.parametrize("name", ["LSTM", "GRU"])
@pytest.mark.parametrize("batch_first", [False, True])
def test_dynamic_sequence_length(name, batch_first):
    """Built once with -1 at the time dim (and batch), run at two lengths: one loop serves both."""
    reference, ours = _pair(
        name, (4, 5), dict(num_layers=2, bidirectional=True, batch_first=batch_first)
    )
    time_dim = 1 if batch_first else 0
    shape = [-1, -1, 4]
    builder, network = layers.create_network()
    with layers.net_guard(network):
        x = layers.add_input("x", layers.float32, tuple(shape))
        for i, out in enumerate(_flat(ours(x))):
            layers.mark_output(out, f"out{i}")
    lo, opt, hi = ([1, 1, 4], [2, 6, 4], [4, 16, 4])
    layers.build_engine(builder, network, profiles=[{"x": (lo, opt, hi)}])
    for steps, batch in ((3, 2), (11, 3)):
        data = rand(*((batch, steps, 4) if batch_first else (steps, batch, 4)), seed=steps)
        values = execute(network, {"x": data})
        with torch.no_grad():
            want = _flat(reference(data))
        for i, w in enumerate(want):
            assert_close(values[f"out{i}"], w)
        assert values["out0"].shape[time_dim] == steps


@pytest.mark.parametrize("name", ["LSTMCell", "GRUCell", "RNNCell"])
@pytest.mark.parametrize("given", [False, True])
@pytest.mark.parametrize("batched", [True, False])
def test_cells(name, given, batched):
    reference, ours = _pair(name, (4, 6), dict(bias=name != "GRUCell"))
    x = rand(*((3, 4) if batched else (4,)), seed=6)
    hshape = (3, 6) if batched else (6,)
    hx = None
    if given:
        hx = (
            (rand(*hshape, seed=8), rand(*hshape, seed=9))
            if name == "LSTMCell"
            else rand(*hshape, seed=8)
        )
    with torch.no_grad():
        want = reference(x, hx)
    want = list(want) if isinstance(want, tuple) else [want]
    states = [] if hx is None else list(hx if isinstance(hx, tuple) else (hx,))

    def call(h, *s):
        hs = None if not s else (tuple(s) if len(s) > 1 else s[0])
        out = ours(h, hs)
        return list(out) if isinstance(out, tuple) else [out]

    got = run_layers(call, x, *states)
    for g, w in zip(got, want):
        assert_close(g, w)


def test_rnn_relu_cell_and_names():
    reference, ours = _pair("RNNCell", (3, 4), dict(nonlinearity="relu"))
    x = rand(2, 3, seed=10)
    with torch.no_grad():
        want = reference(x)
    assert_close(run_layers(lambda h: ours(h), x), want)


@pytest.mark.parametrize(
    "name,mode,kwargs",
    [
        ("LSTM", "lstm", dict(num_layers=2, bidirectional=True)),
        ("LSTM", "lstm", dict(num_layers=2, proj_size=3, batch_first=True)),
        ("GRU", "gru", dict(num_layers=2, bias=False, batch_first=True)),
        ("RNN", "rnn_tanh", dict(bidirectional=True)),
        ("RNN", "rnn_relu", dict(num_layers=2, nonlinearity="relu")),
    ],
)
def test_functional_forms_take_torch_flat_weights(name, mode, kwargs):
    """F.lstm / gru / rnn_tanh / rnn_relu have torch.lstm's signature (aten ``lstm.input``):
    initial states always given, weights as one flat list in ``_flat_weights`` order."""
    reference, _ = _pair(name, (4, 6), kwargs)
    directions = 2 if reference.bidirectional else 1
    x = rand(*((2, 5, 4) if reference.batch_first else (5, 2, 4)), seed=12)
    hx = _states(name, reference.num_layers, directions, 2, 6, proj=reference.proj_size)
    hx = list(hx) if isinstance(hx, tuple) else [hx]
    flat = [w.detach() for w in reference._flat_weights]
    args = (reference.bias, reference.num_layers, 0.0, False, reference.bidirectional)
    with torch.no_grad():
        want = getattr(torch, mode)(
            x, hx if mode == "lstm" else hx[0], flat, *args, reference.batch_first
        )
    names = reference._flat_weights_names

    def call(h, *states):
        params = [param(n, w) for n, w in zip(names, flat)]
        fn = getattr(F, mode)
        return list(
            fn(
                h,
                list(states) if mode == "lstm" else states[0],
                params,
                *args,
                reference.batch_first,
            )
        )

    got = run_layers(call, x, *hx)
    assert len(got) == len(want)
    for g, w in zip(got, want):
        assert_close(g, w)


class _Encoder(layers.Module):
    def __init__(self):
        super().__init__()
        self.gru = layers.GRU(3, 4, num_layers=2, bidirectional=True)

    def forward(self, x):
        out, _ = self.gru(x)
        return out


def test_layer_names_follow_the_module_path():
    """Layers of each loop are named <module>/l<k>[_reverse]/<op>, so TensorRT logs map back."""
    reference, _ = _pair("GRU", (3, 4), dict(num_layers=2, bidirectional=True))
    model = _Encoder()
    model.load_weights({f"gru.{k}": v for k, v in state(reference).items()})
    builder, network = layers.create_network()
    with layers.net_guard(network):
        layers.mark_output(model(layers.add_input("x", layers.float32, (5, 2, 3))), "out")
    names = [network.get_layer(i).name for i in range(network.num_layers)]
    for scope in ("gru/l0/", "gru/l0_reverse/", "gru/l1/", "gru/l1_reverse/"):
        assert any(n.startswith(scope + "iterator") for n in names), scope
    x = rand(5, 2, 3, seed=11)
    with torch.no_grad():
        want, _ = reference(x)
    assert_close(execute(network, {"x": x})["out"], want)


def test_invalid_arguments_are_refused_like_torch():
    with pytest.raises(TypeError, match="proj_size"):
        layers.GRU(3, 4, proj_size=2)
    with pytest.raises(ValueError, match="proj_size"):
        layers.LSTM(3, 4, proj_size=4)
    with pytest.raises(ValueError, match="nonlinearity"):
        layers.RNN(3, 4, nonlinearity="gelu")
