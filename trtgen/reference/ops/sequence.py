"""REVERSE_SEQUENCE: per batch item, reverse the first seq_len elements along the sequence axis."""

from ..registry import handles
from ._util import normalize_axis


@handles("REVERSE_SEQUENCE")
def reverse_sequence(layer, inputs, ctx):
    x, lengths = inputs
    batch_axis = normalize_axis(layer.batch_axis, x.dim())
    seq_axis = normalize_axis(layer.sequence_axis, x.dim())
    out = x.clone()
    for b, n in enumerate(lengths.reshape(-1).tolist()):
        item = x.select(batch_axis, b)
        axis = seq_axis - (seq_axis > batch_axis)
        head = item.narrow(axis, 0, int(n)).flip(axis)
        out.select(batch_axis, b).narrow(axis, 0, int(n)).copy_(head)
    return out
