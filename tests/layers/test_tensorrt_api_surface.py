"""Every TensorRT name ``layers/`` uses must exist in datacenter TensorRT 10.13, not only in
TensorRT-RTX (what the other tests run on).

A static scan, no TensorRT needed: every ``.py`` under ``layers/`` is parsed with ``ast`` and
checked against the ``tensorrt-stubs`` package (TensorRT 10.13's Python API as ``.pyi`` files):

* attribute chains rooted at ``trt`` (``trt.ElementWiseOperation.SUM``), also through module
  aliases such as ``_A = trt.ActivationType``;
* attributes of network objects and of the layers they return: ``network()`` /
  ``current_network()`` is an ``INetworkDefinition``, ``layer = network().add_resize(x)`` an
  ``IResizeLayer`` (the stubs' return annotations), so ``layer.coordinate_transformation``
  is checked against ``IResizeLayer`` and its bases;
* any other ``x.add_*`` method, and attributes of a ``layer`` the scan cannot type: they must
  exist on some TensorRT class (or, for ``add_*``, be defined in ``layers/`` itself).

Names missing from 10.13 are allowed only in ``GUARDED`` below, each with the reason, and
only where the code visibly guards them (``hasattr`` / ``getattr(..., default)`` naming the
attribute, or an ``if`` on ``IS_RTX``).
"""

import ast
import pathlib
import re
import sys

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[2]
LAYERS = ROOT / "layers"
INSTALL = "pip install --no-deps tensorrt-stubs==10.13.0.35.1"

# "Class.attribute" → why it may be missing from TensorRT 10.13. Each must be guarded in code.
GUARDED = {
    # TensorRT 10.15+ and RTX: per-channel scale / bias for group normalization.
    # normalization._has_normalization_v2() asks hasattr(network(), "add_normalization_v2");
    # without it the per-group add_normalization plus an elementwise affine is used.
    "INetworkDefinition.add_normalization_v2": "newer than 10.13; hasattr-guarded",
    # Newer TopK layers can emit int64 indices directly; reduce._topk1 passes indices_type only
    # when hasattr(trt.ITopKLayer, "indices_type"), else casts the int32 indices.
    "ITopKLayer.indices_type": "newer than 10.13; hasattr-guarded",
    # TensorRT-RTX builds for named GPU generations; build_options reads it with getattr and
    # refuses --compute-capability on TensorRT, which builds for the GPU it runs on.
    "trt.ComputeCapability": "TensorRT-RTX only; getattr-guarded",
    # TensorRT-RTX's own CUDA graphs: runtime.Engine(cuda_graph=True) sets them in an
    # `if cuda_graph and IS_RTX:` block; on TensorRT it captures a torch.cuda.CUDAGraph.
    "trt.CudaGraphStrategy": "TensorRT-RTX only; IS_RTX-guarded",
    "IRuntimeConfig.cuda_graph_strategy": "TensorRT-RTX only; IS_RTX-guarded",
}

NETWORK_FACTORIES = {"network", "current_network"}
# `.add_*` calls on these are not TensorRT: the module itself, argparse (build_options.py)
NOT_TENSORRT_RECEIVERS = {"self", "parser", "group"}  # functions returning the INetworkDefinition


# --------------------------------------------------------------------------- the stubs
def _stubs_root():
    for entry in sys.path:
        if entry and (pathlib.Path(entry) / "tensorrt" / "__init__.pyi").is_file():
            return pathlib.Path(entry)
    pytest.fail(
        "tensorrt-stubs (TensorRT 10.13 type stubs) are not installed: run "
        f"`{INSTALL}` (CI installs it)",
        pytrace=False,
    )


class _Class:
    def __init__(self, node, module):
        self.name, self.module = node.name, module
        self.bases = [
            b.id if isinstance(b, ast.Name) else getattr(b, "attr", "") for b in node.bases
        ]
        self.types = {}  # member → annotation / return type name (None if not a plain name)
        self.nested = {}
        for item in node.body:
            if isinstance(item, (ast.FunctionDef, ast.AsyncFunctionDef)):
                self.types.setdefault(item.name, None)
                returned = _type_name(item.returns)
                if returned and item.name not in ("__init__",):
                    self.types[item.name] = self.types[item.name] or returned
            elif isinstance(item, ast.AnnAssign) and isinstance(item.target, ast.Name):
                self.types[item.target.id] = _type_name(item.annotation)
            elif isinstance(item, ast.Assign):
                for target in item.targets:
                    if isinstance(target, ast.Name):
                        self.types[target.id] = None
            elif isinstance(item, ast.ClassDef):
                self.nested[item.name] = _Class(item, module)
                self.types[item.name] = None


def _type_name(annotation):
    """``IResizeLayer`` / ``typing.ClassVar[ActivationType]`` → the class name, else None."""
    if isinstance(annotation, ast.Subscript):  # ClassVar[X]
        return _type_name(annotation.slice)
    if isinstance(annotation, ast.Name):
        return annotation.id
    if isinstance(annotation, ast.Attribute):
        return annotation.attr
    if isinstance(annotation, ast.Constant) and isinstance(annotation.value, str):
        return annotation.value.split(".")[-1]
    return None


def _parse_stub(text):
    """``ast.parse`` for generated stubs, some of whose signatures are not valid Python
    (``def add_scale_nd(..., power: Weights = None, channel_axis: int)``): such a signature is
    replaced by ``(*args, **kwargs)``, keeping the name and the return annotation."""
    lines = text.splitlines()
    for _ in range(len(lines)):
        try:
            return ast.parse("\n".join(lines))
        except SyntaxError as error:
            line = lines[error.lineno - 1]
            signature = re.match(r"(\s*def \w+)\(.*\)(\s*->\s*.+?)?:\s*$", line)
            if signature is None:
                raise
            lines[error.lineno - 1] = f"{signature[1]}(*args, **kwargs){signature[2] or ''}:"
    raise AssertionError("unreachable")


class Stubs:
    """The ``tensorrt`` stub package: exported names and the classes behind them."""

    def __init__(self, root):
        self.root = root
        self.modules = {}
        self.classes = {}  # class name → _Class (top level of any stub module read)
        self.names = set()
        self.version = None
        package = self._module("tensorrt")
        for node in package.body:
            if isinstance(node, ast.ImportFrom) and node.module:
                source = self._module(node.module)
                for alias in node.names:
                    self.names.add(alias.asname or alias.name)
                    self._collect_classes(source, node.module)
            elif isinstance(node, (ast.AnnAssign, ast.Assign)):
                targets = [node.target] if isinstance(node, ast.AnnAssign) else node.targets
                self.names.update(t.id for t in targets if isinstance(t, ast.Name))
                if any(getattr(t, "id", None) == "__version__" for t in targets):
                    self.version = ast.literal_eval(node.value)
            elif isinstance(node, (ast.FunctionDef, ast.ClassDef)):
                self.names.add(node.name)
            elif isinstance(node, ast.Import):
                self.names.update((a.asname or a.name).split(".")[0] for a in node.names)
        self._collect_classes(package, "tensorrt")

    def _module(self, dotted):
        if dotted not in self.modules:
            base = self.root.joinpath(*dotted.split("."))
            path = base / "__init__.pyi" if base.is_dir() else base.with_suffix(".pyi")
            self.modules[dotted] = (
                _parse_stub(path.read_text())
                if path.is_file()
                else ast.Module(body=[], type_ignores=[])
            )
        return self.modules[dotted]

    def _collect_classes(self, tree, module):
        for node in tree.body:
            if isinstance(node, ast.ClassDef) and node.name not in self.classes:
                self.classes[node.name] = _Class(node, module)

    def lookup(self, cls, member):
        """(found, type name of the member) on ``cls`` or its bases."""
        seen = set()
        while cls is not None and cls.name not in seen:
            seen.add(cls.name)
            if member in cls.types:
                nested = cls.nested.get(member)
                return True, nested or self.classes.get(cls.types[member])
            cls = next((self.classes.get(b) for b in cls.bases if b in self.classes), None)
        return False, None

    def layer_classes(self):
        return [
            c for name, c in self.classes.items() if name.startswith("I") and name.endswith("Layer")
        ]


# --------------------------------------------------------------------------- the scan
class Use:
    def __init__(self, name, path, line, guarded):
        self.name, self.path, self.line, self.guarded = name, path, line, guarded

    def __str__(self):
        return f"{self.path.relative_to(ROOT)}:{self.line}: {self.name}"


def _chain(node):
    """``a.b.c`` → ("a", ["b", "c"]); None unless rooted at a plain name."""
    parts = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if isinstance(node, ast.Name):
        return node.id, parts[::-1]
    return None


class Scanner(ast.NodeVisitor):
    """Walks one module in source order, typing names bound to TensorRT objects."""

    def __init__(self, stubs, path, tree, project_defs):
        self.stubs, self.path, self.project_defs = stubs, path, project_defs
        self.missing, self.checked = [], 0
        self.aliases = {"trt": []}  # name → trt chain it stands for
        for node in tree.body:  # module-level aliases: _A = trt.ActivationType
            if isinstance(node, ast.Assign) and len(node.targets) == 1:
                chain = _chain(node.value)
                if isinstance(node.targets[0], ast.Name) and chain and chain[0] == "trt":
                    self.aliases[node.targets[0].id] = chain[1]
        self.env = {}
        self.guard_depth = 0
        for node in ast.walk(tree):
            for child in ast.iter_child_nodes(node):
                child.parent = node

    # ---- types
    def type_of(self, node):
        """The stub class of the value ``node`` evaluates to, or None."""
        if isinstance(node, ast.Name):
            return self.env.get(node.id)
        if isinstance(node, ast.BoolOp):
            return next((t for t in map(self.type_of, node.values) if t), None)
        if isinstance(node, ast.Call):
            func = node.func
            if isinstance(func, ast.Name) and func.id in NETWORK_FACTORIES:
                return self.stubs.classes.get("INetworkDefinition")
            resolved = self.resolve_trt(func)
            if resolved is not None:  # trt.Builder(...): an instance of the class
                return resolved
            if isinstance(func, ast.Attribute):
                owner = self.type_of(func.value)
                if owner is not None:
                    return self.stubs.lookup(owner, func.attr)[1]
        return None

    def resolve_trt(self, node):
        """The stub class a trt chain names (``trt.Builder``), without reporting anything."""
        chain = _chain(node)
        if not chain or chain[0] not in self.aliases:
            return None
        parts = self.aliases[chain[0]] + chain[1]
        if not parts or parts[0] not in self.stubs.names:
            return None
        cls = self.stubs.classes.get(parts[0])
        for part in parts[1:]:
            if cls is None:
                return None
            cls = cls.nested.get(part)
        return cls

    # ---- reporting
    def report(self, name, node, guarded=False):
        self.missing.append(Use(name, self.path, node.lineno, guarded or self.guard_depth > 0))

    def check_member(self, cls, attr, node, guarded=False):
        self.checked += 1
        found, member_type = self.stubs.lookup(cls, attr)
        if not found:
            self.report(f"{cls.name}.{attr}", node, guarded)
        return member_type

    def check_trt_chain(self, node, parts, guarded=False):
        """``trt.X.Y...``: X exported by the package, then members of the classes named."""
        if not parts or parts[0].startswith("__"):
            return  # the module itself, or module dunders (__name__, __version__)
        self.checked += 1
        if parts[0] not in self.stubs.names:
            self.report(f"trt.{parts[0]}", node, guarded)
            return
        cls = self.stubs.classes.get(parts[0])
        for attr in parts[1:]:
            if cls is None:
                return
            cls = self.check_member(cls, attr, node, guarded)

    # ---- visiting
    def visit_Attribute(self, node):
        parent = getattr(node, "parent", None)
        if isinstance(parent, ast.Attribute) and parent.value is node:
            return self.generic_visit(node)  # the outermost attribute handles the chain
        chain = _chain(node)
        if chain and chain[0] in self.aliases:
            self.check_trt_chain(node, self.aliases[chain[0]] + chain[1])
            return
        self.check_receiver(node)
        self.generic_visit(node)

    def check_receiver(self, node):
        """``expr.attr``: checked on the first receiver of a known type, from the outside in
        (``layer.get_output(0).name`` is ``ITensor.name``); else the weaker untyped rules."""
        inner = node
        while isinstance(inner, ast.Attribute):
            owner = self.type_of(inner.value)
            if owner is not None:
                return self.check_member(owner, inner.attr, inner)
            inner = inner.value
        attr = node.attr
        receiver = node.value
        if attr.startswith("add_") and not (
            isinstance(receiver, ast.Name) and receiver.id in NOT_TENSORRT_RECEIVERS
        ):
            self.checked += 1
            if attr not in self.project_defs and not any(
                attr in c.types for c in self.stubs.classes.values()
            ):
                self.report(f"<any TensorRT class>.{attr}", node)
        elif isinstance(receiver, ast.Name) and receiver.id == "layer" and not attr.startswith("_"):
            self.checked += 1
            if not any(self.stubs.lookup(c, attr)[0] for c in self.stubs.layer_classes()):
                self.report(f"<any I*Layer>.{attr}", node)
        return None

    def visit_Call(self, node):
        func = node.func
        if isinstance(func, ast.Name) and func.id in ("hasattr", "getattr") and len(node.args) >= 2:
            target, name = node.args[0], node.args[1]
            probing = func.id == "hasattr" or len(node.args) == 3
            if isinstance(name, ast.Constant) and isinstance(name.value, str):
                chain = _chain(target)
                owner = self.type_of(target)
                if chain and chain[0] in self.aliases:
                    self.check_trt_chain(target, self.aliases[chain[0]] + chain[1])
                    self.check_trt_chain(
                        node, self.aliases[chain[0]] + chain[1] + [name.value], guarded=probing
                    )
                elif owner is not None:
                    self.check_member(owner, name.value, node, guarded=probing)
        self.generic_visit(node)

    def visit_Assign(self, node):
        self.visit(node.value)
        value_type = self.type_of(node.value)
        for target in node.targets:
            self.visit(target)
            if isinstance(target, ast.Name):
                if value_type is not None:
                    self.env[target.id] = value_type
                else:
                    self.env.pop(target.id, None)

    def visit_If(self, node):
        rtx = any(isinstance(n, ast.Name) and n.id == "IS_RTX" for n in ast.walk(node.test))
        self.visit(node.test)
        self.guard_depth += rtx
        for stmt in node.body:
            self.visit(stmt)
        self.guard_depth -= rtx
        for stmt in node.orelse:
            self.visit(stmt)

    def visit_FunctionDef(self, node):
        outer, self.env = self.env, {}
        self.generic_visit(node)
        self.env = outer

    visit_AsyncFunctionDef = visit_FunctionDef
    visit_Lambda = visit_FunctionDef


def _project_defs(files):
    names = set()
    for tree in files.values():
        names.update(
            n.name for n in ast.walk(tree) if isinstance(n, (ast.FunctionDef, ast.ClassDef))
        )
    return names


def _probed_strings(files):
    """Attribute names the code probes with hasattr / getattr(..., default): guard evidence."""
    names = set()
    for tree in files.values():
        for n in ast.walk(tree):
            if (
                isinstance(n, ast.Call)
                and isinstance(n.func, ast.Name)
                and n.func.id in ("hasattr", "getattr")
                and (n.func.id == "hasattr" or len(n.args) == 3)
                and len(n.args) >= 2
                and isinstance(n.args[1], ast.Constant)
            ):
                names.add(n.args[1].value)
    return names


@pytest.fixture(scope="module")
def scan():
    stubs = Stubs(_stubs_root())
    files = {p: ast.parse(p.read_text(), str(p)) for p in sorted(LAYERS.rglob("*.py"))}
    project_defs = _project_defs(files)
    missing, checked = [], 0
    for path, tree in files.items():
        scanner = Scanner(stubs, path, tree, project_defs)
        scanner.visit(tree)
        missing += scanner.missing
        checked += scanner.checked
    return stubs, missing, checked, _probed_strings(files)


def test_stubs_are_tensorrt_10_13(scan):
    stubs, _, checked, _ = scan
    assert stubs.version.startswith("10.13."), f"tensorrt-stubs {stubs.version}: run `{INSTALL}`"
    assert {"INetworkDefinition", "ActivationType", "IResizeLayer"} <= set(stubs.classes)
    assert "add_resize" in stubs.classes["INetworkDefinition"].types
    assert "GELU_ERF" in stubs.classes["ActivationType"].types  # enum members: ClassVar attrs
    assert checked > 300, f"only {checked} uses checked: is the scan still finding them?"


def test_every_tensorrt_name_exists_in_10_13(scan):
    _, missing, _, _ = scan
    unguarded = [u for u in missing if u.name not in GUARDED]
    assert not unguarded, (
        "TensorRT names used by layers/ that TensorRT 10.13 lacks (guard them with IS_RTX, "
        "hasattr or getattr(..., None), and list them in GUARDED with the reason):\n"
        + "\n".join(map(str, unguarded))
    )


def test_whitelisted_names_are_guarded_and_still_needed(scan):
    stubs, missing, _, probed = scan
    used = {u.name for u in missing}
    stale = sorted(set(GUARDED) - used)
    assert not stale, f"GUARDED lists names layers/ no longer uses or 10.13 has: {stale}"
    unguarded = [
        u
        for u in missing
        if u.name in GUARDED and not (u.guarded or u.name.rsplit(".", 1)[-1] in probed)
    ]
    assert not unguarded, "whitelisted names used without a guard:\n" + "\n".join(
        map(str, unguarded)
    )


def test_scanner_catches_a_missing_name(scan):
    """The scan itself: a made-up enum member, layer property and network method are found."""
    stubs = scan[0]
    source = (
        "from .backend import trt\n"
        "_A = trt.ActivationType\n"
        "def f(x):\n"
        "    layer = network().add_resize(x.trt)\n"
        "    layer.coordinate_transformation = trt.ResizeCoordinateTransformation.HALF_PIXEL\n"
        "    layer.not_a_resize_property = 1\n"
        "    network().add_not_a_layer(x.trt)\n"
        "    return _A.NOT_AN_ACTIVATION, trt.NotAClass\n"
    )
    path = LAYERS / "example.py"
    tree = ast.parse(source)
    scanner = Scanner(stubs, path, tree, set())
    scanner.visit(tree)
    assert sorted(u.name for u in scanner.missing) == [
        "ActivationType.NOT_AN_ACTIVATION",
        "INetworkDefinition.add_not_a_layer",
        "IResizeLayer.not_a_resize_property",
        "trt.NotAClass",
    ]
