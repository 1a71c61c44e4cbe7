"""Variable names from the model's own source: ``query_layer = self.query(h)`` names its value.

A captured node records the stack it was made on. Its innermost frame in the model's code
(not torch's, not trtgen's) is a line of a statement; when that statement assigns the node's
value to a plain name, that name is the variable the generated forward uses for it.
"""

import ast
import functools
import operator
import os
import re

import torch

# trtgen/ itself (this file is trtgen/plan/source_names.py)
_TRTGEN_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__))) + os.sep
_FRAME = re.compile(r'File "([^"]+)", line (\d+)')


def library_frame(path):
    """A frame of torch or of trtgen itself (capture runs the model): never the user's line."""
    return f"{os.sep}torch{os.sep}" in path or os.path.abspath(path).startswith(_TRTGEN_DIR)


def user_frame(node):
    """(file, line) of the innermost frame in the model's code that made ``node``, or None."""
    trace = node.meta.get("stack_trace") or getattr(node, "stack_trace", None) or ""
    frames = [f for f in _FRAME.findall(trace) if not library_frame(f[0])]
    if not frames:
        return None
    return frames[-1][0], int(frames[-1][1])


def _statements(path):
    """Simple statements of the file at ``path`` as (first line, last line, statement)."""
    try:
        stat = os.stat(path)
    except OSError:
        return ()
    return _parsed_statements(
        path, stat.st_mtime_ns, stat.st_size
    )  # an edited file is parsed again


@functools.lru_cache(maxsize=64)
def _parsed_statements(path, mtime_ns, size):
    try:
        with open(path, encoding="utf-8") as f:
            tree = ast.parse(f.read())
    except (OSError, SyntaxError, ValueError):
        return ()
    compound = (
        ast.If,
        ast.For,
        ast.While,
        ast.With,
        ast.Try,
        ast.FunctionDef,
        ast.ClassDef,
        ast.AsyncFunctionDef,
        ast.AsyncFor,
        ast.AsyncWith,
    )
    return tuple(
        (n.lineno, n.end_lineno, n)
        for n in ast.walk(tree)
        if isinstance(n, ast.stmt) and not isinstance(n, compound)
    )


def statement(node):
    """The model's statement that made ``node`` (an ``ast.stmt``), or None."""
    frame = user_frame(node)
    if frame is None:
        return None
    path, line = frame
    found = [s for first, last, s in _statements(path) if first <= line <= last]
    return min(found, key=lambda s: s.end_lineno - s.lineno) if found else None


def _target(stmt):
    """The assignment target of ``stmt`` (an ``ast`` expression), or None."""
    if isinstance(stmt, ast.Assign) and len(stmt.targets) == 1:
        return stmt.targets[0]
    if isinstance(stmt, (ast.AnnAssign, ast.AugAssign)):
        return stmt.target
    return None


@functools.lru_cache(maxsize=4096)  # statements are the parsed files' own (cached) nodes
def _op_sites(stmt):
    """How many places in the assigned expression can make a tensor op; the function a call
    calls (``self.query`` in ``self.query(h)``) is not an op of its own."""
    kinds = (ast.Call, ast.BinOp, ast.UnaryOp, ast.Subscript, ast.Compare, ast.Attribute)
    nodes = list(ast.walk(stmt.value))
    callees = {id(n.func) for n in nodes if isinstance(n, ast.Call)}
    count = sum(isinstance(n, kinds) for n in nodes if id(n) not in callees)
    return count + isinstance(stmt, ast.AugAssign)


def assigned_names(nodes):
    """node → the plain name the model's source assigns that node's value to.

    A statement that makes several nodes (``x = self.proj(x).transpose(1, 2)``) names only its
    value: the node none of whose users come from the same statement. ``a, b = x.chunk(2)``
    names the items it unpacks.
    """
    statements = {}

    def statement_of(node):  # users may be nodes the caller writes inline: look them up too
        if node not in statements:
            statements[node] = statement(node)
        return statements[node]

    names = {}
    for node in nodes:
        stmt = statement_of(node)
        target = _target(stmt) if stmt is not None else None
        if target is None or getattr(stmt, "value", None) is None:
            continue
        if isinstance(target, ast.Name):
            single = _op_sites(stmt) <= 1
            if single or not any(statement_of(u) is stmt for u in node.users):
                names[node] = target.id
        elif isinstance(target, (ast.Tuple, ast.List)) and not _is_item(node):
            # the whole result of ``a, b = f(x)``, read item by item: ``a_b``. A value the
            # statement computes on the way (export inlines ``f``) is not read by items.
            # ``_`` is a discarded item: ``out, _ = f(x)`` reads one name, the op names the rest
            elts = [e.id for e in target.elts if isinstance(e, ast.Name) and e.id != "_"]
            same = [u for u in node.users if statement_of(u) is stmt]
            if len(elts) > 1 and same and all(_is_item(u) for u in same):
                names[node] = "_".join(elts[:3]) + ("_etc" if len(elts) > 3 else "")
        elif isinstance(target, (ast.Tuple, ast.List)) and _is_item(node):
            index = node.args[1]
            if -len(target.elts) <= index < len(target.elts) and isinstance(
                target.elts[index], ast.Name
            ):
                source = node.args[0]
                if statement_of(source) is stmt or not isinstance(stmt.value, ast.Tuple):
                    names[node] = target.elts[index].id
    return names


def _is_item(node):
    return (
        node.op == "call_function"
        and node.target is operator.getitem
        and isinstance(node.args[0], torch.fx.Node)
        and type(node.args[1]) is int
    )


# tensors the capture made up: export's lifted tensors, fx's constants, folded subgraphs
MADE_BY_CAPTURE = re.compile(r"(?:lifted_tensor|_tensor_constant|folded_constant)_?\d+")


def constant_names(capture, taken):
    """Attribute names for tensors the capture made up (export's ``lifted_tensor_0``, fx's
    ``_tensor_constant0``, a folded subgraph): the model's variable they come from (``count``
    in ``mask[a:b] = count``, ``attn_mask`` for a folded mask), else ``constant``; unique among ``taken`` and each other.
    """
    chosen, used = {}, set(taken)
    made = [
        n for n in capture.graph.nodes if n.op == "get_attr" and MADE_BY_CAPTURE.fullmatch(n.target)
    ]
    for node in sorted(made, key=lambda n: int(re.search(r"\d+$", n.target).group())):
        if node.target in chosen:
            continue
        stem = node.meta.get("source_name") or "constant"
        for user in node.users if stem == "constant" else ():
            stmt = statement(user)
            value = getattr(stmt, "value", None)
            if isinstance(value, ast.Name):
                stem = value.id
                break
        name, n = stem, 0
        while name in used:
            n += 1
            name = f"{stem}_{n}"
        used.add(name)
        chosen[node.target] = name
    return chosen
