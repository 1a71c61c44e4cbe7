"""RNN, LSTM, GRU and their single-step cells with torch.nn's constructors, parameter names
(``weight_ih_l0``, ``bias_hh_l1_reverse``, ``weight_hr_l0``) and call contract:
``output, h_n = rnn(x, h_0)``, ``output, (h_n, c_n) = lstm(x, (h_0, c_0))``.
Dropout between layers is a training-time op and ignored."""

from .. import dtypes
from ..functional.recurrent import (
    flat_layer_weights,
    gru_cell,
    lstm_cell,
    recurrent,
    rnn_relu_cell,
    rnn_tanh_cell,
)
from ..module import Module, Parameter

__all__ = ["RNN", "LSTM", "GRU", "RNNCell", "LSTMCell", "GRUCell"]

_GATES = {"LSTM": 4, "GRU": 3, "RNN_TANH": 1, "RNN_RELU": 1}


class RNNBase(Module):
    def __init__(
        self,
        mode,
        input_size,
        hidden_size,
        num_layers=1,
        bias=True,
        batch_first=False,
        dropout=0.0,
        bidirectional=False,
        proj_size=0,
        device=None,
        dtype=None,
    ):
        super().__init__()
        if proj_size and mode != "LSTM":
            raise ValueError("proj_size argument is only supported for LSTM, not RNN or GRU")
        if proj_size < 0 or (proj_size and proj_size >= hidden_size):
            raise ValueError("proj_size has to be a positive integer smaller than hidden_size")
        dtype = dtypes.float32 if dtype is None else dtype
        self.mode = mode
        self.input_size = input_size
        self.hidden_size = hidden_size
        self.num_layers = num_layers
        self.bias = bias
        self.batch_first = batch_first
        self.dropout = float(dropout)
        self.bidirectional = bidirectional
        self.proj_size = proj_size
        gate_size = _GATES[mode] * hidden_size
        real_hidden = proj_size or hidden_size
        directions = 2 if bidirectional else 1
        # declared in torch's order, so named_parameters() lists the state_dict keys in order
        for layer in range(num_layers):
            layer_input = input_size if layer == 0 else real_hidden * directions
            for direction in range(directions):
                suffix = f"_l{layer}" + ("_reverse" if direction else "")
                setattr(self, f"weight_ih{suffix}", Parameter((gate_size, layer_input), dtype))
                setattr(self, f"weight_hh{suffix}", Parameter((gate_size, real_hidden), dtype))
                if bias:
                    setattr(self, f"bias_ih{suffix}", Parameter((gate_size,), dtype))
                    setattr(self, f"bias_hh{suffix}", Parameter((gate_size,), dtype))
                if proj_size:
                    setattr(self, f"weight_hr{suffix}", Parameter((proj_size, hidden_size), dtype))

    def _layer_weights(self):
        flat = [p for p in self._parameters.values() if p is not None]  # torch's order
        return flat_layer_weights(flat, self.bias, self.num_layers, self.bidirectional)

    def _run(self, input, hx):
        return recurrent(
            self.mode,
            input,
            hx,
            self._layer_weights(),
            self.num_layers,
            self.bidirectional,
            self.batch_first,
        )

    def forward(self, input, hx=None):
        output, (h_n,) = self._run(input, hx)
        return output, h_n

    def __repr__(self):
        extra = "" if self.num_layers == 1 else f", num_layers={self.num_layers}"
        extra += "" if self.bias else ", bias=False"
        extra += ", batch_first=True" if self.batch_first else ""
        extra += ", bidirectional=True" if self.bidirectional else ""
        extra += f", proj_size={self.proj_size}" if self.proj_size else ""
        return f"{type(self).__name__}({self.input_size}, {self.hidden_size}{extra})"


class RNN(RNNBase):
    def __init__(
        self,
        input_size,
        hidden_size,
        num_layers=1,
        nonlinearity="tanh",
        bias=True,
        batch_first=False,
        dropout=0.0,
        bidirectional=False,
        device=None,
        dtype=None,
    ):
        modes = {"tanh": "RNN_TANH", "relu": "RNN_RELU"}
        if nonlinearity not in modes:
            raise ValueError(
                f"Unknown nonlinearity '{nonlinearity}'. Select from 'tanh' or 'relu'."
            )
        super().__init__(
            modes[nonlinearity],
            input_size,
            hidden_size,
            num_layers,
            bias,
            batch_first,
            dropout,
            bidirectional,
            dtype=dtype,
        )
        self.nonlinearity = nonlinearity


class LSTM(RNNBase):
    def __init__(
        self,
        input_size,
        hidden_size,
        num_layers=1,
        bias=True,
        batch_first=False,
        dropout=0.0,
        bidirectional=False,
        proj_size=0,
        device=None,
        dtype=None,
    ):
        super().__init__(
            "LSTM",
            input_size,
            hidden_size,
            num_layers,
            bias,
            batch_first,
            dropout,
            bidirectional,
            proj_size,
            dtype=dtype,
        )

    def forward(self, input, hx=None):
        output, (h_n, c_n) = self._run(input, hx)
        return output, (h_n, c_n)


class GRU(RNNBase):
    def __init__(
        self,
        input_size,
        hidden_size,
        num_layers=1,
        bias=True,
        batch_first=False,
        dropout=0.0,
        bidirectional=False,
        device=None,
        dtype=None,
    ):
        super().__init__(
            "GRU",
            input_size,
            hidden_size,
            num_layers,
            bias,
            batch_first,
            dropout,
            bidirectional,
            dtype=dtype,
        )


class RNNCellBase(Module):
    def __init__(self, input_size, hidden_size, bias, gates, dtype):
        super().__init__()
        dtype = dtypes.float32 if dtype is None else dtype
        self.input_size = input_size
        self.hidden_size = hidden_size
        self.bias = bias
        self.weight_ih = Parameter((gates * hidden_size, input_size), dtype)
        self.weight_hh = Parameter((gates * hidden_size, hidden_size), dtype)
        self.bias_ih = Parameter((gates * hidden_size,), dtype) if bias else None
        self.bias_hh = Parameter((gates * hidden_size,), dtype) if bias else None

    def _weights(self):
        return self.weight_ih, self.weight_hh, self.bias_ih, self.bias_hh

    def __repr__(self):
        extra = "" if self.bias else ", bias=False"
        return f"{type(self).__name__}({self.input_size}, {self.hidden_size}{extra})"


class RNNCell(RNNCellBase):
    def __init__(
        self, input_size, hidden_size, bias=True, nonlinearity="tanh", device=None, dtype=None
    ):
        if nonlinearity not in ("tanh", "relu"):
            raise ValueError(f"Unknown nonlinearity: {nonlinearity}")
        super().__init__(input_size, hidden_size, bias, 1, dtype)
        self.nonlinearity = nonlinearity

    def forward(self, input, hx=None):
        cell = rnn_tanh_cell if self.nonlinearity == "tanh" else rnn_relu_cell
        return cell(input, hx, *self._weights())


class LSTMCell(RNNCellBase):
    def __init__(self, input_size, hidden_size, bias=True, device=None, dtype=None):
        super().__init__(input_size, hidden_size, bias, 4, dtype)

    def forward(self, input, hx=None):
        return lstm_cell(input, hx, *self._weights())


class GRUCell(RNNCellBase):
    def __init__(self, input_size, hidden_size, bias=True, device=None, dtype=None):
        super().__init__(input_size, hidden_size, bias, 3, dtype)

    def forward(self, input, hx=None):
        return gru_cell(input, hx, *self._weights())
