"""``--precision`` and ``--keep-fp32``: what network.py states about its float type."""

import dataclasses
import difflib

from layers.precision import FP32_OPS

from ..errors import TrtgenError

# --precision value → layers dtype name (None: the model's own FP32 network, nothing stated)
PRECISIONS = {"fp32": None, "fp16": "float16", "bf16": "bfloat16"}


@dataclasses.dataclass(frozen=True)
class Precision:
    name: str = "fp32"
    keep_fp32: tuple = ()

    @property
    def reduced(self):
        return PRECISIONS[self.name] is not None

    def template_context(self, io, input_variables):
        """The ``precision`` block of network.py.j2 (None for FP32); ``input_variables``: the
        variable holding each input in ``build_network``."""
        if not self.reduced:
            return None
        call_args = [
            f"{name}.to(PRECISION)" if dtype.is_floating_point else name
            for name, dtype in zip(input_variables, io.input_dtypes)
        ]
        return dict(
            title=self.name.upper(),
            dtype=PRECISIONS[self.name],
            fp32_ops=repr(tuple(FP32_OPS)),
            keep_fp32=repr(tuple(self.keep_fp32)),
            call_args=call_args,
            float_outputs=[
                name for (_, name), floating in zip(io.outputs, io.output_floating) if floating
            ],
        )


# parameter dtype → the --precision that keeps it
_OWN_PRECISION = {"torch.float16": "fp16", "torch.bfloat16": "bf16"}


def model_precision(model):
    """The precision a model's own floating-point parameters and buffers have: ``fp16`` or
    ``bf16`` when they all have that dtype (``model.half()``), else ``fp32``."""
    dtypes = {
        str(t.dtype) for t in [*model.parameters(), *model.buffers()] if t.is_floating_point()
    }
    return _OWN_PRECISION.get(dtypes.pop(), "fp32") if len(dtypes) == 1 else "fp32"


def parse_precision(name, keep_fp32=()):
    """``--precision NAME`` and the ``--keep-fp32`` paths (comma-separated, repeatable);
    ``name`` None: the model's own (see ``model_precision``), decided once it is loaded."""
    if name is None:
        if keep_fp32:
            raise TrtgenError("--keep-fp32 needs --precision fp16 or bf16 (FP32 is the default)")
        return None
    if name not in PRECISIONS:
        raise TrtgenError(f"--precision {name!r}: choose one of {', '.join(PRECISIONS)}")
    paths = tuple(
        dict.fromkeys(p.strip() for text in keep_fp32 for p in text.split(",") if p.strip())
    )
    if paths and not PRECISIONS[name]:
        raise TrtgenError("--keep-fp32 needs --precision fp16 or bf16 (FP32 is the default)")
    return Precision(name, paths)


def check_module_paths(precision, module_paths):
    """Every --keep-fp32 path must name a module of the generated network."""
    known = set(module_paths)
    for path in precision.keep_fp32:
        if path not in known:
            near = difflib.get_close_matches(path, sorted(known), n=3)
            hint = f"; did you mean {', '.join(near)}?" if near else ""
            raise TrtgenError(
                f"--keep-fp32 {path!r}: the network has no module of that path{hint} "
                "(paths are the model's module names, as in its state_dict keys)"
            )
