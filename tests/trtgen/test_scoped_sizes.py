"""trtgen/capture/scoped_sizes.py: a preserved child reads run-time sizes from its own arguments.

Without the rewrite, ``torch.export.unflatten`` passes the exported module's input into the
child to read a size, under the input's name; a child with an argument of that name cannot
be built, and capture had to export again without the child's signature.
"""

import torch
import torch.export

from trtgen.capture.scoped_sizes import read_sizes_inside_calls


class Child(torch.nn.Module):
    def forward(self, x, mask):
        return x.reshape(x.size(0), x.size(1), 2, -1) * mask.unsqueeze(-1).unsqueeze(-1)


class Root(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.child = Child()

    def forward(self, x, mask):
        return self.child(x * 2, mask=(mask > 0).float())


def _export():
    batch, length = torch.export.Dim("batch"), torch.export.Dim("length")
    return torch.export.export(
        Root(),
        (torch.randn(2, 5, 8), torch.ones(2, 5)),
        strict=False,
        dynamic_shapes={"x": {0: batch, 1: length}, "mask": {0: batch, 1: length}},
        preserve_module_call_signature=("child",),
    )


def test_the_child_keeps_its_signature_and_computes_the_same():
    program = _export()
    assert read_sizes_inside_calls(program) >= 1
    unflattened = torch.export.unflatten(program)
    child_graph = unflattened.get_submodule("child").graph
    # its two arguments (export names the positional one), no extra input for the sizes
    assert [n.target for n in child_graph.nodes if n.op == "placeholder"][1:] == ["mask"]
    assert len([n for n in child_graph.nodes if n.op == "placeholder"]) == 2
    for batch, length in ((2, 5), (3, 7)):  # sizes other than the export's stay symbolic
        x, mask = torch.randn(batch, length, 8), torch.rand(batch, length) - 0.5
        assert torch.equal(unflattened(x, mask), Root()(x, mask))


def test_a_static_export_is_left_alone():
    program = torch.export.export(Root(), (torch.randn(2, 5, 8), torch.ones(2, 5)), strict=False)
    assert read_sizes_inside_calls(program) == 0
