"""GATHER (DEFAULT / ELEMENT / ND, num_elementwise_dims), SCATTER (ELEMENT / ND), ONE_HOT,
NON_ZERO. Negative indices count from the end; out-of-bounds gathers read 0 (NvInfer.h)."""

import torch

from layers.backend import trt

from ..registry import handles
from ._util import as_scalar, normalize_axis, wrap_indices

G = trt.GatherMode


def _gather_default(data, indices, axis):
    """output = data[:axis] + indices.shape + data[axis+1:]."""
    index, valid = wrap_indices(indices, data.shape[axis])
    moved = data.movedim(axis, 0)[index]  # indices dims, then data dims without axis
    q = indices.dim()
    valid = valid.reshape(
        tuple(valid.shape) + (1,) * (moved.dim() - q)
    )  # () for 0-d indices on 1-D data
    moved = torch.where(valid, moved, torch.zeros((), dtype=moved.dtype))
    order = list(range(q, q + axis)) + list(range(q)) + list(range(q + axis, moved.dim()))
    return moved.permute(order)


def _gather_nd(data, indices, batch_dims):
    """indices[..., k] addresses data dims batch_dims .. batch_dims+k-1 within each batch item."""
    k = indices.shape[-1]
    batch = data.shape[:batch_dims]
    flat_data = data.reshape(-1, *data.shape[batch_dims:])
    flat_index = indices.reshape(flat_data.shape[0], -1, k)
    rows = []
    for b in range(flat_data.shape[0]):
        item = flat_data[b]
        coords, valid = [], None
        for j in range(k):
            c, ok = wrap_indices(flat_index[b, :, j], item.shape[j])
            coords.append(c)
            valid = ok if valid is None else valid & ok
        picked = item[tuple(coords)]
        valid = valid.reshape(-1, *[1] * (picked.dim() - 1))
        rows.append(torch.where(valid, picked, torch.zeros((), dtype=picked.dtype)))
    out = torch.stack(rows)
    return out.reshape(*batch, *indices.shape[batch_dims:-1], *data.shape[batch_dims + k :])


@handles("GATHER")
def gather(layer, inputs, ctx):
    data, indices = inputs
    mode, nbe = layer.mode, layer.num_elementwise_dims
    if mode == G.ELEMENT:
        axis = normalize_axis(layer.axis, data.dim())
        index, valid = wrap_indices(indices, data.shape[axis])
        out = torch.gather(data, axis, index)
        return torch.where(valid, out, torch.zeros((), dtype=out.dtype))
    if mode == G.ND:
        return _gather_nd(data, indices, nbe)
    axis = normalize_axis(layer.axis, data.dim())
    if nbe == 0:
        return _gather_default(data, indices, axis)
    # One elementwise leading dim, broadcast between data and indices: gather item by item.
    n = max(data.shape[0], indices.shape[0])
    items = [
        _gather_default(
            data[i if data.shape[0] > 1 else 0], indices[i if indices.shape[0] > 1 else 0], axis - 1
        )
        for i in range(n)
    ]
    return torch.stack(items)


@handles("SCATTER")
def scatter(layer, inputs, ctx):
    data, indices, updates = inputs
    out = data.clone()
    if layer.mode == trt.ScatterMode.ELEMENT:
        axis = normalize_axis(layer.axis, data.dim())
        index, _ = wrap_indices(indices, data.shape[axis])
        return out.scatter(axis, index, updates.to(out.dtype))
    k = indices.shape[-1]
    flat = indices.reshape(-1, k)
    coords = tuple(wrap_indices(flat[:, j], data.shape[j])[0] for j in range(k))
    out[coords] = updates.reshape(flat.shape[0], *data.shape[k:]).to(out.dtype)
    return out


@handles("ONE_HOT")
def one_hot(layer, inputs, ctx):
    indices, values, depth = inputs
    depth = int(as_scalar(depth))
    axis = layer.axis
    rank = indices.dim() + 1
    axis = normalize_axis(axis, rank)
    index = indices.long()
    index = torch.where(index < 0, index + depth, index)  # ONNX OneHot convention
    classes = torch.arange(depth).reshape([-1 if d == axis else 1 for d in range(rank)])
    hot = index.unsqueeze(axis) == classes
    off, on = values.reshape(-1)[0], values.reshape(-1)[1]
    return torch.where(hot, on, off)


@handles("NON_ZERO")
def non_zero(layer, inputs, ctx):
    return torch.nonzero(inputs[0]).T.contiguous()
