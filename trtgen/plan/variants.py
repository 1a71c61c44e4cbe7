"""One class for the structural variants of one PyTorch class.

torchvision's ``ShiftedWindowAttention`` rolls the feature map and adds the shift mask in some
instances and not in others. The forwards of two such variants are aligned statement by
statement (difflib over each statement's op, its operands left out); the statements only one of
them has become an ``if`` block on a flag. The flag is a forward literal like any other, so the
class plan names it (``if self.shift_size:``) and passes it at every instantiation; a weight only
the flagged variant reads is declared ``nn.Parameter(...) if shift_size else None``. The merged
forward, read with each variant's flag and literals, must compute exactly what that variant
computed, op for op; otherwise the variants keep classes of their own.
"""

import copy
import difflib
import re

from .forward import forward_code, literal_marker
from .items import ANY, Slot

_MAX_REGIONS = 4  # more differing regions than this read better as classes of their own
_MARKER = re.compile("\2(\\d+)\2")
_STRING = re.compile(r"'(?:[^'\\]|\\.)*'|\"(?:[^\"\\]|\\.)*\"")
_WORD = re.compile(r"(?<![\w.\2])([A-Za-z_]\w*)(?!\w)(?!\s*=(?!=))")
_ASSIGN = re.compile(r"^([A-Za-z_]\w*) = (.+)$")
_SAME_FUNCTION = {"F.view(": "F.reshape("}  # one function in ``layers``: F.view is F.reshape


def _words(expr, variables, replace=None):
    """Variable reads of ``expr`` in order; with ``replace``, ``expr`` with each read replaced."""
    reads, parts, last = [], [], 0

    def visit(text):
        def sub(match):
            name = match.group(1)
            if name not in variables:
                return name
            reads.append(name)
            return replace(name) if replace else name

        return _WORD.sub(sub, text)

    for string in _STRING.finditer(expr):
        parts.append(visit(expr[last : string.start()]))
        parts.append(string.group(0))
        last = string.end()
    parts.append(visit(expr[last:]))
    return reads, "".join(parts)


def _parse(code):
    """[(target or None for the return, expression)] of plain forward lines, or None when the
    forward has other statements (loops, unpackings) this alignment does not handle."""
    statements = []
    for line in code.lines:
        match = _ASSIGN.match(line)
        if match:
            statements.append((match.group(1), match.group(2)))
        elif line.startswith("return ") and line is code.lines[-1]:
            statements.append((None, line[len("return ") :]))
        else:
            return None
    return statements


def _normal(expr):
    for spelling, same in _SAME_FUNCTION.items():
        expr = expr.replace(spelling, same)
    return expr


def _keys(statements, params):
    """Each statement's op with operands and literals left out: what the alignment compares."""
    variables, keys = set(params), []
    for target, expr in statements:
        _, text = _words(expr, variables, lambda _: "$")
        keys.append(("return " if target is None else "") + _normal(_MARKER.sub("#", text)))
        if target is not None:
            variables.add(target)
    return keys


def _evaluate(program, params, literal, table, flag=None):
    """Every value ``program`` computes, each an id of its op on the ids of its operands
    (interned in ``table``: programs evaluated with one table compare by id), and the id of its
    result. ``program``: [(target, expr, side)], side ``both``, ``a`` (only when ``flag``) or
    ``b`` (only when not)."""
    env, computed = {p: ("param", p) for p in params}, []
    for target, expr, side in program:
        if (side == "a" and not flag) or (side == "b" and flag):
            continue
        reads, text = _words(expr, set(env), lambda _: "$")
        text = _MARKER.sub(lambda m: repr(literal(int(m.group(1)))), _normal(text))
        value = table.setdefault((text, tuple(env[r] for r in reads)), len(table))
        if target is None:
            return sorted(computed), value
        env[target] = value
        computed.append(value)
    return None


def _live_out(statements, start, end, params):
    """Names the statements ``start:end`` bind that later statements read before rebinding."""
    bound = {t for t, _ in statements[start:end] if t is not None}
    variables = set(params) | {t for t, _ in statements if t is not None}
    live, dead = set(), set()
    for target, expr in statements[end:]:
        reads, _ = _words(expr, variables)
        live |= {r for r in reads if r in bound and r not in dead}
        if target is not None:
            dead.add(target)
    return live


def _merge_code(a, b, params):
    """Merged statements [(target, expr, side, [(side, a index, b index)] per marker)] of the
    plain statements ``a`` and ``b``, or None when they do not align cleanly."""
    keys_a, keys_b = _keys(a, params), _keys(b, params)
    opcodes = difflib.SequenceMatcher(None, keys_a, keys_b, autojunk=False).get_opcodes()
    regions = [op for op in opcodes if op[0] != "equal"]
    if not regions or len(regions) > _MAX_REGIONS or any(op[0] == "replace" for op in regions):
        return None
    variables_a = set(params) | {t for t, _ in a if t is not None}
    variables_b = set(params) | {t for t, _ in b if t is not None}
    env_a = {p: p for p in params}  # a variant's variable → the merged variable holding it
    env_b = dict(env_a)
    merged = []
    for tag, i1, i2, j1, j2 in opcodes:
        if tag == "equal":
            for (ta, ea), (tb, eb) in zip(a[i1:i2], b[j1:j2]):
                _, text = _words(ea, variables_a, lambda n: env_a.get(n, n))
                _, other = _words(eb, variables_b, lambda n: env_b.get(n, n))
                if _normal(_MARKER.sub("#", text)) != _normal(_MARKER.sub("#", other)):
                    return None  # the operands do not line up
                markers = list(zip(_MARKER.findall(ea), _MARKER.findall(eb)))
                merged.append([ta, text, "both", [("both", int(x), int(y)) for x, y in markers]])
                if ta is not None:
                    env_a[ta] = ta
                    env_b[tb] = ta
            continue
        side, own, env, variables, run = (
            ("a", a, env_a, variables_a, (i1, i2))
            if tag == "delete"
            else ("b", b, env_b, variables_b, (j1, j2))
        )
        other, other_env, other_variables = (
            (b, env_b, variables_b) if side == "a" else (a, env_a, variables_a)
        )
        out = _live_out(own, *run, params)
        if len(out) != 1:
            return None
        (output,) = out
        # where the rest of this variant reads the run's result, the other reads what it replaces
        replaced = _replaced(
            own, run[1], output, other, j1 if side == "a" else i1, variables, other_variables
        )
        if replaced is None or replaced not in other_env:
            return None
        last = max(k for k in range(*run) if own[k][0] == output)
        for k in range(*run):
            target, expr = own[k]
            _, text = _words(expr, variables, lambda n: env.get(n, n))
            markers = [
                (side, int(x), None) if side == "a" else (side, None, int(x))
                for x in _MARKER.findall(expr)
            ]
            name = other_env[replaced] if k == last else target
            merged.append([name, text, side, markers])
            env[target] = name
    return merged


def _replaced(own, end, output, other, other_start, variables, other_variables):
    """The variable the other variant reads where ``own`` reads ``output`` after its run."""
    for (_, expr), (_, other_expr) in zip(own[end:], other[other_start:]):
        reads, _ = _words(expr, variables)
        other_reads, _ = _words(other_expr, other_variables)
        if output in reads:
            if len(reads) != len(other_reads):
                return None
            return other_reads[reads.index(output)]
    return None


def _structure(item):
    from .classes import _walk

    slots, out = [], []
    _walk(item, slots, out)
    return "".join(out)


def _only_in(a, b, read_only_in_run):
    """Attributes of constructor ``a`` that ``b`` lacks: weights its runs alone read. None when
    the constructors differ otherwise."""
    items_b = dict(b)
    if any(attr not in dict(a) for attr, _ in b):
        return None
    only = set()
    for attr, item in a:
        if attr in items_b:
            if _structure(item) != _structure(items_b[attr]):
                return None
        elif isinstance(item, tuple) and item[0] == "param" and read_only_in_run(attr):
            only.add(attr)
        else:
            return None
    return only


def _flagged_init(init, reference, only, flag):
    """``init`` with the weights in ``only`` declared when the flag is set, in ``reference``'s
    order (the constructor of the variant that has them)."""
    items = dict(init)
    merged = []
    for attr, item in reference:
        if attr not in only:
            merged.append((attr, items[attr]))
        elif flag:
            merged.append((attr, ("optional", items[attr], Slot(True))))
        else:
            merged.append((attr, ("optional", _unknown(item), Slot(False))))
    return merged


def _unknown(item):
    """The same weight with every dim unknown (the variant without it)."""
    item = copy.deepcopy(item)
    for slot in item[1][1]:
        slot.value = ANY
    return item


def _flag_hint(merged):
    first = next(expr for _, expr, side, _ in merged if side != "both")
    match = re.search(r"\bF\.(\w+)\(", first)
    return f"has_{match.group(1)}" if match else "variant"


def _lines(merged, flag_marker):
    """Forward lines of the merged statements: runs of one variant as ``if`` blocks, a value
    used once, by the next statement of its block, inline as ``forward`` writes them."""
    blocks = []  # [(side, [[target, expr, depth, side]])]
    for target, expr, side, _ in merged:
        if not blocks or blocks[-1][0] != side:
            blocks.append((side, []))
        blocks[-1][1].append([target, expr, 0, side])
    flat = [s for _, statements in blocks for s in statements]
    names = {s[0] for s in flat if s[0] is not None}
    for _, statements in blocks:
        _inline(statements, flat, names)
    lines = []
    for side, statements in blocks:
        indent = ""
        if side != "both":
            lines.append(f"if {flag_marker}:")
            indent = "    "
        for target, expr, _, _ in statements:
            lines.append(
                indent + (f"{target} = {expr}" if target is not None else f"return {expr}")
            )
    return lines


def _inline(statements, flat, names):
    from .forward import _MAX_INLINE_DEPTH

    k = 1
    while k < len(statements):
        previous, current = statements[k - 1], statements[k]
        target = previous[0]
        reads, _ = _words(current[1], names)
        position = next(i for i, s in enumerate(flat) if s is current)
        if (
            target is not None
            and reads.count(target) == 1
            # the value is dead after ``current`` when ``current`` (same block) binds its name
            and (current[0] == target or not _reads_after(flat, position, target, names))
            and previous[2] < _MAX_INLINE_DEPTH
        ):
            current[1] = _substitute(current[1], target, previous[1])
            current[2] = max(current[2], previous[2] + 1)
            statements.pop(k - 1)
            del flat[position - 1]
        else:
            k += 1


def _reads_after(flat, position, name, names):
    """Whether a statement after ``position`` reads ``name`` before it is bound again."""
    for target, expr, _, side in flat[position + 1 :]:
        reads, _ = _words(expr, names)
        if name in reads:
            return True
        if target == name and side == "both":
            return False
    return False


def _compound(expr):
    """Whether ``expr`` is an operator expression (needs parentheses as an operand)."""
    depth, quoted = 0, _STRING.sub("''", expr)
    for index, char in enumerate(quoted):
        if char in "([{":
            depth += 1
        elif char in ")]}":
            depth -= 1
        elif depth == 0 and char == " ":
            return True
    return quoted.startswith(("-", "~"))


def _substitute(expr, name, text):
    """``expr`` with its one read of ``name`` replaced by ``text`` (parenthesized where an
    operator expression is not a call argument of its own)."""
    compound = _compound(text)
    _, marked = _words(expr, {name}, lambda _: "\3")
    start = marked.index("\3")
    before, after = marked[:start].rstrip(), marked[start + 1 :].lstrip()
    argument = before.endswith(("(", ",", "[")) and after.startswith((",", ")", "]"))
    if compound and not argument:
        text = f"({text})"
    return marked.replace("\3", text)


def merge_variants(instances, captures_by_module):
    """Give instances of one PyTorch class whose forwards differ by optional statements one
    forward with ``if`` blocks and one constructor; the class plan then groups them."""
    from .classes import _template

    by_class = {}
    for instance in instances:
        by_class.setdefault(type(instance.module), []).append(instance)
    for members in by_class.values():
        if any(m.forward is None for m in members) or any(
            isinstance(item, tuple) and item[0] == "optional" for m in members for _, item in m.init
        ):
            continue
        for m in members:
            m.template = None
        groups = {}
        for m in members:
            groups.setdefault(_template(m)[0], []).append(m)
        groups = list(groups.values())
        merged_any = False
        pairs = sorted(
            ((i, j) for i in range(len(groups)) for j in range(i + 1, len(groups))),
            key=lambda p: -(len(groups[p[0]]) + len(groups[p[1]])),
        )
        used = set()
        for i, j in pairs:
            if i in used or j in used:
                continue
            if _merge_groups(groups[i], groups[j], captures_by_module) or _merge_groups(
                groups[j], groups[i], captures_by_module
            ):
                used |= {i, j}
                merged_any = True
        if merged_any:
            for m in members:
                m.template = None
    for instance in instances:
        instance.template = None


def _merge_groups(group_a, group_b, captures_by_module):
    """Merge group ``b`` into ``a``'s forward when ``a``'s forward is ``b``'s with optional runs."""
    first_a, first_b = group_a[0], group_b[0]
    if first_a.forward.params != first_b.forward.params:
        return False
    plain_a = forward_code(first_a.capture, captures_by_module, inline=False)
    plain_b = forward_code(first_b.capture, captures_by_module, inline=False)
    a, b = _parse(plain_a), _parse(plain_b)
    if a is None or b is None:
        return False
    params = [p.lstrip("*").split("=")[0] for p in plain_a.params]
    merged = _merge_code(a, b, params)
    if merged is None or any(side == "b" for _, _, side, _ in merged):
        return False
    # weights only ``a`` reads must be read only where its runs are
    only_a = {attr for attr, _ in first_a.init} - {attr for attr, _ in first_b.init}

    def read_only_in_run(attr):
        pattern = re.compile(rf"\bself\.{re.escape(attr)}\b")
        return not any(pattern.search(expr) for _, expr, side, _ in merged if side != "a")

    if any(not read_only_in_run(attr) for attr in only_a):
        return False
    only = _only_in(first_a.init, first_b.init, read_only_in_run)
    if only is None:
        return False
    # one numbering of the literals; the flag is the last one
    numbering = []
    for statement in merged:
        markers = iter(statement[3])

        def renumber(match):
            numbering.append(next(markers))
            return literal_marker(len(numbering) - 1)

        statement[1] = _MARKER.sub(renumber, statement[1])
    flag_index = len(numbering)
    hint = _flag_hint(merged)

    def literals(instance, flag):
        own = instance.forward.literals
        values = []
        for _, index_a, index_b in numbering:
            index = index_a if flag else index_b
            values.append(own[index] if index is not None else (ANY, plain_a.literals[index_a][1]))
        return values + [(flag, hint)]

    program = [(t, e, s) for t, e, s, _ in merged]
    for group, flag, plain in ((group_a, True, plain_a), (group_b, False, plain_b)):
        for instance in group:
            if len(instance.forward.literals) != len(plain.literals):
                return False
            values = literals(instance, flag)
            original = [(t, e, "both") for t, e in (a if flag else b)]
            own = instance.forward.literals
            table = {}
            expected = _evaluate(original, params, lambda k: own[k][0], table)
            got = _evaluate(program, params, lambda k: values[k][0], table, flag)
            if expected is None or expected != got:
                return False
    lines = _lines(merged, literal_marker(flag_index))
    reference = list(first_a.init)
    for group, flag in ((group_a, True), (group_b, False)):
        for instance in group:
            instance.forward.literals = literals(instance, flag)
            instance.forward.lines = list(lines)
            instance.init = _flagged_init(instance.init, reference, only, flag)
            instance.template = None
    return True
