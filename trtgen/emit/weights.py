"""weights.safetensors: exactly the state_dict tensors the generated network declares."""

import numpy as np
import torch

from ..errors import TrtgenError


def network_weights(model, declared, constants=None):
    """{key: numpy array} for every ``(key, shape)`` the generated model declares.

    Non-persistent buffers are not in ``state_dict`` but a network may read them, so they are
    looked up among ``named_buffers`` too.
    """
    state = dict(model.state_dict())
    for name, buffer in model.named_buffers():
        state.setdefault(name, buffer)
    state.update(constants or {})
    found = {}
    for key, shape in declared:
        if key not in state:
            raise TrtgenError(
                f"internal error: generated network declares {key!r}, which the model lacks"
            )
        array = _numpy(state[key])
        if tuple(array.shape) != tuple(shape):
            raise TrtgenError(
                f"internal error: {key!r} is declared {list(shape)} but the model has {list(array.shape)}"
            )
        found[key] = array
    return dict(sorted(found.items()))


def _numpy(tensor):
    """The stored array: floats as float32 (the network casts them to its precision), so an
    fp16 or bf16 model's values are kept exactly."""
    tensor = tensor.detach().cpu().contiguous()
    if tensor.dtype in (torch.bfloat16, torch.float16):
        tensor = tensor.float()
    return tensor.numpy()  # a view of the model's own memory: no copy of large weights
