"""The ``forward`` body of one generated class, from that module's fx graph.

One statement per op, variables named after the model's own names (fx derives them from
module attributes and ops), child modules called as ``self.<path>(...)``.
"""

import dataclasses
import os
import re

import torch

from . import child_calls, layer_loops, passes, pysource, pytree, source_names, unpack
from .normalize import normalize
from .rules import PLUGIN_RULE, helper_rules, lowering_for, unsupported_name


@dataclasses.dataclass
class ForwardCode:
    params: list  # "x", "mask=None"
    lines: list
    unsupported: list  # (op name, where)
    placeholders: list = dataclasses.field(default_factory=list)  # (op name, where) as plugins
    # numeric literals of the ops in graph order: (value, hint for a parameter name); ``lines``
    # hold ``literal_marker(k)`` where literal ``k`` goes, the class plan fills them in
    # (inline, or ``self.<parameter>`` where the instances of a class differ)
    literals: list = dataclasses.field(default_factory=list)


def _unsupported_where(capture, node):
    where = capture.path or "<model>"
    return f"{where} ({type(capture.module).__name__}.forward{_source_line(node)})"


def _source_line(node):
    """`` at model.py:12`` from the node's recorded stack trace, innermost user frame."""
    frame = source_names.user_frame(node)
    return f" at {os.path.basename(frame[0])}:{frame[1]}" if frame else ""


def _placeholder(capture, node, names, params, constants, taken):
    """Forward parameters that receive tensors stay; the others are the values seen at run time."""
    target = node.target.lstrip("*")
    flattened = re.fullmatch(r"(.+)_(\d+)", target)
    if (
        capture.params is not None
        and target not in capture.params
        and flattened
        and flattened.group(1) in capture.params
    ):  # export flattened a list parameter: x_1 is x[1]
        original = flattened.group(1)
        name = next((w for w, o in params.items() if o == original), None)
        if name is None:
            name = pysource.legal_name(original, taken)
            taken.add(name)
            params[name] = original
        names[node] = f"{name}[{flattened.group(2)}]"
        return
    if capture.params is not None and target not in capture.params:
        names[node] = (
            pysource.value(constants.get(target), names)
            if _literal(constants.get(target))
            else "None"
        )
        return
    name = pysource.legal_name(target, taken)
    names[node] = name
    taken.add(name)
    params[name] = target


def constant_attribute(capture, target):
    """The attribute network.py reads for ``target``: renamed when the capture made it up.
    Chosen once per capture, so the constructor, the forward and the weights keys agree."""
    import layers

    if getattr(capture, "constant_names", None) is None:
        module = capture.module
        taken = set(module._modules) | set(module._parameters) | set(module._buffers)
        taken |= {n.target.split(".")[0] for n in capture.graph.nodes if n.op == "get_attr"}
        taken |= set(dir(layers.Sequential)) | pysource.RESERVED
        capture.constant_names = source_names.constant_names(capture, taken)
    return capture.constant_names.get(target, target)


def _literal(v):
    return v is None or isinstance(v, (bool, int, float, str))


def _call(op, rule, names):
    """Python source of one op; operands that are expressions get parentheses where needed.
    Numeric literals of the arguments are written as literal markers (``_Names.literal``),
    numbered in graph order: instances with one structure number theirs alike."""
    if rule.kind == "plugin":
        return _plugin_call(op, names)
    if rule.kind == "getitem":  # which item or slice is structure
        return f"{names.operand(op.args[0])}[{pysource.index(op.args[1], names)}]"
    if rule.kind == "getattr":
        return f"{names.operand(op.args[0])}.{op.args[1]}"
    parameters = _parameter_names(op, rule)

    def argument(i):
        return _argument(op.args[i], names, parameters[i] if i < len(parameters) else None, op)

    def operand(i):
        a = op.args[i]
        return names.operand(a) if isinstance(a, torch.fx.Node) else argument(i)

    def keywords():
        return [f"{k}={_argument(v, names, k, op)}" for k, v in op.kwargs.items()]

    if rule.kind == "infix" and set(op.kwargs) <= {"alpha"}:
        if op.name in ("add", "sub") and "alpha" in op.kwargs:
            first = operand(0)
            alpha = _argument(op.kwargs["alpha"], names, "alpha", op)
            return f"{first} {rule.symbol} {alpha} * {operand(1)}"
        first = operand(0)
        return f"{first} {rule.symbol} {operand(1)}"
    if rule.kind == "infix":  # torch.div(x, y, rounding_mode="floor"): the call says more than `/`
        args = [argument(i) for i in range(len(op.args))]
        return f"F.{op.name}({', '.join(args + keywords())})"
    if rule.kind == "prefix":
        return f"{rule.symbol}{operand(0)}"
    if rule.kind == "helper":
        args = [argument(i) for i in range(len(op.args))]
        return f"{rule.render.__name__}({', '.join(args + keywords())})"
    if op.method:
        first = names.operand(op.args[0])
        rendered = ", ".join([argument(i) for i in range(1, len(op.args))] + keywords())
        return f"{first}.{op.name}({rendered})"
    return f"F.{op.name}({', '.join([argument(i) for i in range(len(op.args))] + keywords())})"


def _plugin_call(op, names):
    """``F.plugin("linalg_inv", [x], fields={...})``: the op's tensors in, its other arguments as fields."""
    import torch.fx as fx

    inputs = [a for a in op.args if isinstance(a, fx.Node)]
    fields = {
        f"arg{i}": a for i, a in enumerate(op.args) if not isinstance(a, fx.Node) and _literal(a)
    }
    fields.update(
        {k: v for k, v in op.kwargs.items() if not isinstance(v, fx.Node) and _literal(v)}
    )
    inputs += [v for v in op.kwargs.values() if isinstance(v, fx.Node)]
    rendered = "[" + ", ".join(pysource.value(i, names) for i in inputs) + "]"
    return f"F.plugin({op.name!r}, {rendered}, fields={pysource.value(fields, names)})"


class _Names(dict):
    """node → source: a variable name, or the whole expression of a node inlined at its one use."""

    def __init__(self):
        super().__init__()
        self.compound = set()  # nodes whose source is an operator expression
        self.statements = set()  # nodes the model's source assigns to a name: never inlined
        self.literals = []  # (value, hint) of each literal marker written so far

    def literal(self, value, hint):
        """A marker standing for the numeric literal ``value``; the class plan writes it inline,
        or as ``self.<parameter>`` where instances of one class have different values."""
        self.literals.append((value, hint))
        return literal_marker(len(self.literals) - 1)

    def operand(self, value):
        text = pysource.value(value, self)
        return f"({text})" if isinstance(value, torch.fx.Node) and value in self.compound else text


def _returned(capture, value, names):
    """``return`` source; a transformers ModelOutput stays one (``nn.ModelOutput(...)``)."""
    if capture.unflattened is not None:  # export returns flat leaves: rebuild the structure
        value = pytree.restructure(capture.unflattened, value)
    text = pysource.value(value, names)
    output_type = capture.output_type
    if (
        isinstance(value, dict)
        and output_type is not None
        and output_type is not dict
        and issubclass(output_type, dict)
    ):
        return f"nn.ModelOutput({text})"
    return text


def _recorded_constants(capture):
    from ..capture.graphs import tensor_params

    if capture.recorded is None:
        return {}
    return tensor_params(capture.module, capture.recorded)[1]


_MAX_INLINE_DEPTH = 2

_LITERAL = "\2"
_LITERAL_MARKER = re.compile("\2(\\d+)\2")
# arguments that pick axes: a list of them (a permutation) is one literal, not one per axis
_AXIS_ARGUMENT = re.compile(r"(^|_)(dim|dims|dim\d|axis|axes)$")


def literal_marker(index):
    return f"{_LITERAL}{index}{_LITERAL}"


def fill_literals(line, source):
    """``line`` with every literal marker replaced by ``source(index)``."""
    return _LITERAL_MARKER.sub(lambda m: source(int(m.group(1))), line)


def _liftable(v):
    return type(v) is int or (type(v) is float and v == v and abs(v) != float("inf"))


def _argument(v, names, parameter, op):
    """Source for one op argument: numbers (also inside shape lists and tuples) as literal
    markers, axis arguments and everything else as they are."""
    if isinstance(v, torch.fx.Node):
        return pysource.value(v, names)
    if parameter and _AXIS_ARGUMENT.search(parameter):  # an axis or a permutation: one literal
        if _liftable(v):
            return names.literal(v, parameter)
        if isinstance(v, (list, tuple)) and v and all(type(x) is int for x in v):
            return names.literal(list(v) if isinstance(v, list) else tuple(v), parameter)
        return pysource.value(v, names)
    if not parameter or parameter in ("input", "x", "other", "self", "tensor"):
        hint = op.name  # ``mul``
    elif parameter in ("shape", "size", "sizes"):
        hint = f"{op.name}_{parameter}"  # ``view_shape``
    else:
        hint = parameter  # ``scale``, ``eps``
    if _liftable(v):
        return names.literal(v, hint)
    # fx keeps lists as its immutable_list; a named tuple is not a shape
    if (isinstance(v, list) or type(v) in (tuple, torch.Size)) and any(_liftable(x) for x in v):
        inner = [_argument(x, names, parameter, op) for x in v]
        if isinstance(v, list):
            return "[" + ", ".join(inner) + "]"
        return f"({inner[0]},)" if len(inner) == 1 else "(" + ", ".join(inner) + ")"
    return pysource.value(v, names)


def _parameter_names(op, rule):
    """Names of the parameters ``op.args`` bind (``F.view(x, *shape)``: x, shape, shape...)."""
    import inspect

    from layers import functional

    function = rule.render if rule.kind == "helper" else getattr(functional, op.name, None)
    try:
        signature = inspect.signature(function).parameters.values()
    except (TypeError, ValueError):
        return []
    names = []
    for parameter in signature:
        if parameter.kind in (parameter.KEYWORD_ONLY, parameter.VAR_KEYWORD):
            break
        names.append(parameter.name)
        if parameter.kind is parameter.VAR_POSITIONAL:  # binds every argument from here on
            names += [parameter.name] * max(0, len(op.args) - len(names))
            break
    return names


def _kind(node):
    """(rule, op) for call nodes; rules decide aliasing, dropping and syntax."""
    op = normalize(node)
    return lowering_for(op), op


def forward_code(capture, captures_by_module, inline=True, optional=()):
    """``ForwardCode`` for one ``Capture``; unsupported ops are collected, not raised.

    A value used once, by the next statement, is written inline (``F.relu(self.bn1(x))``), at
    most two levels deep, so the body reads like the PyTorch ``forward``. Calls of the child
    modules in ``optional`` are written ``y = x if self.m is None else self.m(x)``.
    """
    module, graph = capture.module, capture.graph
    constants = _recorded_constants(capture)
    names, unsupported, placeholders = _Names(), [], []
    params = {}  # forward parameter as written → the model's own parameter name
    used_leaves = {}
    statements = []  # [node, text]
    taken = {rule.render.__name__ for rule in helper_rules()}  # never shadow a --rules helper
    kinds = {n: _kind(n) for n in graph.nodes if n.op in ("call_function", "call_method")}
    dropped = {n for n, (rule, _) in kinds.items() if rule is not None and rule.kind == "drop"}
    child_reads = lambda node: child_calls.read_nodes(capture, node, captures_by_module)
    live = passes.live_nodes(graph, dropped, passes.statement_reads(kinds, child_reads))
    names.statements = _source_statements(graph, live)
    depth = {}
    unpackings, unpacked = {}, {}  # call node -> Unpacking; getitem node -> its call
    loops, looped = {}, set()  # last call of a chain -> _Loop; the chain's other calls
    for chain in layer_loops.chains(capture, live):
        if not any(
            n.target in optional
            or unpack.unpacking(capture, n, live) is not None
            or child_calls.single_leaf(capture, n, captures_by_module)
            for n in chain.nodes
        ):
            loops[chain.nodes[-1]] = chain
            looped.update(chain.nodes[:-1])

    def emit(node, expression, compound=False):
        statements.append([node, expression, compound])

    for node in graph.nodes:
        if node not in live and node.op != "placeholder":  # unused inputs stay in the signature
            continue
        if node.op == "placeholder":
            _placeholder(capture, node, names, params, constants, taken)
        elif node in unpacked:
            pass  # named by its call's unpacking
        elif node in looped:
            pass  # written by the loop at the chain's last call
        elif node in loops:
            _inline_previous(statements, node, names, depth, inline=False)
            chain = loops[node]
            first = chain.nodes[0]
            target = pysource.attribute_path(module, chain.attr)
            emit(
                node,
                f"{target}[0]({child_calls.arguments(capture, first, captures_by_module, names)})",
            )
            carried = first.args[chain.carried]
            held, names[carried] = names[carried], _CARRIED
            loops[node] = _Loop(
                carried,
                target,
                chain.variable,
                child_calls.arguments(capture, first, captures_by_module, names),
            )
            names[carried] = held
            depth[node] = _MAX_INLINE_DEPTH  # the loop's result is a variable
        elif pytree.handles(node, capture):
            _inline_previous(statements, node, names, depth, inline=False)
            pytree.resolve(node, capture, names)
        elif node.op == "get_attr":
            names[node] = pysource.attribute_path(module, constant_attribute(capture, node.target))
        elif node.op == "call_module":
            _inline_previous(statements, node, names, depth, inline)
            call = child_calls.arguments(capture, node, captures_by_module, names)
            target = pysource.attribute_path(module, node.target)
            if node.target in optional:
                first = pysource.value(node.args[0], names)
                emit(node, f"{first} if {target} is None else {target}({call})")
                depth[node] = _MAX_INLINE_DEPTH  # keep it a statement of its own
            elif (unpacking := unpack.unpacking(capture, node, live)) is not None:
                emit(node, f"{target}({call})")  # ``out, (h, c) = self.lstm(x)``
                depth[node] = _MAX_INLINE_DEPTH
                unpackings[node] = unpacking
                for member, _ in unpacking.members():
                    names[member] = _placeholder_name(member)
                    while member is not node:  # the member and the tuples it sits in
                        unpacked[member] = node
                        member = member.args[0]
            else:  # a flattened export call stands for its only tensor: say which one
                emit(
                    node,
                    f"{target}({call})"
                    + child_calls.single_leaf(capture, node, captures_by_module),
                )
        elif (
            access := child_calls.flattened_result(capture, node, captures_by_module, used_leaves)
        ) is not None:
            _inline_previous(statements, node, names, depth, inline=False)
            names[node] = names.operand(node.args[0]) + access
        elif node.op in ("call_function", "call_method"):
            rule, op = kinds[node]
            if rule is None and capture.plugins:  # the user asked for placeholders
                rule = PLUGIN_RULE
                placeholders.append((op.name, _unsupported_where(capture, node)))
            if rule is None:
                unsupported.append((unsupported_name(op), _unsupported_where(capture, node)))
                names[node] = node.name
            elif rule.kind == "alias":
                _inline_previous(statements, node, names, depth, inline=False)
                names[node] = (
                    names[op.args[0]]
                    if isinstance(op.args[0], torch.fx.Node)
                    else pysource.value(op.args[0], names)
                )
            elif rule.kind == "drop":
                names[node] = "None"
            else:
                _inline_previous(statements, node, names, depth, inline)
                emit(node, _call(op, rule, names), rule.kind in ("infix", "prefix"))
        elif node.op == "output":
            _inline_previous(statements, node, names, depth, inline)
            statements.append([None, f"return {_returned(capture, node.args[0], names)}", False])
    lines = []
    assigned = source_names.assigned_names([node for node, _, _ in statements if node is not None])
    variables = _Variables(
        (taken - set(params)) | _module_level_names(captures_by_module), statements, params
    )
    for index, (node, text, _) in enumerate(statements):
        if node is None:
            lines.append(text)
            continue
        if node in unpackings:
            lines.append(f"{_unpack_target(unpackings[node], names, variables, index)} = {text}")
            continue
        if node in loops:
            lines += _loop_lines(loops[node], node, names, assigned, kinds, variables, index)
            continue
        name = variables.assign(
            assigned.get(node) or _statement_name(node, names, kinds), node.name, index
        )
        names[node] = name
        lines.append(f"{name} = {text}")
    written = list(params)
    if capture.params is not None:  # the order callers pass them in (export may have reordered)
        order = capture.params + [p for p in params.values() if p not in capture.params]
        written.sort(key=lambda p: order.index(params[p]))
    starred = child_calls.var_positional(capture.module)
    written = [f"*{p}" if params[p] == starred else p for p in written]
    bound = [member for u in unpackings.values() for member, _ in u.members()]
    lines = _rename(lines, statements, names, bound)
    return ForwardCode(written, lines, unsupported, placeholders, names.literals)


_CARRIED = "\1"  # the loop's carried variable in its call, until it is named


@dataclasses.dataclass
class _Loop:
    input: torch.fx.Node  # what the first call reads
    container: str  # ``self.layer``
    variable: str  # preferred loop variable
    call: str  # arguments of each call, _CARRIED for the carried value


def _loop_lines(loop, node, names, assigned, kinds, variables, index):
    """``for layer in self.layer:`` and its one statement; the carried variable keeps the
    input's name when that is free, else starts as a copy of it."""
    start = pysource.value(loop.input, names)
    preferred = (
        start if start.isidentifier() else assigned.get(node) or _statement_name(node, names, kinds)
    )
    carried = variables.assign(preferred, node.name, index)
    names[node] = carried
    call = loop.call.replace(_CARRIED, carried)
    words = set(re.findall(r"\w+", call)) | {carried}
    variable = loop.variable if loop.variable not in words else f"{loop.variable}_"
    variable = variables.assign(variable, None, index, fixed=True)
    while variable in words:
        variable = variables.assign(f"{variable}_", None, index, fixed=True)
    lines = [] if start == carried else [f"{carried} = {start}"]
    return lines + [f"for {variable} in {loop.container}:", f"    {carried} = {variable}({call})"]


def _unpack_target(unpacking, names, variables, index):
    """Name every value an unpacking binds (legal, unique) and return its left-hand side."""
    for leaf in unpacking.leaves():
        name = variables.assign(leaf.name, None, index, fixed=True)
        for member in leaf.nodes:
            names[member] = name
    return unpacking.target(names)


def _source_statements(graph, live):
    """Values the model's source names in a statement of their own (``context = ...``, then
    ``x = self.out(context)``): written as that statement, as the model writes them."""
    nodes = [n for n in graph.nodes if n in live and n.op in ("call_function", "call_method")]
    nodes += [n for n in graph.nodes if n in live and n.op == "call_module"]
    named = source_names.assigned_names(nodes)
    return {
        node
        for node in named
        if all(
            source_names.statement(user) is not source_names.statement(node) for user in node.users
        )
    }


def _inline_previous(statements, user, names, depth, inline=True):
    """Fold the previous statement into ``user`` when ``user`` is its only consumer."""
    if not statements or statements[-1][0] is None:
        return
    node, text, compound = statements[-1]
    if (
        not inline
        or node in names.statements
        or _uses(node, user) != 1
        or len(node.users) != 1
        or depth.get(node, 0) >= _MAX_INLINE_DEPTH
    ):
        names[node] = _placeholder_name(node)
        return
    statements.pop()
    names[node] = text
    if compound:
        names.compound.add(node)
    depth[user] = depth.get(node, 0) + 1


def _uses(node, user):
    """How often ``user`` reads ``node`` (``attn(q, q, q)`` reads it three times)."""
    count = [0]

    def visit(arg):
        if arg is node:
            count[0] += 1
        return arg

    torch.fx.node.map_arg((user.args, user.kwargs), visit)
    return count[0]


def _statement_name(node, names, kinds):
    """A short name for a value the model's source does not name: what made it (``conv1``,
    ``matmul``, ``qkv_0`` for an item of ``qkv``, ``attention_mask_size3`` for a run-time size)."""
    if node.target is torch.ops.aten.sym_size.int and isinstance(node.args[0], torch.fx.Node):
        tensor = names[node.args[0]]
        if tensor.isidentifier():
            return f"{tensor}_size{node.args[1]}"
    if node.op == "call_module":
        parts = node.target.split(".")
        while len(parts) > 1 and parts[-1].isdigit():
            parts[-2:] = [f"{parts[-2]}_{parts[-1]}"]
        # ``self.self(...)`` (BERT) is not a variable name of its own: its output is
        return parts[-1] if pysource.legal_name(parts[-1]) == parts[-1] else f"{parts[-1]}_out"
    if node in kinds:
        rule, op = kinds[node]
        if rule is not None and rule.kind == "getitem":
            source = names.get(op.args[0]) if isinstance(op.args[0], torch.fx.Node) else None
            if (
                source is not None
                and source.isidentifier()
                and type(op.args[1]) is int
                and op.args[1] >= 0
            ):
                return f"{source}_{op.args[1]}"
            if (
                isinstance(op.args[1], str) and op.args[1].isidentifier()
            ):  # out["last_hidden_state"]
                return op.args[1]
            return "item"
        if rule is not None and rule.kind == "getattr" and isinstance(op.args[1], str):
            return op.args[1]
        return op.name
    return re.sub(r"_\d+$", "", node.name)


def _module_level_names(captures_by_module):
    """Names a forward's variables must leave alone: the generated file's globals and classes."""
    classes = {type(capture.module).__name__ for capture in captures_by_module.values()}
    return set(pysource.TEMPLATE_GLOBALS) | classes


_PLACEHOLDER = re.compile("\0([^\0]*)\0")


class _Variables:
    """Variable names of one forward, chosen statement by statement.

    A statement takes its preferred name (``x``), or ``x_1``, ``x_2``... when that is taken. A
    name is taken while the value it holds is still read later (a placeholder of the value, or
    a forward parameter, in a later statement): once that value is dead the name may be
    assigned again, as ``x = self.conv(x)`` does in the model. Globals, classes, helpers and
    names an unpacking binds are never reassigned.
    """

    def __init__(self, fixed, statements, params):
        self.fixed = set(fixed)
        self.last_use = {}  # node name or parameter → index of the last statement reading it
        words = re.compile(r"[^\W\d]\w*")
        for index, (_, text, _) in enumerate(statements):
            for key in _PLACEHOLDER.findall(text):
                self.last_use[key] = index
            # parameters are written as themselves: any word equal to one may read it
            for word in words.findall(_PLACEHOLDER.sub(" ", text)):
                if word in params:
                    self.last_use[("param", word)] = index
        self.holder = {name: ("param", name) for name in params}  # variable → value it holds

    def _free(self, name, index):
        if name in self.fixed or not name.isidentifier():
            return False
        held = self.holder.get(name)
        return held is None or self.last_use.get(held, -1) <= index

    def assign(self, preferred, key, index, fixed=False):
        """The name statement ``index`` binds the value ``key`` (a node name) to; ``fixed``
        names (an unpacking's) are never reassigned afterwards."""
        stem = pysource.legal_name(preferred, self.fixed)
        name, n = stem, 0
        while not self._free(name, index) or (fixed and name in self.holder):
            n += 1
            name = pysource.legal_name(f"{stem}_{n}", self.fixed)
        if fixed:
            self.fixed.add(name)
        else:
            self.holder[name] = key
        return name


def _placeholder_name(node):
    return f"\0{node.name}\0"  # resolved to the final variable name after all statements


def _rename(lines, statements, names, bound=()):
    import re

    final = {}
    for node, _, _ in statements:
        if node is not None:
            final[node.name] = names[node]
    for node in bound:  # values an unpacking statement binds
        final[node.name] = names[node]
    return [
        re.sub("\0([^\0]*)\0", lambda m: final.get(m.group(1), m.group(1)), line) for line in lines
    ]
