"""``--dynamic x:0=1:8:32``: dynamic input dims and the optimization profile that bounds them."""

import dataclasses
import re

from ..errors import TrtgenError

_SPEC = re.compile(r"^(?P<name>[A-Za-z_]\w*):(?P<dim>\d+)=(?P<min>\d+):(?P<opt>\d+):(?P<max>\d+)$")


def parse_dynamic(specs, input_names, input_shapes, holds_example=True):
    """``{input name: {dim: (min, opt, max)}}`` from ``NAME:DIM=MIN:OPT:MAX`` strings.

    ``holds_example``: the bounds must include the example input's size (the first profile)."""
    dynamic = {}
    shapes = dict(zip(input_names, input_shapes))
    for spec in specs:
        match = _SPEC.match(spec.strip())
        if match is None:
            raise TrtgenError(f"--dynamic {spec!r}: expected NAME:DIM=MIN:OPT:MAX, e.g. x:0=1:8:32")
        name, dim = match["name"], int(match["dim"])
        low, opt, high = int(match["min"]), int(match["opt"]), int(match["max"])
        if name not in shapes:
            raise TrtgenError(
                f"--dynamic {spec!r}: no input {name!r}; the inputs are {', '.join(input_names)}"
            )
        shape = shapes[name]
        if dim >= len(shape):
            raise TrtgenError(
                f"--dynamic {spec!r}: input {name!r} has {len(shape)} dims (0..{len(shape) - 1})"
            )
        if not 1 <= low <= opt <= high:
            raise TrtgenError(f"--dynamic {spec!r}: need 1 <= MIN <= OPT <= MAX")
        if holds_example and not low <= shape[dim] <= high:
            raise TrtgenError(
                f"--dynamic {spec!r}: the example input has {shape[dim]} there, outside {low}..{high}; "
                "choose bounds that include it"
            )
        dynamic.setdefault(name, {})[dim] = (low, opt, high)
    return dynamic


def parse_profiles(dynamic, profiles, input_names, input_shapes):
    """One ``{name: {dim: bounds}}`` per optimization profile: ``--dynamic`` (and
    get_dynamic_shapes()) make the first, each ``--profile`` group (comma-separated specs)
    one more."""
    groups = [parse_dynamic(dynamic, input_names, input_shapes)] if dynamic else []
    for group in profiles:
        specs = [spec for spec in group.split(",") if spec.strip()]
        groups.append(parse_dynamic(specs, input_names, input_shapes, holds_example=not groups))
    return [group for group in groups if group]


def envelope(groups):
    """``{name: {dim: (min, opt, max)}}`` over all profiles: the smallest min, the first
    profile's opt, the largest max (what ``-1`` in a declared shape stands for)."""
    merged = {}
    for group in groups:
        for name, dims in group.items():
            for dim, (low, opt, high) in dims.items():
                old = merged.setdefault(name, {}).get(dim)
                merged[name][dim] = (
                    (low, opt, high)
                    if old is None
                    else (min(old[0], low), old[1], max(old[2], high))
                )
    return merged


def declared_shape(shape, dims):
    """The network input shape: -1 where the dim is dynamic."""
    return tuple(-1 if i in dims else int(d) for i, d in enumerate(shape))


def profile_shapes(shape, dims):
    """``(min, opt, max)`` shapes of one input."""
    return tuple(
        tuple(dims[i][k] if i in dims else int(d) for i, d in enumerate(shape)) for k in range(3)
    )


def shape_text(shape):
    """``(7, 3, 224, 224)`` → ``7x3x224x224``, the spelling ``--shape`` and ``--input`` take."""
    return "x".join(map(str, shape))


def parse_shape_override(text):
    """``x=7x3x224x224`` → ``("x", (7, 3, 224, 224))`` for ``trtgen check --shape``."""
    name, _, dims = text.partition("=")
    try:
        shape = tuple(int(d) for d in dims.lower().split("x"))
    except ValueError:
        shape = ()
    if not name or not shape:
        raise TrtgenError(f"--shape {text!r}: expected NAME=D0xD1x..., e.g. x=7x3x224x224")
    return name, shape


def _requested_size(bounds, length):
    """Another size of the profile, not 1 if it can help: torch.export specializes size 1."""
    others = [b for b in (bounds[1], bounds[2], bounds[0]) if b != length]
    return next((b for b in others if b > 1), others[0] if others else None)


def _resized(example_inputs, input_names, dynamic, varied, grow):
    """The example inputs with the ``--dynamic`` dims at another size of their profile and the
    dims ``varied`` names (``{input index: dims}``) at ``grow(size)``.

    Capture runs the model on both sets: a module input dim whose size differs between the two
    runs follows a model input, so torch.export keeps it symbolic there. Values are the
    example's, repeated or thinned out along the dim, so masks and token ids stay realistic.
    """
    import torch

    probes = []
    for index, (name, tensor) in enumerate(zip(input_names, example_inputs)):
        if not isinstance(tensor, torch.Tensor):
            probes.append(tensor)
            continue
        requested = dynamic.get(name, {})
        for dim in sorted(set(requested) | set(varied.get(index, ()))):
            length = tensor.shape[dim]
            if dim in requested:
                size = _requested_size(requested[dim], length)
            else:
                size = grow(length) if length > 0 else None
            if size is not None and size != length:
                tensor = tensor.index_select(dim, _probe_index(length, size))
        probes.append(tensor)
    return tuple(probes)


@dataclasses.dataclass
class Probe:
    """Inputs capture may run the model on besides the example, to tell which module input dims
    follow the model's input sizes (torch.export keeps those symbolic)."""

    inputs: tuple
    requested_only: bool  # only the ``--dynamic`` dims vary: an export failing on it is an error


@dataclasses.dataclass
class Probes:
    """``candidates``: probes to try in turn, most varied first, until the model runs on one;
    ``requested``: the probe of the ``--dynamic`` dims alone (None without any), which a module
    whose export fails on the chosen candidate is exported on instead."""

    candidates: list
    requested: Probe = None


# Sizes the other dims take in a probe. Doubling keeps every divisibility the example's size has
# (strides, patches, windows, heads: an image's 224 stays a multiple of 32 at 448), which a
# size + 1 breaks; it costs a bigger probe run, and passes a limit sooner (a sequence at half
# the position table), hence + 1 as a second try. Size 1 becomes 2 either way: torch.export
# specializes size-1 dims.
def _double(length):
    return 2 * length


def _plus_one(length):
    return length + 1


def probe_candidates(example_inputs, input_names, dynamic):
    """Probes to run the model on: every dim of every tensor input resized, so that shapes in
    the network are computed from tensors (``x.size(0)``) wherever the model computes them
    from sizes, with or without ``--dynamic``. A model that does not run on a resized dim
    (a Linear after flattening an image, a convolution's channels) gets fewer varied dims:
    every dim; every dim but the last (features); dim 0 (the batch); none. The
    ``--dynamic`` dims are always varied, at another size of their profile, so a static and a
    dynamic capture see the same probe dims."""
    import torch

    dynamic = dynamic or {}
    ranks = {
        i: t.ndim for i, t in enumerate(example_inputs) if isinstance(t, torch.Tensor) and t.ndim
    }

    def dims(keep):
        return {i: {d for d in range(rank) if keep(d, rank)} for i, rank in ranks.items()}

    levels = [
        (dims(lambda d, rank: True), _double),
        (dims(lambda d, rank: True), _plus_one),
        (dims(lambda d, rank: d < rank - 1 or rank == 1), _double),
        # not "every dim but an image's channels": symbolic heights and widths cost windowed
        # attention (Swin) minutes of torch.export, for a network no faster than with literals
        (dims(lambda d, rank: d == 0), _double),
    ]
    requested = None
    if dynamic:
        requested = Probe(_resized(example_inputs, input_names, dynamic, {}, None), True)
    candidates, seen = [], {_shapes(example_inputs)}
    for varied, grow in levels + [({}, None)]:
        inputs = _resized(example_inputs, input_names, dynamic, varied, grow)
        key = _shapes(inputs)
        if key in seen:
            continue
        seen.add(key)
        if requested is not None and key == _shapes(requested.inputs):
            candidates.append(requested)  # only --dynamic dims vary: nothing to fall back to
            break
        candidates.append(Probe(inputs, False))
    return Probes(candidates, requested)


def _shapes(inputs):
    return tuple(tuple(getattr(t, "shape", ())) for t in inputs)


def _probe_index(length, size):
    """Indices of ``size`` items from ``length``: the example repeated when growing; when
    shrinking, spread over all of it, first and last included, so a padded mask keeps its
    padding (a mask of ones only makes transformers drop the mask from the graph)."""
    import torch

    if size >= length:
        return torch.arange(size) % length
    return torch.linspace(0, length - 1, size).round().long()


def dynamic_specs(source, shapes, inputs):
    """``get_dynamic_shapes()`` of MODEL.py as ``--dynamic`` strings.

    ``shapes`` maps input names to ``{dim: bounds}``, bounds being a ``torch.export.Dim`` with
    ``min``/``max`` (OPT is the example's size) or a ``(min, opt, max)`` tuple.
    """
    where = f"{source}: get_dynamic_shapes()"
    if not isinstance(shapes, dict):
        raise TrtgenError(
            f"{where} must return a dict, e.g. {{'x': {{0: Dim('batch', min=1, max=32)}}}}"
        )
    specs = []
    for name, dims in shapes.items():
        if name not in inputs:
            raise TrtgenError(f"{where}: no input {name!r}; the inputs are {', '.join(inputs)}")
        for dim, bounds in (dims or {}).items():
            low, opt, high = _bounds(
                bounds, int(inputs[name].shape[dim]), f"{where}[{name!r}][{dim}]"
            )
            specs.append(f"{name}:{dim}={low}:{opt}:{high}")
    return specs


def _bounds(bounds, example, where):
    if isinstance(bounds, (tuple, list)) and len(bounds) == 3:
        return tuple(int(b) for b in bounds)
    low, high = getattr(bounds, "min", None), getattr(bounds, "max", None)
    if not isinstance(low, int) or not isinstance(high, int) or high > 2**31:
        raise TrtgenError(
            f"{where}: give bounds, as Dim('name', min=1, max=32) or a (min, opt, max) tuple; "
            "TensorRT's optimization profile needs a maximum"
        )
    return max(low, 1), min(max(example, low), high), high
