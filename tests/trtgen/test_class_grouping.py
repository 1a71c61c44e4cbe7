"""One generated class per PyTorch class: instances that differ only in literals share it.

Literals of the forward (a view's sizes, a scale) that differ between instances become
constructor parameters, named after the model's ``__init__`` parameters or the attributes it
keeps; each instance passes its own values, so the network is the one PyTorch runs."""

import re

import pytest

from cli_helpers import write_model
from trtgen.commands.check import check
from trtgen.commands.cli import main

BLOCKS = """
    class Block(nn.Module):
        def __init__(self, hidden, heads):
            super().__init__()
            self.hidden = hidden
            self.heads = heads
            self.fc = nn.Linear(hidden, hidden)

        def forward(self, x):
            y = self.fc(x).view(-1, 5, self.heads, self.hidden // self.heads)
            return y.transpose(1, 2).reshape(-1, 5, self.hidden)


    class Scale(nn.Module):
        def __init__(self, factor):
            super().__init__()
            self.scale = factor ** -0.5
            self.gain = nn.Parameter(torch.ones(3))

        def forward(self, x):
            return x * self.scale + self.gain.sum()


    class Act(nn.Module):
        def __init__(self, kind):
            super().__init__()
            self.kind = kind

        def forward(self, x):
            return torch.relu(x) if self.kind == "relu" else torch.sigmoid(x)


    class Permute(nn.Module):
        def __init__(self, dims):
            super().__init__()
            self.dims = dims

        def forward(self, x):
            return x.permute(self.dims)


    class M(nn.Module):
        def __init__(self):
            super().__init__()
            self.there = Permute([0, 2, 1])
            self.back = Permute([0, 2, 1])
            self.flip = Permute([1, 0, 2])
            self.a = Block(8, 2)
            self.b = Block(12, 3)
            self.c = Block(8, 2)
            self.s1 = Scale(4.0)
            self.s2 = Scale(9.0)
            self.act1 = Act("relu")
            self.act2 = Act("sigmoid")

        def forward(self, x, y):
            x = self.act1(self.s1(self.c(self.a(x))))
            y = self.act2(self.s2(self.b(y)))
            return self.back(self.there(x)), self.flip(y)

    INPUTS = (torch.randn(2, 5, 8), torch.randn(2, 5, 12))
"""


@pytest.fixture(scope="module")
def generated(tmp_path_factory):
    tmp_path = tmp_path_factory.mktemp("grouping")
    model = write_model(tmp_path, BLOCKS)
    out = tmp_path / "out"
    assert main([str(model), "-o", str(out)]) == 0
    return out, (out / "network.py").read_text()


def _classes(source):
    return re.findall(r"^class (\w+)\(", source, re.M)


def _init(source, name):
    return re.search(rf"^class {name}\(.*?def __init__\(self(.*?)\):", source, re.M | re.S).group(1)


def test_instances_differing_in_forward_literals_share_a_class(generated):
    _, source = generated
    classes = _classes(source)
    assert classes.count("Block") == 1 and "Block_2" not in classes
    assert classes.count("Scale") == 1 and "Scale_2" not in classes
    assert _init(source, "Block") == ", hidden, heads"
    assert "self.heads = heads" in source and "self.hidden = hidden" in source
    assert ".view(-1, 5, self.heads, 4)" in source  # hidden // heads is 4 in all
    assert "self.a = Block(8, 2)" in source and "self.b = Block(12, 3)" in source


def test_a_float_kept_as_an_attribute_names_its_parameter(generated):
    _, source = generated
    # factor is 4.0 and 9.0, the forward reads 0.5 and 0.333...: the attribute scale lines up
    assert _init(source, "Scale") == ", scale"
    assert "x * self.scale" in source
    assert "self.s1 = Scale(0.5)" in source


def test_instances_with_another_structure_stay_apart(generated):
    _, source = generated
    classes = _classes(source)
    assert "Act" in classes and "Act_2" in classes
    assert len(classes) == 6  # Block, Scale, Act, Act_2, Permute, M


def test_a_permutation_is_one_parameter(generated):
    _, source = generated
    assert _classes(source).count("Permute") == 1 and "Permute_2" not in _classes(source)
    assert _init(source, "Permute") == ", dims"
    assert "x.permute(self.dims)" in source
    assert "self.flip = Permute([1, 0, 2])" in source


def test_grouped_network_matches_pytorch(generated):
    out, _ = generated
    lines = []
    assert check(str(out), log=lines.append), "\n".join(lines)


def test_weight_shape_dims_are_named_one_by_one(tmp_path):
    model = write_model(
        tmp_path,
        """
        class Proj(nn.Module):
            def __init__(self, nf, nx):
                super().__init__()
                self.nf = nf
                self.weight = nn.Parameter(torch.randn(nx, nf))
                self.bias = nn.Parameter(torch.zeros(nf))

            def forward(self, x):
                size_out = x.size()[:-1] + (self.nf,)
                return torch.addmm(self.bias, x.view(-1, x.size(-1)), self.weight).view(size_out)


        class M(nn.Module):
            def __init__(self):
                super().__init__()
                self.up = Proj(16, 8)
                self.down = Proj(8, 16)
                self.same = Proj(8, 8)

            def forward(self, x):
                return self.same(self.down(self.up(x)))

        INPUTS = (torch.randn(2, 3, 8),)
    """,
    )
    out = tmp_path / "out"
    assert main([str(model), "-o", str(out)]) == 0
    source = (out / "network.py").read_text()
    assert _classes(source) == ["Proj", "M"]
    assert _init(source, "Proj") == ", nf, nx"
    assert "self.weight = nn.Parameter((nx, nf), nn.float32)" in source
    assert "self.up = Proj(16, 8)" in source and "self.down = Proj(8, 16)" in source
    lines = []
    assert check(str(out), log=lines.append), "\n".join(lines)


VARIANTS = """
    class Shifted(nn.Module):
        def __init__(self, dim, shift):
            super().__init__()
            self.shift = shift
            self.fc = nn.Linear(dim, dim)
            self.register_buffer("offset", torch.randn(dim))

        def forward(self, x):
            x = self.fc(x)
            if self.shift:
                x = torch.roll(x, self.shift, 1) + self.offset
            return torch.relu(x) * 2.0


    class Mix(nn.Module):
        def __init__(self, kind):
            super().__init__()
            self.kind = kind

        def forward(self, x):
            x = x + 1.0
            x = x * 2.0 if self.kind == "scale" else torch.tanh(x)
            return x - 1.0


    class M(nn.Module):
        def __init__(self):
            super().__init__()
            self.a = Shifted(8, 2)
            self.b = Shifted(8, 0)
            self.c = Shifted(8, 2)
            self.d = Mix("scale")
            self.e = Mix("tanh")

        def forward(self, x):
            return self.e(self.d(self.c(self.b(self.a(x)))))

    INPUTS = (torch.randn(2, 5, 8),)
"""


@pytest.fixture(scope="module")
def variants(tmp_path_factory):
    tmp_path = tmp_path_factory.mktemp("variants")
    model = write_model(tmp_path, VARIANTS)
    out = tmp_path / "out"
    assert main([str(model), "-o", str(out)]) == 0
    return out, (out / "network.py").read_text()


def test_an_optional_op_is_a_branch_on_the_constructor_argument(variants):
    _, source = variants
    classes = _classes(source)
    assert classes.count("Shifted") == 1 and "Shifted_2" not in classes
    assert _init(source, "Shifted") == ", shift"
    assert re.search(r"^ +if self\.shift:\n +x = F\.roll\(x, 2, 1\) \+ self\.offset$", source, re.M)
    # the buffer only the shifted forward reads is declared only there (weights file keys)
    assert "self.offset = nn.Parameter((8,), nn.float32) if shift else None" in source
    assert "self.a = Shifted(True)" in source and "self.b = Shifted(False)" in source


def test_variants_that_replace_an_op_stay_apart(variants):
    _, source = variants
    classes = _classes(source)
    assert "Mix" in classes and "Mix_2" in classes
    for body in re.findall(r"^class Mix(?:_2)?\(.*?(?=^class )", source, re.M | re.S):
        assert "if " not in body
    assert len(classes) == 4  # Shifted, Mix, Mix_2, M


def test_branching_network_matches_pytorch(variants):
    out, _ = variants
    lines = []
    # FP32: max|trt - torch| <= 1e-4 * max(1, max|torch|), checked output by output
    assert check(str(out), log=lines.append), "\n".join(lines)


def test_a_flag_is_named_after_an_argument_only_where_the_graph_agrees(tmp_path):
    # shift is 2 in every instance, but the last one does not roll (its window covers all):
    # the branch follows the graph and gets a name of its own
    model = write_model(
        tmp_path,
        """
        class Shifted(nn.Module):
            def __init__(self, shift, window):
                super().__init__()
                self.shift = shift
                self.window = window

            def forward(self, x):
                if self.shift and self.window < x.shape[1]:
                    x = torch.roll(x, self.shift, 1)
                return x * 2.0

        class M(nn.Module):
            def __init__(self):
                super().__init__()
                self.a = Shifted(2, 3)
                self.b = Shifted(2, 8)

            def forward(self, x):
                return self.b(self.a(x))

        INPUTS = (torch.randn(2, 5, 8),)
        """,
    )
    out = tmp_path / "out"
    assert main([str(model), "-o", str(out)]) == 0
    source = (out / "network.py").read_text()
    assert _classes(source).count("Shifted") == 1 and "Shifted_2" not in _classes(source)
    assert "if self.shift:" not in source
    assert "if self.has_roll:" in source
    assert "self.a = Shifted(True)" in source and "self.b = Shifted(False)" in source
    lines = []
    assert check(str(out), log=lines.append), "\n".join(lines)
