"""Capture the model as one torch.fx graph per composite module, child modules kept as calls.

Tracing each module with its children as leaves keeps the model's hierarchy: every class the
user wrote becomes one generated class, whose ``forward`` is the graph traced here.
``symbolic_trace`` is tried first; a module it cannot trace (data-dependent Python, ...) is
captured with ``torch.export`` on the inputs it really received, its subtree inlined. Its
descendants that need torch.export too are cut from that one export (``preserved_calls``).
"""

import contextlib
import dataclasses
import inspect
import io
import keyword
import logging
import os
import re
import warnings

import torch
import torch.fx
from torch.fx.experimental.symbolic_shapes import GuardOnDataDependentSymNode

from ..errors import TrtgenError
from ..plan import library
from ..plan.library import has_layers_class
from ..plan.source_names import user_frame
from .autocast import inert_autocast
from .inplace import functionalize, without_aliasing
from .opaque_recurrent import opaque_recurrent
from .preserved_calls import PreservedCall
from .scoped_sizes import read_sizes_inside_calls


@dataclasses.dataclass
class Capture:
    path: str  # module path in the model ("" for the root)
    module: torch.nn.Module
    graph: torch.fx.Graph
    mode: str  # "symbolic_trace" or "torch.export"
    params: list = None  # forward parameters kept (those that receive tensors)
    unflattened: object = None  # torch.export's module tree, for argument names of child calls
    recorded: tuple = None  # (args, kwargs) the module received in the real run
    output_type: type = None  # what it returned then (a transformers ModelOutput, a dict...)
    plugins: bool = False  # unsupported ops become plugin placeholders instead of errors
    result: object = None  # what it returned in the recorded run (maps flattened export outputs)
    probe_runs: dict = None  # probe name -> RecordedRun of the model on resized inputs (shared)
    exported_on: str = None  # the probe run it was exported on: its graph's sizes are that run's
    constant_names: dict = None  # capture-made constant attribute -> the name network.py gives it
    traced_values: dict = None  # {node: value} of the exported graph, run when needed

    def _probed(self, run_name):
        return (self.probe_runs or {}).get(run_name) if run_name else None

    def seen_inputs(self, run_name):
        """The (args, kwargs) a parent's graph saw: the probe run's when the parent was exported
        on one (``run_name``, a parent's ``exported_on``)."""
        run = self._probed(run_name)
        seen = None if run is None else run.inputs.get(id(self.module))
        return self.recorded if seen is None else seen

    def seen_result(self, run_name):
        """The result a parent's graph saw: the probe run's when the parent was exported on one."""
        run = self._probed(run_name)
        seen = None if run is None else run.outputs.get(id(self.module))
        return self.result if seen is None else seen


def is_leaf(module):
    """A module ``layers`` provides as a class (Conv2d, Sequential...): emitted as a call."""
    return has_layers_class(module)


class _ChildrenAsLeaves(torch.fx.Tracer):
    """Trace one module; every submodule call stays a ``call_module`` node."""

    def __init__(self, root):
        super().__init__()
        self._root = root
        self.record_stack_traces = True  # lets errors point at the line in the user's model

    def is_leaf_module(self, module, qualname):
        return module is not self._root


@dataclasses.dataclass
class RecordedRun:
    """One real forward pass: what every module received first and returned then."""

    inputs: dict  # id(module) -> (args, kwargs), copies
    outputs: dict  # id(module) -> result, copies

    def result_of(self, model):
        return self.outputs.get(id(model))


def record_run(model, example_inputs):
    """Run the model once, recording every module's first inputs and result."""
    return RecordedRun(*_record_module_inputs(model, example_inputs))


def _record_module_inputs(model, example_inputs):
    """One real forward pass: what every module received, and the type of what it returned."""
    seen, returned, handles = {}, {}, []

    def hook(module, args, kwargs):  # copies: in-place ops later in the run must not change them
        if id(module) not in seen:
            seen[id(module)] = (_clone(args), _clone(kwargs))

    def output_hook(module, args, result):
        if id(module) not in returned:
            returned[id(module)] = _clone(result)

    for module in model.modules():
        handles.append(module.register_forward_pre_hook(hook, with_kwargs=True))
        handles.append(module.register_forward_hook(output_hook))
    try:
        with torch.no_grad():
            model(*example_inputs)
    finally:
        for handle in handles:
            handle.remove()
    return seen, returned


def tensor_params(module, recorded):
    """(names of the forward parameters that received tensors, {other parameter: value})."""
    signature = inspect.signature(type(module).forward)
    if recorded is None:
        names = [p for p in list(signature.parameters)[1:]]
        return names, {}
    args, kwargs = recorded
    bound = signature.bind(module, *args, **kwargs)
    bound.apply_defaults()
    tensors, constants = [], {}
    for name, value in list(bound.arguments.items())[1:]:
        kind = signature.parameters[name].kind
        if kind == inspect.Parameter.VAR_KEYWORD:  # tensors in **kwargs become named inputs
            tensors.extend(k for k, v in value.items() if _is_tensor_arg(v))
            constants.update({k: v for k, v in value.items() if not _is_tensor_arg(v)})
        elif _is_tensor_arg(value):
            tensors.append(name)
        elif kind == inspect.Parameter.VAR_POSITIONAL:
            if any(isinstance(v, torch.Tensor) for v in value):
                raise TrtgenError(
                    f"{type(module).__name__}.forward(*{name}) receives tensors; name them as parameters"
                )
            constants[name] = value
        else:
            constants[name] = value
    return tensors, constants


def _is_tensor_arg(value):
    """Tensors, and lists / tuples of tensors (DenseNet passes its feature list), are inputs."""
    if isinstance(value, torch.Tensor):
        return True
    if isinstance(value, dict):  # torchvision's segmentation heads take {"out": ..., "aux": ...}
        value = list(value.values())
    return (
        isinstance(value, (list, tuple))
        and bool(value)
        and all(isinstance(v, torch.Tensor) for v in value)
    )


def _bound_forward(module, tensors, constants):
    """A ``forward`` taking only the tensor parameters, the rest bound to the values seen at run time."""
    original = type(module).forward
    signature = inspect.signature(original)
    positional = [n for n, p in signature.parameters.items() if p.kind == p.VAR_POSITIONAL]
    bad = [n for n in tensors if not n.isidentifier() or keyword.iskeyword(n)]
    if bad:  # **kwargs keys that are no parameter names: never compiled as code
        raise TrtgenError(
            f"{type(module).__name__}.forward receives tensors under keys that are not Python "
            f"parameter names: {', '.join(map(repr, bad))}; pass them under identifier names"
        )
    source = f"def forward(self, {', '.join(tensors)}):\n    return _call(self, {{{', '.join(repr(n) + ': ' + n for n in tensors)}}})\n"

    def _call(self, given):
        values = dict(constants)
        values.update(given)
        args = []
        for name, param in list(signature.parameters.items())[1:]:
            if param.kind == param.VAR_POSITIONAL:
                args.extend(values.pop(name, ()))
            elif param.kind in (param.POSITIONAL_ONLY,) or positional:
                if name in values:
                    args.append(values.pop(name))
        return original(self, *args, **values)

    namespace = {"_call": _call}
    exec(source, namespace)
    return namespace["forward"]


def _opaque_calls(graph):
    """Calls of plain Python functions fx kept whole (``torch.fx.wrap``) that no rule lowers."""
    from ..plan.normalize import normalize
    from ..plan.rules import lowering_rule

    found = []
    for node in graph.nodes:
        if node.op == "call_function" and inspect.isfunction(node.target):
            package = (node.target.__module__ or "").split(".")[0]
            if package not in ("torch", "_operator", "operator", "math", "builtins"):
                if lowering_rule(normalize(node).name) is None:
                    found.append(node.target.__name__)
    return found


def _symbolic(module, recorded, result=None, run=None):
    """fx graph of ``module`` with children as calls; raises when export would do better."""
    graph, tensors = _symbolic_graph(module, recorded)
    _note_input_dtypes(module, graph, recorded)
    functionalize(graph)
    opaque = _opaque_calls(graph)
    if opaque:  # torch.export traces into them
        raise NotImplementedError(f"fx kept {opaque} as opaque calls")
    if (
        recorded is not None
        and result is not None
        and not _replays(module, graph, tensors, recorded, result, run)
    ):
        # Python decided something on a traced value (`if out.x is None`): the graph took the
        # wrong branch, so this module needs torch.export
        raise NotImplementedError("the symbolic graph does not reproduce the module's output")
    return graph, tensors


def _note_input_dtypes(module, graph, recorded):
    """``meta["dtype"]`` of each tensor placeholder, as recorded: what a symbolic graph knows
    of its inputs (a bool input indexing a tensor is a data-dependent mask)."""
    if recorded is None:
        return
    args, kwargs = recorded
    try:
        bound = inspect.signature(type(module).forward).bind(module, *args, **kwargs).arguments
    except TypeError:
        return
    for node in graph.nodes:
        if node.op == "placeholder" and isinstance(bound.get(node.target), torch.Tensor):
            node.meta["dtype"] = bound[node.target].dtype


class _RecordedChild(torch.nn.Module):
    """A child module in a replay: its recorded result when it gets exactly its recorded
    inputs (each child's own graph is checked on its own), else a real call. Keeps a replay
    from running the whole subtree again at every level of the hierarchy."""

    def __init__(self, child, recorded, result):
        super().__init__()
        self.child, self.recorded, self.result = child, recorded, result

    def forward(self, *args, **kwargs):
        if _identical((args, kwargs), self.recorded):
            return _clone(self.result)
        return self.child(*args, **kwargs)


def _identical(a, b):
    leaves_a, spec_a = torch.utils._pytree.tree_flatten(a)
    leaves_b, spec_b = torch.utils._pytree.tree_flatten(b)
    if spec_a != spec_b:
        return False
    for x, y in zip(leaves_a, leaves_b):
        if isinstance(x, torch.Tensor) != isinstance(y, torch.Tensor):
            return False
        if isinstance(x, torch.Tensor):
            if x.shape != y.shape or x.dtype != y.dtype or not torch.equal(x, y):
                return False
        elif x is not y and not _equal_values(x, y):
            return False
    return True


def _equal_values(x, y):
    try:
        return bool(x == y)
    except Exception:  # arrays and other values without a plain truth value
        return False


def _replay_root(module, graph, run):
    """The module, with its called children standing in by their recorded runs."""
    if run is None:
        return module
    root = {}
    for node in graph.nodes:
        if node.op == "call_module" and node.target not in root:
            child = module.get_submodule(node.target)
            recorded, result = run.inputs.get(id(child)), run.outputs.get(id(child))
            # an in-place child (ReLU(inplace=True)) must really run: the graph may read its input after
            run_real = recorded is None or getattr(child, "inplace", False)
            root[node.target] = child if run_real else _RecordedChild(child, recorded, result)
        elif node.op == "get_attr" and node.target not in root:
            root[node.target] = _attribute(module, node.target)
    return root


def _attribute(module, target):
    *path, name = target.split(".")
    owner = module.get_submodule(".".join(path)) if path else module
    return getattr(owner, name)


def _replays(module, graph, tensors, recorded, result, run=None):
    """Does the traced graph compute what the module computed on the recorded inputs?"""
    args, kwargs = recorded
    bound = inspect.signature(type(module).forward).bind(module, *args, **kwargs).arguments
    inputs = [_clone(bound[name]) for name in tensors]
    # in-place calls replayed as the network computes them (no aliasing): a write into a view,
    # which the graph loses, shows as a different output
    replayed = without_aliasing(graph)
    try:
        # a failing fx module prints its generated code to stderr before raising: the failure
        # only means export is tried instead
        with torch.no_grad(), contextlib.redirect_stderr(io.StringIO()):
            replay = torch.fx.GraphModule(_replay_root(module, graph, run), replayed)(*inputs)
    except Exception:
        return False
    want = [t for t in torch.utils._pytree.tree_leaves(result) if isinstance(t, torch.Tensor)]
    got = [t for t in torch.utils._pytree.tree_leaves(replay) if isinstance(t, torch.Tensor)]
    return len(want) == len(got) and all(_same_values(a, b) for a, b in zip(want, got))


def _same_values(a, b):
    if a.shape != b.shape or a.dtype != b.dtype:
        return False
    if torch.equal(a, b):  # replays are mostly bit-identical
        return True
    return a.is_floating_point() and torch.allclose(a, b, rtol=1e-4, atol=1e-5, equal_nan=True)


def _clone(value):
    return torch.utils._pytree.tree_map(
        lambda t: t.clone() if isinstance(t, torch.Tensor) else t, value
    )


def _symbolic_graph(module, recorded):
    tensors, constants = tensor_params(module, recorded)
    cls = type(module)
    if not constants:
        return _ChildrenAsLeaves(module).trace(module), tensors
    wrapper = type(cls.__name__, (cls,), {"forward": _bound_forward(module, tensors, constants)})
    module.__class__ = wrapper
    try:
        graph = _ChildrenAsLeaves(module).trace(module)
    finally:
        module.__class__ = cls
    return graph, tensors


def _keeps_signature(child):
    """Does ``child``'s call keep its signature in the export? Composites do. So does a layers
    class whose forward takes several arguments (MultiheadAttention's query, key, value and
    keywords): flattened, its arguments would arrive deduplicated and out of order. A
    one-input leaf's call is plain, and an eval-mode Dropout vanishes from the export, which
    makes preserving its signature fail."""
    if not is_leaf(child):
        return True
    parameters = list(inspect.signature(type(child).forward).parameters.values())[1:]
    return len(parameters) > 1


def _called_children(module):
    """Paths whose calls keep their signature in the export: children, and items of containers."""
    paths = []
    for name, child in module.named_children():
        if _keeps_signature(child):
            paths.append(name)
        if library.is_container(child):
            paths += [
                f"{name}.{sub}" for sub, item in child.named_children() if _keeps_signature(item)
            ]
    return tuple(paths)


def _composite_descendants(module, prefix=""):
    """Paths of every composite below ``module`` (through containers): preserving all their
    signatures in one export lets descendants that need torch.export reuse it."""
    paths = []
    for name, child in module.named_children():
        if _keeps_signature(child):
            paths.append(prefix + name)
        if not is_leaf(child) or library.is_container(child):
            paths += _composite_descendants(child, f"{prefix}{name}.")
    return tuple(paths)


def _mutates(program):
    """Does the exported graph write into tensors (``mask[a:b] = v``, ``x.add_(y)``)?"""
    for node in program.graph.nodes:
        schema = getattr(node.target, "_schema", None)
        if node.op == "call_function" and schema is not None and schema.is_mutable:
            return True
    return False


class ParameterWriteError(TrtgenError):
    """The forward writes into a parameter: no other way of exporting the module helps."""


def _refuse_parameter_writes(module, program):
    """A forward that writes into its own parameter (``F.embedding(..., max_norm=...)``
    renormalizes the weight in place) computes with weights a TensorRT network cannot change
    at run time."""
    kind = torch.export.graph_signature.OutputKind.PARAMETER_MUTATION
    written = [spec for spec in program.graph_signature.output_specs if spec.kind == kind]
    if not written:
        return
    nodes = {n.name: n for n in program.graph.nodes}
    node = nodes.get(written[0].arg.name)
    frame = user_frame(node) if node is not None else None
    where = f" at {os.path.basename(frame[0])}:{frame[1]}" if frame else ""
    op = node.target if node is not None and node.op == "call_function" else "an in-place op"
    raise ParameterWriteError(
        f"module {type(module).__name__} writes into its parameter {written[0].target!r} "
        f"({op}{where}); a TensorRT network's weights are constants: apply the change to the "
        "weight once before conversion (for F.embedding, drop max_norm after renormalizing)"
    )


def _any_dynamic(dims):
    return dims is not None and any(torch.utils._pytree.tree_leaves(dims))


def _dynamic_shapes(module, args, kwargs, dims):
    """torch.export's ``dynamic_shapes`` by parameter name: ``Dim.DYNAMIC`` on changing dims."""
    if not _any_dynamic(dims):
        return None
    dim_args, dim_kwargs = dims
    spec = lambda found: {i: torch.export.Dim.DYNAMIC for i in sorted(found)} if found else None
    bound = inspect.signature(module.forward).bind(*dim_args, **dim_kwargs).arguments
    return {
        name: torch.utils._pytree.tree_map(
            spec, value, is_leaf=lambda v: isinstance(v, set) or v is None
        )
        for name, value in bound.items()
    }


def _export_once(module, args, kwargs, preserve, dims=None):
    # unflatten warns about its own spec attributes, and prints a debug line on mutations; a
    # failing export prints its partial graph to stderr (trtgen's refusal says what failed)
    with (
        warnings.catch_warnings(),
        contextlib.redirect_stdout(io.StringIO()),
        contextlib.redirect_stderr(io.StringIO()),
        inert_autocast(),
        opaque_recurrent(module),
        _torch_log_warnings_hidden(),
    ):
        warnings.simplefilter("ignore")
        program = torch.export.export(
            module,
            tuple(args),
            dict(kwargs),
            strict=False,
            dynamic_shapes=_dynamic_shapes(module, args, kwargs, dims),
            preserve_module_call_signature=preserve,
        )
        if _mutates(program):  # functionalize: in-place writes into views become slice_scatter
            program = program.run_decompositions({})
            _restore_module_stacks(program.graph)
        _refuse_parameter_writes(module, program)
        if _any_dynamic(dims):
            read_sizes_inside_calls(program)
        return torch.export.unflatten(program)


@contextlib.contextmanager
def _torch_log_warnings_hidden():
    """A failing export logs its partial graph as warnings (dozens of lines per attempt); the
    refusal trtgen prints says what failed. Errors still show."""
    loggers = [
        logging.getLogger(name)
        for name in list(logging.root.manager.loggerDict)
        if name == "torch" or name.startswith("torch.")
    ]
    handlers = [h for logger in loggers for h in logger.handlers]
    levels = [h.level for h in handlers]
    for handler in handlers:
        handler.setLevel(max(handler.level, logging.ERROR))
    try:
        yield
    finally:
        for handler, level in zip(handlers, levels):
            handler.setLevel(level)


def _restore_module_stacks(graph):
    """Views replayed by functionalization (``x.mul_(1); return x.permute(...)``) come back with
    an empty module stack, which ``unflatten`` cannot place. One whose inputs were all computed
    by the exported module itself belongs to it; inside a child's region the owner is not
    known, and the export stays refused."""
    stacks = [n.meta["nn_module_stack"] for n in graph.nodes if n.meta.get("nn_module_stack")]
    if not stacks:
        return
    root = dict(list(stacks[0].items())[:1])
    for node in graph.nodes:
        if node.op != "call_function" or node.meta.get("nn_module_stack", None) != {}:
            continue
        inputs = [n.meta.get("nn_module_stack") for n in node.all_input_nodes]
        if all(
            stack == root or (stack is None and n.op != "call_function")
            for stack, n in zip(inputs, node.all_input_nodes)
        ):
            node.meta["nn_module_stack"] = dict(root)


def _export(module, recorded, path, dims=None, kept=None):
    """torch.export the module on the inputs it received, unflattened back into module calls.

    Child calls keep their signatures where export allows it; otherwise their arguments are
    flattened, and the child's own graph names them. ``kept``: a dict, id(module) → the child
    calls whose signatures an earlier export of the module kept, tried first (the same module
    is exported on a probe, then maybe again on the example).
    """
    if recorded is None:
        raise TrtgenError(
            f"cannot capture module {path or '<root>'!r}: it never ran on the example inputs"
        )
    args, kwargs = recorded
    kept = {} if kept is None else kept
    errors = []
    children = _called_children(module)
    descendants = _composite_descendants(module)
    attempts = [descendants] + ([children] if children != descendants else [])
    if id(module) in kept:
        attempts.insert(0, kept[id(module)])
    for preserve in dict.fromkeys(attempts):
        try:
            unflat = _export_once(module, args, kwargs, preserve, dims)
        except ParameterWriteError:
            raise
        except Exception as exc:
            errors.append(_export_failure(exc))
            continue
        kept[id(module)] = preserve
        return unflat
    # keep the signatures export can keep, one child at a time: a child whose input is an
    # eval-mode Dropout's output (removed by export) cannot be preserved
    unflat, preserve = None, ()
    for child in children:
        try:
            unflat = _export_once(module, args, kwargs, preserve + (child,), dims)
            preserve += (child,)
        except Exception as exc:
            errors.append(_export_failure(exc))
    if unflat is None:
        try:
            unflat = _export_once(module, args, kwargs, (), dims)
        except Exception as exc:
            errors.append(_export_failure(exc))
            raise TrtgenError(
                f"cannot capture module {path or '<root>'} ({type(module).__name__}): "
                f"symbolic tracing and torch.export both failed: {errors[-1]}"
            ) from None
    kept[id(module)] = preserve
    return unflat


# torch.export ends its message with the user's line that failed
_FAILED_CALL = re.compile(
    r'The following call raised this error:\s*File "([^"]+)", line (\d+), in \S+\s*\n\s*(.+)'
)


def _export_failure(exc):
    """One line for why an export failed: its first line, and the model's line that failed."""
    text = str(exc)
    line = text.splitlines()[0] if text else type(exc).__name__
    if isinstance(exc, GuardOnDataDependentSymNode):
        line = f"the control flow depends on tensor values, which a TensorRT network cannot follow ({line.strip()})"
    where = _FAILED_CALL.search(text)
    if where:
        path, number, code = where.groups()
        line += f" at {os.path.basename(path)}:{number} `{code.strip()}`"
    return line


def _changing_dims(first, second):
    """Per module: its recorded inputs with, for each tensor, the dims whose size differs
    between two runs (a pytree of sets, None for non-tensors)."""

    def dims(a, b):
        if not isinstance(a, torch.Tensor) or not isinstance(b, torch.Tensor) or a.ndim != b.ndim:
            return None
        return {i for i, (x, y) in enumerate(zip(a.shape, b.shape)) if x != y}

    changing = {}
    for key, (args, kwargs) in first.items():
        if key not in second:
            continue
        try:
            changing[key] = torch.utils._pytree.tree_map(dims, (args, kwargs), second[key])
        except Exception:  # the structure changed with the shapes (or a pytree node, such as
            # a PackedSequence, cannot hold dim sets): keep it static
            continue
    return changing


def check_module_names(model):
    """torch.fx writes module names into the Python code of its graphs inside ``"..."``,
    unescaped: a name holding a quote, a backslash or a line break would not trace, or would
    run as code. Such names are refused before anything is traced."""
    for path, _ in model.named_modules():
        bad = next((c for c in '"\\\n\r\0' if c in path), None)
        if bad is not None:
            raise TrtgenError(
                f"module {path!r}: its name holds {bad!r}, which torch.fx cannot trace (it writes "
                "module names into code unescaped); rename it (the ModuleDict key or add_module name)"
            )


class _ProbeRuns:
    """The model's runs on probes (``dynamic.Probes``), made when a module first needs
    torch.export: symbolic traces read sizes from tensors already, and pay nothing.

    ``"probe"``: the first candidate the model runs on; ``"requested"``: the ``--dynamic`` dims
    alone, for a module whose export fails on the first."""

    def __init__(self, model, run, probes):
        self.model, self.recorded, self.probes = model, run.inputs, probes
        self.runs = {}  # name -> RecordedRun, shared with every Capture
        self._made = {}  # name -> (changing dims per module, requested_only), or None

    def get(self, name):
        """(changing dims per module, run, requested_only) of probe ``name``, or None."""
        if name not in self._made:
            self._made[name] = self._make(name)
        made = self._made[name]
        return None if made is None else (made[0], self.runs[name], made[1])

    def _make(self, name):
        if self.probes is None:
            return None
        if name == "probe":
            candidates = self.probes.candidates
        else:
            chosen = self.get("probe")
            if self.probes.requested is None or chosen is None or chosen[2]:
                return None  # no --dynamic dims, no probe, or the requested one was chosen
            candidates = [self.probes.requested]
        for probe in candidates:
            try:
                self.runs[name] = _probe_run(self.model, probe.inputs)
            except Exception as exc:
                if probe.requested_only:  # the --dynamic dims alone: an error, as before probes
                    raise TrtgenError(
                        f"the model does not run with its --dynamic dims resized to "
                        f"{_shapes_text(probe.inputs)}: {_export_failure(exc)}"
                    ) from exc
                continue  # fewer resized dims
            return _changing_dims(self.recorded, self.runs[name].inputs), probe.requested_only
        return None


def _shapes_text(inputs):
    return ", ".join("x".join(map(str, getattr(t, "shape", ()))) or "()" for t in inputs)


def _probe_run(model, inputs):
    """``record_run`` on a probe, the model's buffers left as they were (a cache a module grows
    for the longer probe, running statistics): the network's weights are read after capture."""
    saved = [
        (owner, name, buffer, buffer.clone())
        for owner in model.modules()
        for name, buffer in owner._buffers.items()
        if buffer is not None
    ]
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return record_run(model, inputs)
    finally:
        with torch.no_grad():
            for owner, name, buffer, value in saved:
                owner._buffers[name] = buffer
                if buffer.shape == value.shape:
                    buffer.copy_(value)


def _plain_values(value):
    return [
        leaf
        for leaf in torch.utils._pytree.tree_leaves(value)
        if not isinstance(leaf, torch.Tensor)
    ]


def _same_plain_values(a, b):
    """Do two calls pass the same non-tensor values? torch.export bakes them into the graph as
    constants (``forward(x, H, W)`` with H and W computed from sizes)."""
    a, b = _plain_values(a), _plain_values(b)
    return len(a) == len(b) and all(x is y or _equal_values(x, y) for x, y in zip(a, b))


def _reproduces(unflat, recorded, result):
    """Does the export, run on the example's inputs, return what the module returned then? An
    export on a probe may have taken a branch on a size, or assumed a range of sizes, that the
    example's sizes do not follow."""
    if recorded is None or result is None:
        return False
    args, kwargs = recorded

    def run():
        with torch.no_grad(), warnings.catch_warnings(), contextlib.redirect_stderr(io.StringIO()):
            warnings.simplefilter("ignore")
            return unflat(*_clone(args), **_clone(kwargs))

    try:
        got = run()
    except Exception:
        return False
    want = [t for t in torch.utils._pytree.tree_leaves(result) if isinstance(t, torch.Tensor)]
    got = [t for t in torch.utils._pytree.tree_leaves(got) if isinstance(t, torch.Tensor)]
    return len(want) == len(got) and all(_same_values(a, b) for a, b in zip(want, got))


def _exported(path, module, run, probes, exports, kept):
    """torch.export ``module``: (unflattened, the probe run it was exported on or None).

    On the probe first, its changing dims symbolic; an export failing there, or not
    reproducing the example's result, is made again on the ``--dynamic`` probe, then on the
    example's inputs, static (as without probes). Only a failure on the ``--dynamic`` dims is an
    error: the dims capture chose to vary itself never stop a model from converting."""
    recorded, result = run.inputs.get(id(module)), run.outputs.get(id(module))
    for name in ("probe", "requested", None):
        dims, inputs, strict = None, recorded, False
        if name is not None:
            probe = probes.get(name)
            if probe is None:
                continue
            changing, probe_run, strict = probe
            dims, inputs = changing.get(id(module)), probe_run.inputs.get(id(module))
            if not _any_dynamic(dims) or inputs is None:
                if name == "probe":  # its inputs keep their sizes: static, as without probes
                    name, dims, inputs, strict = None, None, recorded, False
                else:
                    continue
            elif not _same_plain_values(inputs, recorded):
                if strict:
                    raise TrtgenError(
                        f"cannot capture module {path or '<root>'} ({type(module).__name__}) "
                        "with dynamic dims: it receives Python values that change with the input "
                        "sizes, which torch.export makes constants; pass them as tensors or "
                        "compute them from tensor sizes inside the module"
                    )
                continue
        unflat = None
        if inputs is not None:
            unflat = PreservedCall.find(
                exports, path, module, inputs, name, _called_children(module)
            )
        if unflat is not None:
            return unflat, name
        try:
            unflat = _export(module, inputs, path, dims, kept)
        except TrtgenError:
            if strict or name is None:
                raise
            continue
        if name is None or strict or _reproduces(unflat, recorded, result):
            return unflat, name
    raise AssertionError("the static export is always tried")


def capture(model, example_inputs, probes=None, run=None):
    """Graphs for the root and every composite module reachable from it, in model order.

    ``probes``: ``dynamic.Probes``, example inputs with dims resized; module input dims that
    change with them stay symbolic in torch.export captures. ``run``: a ``RecordedRun`` of
    the example inputs, when the caller already has one.
    """
    check_module_names(model)
    captures = []
    run = run or record_run(model, example_inputs)
    recorded, returned = run.inputs, run.outputs
    probe_runs = _ProbeRuns(model, run, probes)
    pending = [("", model)]
    seen = set()
    exports = []  # (path, unflattened, probe run name) of every module captured with torch.export
    kept = {}  # id(module) -> the child calls its export kept the signatures of
    while pending:
        path, module = pending.pop(0)
        if id(module) in seen:
            continue
        seen.add(id(module))
        try:
            graph, params = _symbolic(
                module, recorded.get(id(module)), returned.get(id(module)), run
            )
            mode = "symbolic_trace"
            unflat, exported_on = None, None
        except Exception:  # data-dependent Python: torch.export it, children stay calls
            # a module whose input sizes change with a probe is exported on the probe's
            # inputs: its sizes stay symbolic (torch.export specializes dims of size 1 as well,
            # and the example often has batch 1)
            unflat, exported_on = _exported(path, module, run, probe_runs, exports, kept)
            exports.append((path, unflat, exported_on))
            graph, mode, params = (
                unflat.graph,
                "torch.export",
                tensor_params(module, recorded.get(id(module)))[0],
            )
        result = returned.get(id(module))
        captures.append(
            Capture(
                path,
                module,
                graph,
                mode,
                params,
                unflat,
                recorded.get(id(module)),
                None if result is None else type(result),
                result=result,
                probe_runs=probe_runs.runs,
                exported_on=exported_on,
            )
        )
        for node in graph.nodes:
            if node.op == "call_module":
                child = module.get_submodule(node.target)
                child_path = f"{path}.{node.target}" if path else node.target
                for sub_path, sub in _composites(child, child_path):
                    pending.append((sub_path, sub))
    return captures


def _composites(module, path):
    """``module`` itself if composite, else the composites nested in a leaf container."""
    if not is_leaf(module):
        return [(path, module)]
    found = []
    for name, child in module.named_children():
        found.extend(_composites(child, f"{path}.{name}"))
    return found
