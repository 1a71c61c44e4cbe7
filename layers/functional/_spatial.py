"""Layout shared by convolution and pooling: TensorRT wants a batch dim and 2 or 3 spatial
dims, torch also takes unbatched inputs and 1 spatial dim."""

from .shape import squeeze, unsqueeze


def check_rank(input, nd, name):
    """True for an unbatched input (C, *spatial); raise unless it has ``nd`` + 1 or + 2 dims."""
    if input.ndim not in (nd + 1, nd + 2):
        raise ValueError(f"{name} expects a {nd + 1}D or {nd + 2}D input, got shape {input.shape}")
    return input.ndim == nd + 1


def batched(input, nd, name, body):
    """``body`` on ``input`` with a batch dim (added to an unbatched input, then removed)."""
    if not check_rank(input, nd, name):
        return body(input)
    return squeeze(body(unsqueeze(input, 0)), 0)


def spatial_layout(input, nd, name, body):
    """``body`` on a batched 2d / 3d view of ``input``: a 1d op runs on a trailing unit width."""
    if nd != 1:
        return batched(input, nd, name, body)
    return batched(input, nd, name, lambda x: squeeze(body(unsqueeze(x, -1)), -1))


def widen_1d(nd, sizes=(), pads=()):
    """Per-dim tuples of a 1d op run as 2d: ``sizes`` (kernel, stride, dilation) get a unit width
    of 1, ``pads`` a width of 0. Other ranks pass through unchanged."""
    if nd != 1:
        return tuple(sizes) + tuple(pads)
    return tuple(t + (1,) for t in sizes) + tuple(t + (0,) for t in pads)
