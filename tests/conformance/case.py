"""One conformance case: a small module, its inputs, how it is captured, what must happen."""

import dataclasses
import textwrap

HEADER = """import torch
import torch.nn.functional as F
from torch import nn


class M(nn.Module):
    def __init__(self):
        super().__init__()
"""

FOOTER = """

def get_model():
    torch.manual_seed(0)
    return M().eval()


def get_example_inputs():
    torch.manual_seed(1)
    return ({inputs},)
"""

# data-dependent Python on a size: symbolic_trace cannot follow it, so trtgen captures the
# module with torch.export and lowers the aten ops it records
EXPORT_GUARD = "if {first}.size(0) > 0:  # captured with torch.export\n    pass\n"

# an in-place write: torch.export's graph is then decomposed to core ATen ops
# (native_layer_norm, convolution, constant_pad_nd, ...)
CORE_ATEN_GUARD = EXPORT_GUARD + "{first} = {first}.clone()\n{first}.mul_(1)\n"

CAPTURES = {"module": "", "aten": EXPORT_GUARD, "core": CORE_ATEN_GUARD}


@dataclasses.dataclass(frozen=True)
class Case:
    family: str
    name: str
    forward: str  # the returned expression, or a body whose last line is ``return ...``
    inputs: tuple = ("torch.randn(2, 3, 6, 6)",)  # source of each example input
    params: str = "x"  # forward's parameters, one per input
    init: str = ""  # __init__ body after super().__init__()
    capture: str = "module"  # module: symbolic_trace; aten: torch.export; core: export, decomposed
    dynamic: tuple = ()  # --dynamic specs
    shapes: tuple = ()  # ({input: shape}, ...) checked too, inside the dynamic profile
    refused: str = ""  # refused at generation: the op the message must name
    torch_cpu: bool = True  # False: CPU PyTorch cannot run it (not counted)

    @property
    def id(self):
        suffix = "" if self.capture == "module" else f"-{self.capture}"
        return f"{self.family}-{self.name}{suffix}"

    def source(self):
        first = self.params.split(",")[0].strip().lstrip("*")
        body = (
            self.forward
            if "\n" in self.forward or self.forward.startswith("return ")
            else f"return {self.forward}"
        )
        guard = CAPTURES[self.capture].format(first=first)
        init = textwrap.indent(self.init.strip() or "pass", " " * 8)
        forward = textwrap.indent(guard + textwrap.dedent(body).strip(), " " * 8)
        inputs = ", ".join(self.inputs)
        return (
            HEADER
            + init
            + f"\n\n    def forward(self, {self.params}):\n"
            + forward
            + "\n"
            + FOOTER.format(inputs=inputs)
        )

    def args(self):
        return [arg for spec in self.dynamic for arg in ("--dynamic", spec)]
