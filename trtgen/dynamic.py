"""``--dynamic x:0=1:8:32``: dynamic input dims and the optimization profile that bounds them."""

import re

from .errors import TrtgenError

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


def probe_inputs(example_inputs, input_names, dynamic):
    """The example inputs with every dynamic dim at another size of its profile, or None.

    Capture runs the model on both sets: a module input dim whose size differs between the two
    runs follows a dynamic model input, so torch.export keeps it symbolic there. Values are the
    example's, repeated or thinned out along the dim, so masks and token ids stay realistic.
    """
    if not dynamic:
        return None
    probes = []
    for name, tensor in zip(input_names, example_inputs):
        for dim, bounds in sorted(dynamic.get(name, {}).items()):
            # another size of the profile, not 1 if it can help: torch.export specializes size 1
            others = [b for b in (bounds[1], bounds[2], bounds[0]) if b != tensor.shape[dim]]
            size = next((b for b in others if b > 1), others[0] if others else None)
            if size is not None:
                tensor = tensor.index_select(dim, _probe_index(tensor.shape[dim], size))
        probes.append(tensor)
    return tuple(probes)


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
