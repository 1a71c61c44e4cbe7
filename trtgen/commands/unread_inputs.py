"""An input the generated network does not read must not matter to the model.

A model can take a value-dependent shortcut on its example inputs that a captured graph then
bakes in: transformers drops an all-ones attention mask from the graph it traces, so a network
captured on such an example ignores ``attention_mask`` and is wrong for every padded batch. For
each network input no layer reads, the model is run again with that input changed (a mask
half cleared, other values shifted within their range); if the output changes, generation is
refused with what to do.
"""

import torch

from ..capture.iospec import flatten_outputs
from ..errors import TrtgenError


def unread_inputs(network):
    """Names of the network inputs that no layer reads."""
    inputs = {network.get_input(i).name for i in range(network.num_inputs)}
    for index in range(network.num_layers):
        layer = network.get_layer(index)
        for position in range(layer.num_inputs):
            tensor = layer.get_input(position)
            if tensor is not None:
                inputs.discard(tensor.name)
    return [
        network.get_input(i).name
        for i in range(network.num_inputs)
        if network.get_input(i).name in inputs
    ]


def changed(tensor):
    """``tensor`` with other values of its dtype and shape, within its own range: a constant
    (an all-ones mask) has the first half of every row set to another value, as padding would;
    a boolean mask has the first half of every row flipped."""
    if tensor.numel() == 0:
        return tensor
    if tensor.is_floating_point() or tensor.is_complex():
        noise = torch.randn(tensor.shape, generator=torch.Generator().manual_seed(0))
        return tensor + noise.to(tensor.dtype)
    low, high = int(tensor.min()), int(tensor.max())
    if tensor.dtype != torch.bool and low != high:
        return (tensor - low + 1) % (high - low + 1) + low  # every value moved, range kept
    rows = tensor.clone().reshape(-1, tensor.shape[-1] if tensor.ndim else 1)
    half = max(1, rows.shape[1] // 2)
    if tensor.dtype == torch.bool:
        rows[:, :half] = ~rows[:, :half]
    else:
        rows[:, :half] = int(low == 0)
    return rows.reshape(tensor.shape)


def _differ(a, b):
    flat_a, flat_b = flatten_outputs(a), flatten_outputs(b)
    return len(flat_a) != len(flat_b) or any(
        x.shape != y.shape or not torch.equal(torch.nan_to_num(x), torch.nan_to_num(y))
        for (_, _, x), (_, _, y) in zip(flat_a, flat_b)
    )


def refuse_ignored_inputs(loaded, unread, reference):
    """Refuse when changing an input the network does not read changes the model's output
    (``reference``: the model's output on the example inputs)."""
    if not unread:
        return
    names = list(loaded.input_names)
    with torch.no_grad():
        for name in unread:
            inputs = [t.clone() for t in loaded.example_inputs]
            position = names.index(name)
            inputs[position] = changed(inputs[position])
            try:
                result = loaded.model(*inputs)
            except Exception:  # the model refuses such values: nothing to compare
                continue
            if _differ(reference, result):
                raise TrtgenError(
                    f"input {name!r} changes the model's output, but the captured network does "
                    "not read it: the model took a shortcut that depends on the example's values "
                    "(an all-ones attention mask is dropped by transformers, for one). Give "
                    f"example inputs that exercise {name!r} (a padded attention mask) and rerun"
                )
