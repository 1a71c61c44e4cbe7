"""Recurrent layers as one opaque op while torch.export traces their parent.

trtgen emits an ``nn.LSTM`` / ``nn.GRU`` / ``nn.RNN`` as a call of the ``layers`` class, so
an export of its parent needs only the call's boundary, never its inside. Traced through,
torch's implementation pins the sequence length to the example's (a ``--dynamic`` time dim
fails with "Constraints violated"). While ``opaque_recurrent(module)`` is active every
recurrent layer under ``module`` runs as one ``trtgen::opaque_recurrent`` op whose shapes
follow the input's, and computes what the layer computes (``torch._VF``, as the layer itself
calls it). No rule lowers that op: a call export could not keep whole is refused, by name.
"""

import contextlib

import torch

_FUNCTIONS = {
    "LSTM": torch._VF.lstm,
    "GRU": torch._VF.gru,
    "RNN_TANH": torch._VF.rnn_tanh,
    "RNN_RELU": torch._VF.rnn_relu,
}
_RECURRENT = (torch.nn.LSTM, torch.nn.GRU, torch.nn.RNN)


@torch.library.custom_op("trtgen::opaque_recurrent", mutates_args=())
def opaque_recurrent_op(
    input: torch.Tensor,
    hx: list[torch.Tensor],
    params: list[torch.Tensor],
    mode: str,
    has_biases: bool,
    num_layers: int,
    bidirectional: bool,
    batch_first: bool,
) -> list[torch.Tensor]:
    function = _FUNCTIONS[mode]
    state = tuple(hx) if mode == "LSTM" else hx[0]
    output, *finals = function(
        input, state, params, has_biases, num_layers, 0.0, False, bidirectional, batch_first
    )
    return [output, *finals]


@opaque_recurrent_op.register_fake
def _(input, hx, params, mode, has_biases, num_layers, bidirectional, batch_first):
    directions = 2 if bidirectional else 1
    # h's size is the last dim of hx[0]; an LSTM with proj_size projects h, not c
    return [input.new_empty((*input.shape[:-1], directions * hx[0].shape[-1]))] + [
        torch.empty_like(h) for h in hx
    ]


def _forward(layer):
    """``layer.forward`` through ``trtgen::opaque_recurrent``; zero initial states when none given,
    an unbatched (2-D) input as a batch of one, as torch's own forward does."""
    directions = 2 if layer.bidirectional else 1
    h_size = getattr(layer, "proj_size", 0) or layer.hidden_size
    sizes = (h_size, layer.hidden_size) if layer.mode == "LSTM" else (h_size,)

    def forward(input, hx=None):
        if isinstance(input, torch.nn.utils.rnn.PackedSequence):
            raise NotImplementedError(
                f"{type(layer).__name__} called on a PackedSequence (pack_padded_sequence): "
                "its shapes depend on the lengths' values; pass the padded batch instead"
            )
        batched = input.dim() == 3
        if not batched:
            input = input.unsqueeze(0 if layer.batch_first else 1)
        if hx is None:
            batch = input.shape[0 if layer.batch_first else 1]
            hx = [input.new_zeros((layer.num_layers * directions, batch, n)) for n in sizes]
        else:
            hx = list(hx) if isinstance(hx, (tuple, list)) else [hx]
            hx = hx if batched else [h.unsqueeze(1) for h in hx]
        output, *finals = opaque_recurrent_op(
            input,
            hx,
            list(layer._flat_weights),
            layer.mode,
            layer.bias,
            layer.num_layers,
            layer.bidirectional,
            layer.batch_first,
        )
        if not batched:
            output = output.squeeze(0 if layer.batch_first else 1)
            finals = [f.squeeze(1) for f in finals]
        return output, (tuple(finals) if layer.mode == "LSTM" else finals[0])

    return forward


@contextlib.contextmanager
def opaque_recurrent(module):
    """Recurrent layers under ``module`` run as one op each until the block ends."""
    layers = [m for m in module.modules() if type(m) in _RECURRENT]  # not subclasses
    for layer in layers:
        layer.forward = _forward(layer)
    try:
        yield
    finally:
        for layer in layers:
            del layer.forward
