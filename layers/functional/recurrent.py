"""Recurrent layers (torch.nn.RNN / LSTM / GRU) as TensorRT loops.

Each layer and direction is one ILoop over the time dim: the input affine ``x @ W_ih.T + b_ih``
of every step is one matrix multiply over the whole sequence, before the loop; the loop
iterates over its rows (backwards for the reverse direction), carries the state in
RECURRENCE layers, and collects each step's hidden state (CONCATENATE, or REVERSE so the
reverse direction's outputs come out in time order) and the final states (LAST_VALUE).
A loop, unlike per-step layers, takes a sequence length known only at run time, and its
layer count and engine build time do not grow with the length (docs/rnn.md).

The gate math is torch's (``torch.nn.LSTM`` / ``GRU`` / ``RNN`` docs):
LSTM gates i, f, g, o; GRU gates r, z, n with r applied to the hidden-side affine of n,
its bias included; RNN ``h = tanh|relu(x W_ih.T + b_ih + h W_hh.T + b_hh)``.
"""

import dataclasses
from typing import Callable

from .. import dtypes
from ..backend import trt
from ..network import current, name_layer, name_scope
from ..tensor import Tensor
from ._common import cast, network, scalar
from .activation import relu, sigmoid, tanh  # noqa: F401 - sigmoid/tanh come from a table
from .constant import full
from .elementwise import add, mul, sub
from .indexing import select
from .join import cat, split, stack
from .linear import linear
from .shape import expand, size, squeeze, unsqueeze

__all__ = [
    "recurrent",
    "lstm",
    "gru",
    "rnn_tanh",
    "rnn_relu",
    "lstm_cell",
    "gru_cell",
    "rnn_tanh_cell",
    "rnn_relu_cell",
]


@dataclasses.dataclass(frozen=True)
class HiddenWeights:
    """What one step applies to the previous hidden state: ``weight_hh`` / ``bias_hh`` and, for
    an LSTM with ``proj_size``, the projection ``weight_hr``."""

    weight_hh: object
    bias_hh: object = None
    weight_hr: object = None


@dataclasses.dataclass(frozen=True)
class LayerWeights:
    """One layer and direction: the input affine and the hidden-side weights."""

    weight_ih: object
    bias_ih: object
    hidden: HiddenWeights


# ----------------------------------------------------------------------------- one step


def _lstm_step(gates_x, state, w):
    """(hidden output, (h, c)) after one LSTM step; ``gates_x`` holds x W_ih.T + b_ih."""
    h, c = state
    gates = add(gates_x, linear(h, w.weight_hh, w.bias_hh))
    i, f, g, o = split(gates, gates.shape[-1] // 4, dim=-1)
    c = add(mul(sigmoid(f), c), mul(sigmoid(i), tanh(g)))
    h = mul(sigmoid(o), tanh(c))
    if w.weight_hr is not None:
        h = linear(h, w.weight_hr)
    return h, (h, c)


def _gru_step(gates_x, state, w):
    """One GRU step: n = tanh(x_n + r * (h W_hn.T + b_hn)), h' = (1 - z) * n + z * h."""
    (h,) = state
    hidden_size = gates_x.shape[-1] // 3
    r_x, z_x, n_x = split(gates_x, hidden_size, dim=-1)
    r_h, z_h, n_h = split(linear(h, w.weight_hh, w.bias_hh), hidden_size, dim=-1)
    r = sigmoid(add(r_x, r_h))
    z = sigmoid(add(z_x, z_h))
    n = tanh(add(n_x, mul(r, n_h)))
    h = add(n, mul(z, sub(h, n)))  # (1 - z) * n + z * h
    return h, (h,)


def _simple_step(activation):
    def step(gates_x, state, w):
        (h,) = state
        h = activation(add(gates_x, linear(h, w.weight_hh, w.bias_hh)))
        return h, (h,)

    return step


@dataclasses.dataclass(frozen=True)
class Cell:
    """A recurrent cell kind: gates per hidden unit, states carried, and one step's math."""

    gates: int
    states: int
    step: Callable


CELLS = {
    "LSTM": Cell(gates=4, states=2, step=_lstm_step),
    "GRU": Cell(gates=3, states=1, step=_gru_step),
    "RNN_TANH": Cell(gates=1, states=1, step=_simple_step(tanh)),
    "RNN_RELU": Cell(gates=1, states=1, step=_simple_step(relu)),
}


# ----------------------------------------------------------------------------- the loop


def _count(x, dim):
    """The trip count: ``x.shape[dim]`` as a 0-d int32 tensor (read at run time if dynamic)."""
    n = size(x, dim)
    if isinstance(n, Tensor):
        return cast(n, dtypes.int32)
    return full((), n, dtype=dtypes.int32)


def loop_scan(step, xs, initial, time_dim, reverse):
    """Run ``step(x_t, state) -> (out_t, state)`` over ``xs`` along ``time_dim`` in one TensorRT
    loop, from the last step back to the first when ``reverse``. Returns (the outputs stacked
    along ``time_dim`` in time order, the final states)."""
    count = _count(xs, time_dim)
    loop = network().add_loop()
    loop.name = current().layer_name("loop")
    name_layer(loop.add_trip_limit(count.trt, trt.TripLimit.COUNT), "trip_limit")
    x_t = name_layer(loop.add_iterator(xs.trt, time_dim, reverse), "iterator")
    recurrences = [name_layer(loop.add_recurrence(s.trt), "state") for s in initial]
    out, state = step(Tensor(x_t.get_output(0)), [Tensor(r.get_output(0)) for r in recurrences])
    for recurrence, value in zip(recurrences, state):
        recurrence.set_input(1, value.trt)
    kind = trt.LoopOutput.REVERSE if reverse else trt.LoopOutput.CONCATENATE
    outputs = name_layer(loop.add_loop_output(out.trt, kind, time_dim), "outputs")
    outputs.set_input(1, count.trt)
    # LAST_VALUE reads a recurrence: its value after the last iteration (TensorRT wants that)
    finals = [
        name_layer(loop.add_loop_output(r.get_output(0), trt.LoopOutput.LAST_VALUE), "final")
        for r in recurrences
    ]
    return Tensor(outputs.get_output(0)), [Tensor(f.get_output(0)) for f in finals]


# ----------------------------------------------------------------------------- whole layers


def _initial_states(hx, cell, index, batch, sizes, dtype):
    """The (h, c) / (h,) a layer and direction starts from: its slice of ``hx``, or zeros."""
    if hx is None:  # one zero broadcast (a stride-0 SLICE), not a batch x size constant
        return [expand(scalar(0.0, dtype, 2), batch, n) for n in sizes]
    given = hx if isinstance(hx, (tuple, list)) else (hx,)
    if len(given) != cell.states:
        raise ValueError(f"expected {cell.states} initial state tensor(s), got {len(given)}")
    return [select(h, 0, index) for h in given]


def recurrent(
    mode,
    input,
    hx,
    weights,
    num_layers,
    bidirectional=False,
    batch_first=False,
    scan=loop_scan,
):
    """torch's multi-layer RNN / LSTM / GRU forward (``mode``: a key of ``CELLS``).

    ``weights[layer * directions + direction]`` is a ``LayerWeights``; ``hx`` the initial
    state(s) shaped (num_layers * directions, batch, size), or None for zeros. Returns
    ``(output, finals)``: output (batch-first if ``batch_first``) and the final states, each
    stacked like ``hx``. A 2-D ``input`` is one unbatched sequence, as in torch.
    """
    cell = CELLS[mode]
    batched = input.ndim == 3
    if not batched:  # (T, features): time-major with a batch of one
        input = unsqueeze(input, 1)
        hx = None if hx is None else [unsqueeze(h, 1) for h in _as_list(hx)]
        batch_first = False
    time_dim, batch_dim = (1, 0) if batch_first else (0, 1)
    batch = size(input, batch_dim)
    directions = 2 if bidirectional else 1
    finals = [[] for _ in range(cell.states)]
    x = input
    scope = current().scope
    for layer in range(num_layers):
        outputs = []
        for direction in range(directions):
            index = layer * directions + direction
            w = weights[index]
            suffix = "_reverse" if direction else ""
            with name_scope(f"{scope}/l{layer}{suffix}" if scope else f"l{layer}{suffix}"):
                state_sizes = _state_sizes(w, cell)
                initial = _initial_states(hx, cell, index, batch, state_sizes, x.dtype)
                gates_x = linear(x, w.weight_ih, w.bias_ih)
                out, state = scan(
                    lambda g, s, w=w: cell.step(g, s, w.hidden),
                    gates_x,
                    initial,
                    time_dim,
                    reverse=bool(direction),
                )
            outputs.append(out)
            for kept, value in zip(finals, state):
                kept.append(value)
        x = outputs[0] if directions == 1 else _cat_last(outputs)
    finals = [stack(kept, 0) for kept in finals]
    if not batched:
        x = squeeze(x, 1)
        finals = [squeeze(f, 1) for f in finals]
    return x, finals


def _as_list(hx):
    return list(hx) if isinstance(hx, (tuple, list)) else [hx]


def _cat_last(tensors):

    return cat(tensors, -1)


def _state_sizes(w, cell):
    """Sizes of the carried states: h (the projection's size with ``proj_size``) and c."""
    hidden_size = w.hidden.weight_hh.shape[0] // cell.gates
    h_size = hidden_size if w.hidden.weight_hr is None else w.hidden.weight_hr.shape[0]
    return [h_size, hidden_size][: cell.states]


# ----------------------------------------------------------------------------- torch.lstm & co


def flat_layer_weights(params, has_biases, num_layers, bidirectional):
    """``LayerWeights`` from torch's flat list (``nn.LSTM._flat_weights``, the ``params`` of
    ``torch.lstm``): per layer and direction w_ih, w_hh, then b_ih, b_hh, then w_hr."""
    groups = num_layers * (2 if bidirectional else 1)
    per = len(params) // groups
    projected = per == (5 if has_biases else 3)
    weights = []
    for group in range(groups):
        p = list(params[group * per : (group + 1) * per])
        b_ih, b_hh = (p[2], p[3]) if has_biases else (None, None)
        hidden = HiddenWeights(p[1], b_hh, p[-1] if projected else None)
        weights.append(LayerWeights(p[0], b_ih, hidden))
    return weights


def _whole(mode, input, hx, params, has_biases, num_layers, bidirectional, batch_first):
    weights = flat_layer_weights(params, has_biases, num_layers, bidirectional)
    return recurrent(mode, input, hx, weights, num_layers, bidirectional, batch_first)


def lstm(input, hx, params, has_biases, num_layers, dropout, train, bidirectional, batch_first):
    """torch.lstm (aten ``lstm.input``): (output, h_n, c_n); ``hx`` is [h_0, c_0]."""
    output, (h_n, c_n) = _whole(
        "LSTM", input, hx, params, has_biases, num_layers, bidirectional, batch_first
    )
    return output, h_n, c_n


def gru(input, hx, params, has_biases, num_layers, dropout, train, bidirectional, batch_first):
    """torch.gru (aten ``gru.input``): (output, h_n)."""
    output, (h_n,) = _whole(
        "GRU", input, hx, params, has_biases, num_layers, bidirectional, batch_first
    )
    return output, h_n


def rnn_tanh(input, hx, params, has_biases, num_layers, dropout, train, bidirectional, batch_first):
    output, (h_n,) = _whole(
        "RNN_TANH", input, hx, params, has_biases, num_layers, bidirectional, batch_first
    )
    return output, h_n


def rnn_relu(input, hx, params, has_biases, num_layers, dropout, train, bidirectional, batch_first):
    output, (h_n,) = _whole(
        "RNN_RELU", input, hx, params, has_biases, num_layers, bidirectional, batch_first
    )
    return output, h_n


# ----------------------------------------------------------------------------- single cells


def _cell(mode, input, hx, w_ih, w_hh, b_ih, b_hh):
    """One step of ``mode`` from ``hx`` (h, or (h, c) for an LSTM); 1-D input is unbatched."""
    cell = CELLS[mode]
    batched = input.ndim == 2
    if not batched:
        input = unsqueeze(input, 0)
    hidden_size = w_hh.shape[0] // cell.gates
    if hx is None:
        zeros = expand(scalar(0.0, input.dtype, 2), size(input, 0), hidden_size)
        state = [zeros] * cell.states
    else:
        state = _as_list(hx)
        if not batched:
            state = [unsqueeze(s, 0) for s in state]
    _, state = cell.step(linear(input, w_ih, b_ih), state, HiddenWeights(w_hh, b_hh))
    if not batched:
        state = [squeeze(s, 0) for s in state]
    return tuple(state) if cell.states > 1 else state[0]


def lstm_cell(input, hx, w_ih, w_hh, b_ih=None, b_hh=None):
    """torch.lstm_cell: (h', c') from (h, c)."""
    return _cell("LSTM", input, hx, w_ih, w_hh, b_ih, b_hh)


def gru_cell(input, hx, w_ih, w_hh, b_ih=None, b_hh=None):
    return _cell("GRU", input, hx, w_ih, w_hh, b_ih, b_hh)


def rnn_tanh_cell(input, hx, w_ih, w_hh, b_ih=None, b_hh=None):
    return _cell("RNN_TANH", input, hx, w_ih, w_hh, b_ih, b_hh)


def rnn_relu_cell(input, hx, w_ih, w_hh, b_ih=None, b_hh=None):
    return _cell("RNN_RELU", input, hx, w_ih, w_hh, b_ih, b_hh)
