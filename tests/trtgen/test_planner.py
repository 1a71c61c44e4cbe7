"""The planner on its own: ``capture`` then ``build_plan`` on small models, the ``NetworkPlan``
inspected directly (classes, constructor parameters and their names, instances), without
rendering or building a network."""

import torch
from torch import nn

from trtgen.capture.graphs import capture
from trtgen.capture.load import _call_recording
from trtgen.plan.classes import build_plan


class Block(nn.Module):
    def __init__(self, width, scale):
        super().__init__()
        self.fc = nn.Linear(width, width)
        self.scale = scale

    def forward(self, x):
        return torch.relu(self.fc(x)) * self.scale


class Stack(nn.Module):
    def __init__(self):
        super().__init__()
        self.first = Block(8, 2.0)
        self.second = Block(8, 3.0)
        self.wide = Block(16, 2.0)
        self.up = nn.Linear(8, 16)

    def forward(self, x):
        return self.wide(self.up(self.second(self.first(x))))


class Shifted(nn.Module):
    """One class, two structures: the roll only where ``shift`` is set."""

    def __init__(self, shift):
        super().__init__()
        self.shift = shift
        self.fc = nn.Linear(6, 6)

    def forward(self, x):
        if self.shift:
            x = torch.roll(x, self.shift, 1)
        return self.fc(x)


class Pair(nn.Module):
    def __init__(self):
        super().__init__()
        self.plain = Shifted(0)
        self.rolled = Shifted(2)

    def forward(self, x):
        return self.rolled(self.plain(x))


def _plan(factory, *inputs):
    torch.manual_seed(0)
    model, init_args = _call_recording(factory)
    model.eval()
    return build_plan(capture(model, inputs), init_args)


def _by_torch_class(plan, name):
    return [c for c in plan.classes if c.torch_class.endswith("." + name)]


def test_instances_of_one_structure_share_a_class_whose_differences_are_parameters():
    plan = _plan(Stack, torch.randn(2, 8))
    (block,) = _by_torch_class(plan, "Block")
    assert len(block.instances) == 3
    # the widths and the scales differ between instances: parameters named as __init__ names them
    assert [name for name, _ in block.params] == ["width", "scale"]
    assert plan.root.torch_class.endswith(".Stack") and plan.root is plan.classes[-1]


def test_classes_come_before_the_classes_that_use_them():
    plan = _plan(Stack, torch.randn(2, 8))
    order = [c.name for c in plan.classes]
    assert order.index(_by_torch_class(plan, "Block")[0].name) < order.index(plan.root.name)


def test_structural_variants_of_one_class_share_it_on_a_flag():
    plan = _plan(Pair, torch.randn(2, 6))
    (shifted,) = _by_torch_class(plan, "Shifted")
    assert len(shifted.instances) == 2
    assert any(
        line.strip().startswith("if self.shift") for line in shifted.forward_lines
    ), shifted.forward_lines


def test_a_class_used_once_keeps_its_literals_inline():
    plan = _plan(Stack, torch.randn(2, 8))
    assert plan.root.name == "Stack" and plan.root.params == []
    assert any("nn.Linear(8, 16)" in line for line in plan.root.init_lines), plan.root.init_lines
    assert plan.capture_modes == ["symbolic_trace"]
