"""Merge the two shapes of a module whose child is optional into one helper.

ResNet blocks with and without ``downsample`` build the same statements except for the
child's block, whose output replaces one tensor (``x``) further on. The merged helper reads

    ITensor* downsample = x;
    if (has_downsample)
    {
        ...the child's layers...
        downsample = downsample_1->getOutput(0);
    }

like ``downsample = x if self.downsample is None else self.downsample(x)`` in network.py.
Anything less regular is left as separate helpers.
"""

import re
from dataclasses import dataclass
from difflib import SequenceMatcher

from .bodies import HOLE, Body, Names
from .specs import Lit

_DECLARED = re.compile(r"^(?:auto\*|ITensor\*|std::vector<ITensor\*>) (\w+) =")


@dataclass
class Merged:
    body: Body  # statements of the merged helper (literals from the variant with the child)
    flag: str  # bool parameter: the child is present
    values: list  # per call: literal values in body order (None where the call has no child)
    present: list  # per call: has the child


def _text(statement):
    return "".join(c if isinstance(c, str) else HOLE for c in statement[1])


def _key(statement):
    kinds = tuple((c.kind, type(c.value).__name__) for c in statement[1] if isinstance(c, Lit))
    return (_text(statement), kinds)


def _declared(statement):
    match = _DECLARED.match(_text(statement))
    return match.group(1) if match else None


_EXPRESSION = re.compile(r"\w+(?:->getOutput\(\d+\)|\[\d+\])?")


def _difference(t0, t1):
    """``(e0, e1)``: the one tensor expression in which two statements differ, else None."""
    p = 0
    while p < min(len(t0), len(t1)) and t0[p] == t1[p]:
        p += 1
    while p > 0 and (t1[p - 1].isalnum() or t1[p - 1] == "_"):
        p -= 1
    e0, e1 = _EXPRESSION.match(t0, p), _EXPRESSION.match(t1, p)
    if e0 is None or e1 is None or t0[e0.end() :] != t1[e1.end() :]:
        return None
    return e0.group(0), e1.group(0)


def merge(without, with_child):
    """``without`` / ``with_child``: (calls, bodies) of the two variants. Merged or None."""
    calls0, bodies0 = without
    calls1, bodies1 = with_child
    b0, b1 = bodies0[0], bodies1[0]
    if [n for _, n in b0.inputs] != [n for _, n in b1.inputs] or len(b0.outputs) != len(b1.outputs):
        return None
    s0, s1 = b0.statements, b1.statements
    ops = SequenceMatcher(
        None, [_key(s) for s in s0], [_key(s) for s in s1], autojunk=False
    ).get_opcodes()
    segments = []  # ("same", i, j) | ("block", None, j) | ("pair", i, j)
    child = None
    for tag, i1, i2, j1, j2 in ops:
        if tag == "equal":
            segments += [("same", i1 + k, j1 + k) for k in range(i2 - i1)]
            continue
        if tag == "delete" or child is not None:
            return None
        block = [j for j in range(j1, j2) if s1[j][0] is not None]
        tags = {s1[j][0] for j in block}
        rest = [j for j in range(j1, j2) if j not in block]
        if len(tags) != 1 or len(rest) != i2 - i1 or block != list(range(block[0], block[-1] + 1)):
            return None
        child = tags.pop()
        for j in range(j1, j2):
            if j in block:
                segments.append(("block", None, j))
            else:
                segments.append(("pair", i1 + rest.index(j), j))
    if child is None:
        return None
    return _assemble(child, segments, calls0, bodies0, calls1, bodies1)


def _assemble(child, segments, calls0, bodies0, calls1, bodies1):
    b0, b1 = bodies0[0], bodies1[0]
    block_vars = {_declared(b1.statements[j]) for kind, _, j in segments if kind == "block"} - {
        None
    }
    substitutions = set()
    for kind, i, j in segments:
        if kind == "pair":
            difference = _difference(_text(b0.statements[i]), _text(b1.statements[j]))
            if difference is None:
                return None
            substitutions.add(difference)
    if len(substitutions) != 1:
        return None
    ((m0, m1),) = substitutions
    base = re.match(r"\w+", m1)
    if base is None or base.group(0) not in block_vars:
        return None
    first_block = next(n for n, (kind, _, _) in enumerate(segments) if kind == "block")
    known = {n for _, n in b0.inputs} | {
        _declared(b1.statements[j]) for kind, _, j in segments[:first_block]
    }
    if re.match(r"\w+", m0) is None or re.match(r"\w+", m0).group(0) not in known:
        return None

    names = Names(set(_all_words(b0)) | set(_all_words(b1)))
    variable, flag = names.fresh(child), names.fresh(f"has_{child}")
    statements, order = [], []  # order: per merged statement, (source, index) for literal values
    for n, (kind, i, j) in enumerate(segments):
        if n == first_block:
            statements.append([None, [f"ITensor* {variable} = {m0};\n"]])
            statements.append([None, [f"if ({flag})\n{{\n"]])
            order += [None, None]
        chunks = b1.statements[j][1]
        if kind == "pair":
            chunks = [
                re.sub(rf"\b{re.escape(m1)}(?![\w\[-])", variable, c) if isinstance(c, str) else c
                for c in chunks
            ]
        if kind != "block" and any(
            re.search(rf"\b{v}\b", c) for c in chunks if isinstance(c, str) for v in block_vars
        ):
            return None  # another block tensor is used after the block: out of scope
        statements.append([b1.statements[j][0], chunks])
        order.append((kind, i, j))
        last_block = max(k for k, (kd, _, _) in enumerate(segments) if kd == "block")
        if n == last_block:
            statements.append([None, [f"{variable} = {m1};\n}}\n"]])
            order.append(None)
    body = Body(statements, list(b1.inputs), list(b1.outputs), list(b1.children))

    values, present = [], []
    for calls, bodies, has in ((calls0, bodies0, False), (calls1, bodies1, True)):
        for body_k in bodies:
            row = []
            for entry in order:
                if entry is None:
                    continue
                kind, i, j = entry
                if has:
                    row += [c.value for c in body_k.statements[j][1] if isinstance(c, Lit)]
                elif kind == "block":
                    row += [None for c in b1.statements[j][1] if isinstance(c, Lit)]
                else:
                    row += [c.value for c in body_k.statements[i][1] if isinstance(c, Lit)]
            values.append(row)
            present.append(has)
    return Merged(body, flag, values, present)


def _all_words(body):
    return re.findall(r"\b[A-Za-z_]\w*\b", body.text)
