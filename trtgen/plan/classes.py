"""The emit plan: one class per module class, constructor parameters where instances differ.

Each composite module instance is described by its constructor (children as constructor calls
with literal arguments, its own parameters with literal shapes) and its forward code, whose
numeric literals (a view's sizes, a scale) are slots too. Instances of one Python class with
the same structure share a generated class; the literals that differ between them become
constructor parameters, named after the user's own ``__init__`` parameters when their recorded
values line up (``Bottleneck(inplanes, planes, stride)``), else after an attribute the module
keeps (``self.num_heads``). A forward literal that differs is read as ``self.<parameter>``.
"""

import collections
import dataclasses
import inspect
import re

import torch

from ..emit.escape import is_attribute_name
from ..errors import TrtgenError, UnsupportedOpsError
from . import library, passes, pysource
from .forward import constant_attribute, fill_literals, forward_code
from .items import ANY, Ctor, Slot
from .merge import merge_optional_children
from .variants import merge_variants


@dataclasses.dataclass
class Instance:
    path: str
    module: torch.nn.Module
    init: list  # [(attribute, Ctor | Slot | ("param", ("shape", [Slot]), dtype))]
    forward: object  # ForwardCode or None for Sequential-like classes
    sequential_like: bool
    capture: object = None
    group: "ClassPlan" = None
    template: tuple = None
    constants: dict = None  # state_dict-style key -> tensor for capture-made constants


@dataclasses.dataclass
class ClassPlan:
    name: str
    torch_class: str  # qualified name of the PyTorch class
    base: str
    params: list  # [(name, default source or None)]
    init_lines: list
    super_args: str
    forward_params: list
    forward_lines: list
    instances: list
    slot_names: dict  # slot index → parameter name


@dataclasses.dataclass
class NetworkPlan:
    classes: list  # ClassPlan, dependencies first
    root: ClassPlan
    root_ctor: str
    capture_modes: list
    constants: dict  # weights that are not in the model's state_dict
    placeholders: list = dataclasses.field(
        default_factory=list
    )  # (op, count, where) plugin placeholders


# --------------------------------------------------------------------------- per instance


def _leaf_ctor(module):
    cls = library.layers_class(module)
    if (
        cls is None
    ):  # a composite the model never calls as a module (layer.forward(x), weights only)
        raise TrtgenError(
            f"{type(module).__name__} is used without being called as a module (e.g. its .forward() "
            "or another method is called directly); trtgen cannot capture it yet. Call it as "
            "module(...) in the model, or register a lowering rule for the function it runs."
        )
    args = []
    for name, value, default, positional in library.constructor_args(module):
        args.append((None if positional else name, Slot(value), default))
    return Ctor(f"nn.{cls.__name__}", args)


def _child_ctor(module, instances_by_id):
    if module is None:
        return Slot(None)
    if id(module) in instances_by_id:
        return ("instance", instances_by_id[id(module)])
    if isinstance(module, (torch.nn.Sequential, torch.nn.ModuleList)) and type(module) in (
        torch.nn.Sequential,
        torch.nn.ModuleList,
    ):
        names = list(module._modules)
        children = [_child_ctor(m, instances_by_id) for m in module._modules.values()]
        if isinstance(module, torch.nn.Sequential) and names != [str(i) for i in range(len(names))]:
            return Ctor("nn.Sequential", [(None, ("odict", list(zip(names, children))), None)])
        if isinstance(module, torch.nn.ModuleList):
            return Ctor("nn.ModuleList", [(None, ("list", children), None)])
        return Ctor("nn.Sequential", [(None, c, None) for c in children])
    # a bare nn.Module only holds children (torch.fx's GraphModule rebuilds submodule paths so)
    if isinstance(module, torch.nn.ModuleDict) or type(module) is torch.nn.Module:
        items = [(k, _child_ctor(m, instances_by_id)) for k, m in module._modules.items()]
        return Ctor("nn.ModuleDict", [(None, ("dict", items), None)])
    return _leaf_ctor(module)


_DTYPES = {
    torch.float32: "nn.float32",
    torch.float16: "nn.float16",
    torch.bfloat16: "nn.bfloat16",
    torch.int64: "nn.int64",
    torch.int32: "nn.int32",
    torch.bool: "nn.bool",
    torch.int8: "nn.int8",
    torch.uint8: "nn.uint8",
}


def used_modules(captures):
    """ids of every module the network calls, and of the containers on the way to them."""
    used = set()
    for capture in captures:
        used.add(id(capture.module))
        for node in capture.graph.nodes:
            # a module is used when called, or when the forward reads its weights (swin's qkv)
            if node.op in ("call_module", "get_attr"):
                current = capture.module
                for part in node.target.split("."):
                    current = getattr(current, part, None)
                    if not isinstance(current, torch.nn.Module):
                        break
                    used.add(id(current))
    return used


def _param_item(tensor):
    """A weight in the constructor: each dim of its shape a literal of its own (``(nx, nf)``)."""
    return ("param", ("shape", [Slot(int(d)) for d in tensor.shape]), _DTYPES[tensor.dtype])


def _instance(capture, instances_by_id, captures_by_module, used):
    module = capture.module
    init = []
    for name, child in module._modules.items():
        # children the forward never calls (an eval-mode aux head) add nothing to the network
        if child is None or id(child) in used:
            init.append((name, _child_ctor(child, instances_by_id)))
    read = {node.target.split(".")[0] for node in capture.graph.nodes if node.op == "get_attr"}
    for name, tensor in list(module._parameters.items()) + list(module._buffers.items()):
        # only what the forward reads: a training-only buffer (num_batches_tracked) is not a weight
        if tensor is not None and (name in read or library.runs_as_sequential(module)):
            init.append((name, _param_item(tensor)))
    # tensors the capture created (fx/export constants such as a relative-position index)
    owner = capture.unflattened if capture.unflattened is not None else module
    constants = {}
    made = sorted(read - set(module._parameters) - set(module._buffers) - set(module._modules))
    for target in made:
        value = getattr(owner, target, None)
        name = constant_attribute(capture, target)
        if isinstance(value, torch.Tensor):
            init.append((name, _param_item(value)))
            constants[f"{capture.path}.{name}" if capture.path else name] = value
    sequential_like = library.runs_as_sequential(module)
    code = None if sequential_like else forward_code(capture, captures_by_module)
    return Instance(capture.path, module, init, code, sequential_like, capture, constants=constants)


# --------------------------------------------------------------------------- templates


def _walk(item, slots, out):
    """Append a structural key for ``item`` to ``out``, collect its Slots in order."""
    if isinstance(item, Slot):
        slots.append(item)
        out.append("?")
    elif isinstance(item, Ctor):
        out.append(item.callee + "(")
        for keyword, arg, _ in item.args:
            out.append(f"{keyword}=" if keyword else "")
            _walk(arg, slots, out)
            out.append(",")
        out.append(")")
    elif isinstance(item, tuple) and item and item[0] == "instance":
        key, child_slots = _template(item[1])
        out.append("<" + key + ">(")
        slots.extend(Slot(slot.value) for slot in child_slots)
        out.append(")")
    elif isinstance(item, tuple) and item and item[0] == "optional":
        out.append("optional(")
        _walk(item[1], slots, out)
        _walk(item[2], slots, out)
        out.append(")")
    elif isinstance(item, tuple) and item and item[0] == "param":
        out.append("param(")
        _walk(item[1], slots, out)
        out.append(item[2] + ")")
    elif isinstance(item, tuple) and item and item[0] == "shape":
        out.append("shape(" + "?," * len(item[1]) + ")")
        slots.extend(item[1])
    elif isinstance(item, tuple) and item and item[0] in ("list", "odict", "dict"):
        out.append(item[0] + "[")
        for entry in item[1]:
            if item[0] == "list":
                _walk(entry, slots, out)
            else:
                out.append(repr(entry[0]) + ":")
                _walk(entry[1], slots, out)
            out.append(",")
        out.append("]")
    else:
        raise TypeError(f"unexpected template item {item!r}")


def _template(instance):
    """(structural key, literal slots) of an instance; nested instances contribute theirs."""
    if instance.template is not None:
        return instance.template
    slots, out = [], [type(instance.module).__qualname__, "|"]
    for name, item in instance.init:
        out.append(name + "=")
        _walk(item, slots, out)
        out.append(";")
    if instance.forward is not None:  # its literal markers stand for the slots that follow
        out += ["|", repr(instance.forward.params), "\n".join(instance.forward.lines)]
        slots += [Slot(value) for value, _ in instance.forward.literals]
    instance.template = ("".join(out), slots)
    return instance.template


def _slot_values(instance):
    return [slot.value for slot in _template(instance)[1]]


# --------------------------------------------------------------------------- grouping


def _param_names(instances, varying, recorded, branches=()):
    """Name varying slots after the user's ``__init__`` parameters when values line up.
    ``branches``: slots of flags the forward branches on (``if self.shift_size:``), named
    first, after a parameter or attribute whose truth is the flag in every instance."""
    cls = type(instances[0].module)
    try:
        signature = inspect.signature(cls.__init__).parameters
    except (TypeError, ValueError):
        signature = {}
    columns = {}
    for index in varying:
        columns[index] = tuple(_slot_values(i)[index] for i in instances)
    names, by_column, defaults = {}, [], {}  # by_column: [(column, name)], values may be lists
    for index in [k for k in varying if k in branches] + [k for k in varying if k not in branches]:
        column = columns[index]
        known = next((n for c, n in by_column if _agree(c, column)), None)
        if known is not None:
            names[index] = known
            continue
        name = None
        flag = all(isinstance(v, bool) for v in column)
        matches = _truth_matches if index in branches else _presence_matches
        for pname in signature:
            if pname == "self" or pname in [n for _, n in by_column]:
                continue
            values = tuple(recorded.get(id(i.module), {}).get(pname, object()) for i in instances)
            if _agree(values, column) or (flag and matches(values, column)):
                name = pname
                default = signature[pname].default
                if flag and default is None:
                    defaults[name] = False
                elif default is not inspect.Parameter.empty and pysource_literal(default):
                    defaults[name] = default
                break
        if name is None and index in branches:
            name = _flag_attribute(instances, column, {n for _, n in by_column})
        if name is None:
            name = _attribute_name(instances, column, {n for _, n in by_column})
        if name is None:
            name = _fallback_name(instances[0], index, {n for _, n in by_column})
        names[index] = name
        by_column.append((column, name))
    return names, defaults


def _attribute_name(instances, column, taken):
    """An attribute the model keeps (``self.nf``, ``self.num_heads``) whose values are the column's."""
    if not all(
        isinstance(v, (int, float, tuple, list)) and not isinstance(v, bool)
        for v in column
        if v is not ANY
    ):
        return None
    for attribute in _attributes(instances[0].module, taken):
        values = tuple(_attribute_value(i.module, attribute) for i in instances)
        if _agree(values, column):
            return attribute
    return None


def _attributes(module, taken):
    """Attributes of ``module`` a parameter may be named after: public, legal, not taken."""
    import layers

    return [
        attribute
        for attribute in vars(module)
        if not attribute.startswith("_")
        and attribute not in taken
        and not hasattr(layers.Sequential, attribute)
        and pysource.legal_name(attribute) == attribute
    ]


def _attribute_value(module, attribute):
    value = vars(module).get(attribute, object())
    if type(value) in (int, float):
        return value
    if type(value) in (tuple, list) and all(type(v) is int for v in value):
        return value
    return object()


def _constant(column):
    known = [v for v in column if v is not ANY]
    return all(_same(known[0], v) for v in known)


def _agree(a, b):
    """Columns agree where both are known (ANY: the slot does not exist in that instance)."""
    return all(x is ANY or y is ANY or _same(x, y) for x, y in zip(a, b))


def _presence_matches(recorded_values, column):
    """A flag column (child present?) lines up with an init argument given a module or None."""
    return all(
        isinstance(c, bool) and (r is not None and r is not False) == c
        for r, c in zip(recorded_values, column)
    )


def _truth(value):
    """What a branch on ``value`` takes: a shift of ``[0, 0]`` is no shift."""
    if isinstance(value, (tuple, list)):
        return any(_truth(v) for v in value)
    if value is None or isinstance(value, (bool, int, float)):
        return bool(value)
    return None  # a module, a string: not a flag's value


def _truth_matches(recorded_values, column):
    """A branch flag lines up with a value the model keeps that is true exactly where the
    instance's graph takes the branch (the graph decides, never the value alone)."""
    return all(
        isinstance(c, bool) and _truth(r) is not None and _truth(r) == c
        for r, c in zip(recorded_values, column)
    )


def _flag_attribute(instances, column, taken):
    """An attribute the model keeps (``self.shift_size``) whose truth is the flag's column."""
    for attribute in _attributes(instances[0].module, taken):
        values = tuple(vars(i.module).get(attribute, object()) for i in instances)
        if _truth_matches(values, column):
            return attribute
    return None


def _same(a, b):
    try:
        return type(a) is type(b) and bool(a == b)
    except Exception:
        return False


def pysource_literal(value):
    return value is None or isinstance(value, (bool, int, float, str, tuple))


def _fallback_name(instance, index, taken):
    """The constructor argument the slot feeds (``padding``), or ``conv2_stride`` when taken."""
    position = 0
    for attribute, item in instance.init:
        slots, out = [], []
        _walk(item, slots, out)
        if index < position + len(slots):
            if (
                isinstance(item, tuple)
                and item
                and item[0] == "optional"
                and index == position + len(slots) - 1
            ):
                return pysource.legal_name(attribute, taken)
            keyword = _slot_keyword(item, index - position) or "arg"
            generic = keyword in ("arg", "shape", "modules") or re.fullmatch(r"size\d+", keyword)
            if not generic and pysource.legal_name(keyword, taken) == keyword:
                return keyword
            base = pysource.legal_name(f"{attribute}_{keyword}".lstrip("_"))
            name, n = base, 1
            while name in taken:
                n += 1
                name = f"{base}{n}"
            return name
        position += len(slots)
    literals = instance.forward.literals if instance.forward is not None else []
    if index - position < len(literals):  # a literal of the forward: what it is to the op
        base = pysource.legal_name(literals[index - position][1])
        name, n = base, 1
        while name in taken:
            n += 1
            name = f"{base}{n}"
        return name
    return f"arg{index}"


def _slot_keyword(item, offset):
    """Name of the innermost constructor argument that slot ``offset`` of ``item`` feeds."""
    if isinstance(item, Ctor):
        for keyword, arg, _ in item.args:
            slots, out = [], []
            _walk(arg, slots, out)
            if offset < len(slots):
                inner = _slot_keyword(arg, offset) if not isinstance(arg, Slot) else None
                return inner or keyword or _positional_name(item, keyword, arg)
            offset -= len(slots)
    if isinstance(item, tuple) and item and item[0] == "instance":
        group = item[1].group
        return group.slot_names.get(offset) if group is not None else None
    if isinstance(item, tuple) and item and item[0] in ("list", "odict", "dict", "optional"):
        entries = item[1] if item[0] != "optional" else [item[1]]
        for entry in entries:
            entry = entry[1] if item[0] in ("odict", "dict") else entry
            slots, out = [], []
            _walk(entry, slots, out)
            if offset < len(slots):
                return _slot_keyword(entry, offset)
            offset -= len(slots)
    if isinstance(item, tuple) and item and item[0] == "param":
        return f"size{offset}"  # the dim of the weight's shape: ``weight_size0``
    return None


def _positional_name(ctor, keyword, arg):
    index = [a for _, a, _ in ctor.args].index(arg)
    import layers

    cls = getattr(layers, ctor.callee.split(".")[-1], None)
    if cls is not None:
        params = [p for p in inspect.signature(cls.__init__).parameters if p != "self"]
        if index < len(params):
            return params[index]
    return "arg"


def _refuse_shadowed_methods(module, attributes):
    """A child or parameter named like a method of layers' Module (``load_weights``, ``to``)
    would replace that method on the generated class, and the network would not build."""
    import layers

    shadowing = [a for a in attributes if hasattr(layers.Sequential, a)]
    if shadowing:
        raise TrtgenError(
            f"{type(module).__qualname__} has {', '.join(map(repr, shadowing))}, named like a method "
            "of the generated network's modules (layers.Module); rename the attribute in the model"
        )


def _class_name(cls, taken):
    base = pysource.legal_name(cls.__name__, pysource.TEMPLATE_GLOBALS)
    name, n = base, 1
    while name in taken:
        n += 1
        name = f"{base}_{n}"
    return name


# --------------------------------------------------------------------------- rendering


def _render_item(item, values, names, position):
    """Source for a template item; ``position`` is a one-element list counting slots."""
    if isinstance(item, Slot):
        index = position[0]
        position[0] += 1
        return names.get(index) or pysource.value(values[index], {})
    if isinstance(item, Ctor):
        parts = []
        for keyword, arg, default in item.args:
            index = position[0]
            text = _render_item(arg, values, names, position)
            is_default = (
                isinstance(arg, Slot)
                and index not in names
                and default is not inspect.Parameter.empty
                and default is not None
                and _same(values[index], default)
            ) or (
                isinstance(arg, Slot)
                and index not in names
                and default is None
                and values[index] is None
            )
            if keyword and is_default:
                continue
            parts.append(f"{keyword}={text}" if keyword else text)
        return f"{item.callee}({', '.join(parts)})"
    kind = item[0]
    if kind == "instance":
        child = item[1]
        group = child.group
        start = position[0]
        position[0] += len(_template(child)[1])
        first_index = {}
        for index, pname in sorted(group.slot_names.items()):
            # the first slot this instance has (a weight of another variant's has no value)
            if pname not in first_index or values[start + first_index[pname]] in (ANY, None):
                first_index[pname] = index
        parts = []
        for pname, default in group.params:
            index = start + first_index[pname]
            text = names.get(index) or pysource.value(values[index], {})
            if default is not None and index not in names and text == default:
                continue
            parts.append(f"{pname}={text}" if default is not None else text)
        return f"{group.name}({', '.join(parts)})"
    if kind == "optional":
        ctor = _render_item(item[1], values, names, position)
        flag = _render_item(item[2], values, names, position)
        return f"{ctor} if {flag} else None"
    if kind == "param":
        shape = _render_item(item[1], values, names, position)
        return f"nn.Parameter({shape}, {item[2]})"
    if kind == "shape":
        dims = [_render_item(d, values, names, position) for d in item[1]]
        return f"({dims[0]},)" if len(dims) == 1 else "(" + ", ".join(dims) + ")"
    if kind == "list":
        return "[" + ", ".join(_render_item(e, values, names, position) for e in item[1]) + "]"
    if kind == "odict":
        body = ", ".join(f"({k!r}, {_render_item(e, values, names, position)})" for k, e in item[1])
        return f"collections.OrderedDict([{body}])"
    if kind == "dict":
        body = ", ".join(f"{k!r}: {_render_item(e, values, names, position)}" for k, e in item[1])
        return "{" + body + "}"
    raise TypeError(item)


def _class_plan(name, instances, recorded):
    first = instances[0]
    _, slots = _template(first)
    columns = [[_slot_values(i)[k] for i in instances] for k in range(len(slots))]
    varying = [k for k, column in enumerate(columns) if not _constant(column)]
    literals = len(first.forward.literals) if first.forward is not None else 0
    branches = {
        k
        for k in range(len(slots) - literals, len(slots))
        if all(isinstance(v, bool) for v in columns[k] if v is not ANY)
    }
    names, defaults = _param_names(instances, varying, recorded, branches)
    values = [next((v for v in column if v is not ANY), None) for column in columns]
    ordered = []
    for index in varying:
        if names[index] not in [n for n, _ in ordered]:
            default = defaults.get(names[index])
            ordered.append((names[index], None if default is None else pysource.value(default, {})))
    ordered = _signature_order(type(first.module), ordered)
    # parameters with defaults after those without, as Python requires
    ordered = [p for p in ordered if p[1] is None] + [p for p in ordered if p[1] is not None]
    position = [0]
    init_lines, super_args = [], ""
    rendered = [(attr, _render_item(item, values, names, position)) for attr, item in first.init]
    _refuse_shadowed_methods(first.module, [attr for attr, _ in rendered])
    forward_lines, kept = _forward_lines(
        first, position[0], values, names, {attr for attr, _ in rendered}, [n for n, _ in ordered]
    )
    if first.sequential_like and [a for a, _ in rendered] == [str(i) for i in range(len(rendered))]:
        super_args = ", ".join(text for _, text in rendered)
    elif first.sequential_like:  # named children keep their names (state_dict keys)
        super_args = (
            "collections.OrderedDict([" + ", ".join(f"({a!r}, {t})" for a, t in rendered) + "])"
        )
    else:
        init_lines = [f"self.{attr} = {name}" for name, attr in kept.items()]
        init_lines += [
            (
                f"self.{attr} = {text}"
                if is_attribute_name(attr)
                else f"self.add_module({attr!r}, {text})"
            )
            for attr, text in rendered
        ]
    cls = type(first.module)
    plan = ClassPlan(
        name=name,
        torch_class=f"{display_module(cls.__module__)}.{cls.__qualname__}",
        base="nn.Sequential" if first.sequential_like else "nn.Module",
        params=ordered,
        init_lines=init_lines,
        super_args=super_args,
        forward_params=[] if first.forward is None else first.forward.params,
        forward_lines=forward_lines,
        instances=instances,
        slot_names=names,
    )
    for instance in instances:
        instance.group = plan
    return plan


def _signature_order(cls, params):
    """Parameters named after the user's ``__init__`` parameters in its order, the others after."""
    try:
        signature = [p for p in inspect.signature(cls.__init__).parameters if p != "self"]
    except (TypeError, ValueError):
        return params
    return sorted(
        params, key=lambda p: signature.index(p[0]) if p[0] in signature else len(signature)
    )


def _forward_lines(instance, start, values, names, attributes, order):
    """The forward with its literal markers filled: inline where every instance has the same
    value, ``self.<parameter>`` where they differ. Returns the lines and the attributes the
    constructor keeps (parameter → attribute)."""
    if instance.forward is None:
        return [], {}
    import layers

    kept = {}

    def source(k):
        index = start + k
        if index not in names:
            return pysource.value(values[index], {})
        name = names[index]
        if name not in kept:
            attribute, n = name, 1
            # never over a child, weight or method of the generated module
            while (
                attribute in attributes
                or hasattr(layers.Sequential, attribute)
                or attribute in kept.values()
            ):
                n += 1
                attribute = f"{name}_{n}"
            kept[name] = attribute
        return f"self.{kept[name]}"

    lines = [fill_literals(line, source) for line in instance.forward.lines]
    return lines, {name: kept[name] for name in order if name in kept}


def display_module(name):
    """The user's module as they know it: ``resnet18``, not the loader's private import name."""
    from ..capture.load import USER_MODULE_PREFIX

    return name[len(USER_MODULE_PREFIX) :] if name.startswith(USER_MODULE_PREFIX) else name


def _collect(instances, field):
    """(op, count, [where...]) over every instance's forward, for ``unsupported`` or ``placeholders``."""
    found = collections.OrderedDict()
    for instance in instances:
        if instance.forward is None:
            continue
        for op, where in getattr(instance.forward, field):
            found.setdefault(op, []).append(where)
    return [(op, len(where), where) for op, where in found.items()]


def build_plan(captures, recorded_init_args, plugins=False):
    """``NetworkPlan`` for the captured model; raises ``UnsupportedOpsError`` listing every gap."""
    instances_by_id = {}
    instances = []
    captures_by_module = {id(c.module): c for c in captures}
    for capture in captures:
        capture.plugins = plugins
    passes.clean(captures)
    used = used_modules(captures)
    for capture in reversed(captures):  # children before parents
        instance = _instance(capture, instances_by_id, captures_by_module, used)
        instances_by_id[id(capture.module)] = instance
        instances.append(instance)
    merge_optional_children(instances, captures_by_module)
    merge_variants(instances, captures_by_module)
    unsupported = _collect(instances, "unsupported")
    if unsupported:
        raise UnsupportedOpsError(unsupported)
    placeholders = _collect(instances, "placeholders")
    classes, taken = [], set()
    groups = collections.OrderedDict()
    for instance in instances:
        groups.setdefault(_template(instance)[0], []).append(instance)
    for key, members in groups.items():
        plan = _class_plan(_class_name(type(members[0].module), taken), members, recorded_init_args)
        taken.add(plan.name)
        classes.append(plan)
    root = instances[-1].group
    constants = {k: v for i in instances for k, v in (i.constants or {}).items()}
    return NetworkPlan(
        classes, root, f"{root.name}()", sorted({c.mode for c in captures}), constants, placeholders
    )
