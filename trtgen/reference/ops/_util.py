"""Small helpers shared by the op handlers."""

import torch


def axes_from_mask(mask, rank):
    """Bit i of a TensorRT axes bitmask selects dimension i."""
    return [d for d in range(rank) if (int(mask) >> d) & 1]


def dims(value):
    """A ``trt.Dims`` / sequence as a tuple of ints (None stays None)."""
    return None if value is None else tuple(int(v) for v in value)


def as_ints(tensor):
    """A shape-tensor value as a list of Python ints."""
    return [int(v) for v in tensor.reshape(-1).tolist()]


def as_scalar(tensor):
    return tensor.reshape(-1)[0].item()


def normalize_axis(axis, rank):
    axis = int(axis)
    if not -rank <= axis < rank:
        raise ValueError(f"axis {axis} out of range for rank {rank}")
    return axis % rank


def channel_shape(length, axis, rank):
    """Shape that puts a 1-D vector of ``length`` along ``axis`` of a rank-``rank`` tensor."""
    shape = [1] * rank
    shape[axis] = length
    return shape


def wrap_indices(index, size):
    """Negative indices count from the end; returns (index in range, in-bounds mask)."""
    index = index.long()
    index = torch.where(index < 0, index + size, index)
    valid = (index >= 0) & (index < size)
    return index.clamp(0, max(size - 1, 0)), valid
