"""Network inputs and outputs: names, dtypes, shapes, and how outputs are reached in the model's result."""

import dataclasses

import torch

from ..errors import TrtgenError
from ..plan import pysource
from ..plan.pysource import DTYPE_NAMES
from .dynamic import declared_shape, envelope, profile_shapes


@dataclasses.dataclass
class IOSpec:
    input_names: list
    input_shapes: list
    input_dtypes: list  # torch dtypes
    outputs: list  # [(expression on `outputs`, output name)]
    output_shapes: list
    output_floating: list = dataclasses.field(default_factory=list)  # per output: a float tensor?
    # one {name: {dim: (min, opt, max)}} per optimization profile
    profile_dims: list = dataclasses.field(default_factory=list)

    @property
    def dynamic(self):
        """``{name: {dim: (min, opt, max)}}`` over all profiles."""
        return envelope(self.profile_dims)

    def inputs_source(self):
        dynamic = self.dynamic
        items = [
            f"{name!r}: (nn.{DTYPE_NAMES[dtype]}, {declared_shape(shape, dynamic.get(name, {}))!r})"
            for name, shape, dtype in zip(self.input_names, self.input_shapes, self.input_dtypes)
        ]
        return "{" + ", ".join(items) + "}"

    def profiles(self):
        """Optimization profiles ``[{name: (min, opt, max) shapes}]``; every input dynamic in
        any profile is in each, at the example's size where that profile leaves a dim out."""
        dynamic = self.dynamic
        return [
            {
                name: profile_shapes(
                    shape, {d: group.get(name, {}).get(d, (shape[d],) * 3) for d in dynamic[name]}
                )
                for name, shape in zip(self.input_names, self.input_shapes)
                if name in dynamic
            }
            for group in self.profile_dims
        ]

    def manifest(self):
        dynamic, profiles = self.dynamic, self.profiles()
        entries = []
        for n, s, d in zip(self.input_names, self.input_shapes, self.input_dtypes):
            entry = {"name": n, "shape": list(s), "dtype": str(d).replace("torch.", "")}
            if n in dynamic:
                entry["dynamic"] = {str(k): list(v) for k, v in dynamic[n].items()}
            if n in dynamic and len(profiles) > 1:  # [[min shape, opt shape, max shape], ...]
                entry["profiles"] = [[list(shape) for shape in profile[n]] for profile in profiles]
            entries.append(entry)
        return {
            "inputs": entries,
            "outputs": [
                {"name": name, "path": expr, "shape": list(shape)}
                for (expr, name), shape in zip(self.outputs, self.output_shapes)
            ],
        }


def flatten_outputs(result, expr="outputs", name="output"):
    """[(expression, name, tensor)] for every tensor in a (nested) tuple / list / dict result."""
    if isinstance(result, torch.Tensor):
        return [(expr, name, result)]
    if isinstance(result, dict) or hasattr(result, "items"):
        found = []
        for key, value in result.items():
            found += flatten_outputs(
                value,
                f"{expr}[{_key_source(key, name)}]",
                str(key) if name == "output" else f"{name}.{key}",
            )
        return found
    if isinstance(result, (tuple, list)):
        found = []
        for i, value in enumerate(result):
            found += flatten_outputs(
                value, f"{expr}[{i}]", f"{name}{i}" if name == "output" else f"{name}.{i}"
            )
        return found
    if result is None:
        return []
    raise TrtgenError(
        f"the model's output {name!r} has type {type(result).__name__}; outputs must be tensors, "
        f"tuples, lists or dicts of them{_cache_hint(result)}"
    )


def _key_source(key, name):
    """A dict key of the model's result as a Python literal (str, int, float, bool, None)."""
    if isinstance(key, (str, int, float)) or key is None:
        return pysource.value(key, {})
    raise TrtgenError(
        f"the model's output {name!r} is a dict with a {type(key).__name__} key; "
        "output dicts must have str or int keys"
    )


def _cache_hint(value):
    """What to do about a transformers key/value cache (``past_key_values``) among the outputs."""
    cls = type(value)
    if cls.__module__.startswith("transformers.") and cls.__name__.endswith("Cache"):
        return (
            ". It is transformers' key/value cache for generation: build the model without it "
            "(config.use_cache = False, or use_cache=False in from_pretrained) in get_model()"
        )
    return ""


def _output_names(flat, input_names):
    """Output names from the result's structure; one that is also an input's name (a model
    returning ``{"x": ...}`` from ``forward(self, x)``) becomes ``x_out``: a network tensor
    cannot be both."""
    taken, names = set(input_names), []
    for _, name, _ in flat:
        while name in taken:
            name += "_out"
        taken.add(name)
        names.append(name)
    return names


def run_model(loaded, run=lambda model, inputs: model(*inputs)):
    """``run(model, example_inputs)``, with a clear error when the model raises."""
    try:
        with torch.no_grad():
            # on copies: a model that writes into its inputs (x += y) keeps the examples intact
            return run(loaded.model, tuple(t.clone() for t in loaded.example_inputs))
    except Exception as exc:
        raise TrtgenError(
            f"the model raised when called on its example inputs ({type(exc).__name__}: {exc}); "
            "check that get_example_inputs() matches forward()'s positional parameters"
        ) from exc


def io_spec(loaded, result=None):
    """Inputs and outputs of the model; ``result``: its output on the example inputs, when
    the caller already has it (the model is run otherwise)."""
    if result is None:
        result = run_model(loaded)
    flat = flatten_outputs(result)
    if not flat:
        raise TrtgenError("the model returned no tensors")
    return (
        IOSpec(
            input_names=list(loaded.input_names),
            input_shapes=[tuple(t.shape) for t in loaded.example_inputs],
            input_dtypes=[t.dtype for t in loaded.example_inputs],
            outputs=list(zip((e for e, _, _ in flat), _output_names(flat, loaded.input_names))),
            output_shapes=[tuple(t.shape) for _, _, t in flat],
            output_floating=[t.is_floating_point() for _, _, t in flat],
        ),
        result,
    )
