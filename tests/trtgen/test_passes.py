"""Unit tests of the clean-up passes (trtgen/plan/passes), each on a small graph of its own.

Every test checks the rewritten graph's structure and that it still computes what the
original computed (the graph run by torch.fx on the same inputs, exact equality).
"""

import operator

import torch
import torch.fx

from trtgen.plan import passes
from trtgen.plan.passes.dead_code import live_nodes, statement_reads


def _exported(fn, *args, functional=False):
    """The aten graph torch.export makes of ``fn`` (fake tensors in ``meta["val"]``);
    ``functional``: in-place writes functionalized, as capture does for models that make them."""

    class Wrapper(torch.nn.Module):
        def forward(self, *xs):
            return fn(*xs)

    program = torch.export.export(Wrapper(), args, strict=False)
    return (program.run_decompositions({}) if functional else program).module()


def _ops(graph):
    return [n.target for n in graph.nodes if n.op == "call_function"]


def _same_result(gm, args, expected):
    gm.recompile()
    result = gm(*args)
    assert torch.equal(result, expected), (result, expected)


def test_no_ops_are_dropped_where_dtype_and_shape_allow():
    x = torch.randn(2, 3)
    gm = _exported(lambda x: torch.nn.functional.pad(x + 0, [0, 0])[:, 0:].to(torch.float32) * 1, x)
    dropped = passes.drop_no_ops(gm.graph)
    assert dropped >= 3
    assert not [t for t in _ops(gm.graph) if "pad" in str(t) or "slice" in str(t)]
    _same_result(gm, (x,), x)


def test_a_promoting_add_of_zero_is_kept():
    """``int_tensor + 0.0`` makes a float tensor: not a no-op."""
    x = torch.arange(6).reshape(2, 3)
    gm = _exported(lambda x: x + 0.0, x)
    assert passes.drop_no_ops(gm.graph) == 0
    _same_result(gm, (x,), x + 0.0)


def test_a_broadcasting_add_of_zero_is_kept():
    x, zeros = torch.randn(3), torch.zeros(2, 3)
    gm = _exported(lambda x, z: x + z, x, zeros)
    assert passes.drop_no_ops(gm.graph) == 0
    _same_result(gm, (x, zeros), x + zeros)


def test_a_reshape_that_changes_the_shape_is_kept():
    x = torch.randn(2, 6)
    gm = _exported(lambda x: x.reshape(2, 6).reshape(3, 4), x)
    assert passes.drop_no_ops(gm.graph) == 1  # the first reshape only
    _same_result(gm, (x,), x.reshape(3, 4))


def test_common_subexpressions_are_computed_once():
    x = torch.randn(4, 4)
    gm = _exported(lambda x: torch.relu(x.t()) + torch.relu(x.t()), x)
    before = len(_ops(gm.graph))
    assert passes.eliminate_common_subexpressions(gm.graph) == 2
    assert len(_ops(gm.graph)) == before - 2
    _same_result(gm, (x,), 2 * torch.relu(x.t()))


def test_random_ops_are_never_shared():
    graph = torch.fx.Graph()
    x = graph.placeholder("x")
    a = graph.call_function(torch.rand_like, (x,))
    b = graph.call_function(torch.rand_like, (x,))
    graph.output(graph.call_function(operator.add, (a, b)))
    assert passes.eliminate_common_subexpressions(graph) == 0


def test_in_place_calls_are_never_shared():
    graph = torch.fx.Graph()
    x = graph.placeholder("x")
    a = graph.call_method("add_", (x, 1))
    b = graph.call_method("add_", (x, 1))
    graph.output((a, b))
    assert passes.eliminate_common_subexpressions(graph) == 0


def test_calls_with_different_literals_are_not_shared():
    graph = torch.fx.Graph()
    x = graph.placeholder("x")
    a = graph.call_function(torch.mul, (x, 1))
    b = graph.call_function(torch.mul, (x, 1.0))
    c = graph.call_function(torch.mul, (x, True))
    graph.output((a, b, c))
    assert passes.eliminate_common_subexpressions(graph) == 0


def test_dead_code_follows_what_statements_read():
    """A value read only by an argument the statement does not write is dead."""
    graph = torch.fx.Graph()
    x = graph.placeholder("x")
    mask = graph.call_function(torch.ones_like, (x,))
    call = graph.call_module("child", (x, mask))
    graph.output(call)
    everything = live_nodes(graph, set(), statement_reads({}, lambda n: n.all_input_nodes))
    assert mask in everything
    first_only = live_nodes(graph, set(), statement_reads({}, lambda n: n.args[:1]))
    assert mask not in first_only and call in first_only and x in first_only


class _Child(torch.nn.Module):
    def forward(self, x, scale):
        return x * scale[0] + scale[1]


class _Parent(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.child = _Child()

    def forward(self, x):
        pair = (x.sum(), x.mean())
        return self.child(x, scale=pair)


def test_call_plumbing_is_inlined():
    x = torch.randn(3)
    program = torch.export.export(
        _Parent(), (x,), strict=False, preserve_module_call_signature=("child",)
    )
    unflat = torch.export.unflatten(program)
    graph = unflat.graph
    assert any("tree_unflatten" in str(n.target) for n in graph.nodes)
    assert passes.inline_call_plumbing(graph, unflat) == 1
    assert not any("tree" in str(n.target) for n in graph.nodes if n.op == "call_function")
    call = next(n for n in graph.nodes if n.op == "call_module")
    scale = call.kwargs["scale"]
    assert isinstance(scale, tuple) and all(isinstance(v, torch.fx.Node) for v in scale)
    (result,) = torch.fx.Interpreter(unflat, graph=graph).run(x)  # export returns flat leaves
    assert torch.allclose(result, _Parent()(x))


def test_constant_subgraphs_are_folded_into_one_constant():
    """A mask built from sizes known at capture time becomes one constant; what depends on the
    input stays computed, and the result is unchanged."""

    def masked(x):
        mask = x.new_zeros(4, 4)
        mask[:2, 2:] = 1.0
        mask = (mask.unsqueeze(0) - mask.unsqueeze(1)).masked_fill(mask.unsqueeze(0) != 0, -100.0)
        return x + mask

    x = torch.randn(4, 4, 4)
    gm = _exported(masked, x, functional=True)
    assert passes.fold_constants(gm.graph, gm) == 1
    remaining = [str(t) for t in _ops(gm.graph)]
    assert not [
        t for t in remaining if "new_zeros" in t or "masked_fill" in t or "unsqueeze" in t
    ], remaining
    folded = [
        n for n in gm.graph.nodes if n.op == "get_attr" and n.target.startswith("folded_constant")
    ]
    assert len(folded) == 1 and tuple(getattr(gm, folded[0].target).shape) == (4, 4, 4)
    _same_result(gm, (x,), masked(x))


def test_in_place_writes_are_never_folded():
    """An unfunctionalized graph writes into a view (``aten.fill_``): not a function of operands."""

    def masked(x):
        mask = x.new_zeros(4, 4)
        mask[:2, 2:] = 1.0
        return x + mask.unsqueeze(0) * 2

    x = torch.randn(4, 4, 4)
    gm = _exported(masked, x)
    passes.fold_constants(gm.graph, gm)
    _same_result(gm, (x,), masked(x))


def test_the_models_weights_and_single_factories_are_not_folded():
    class WithWeight(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.scale = torch.nn.Parameter(torch.randn(4))

        def forward(self, x):
            return x * self.scale.exp() + torch.arange(4)

    x = torch.randn(2, 4)
    gm = torch.export.export(WithWeight(), (x,), strict=False).module()
    assert passes.fold_constants(gm.graph, gm) == 0


def _exported_dynamic(fn, args, dynamic_shapes):
    class Wrapper(torch.nn.Module):
        def forward(self, *xs):
            return fn(*xs)

    program = torch.export.export(Wrapper(), args, strict=False, dynamic_shapes=dynamic_shapes)
    return program.module()


def test_sizes_are_read_from_the_first_parameter_that_has_them():
    """A size read from a later input (as export may write it) moves to the first one."""
    batch = torch.export.Dim("batch")
    x, mask = torch.randn(2, 3), torch.ones(2, 4)
    gm = _exported_dynamic(
        lambda x, m: x.view(m.size(0), 3, 1) * m.sum(), (x, mask), {"xs": ({0: batch}, {0: batch})}
    )
    placeholders = [n for n in gm.graph.nodes if n.op == "placeholder"]
    sizes = [n for n in gm.graph.nodes if n.target is torch.ops.aten.sym_size.int]
    assert sizes
    for node in sizes:  # as an unflattened child's graph may read it: from the mask
        node.args = (placeholders[1], 0)
    passes.read_sizes_from_first_parameter(gm.graph)
    assert all(n.args == (placeholders[0], 0) for n in sizes)
    for n in (2, 5):
        x, mask = torch.randn(n, 3), torch.rand(n, 4)
        _same_result(gm, (x, mask), x.view(n, 3, 1) * mask.sum())


def test_a_size_of_another_symbol_keeps_its_source():
    """Only a dim of the same symbol is a source: ``m.size(1)`` has none in ``x``."""
    batch, length = torch.export.Dim("batch"), torch.export.Dim("length")
    x, mask = torch.randn(2, 3), torch.ones(2, 4)
    gm = _exported_dynamic(
        lambda x, m: x.sum() * torch.ones(m.size(1)),
        (x, mask),
        {"xs": ({0: batch}, {0: batch, 1: length})},
    )
    before = [n.args for n in gm.graph.nodes if n.target is torch.ops.aten.sym_size.int]
    passes.read_sizes_from_first_parameter(gm.graph)
    after = [n.args for n in gm.graph.nodes if n.target is torch.ops.aten.sym_size.int]
    assert before == after and after
