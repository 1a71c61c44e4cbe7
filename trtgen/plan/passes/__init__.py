"""Clean-up passes over the captured graphs, between capture and planning.

Each pass has one job and works on one capture's fx graph (typed nodes: the op, its
arguments, and for exported graphs the fake tensor each node makes, in ``meta["val"]``).
They run children first, so a parent sees its children already cleaned:

- ``module_calls``: export's pytree plumbing around preserved child calls is replaced by the
  values it forwards, so calls read their arguments and results as in the model;
- ``size_sources``: a run-time size is read from the first parameter that has it
  (``hidden_states.size(0)``, not whichever input export met first);
- ``no_ops``: ops that return their input unchanged (``x + 0``, a whole-dim slice, a zero
  pad, a cast to the dtype it has) are replaced by that input;
- ``common_subexpressions``: a pure op computed twice on the same operands is computed once;
- ``constant_folding``: a subgraph that depends only on constants and static shapes (a mask
  built by filling slices) becomes one constant, named as the model names it;
- ``dead_code``: what the generated forward really reads, so values only dead code needs
  (a mask a child ignores) are not written.

None of them changes what the network computes; they change how much of it is written out.
"""

from .common_subexpressions import eliminate_common_subexpressions
from .constant_folding import fold_constants
from .dead_code import live_nodes, statement_reads
from .module_calls import inline_call_plumbing
from .no_ops import drop_no_ops
from .size_sources import read_sizes_from_first_parameter

PASSES = (read_sizes_from_first_parameter, drop_no_ops, eliminate_common_subexpressions)


def clean(captures):
    """Run every graph-rewriting pass on every capture, children before their parents."""
    for capture in reversed(captures):
        inline_call_plumbing(capture.graph, capture.unflattened)
        for run in PASSES:
            run(capture.graph)
        fold_constants(capture.graph, capture.unflattened)


__all__ = [
    "PASSES",
    "clean",
    "drop_no_ops",
    "eliminate_common_subexpressions",
    "fold_constants",
    "inline_call_plumbing",
    "live_nodes",
    "read_sizes_from_first_parameter",
    "statement_reads",
]
