"""Mutation fuzzing of the two weights readers (layers/weights_file.py and trtgen_safetensors.h).

Mutants of a small model's weights file go to the C++ reader (tests/fuzz/read_weights.cpp, built
with AddressSanitizer and UndefinedBehaviorSanitizer), to the Python reader and to the reference
safetensors implementation. Every mutant must be either read exactly as the reference reads it,
by both readers alike, or rejected by both with one line naming the file; never a crash, a hang,
a sanitizer report or weights that differ from the reference's reading.

Used by tests/fuzz/test_weights_fuzz.py and benchmarks/fuzz_weights.py.
"""

import collections
import json
import os
import random
import shutil
import struct
import subprocess
import time

import numpy as np

from layers.weights_file import WeightsFileError, read_tensors

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
SUPPORT = os.path.join(REPO, "trtgen", "emit", "cpp", "support")
HARNESS = os.path.join(HERE, "read_weights.cpp")
SANITIZE = ["-fsanitize=address,undefined", "-fno-sanitize-recover=all"]

# Where the readers reject a file the reference accepts, on purpose (docs/cpp.md): the message
# says which rule. Anything else the reference accepts, the readers must read as it does.
STRICTER = {
    "duplicate key": "a key twice in the header or in __metadata__ (the reference keeps the last)",
    "duplicate field": "a field twice in a tensor entry, unknown fields included",
    "unknown dtype 'F4'": "sub-byte dtypes (F4, F6_*): TensorRT weights cannot hold them",
    "unknown dtype 'F6_E2M3'": "sub-byte dtypes",
    "unknown dtype 'F6_E3M2'": "sub-byte dtypes",
    "shape is not a list of non-negative integers": "a dimension of 2^63 or more (TensorRT's are int64)",
    "data_offsets is not two non-negative integers": "an offset of 2^63 or more",
    "nested too deeply": "JSON nested over 128 deep",
}


def compile_harness(out_dir):
    """The sanitized reader harness, built in ``out_dir``; None when there is no g++."""
    compiler = shutil.which("g++")
    if compiler is None:
        return None
    binary = os.path.join(out_dir, "read_weights")
    command = [
        compiler,
        "-std=c++17",
        "-O1",
        "-g",
        *SANITIZE,
        "-Wall",
        "-Wextra",
        "-Werror",
        f"-I{SUPPORT}",
        HARNESS,
        "-o",
        binary,
    ]
    subprocess.run(command, check=True, capture_output=True, text=True, timeout=600)
    return binary


def _hex(data):
    return bytes(data).hex() or "-"


def _shape(shape):
    return "[" + ", ".join(str(d) for d in shape) + "]"


def _lines(tensors, metadata=None):
    out = [
        f"tensor {_hex(k.encode())} {d} {_shape(s)} {_hex(b)}"
        for k, (d, s, b) in sorted(tensors.items(), key=lambda kv: kv[0].encode())
    ]
    out += [
        f"metadata {_hex(k.encode())} {_hex(v.encode())}"
        for k, v in sorted((metadata or {}).items(), key=lambda kv: kv[0].encode())
    ]
    return out


def python_read(path):
    """("ok", dump lines) or ("error", message) from the Python reader."""
    try:
        tensors, metadata = read_tensors(path)
    except WeightsFileError as exc:
        return "error", str(exc)
    return "ok", _lines(tensors, metadata)


def reference_read(raw):
    """("ok", tensor dump lines) or ("error", message) from the reference implementation."""
    from safetensors import deserialize

    try:
        found = deserialize(raw)
    except Exception as exc:  # its one error type, SafetensorError, is not importable by name
        return "error", str(exc)
    return "ok", _lines({k: (v["dtype"], v["shape"], v["data"]) for k, v in found})


def cpp_read(binary, paths, list_path, timeout=300):
    """{path: ("ok", dump lines) | ("error", message)} from one run of the harness."""
    with open(list_path, "w") as f:
        f.write("".join(p + "\n" for p in paths))
    env = dict(
        os.environ,
        ASAN_OPTIONS="detect_leaks=1:abort_on_error=0",
        UBSAN_OPTIONS="print_stacktrace=1",
    )
    run = subprocess.run(
        [binary, "--batch", list_path], capture_output=True, timeout=timeout, env=env
    )
    stderr = run.stderr.decode(errors="replace")
    assert (
        run.returncode == 0 and not stderr
    ), f"the C++ reader failed (exit {run.returncode}):\n{stderr[-4000:]}"
    results, current = {}, None
    for line in run.stdout.decode("utf-8", errors="surrogateescape").split("\n")[:-1]:
        if line.startswith("== "):
            current = line[3:]
            results[current] = ["ok", []]
        elif line.startswith("error: "):
            results[current] = ["error", line[len("error: ") :]]
        else:
            results[current][1].append(line)
    assert list(results) == list(paths), "the C++ reader stopped early"
    return {p: tuple(r) for p, r in results.items()}


# ------------------------------------------------------------------------------- the base file


def base_file():
    """A small model's weights, as the reference writer lays them out (header padded with spaces)."""
    from safetensors.numpy import save_file

    rng = np.random.default_rng(0)
    tensors = {
        "fc.weight": rng.standard_normal((4, 8)).astype(np.float32),
        "fc.bias": rng.standard_normal(4).astype(np.float32),
        "bn.running_mean": rng.standard_normal(4).astype(np.float32),
        "bn.num_batches_tracked": np.array(7, np.int64),
        "emb.weight": rng.standard_normal((3, 2)).astype(np.float16),
        "mask": np.array([1, 0, 1, 1, 0], np.bool_),
        "ids": np.arange(3, dtype=np.int32),
        "empty": np.zeros((0, 3), np.float32),
    }
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "w.safetensors")
        save_file(tensors, path, metadata={"format": "pt", "source": "trtgen"})
        with open(path, "rb") as f:
            return f.read()


def split(raw):
    length = struct.unpack("<Q", raw[:8])[0]
    return raw[8 : 8 + length], raw[8 + length :]


def join(header, data, delta=0):
    return struct.pack("<Q", (len(header) + delta) % 2**64) + header + data


# ------------------------------------------------------------------------------- mutations

SNIPPETS = [
    b",",
    b":",
    b"{",
    b"}",
    b"[",
    b"]",
    b'"',
    b"-",
    b"0",
    b"9",
    b"1e400",
    b"\\",
    b"\\u",
    b"\\ud800",
    b"\xff",
    b"\xc3",
    b"\xed\xa0\x80",
    b"\x00",
    b" ",
    b"\t",
    b"null",
    b"true",
    b'"x":1,',
    b'"__metadata__":{},',
    b"NaN",
    b"\n",
    b"\x7f",
    b"\xe2\x82",
    b"18446744073709551616",
]
HUGE = [2**63, 2**64 - 1, 2**63 - 1, 2**32, 2**32 + 1, 10**19, 4611686018427387904]


def _entries(header):
    return json.loads(header, object_pairs_hook=list)


def _dump_header(pairs, pad=0, ascii_only=False):
    body = ",".join(
        json.dumps(k, ensure_ascii=ascii_only) + ":" + _value(v, ascii_only) for k, v in pairs
    )
    header = ("{" + body + "}").encode(
        "utf-8", "surrogatepass"
    )  # a lone surrogate an earlier edit made
    return header + b" " * pad


def _value(v, ascii_only):
    if isinstance(v, list) and v and all(isinstance(x, tuple) and len(x) == 2 for x in v):
        return (
            "{"
            + ",".join(
                json.dumps(k, ensure_ascii=ascii_only) + ":" + _value(x, ascii_only) for k, x in v
            )
            + "}"
        )
    if isinstance(v, list):
        return "[" + ",".join(_value(x, ascii_only) for x in v) + "]"
    if isinstance(v, _Raw):
        return v.text
    return json.dumps(v, ensure_ascii=ascii_only)


class _Raw:
    """JSON text put into a header as is (floats spelled a given way, huge numbers)."""

    def __init__(self, text):
        self.text = text


def _field(entry, name):
    for i, (k, _) in enumerate(entry):
        if k == name:
            return i
    return None


def _tensor_indices(pairs):
    return [i for i, (k, v) in enumerate(pairs) if k != "__metadata__" and isinstance(v, list)]


def structural(rng, pairs, data_size):
    """One edit of the parsed header (a list of (key, value) pairs; entries are pair lists)."""
    pairs = [(k, [tuple(x) for x in v] if isinstance(v, list) else v) for k, v in pairs]
    tensors = _tensor_indices(pairs)
    t = rng.choice(tensors)
    key, entry = pairs[t]
    entry = list(entry)

    def set_field(name, value):
        i = _field(entry, name)
        if i is None:
            entry.append((name, value))
        else:
            entry[i] = (name, value)
        pairs[t] = (key, entry)

    def get(name):
        i = _field(entry, name)
        return None if i is None else entry[i][1]

    op = rng.randrange(26)
    if op == 0:  # reorder the header's members: read the same
        rng.shuffle(pairs)
    elif op == 1:  # offsets shuffled among tensors
        offsets = [get_offsets(pairs, i) for i in tensors]
        rng.shuffle(offsets)
        for i, o in zip(tensors, offsets):
            _set(pairs, i, "data_offsets", o)
    elif op == 2:  # one offset nudged: overlap or gap
        b, e = get("data_offsets")
        which = rng.randrange(2)
        moved = [b, e]
        moved[which] += rng.choice([-4, -2, -1, 1, 2, 4, 8])
        set_field("data_offsets", moved)
    elif op == 3:
        b, e = get("data_offsets")
        set_field("data_offsets", [e, b])
    elif op == 4:  # out of range
        b, e = get("data_offsets")
        set_field("data_offsets", [b, data_size + rng.randrange(1, 64)])
    elif op == 5:
        set_field(
            "data_offsets",
            rng.choice(
                [
                    [-1, 4],
                    [0, -4],
                    [0],
                    [0, 4, 8],
                    [],
                    "0,4",
                    None,
                    [_Raw("0.0"), _Raw("16")],
                    [_Raw("-0"), _Raw("16")],
                    [0, _Raw("1e1")],
                    [rng.choice(HUGE), rng.choice(HUGE)],
                ]
            ),
        )
    elif op == 6:  # another known dtype: sometimes the same size, read as the new dtype
        set_field(
            "dtype",
            rng.choice(
                [
                    "F64",
                    "I64",
                    "U64",
                    "C64",
                    "F32",
                    "I32",
                    "U32",
                    "F16",
                    "BF16",
                    "I16",
                    "U16",
                    "I8",
                    "U8",
                    "BOOL",
                    "F8_E4M3",
                    "F8_E5M2",
                    "F8_E8M0",
                ]
            ),
        )
    elif op == 7:
        set_field(
            "dtype",
            rng.choice(
                [
                    "f32",
                    "F33",
                    "",
                    "F4",
                    "F6_E2M3",
                    "F6_E3M2",
                    "FLOAT",
                    32,
                    None,
                    ["F32"],
                    "F32 ",
                    "\u0000",
                ]
            ),
        )
    elif op == 8:  # shapes with the same product: read as reshaped
        shape = get("shape")
        n = int(np.prod(shape)) if shape else 1
        set_field(
            "shape",
            rng.choice([[n], [1, n], [n, 1], [], [1] * 5 + [n]]) if n else [0, rng.choice(HUGE)],
        )
    elif op == 9:
        set_field(
            "shape",
            rng.choice(
                [
                    [-1],
                    [-4, -8],
                    [4, -8],
                    [2**32, 2**32, 0],
                    [0, 2**32, 2**32],
                    [0, 2**63],
                    [2**62, 4],
                    [2**61, 2**3],
                    [rng.choice(HUGE)],
                    [_Raw("4.0"), 8],
                    [[4], 8],
                    [4, None],
                    ["4", 8],
                    32,
                    None,
                    [2**64],
                    [3] * 40,
                    [_Raw("-0")],
                ]
            ),
        )
    elif op == 10:  # a key twice
        pairs.insert(rng.randrange(len(pairs) + 1), pairs[t])
    elif op == 11:  # metadata
        meta = rng.choice(
            [
                None,
                [("format", 1)],
                [("format", [("a", "b")])],
                [("a", "1"), ("a", "2")],
                "pt",
                [],
                [("x", None)],
                [("", "")],
                [("format", "pt"), ("note", "\u00e9\u4e2d")],
            ]
        )
        pairs = [(k, v) for k, v in pairs if k != "__metadata__"]
        if rng.random() < 0.1:
            pairs.insert(0, ("__metadata__", []))
        pairs.insert(rng.randrange(len(pairs) + 1), ("__metadata__", meta))
    elif op == 12:  # unknown field: ignored
        entry.insert(
            rng.randrange(len(entry) + 1),
            (
                rng.choice(["x", "dtype2", "offsets"]),
                rng.choice([1, "a", None, [1, [2]], [("k", 1)]]),
            ),
        )
        pairs[t] = (key, entry)
    elif op == 13:  # a field twice
        i = rng.randrange(len(entry))
        entry.insert(rng.randrange(len(entry) + 1), entry[i])
        pairs[t] = (key, entry)
    elif op == 14:  # a field gone
        del entry[rng.randrange(len(entry))]
        pairs[t] = (key, entry)
    elif op == 15:  # not an object
        pairs[t] = (key, rng.choice([5, "x", None, [], True]))
    elif op == 16:  # a tensor gone: a gap, or bytes after the last tensor
        del pairs[t]
    elif op == 17:  # renamed, to text needing escapes or to other Unicode
        pairs[t] = (
            rng.choice(
                [
                    "",
                    "a\nb",
                    "tab\there",
                    "\u00e9t\u00e9",
                    "\U0001f600",
                    "q'uote",
                    "\x7f",
                    "a.num_batches_tracked",
                    key + "\u0000",
                ]
            ),
            entry,
        )
    elif op == 18:  # the whole header as one other JSON value
        return rng.choice([[], "x", 1, None])
    elif op == 19:  # a dimension changed (size mismatch)
        shape = list(get("shape") or [])
        if shape:
            shape[rng.randrange(len(shape))] += rng.choice([-1, 1, 2])
        else:
            shape = [2]
        set_field("shape", shape)
    elif op == 20:  # nested deep inside an ignored field
        depth = rng.choice([10, 127, 128, 129, 300])
        entry.append(("deep", _Raw("[" * depth + "]" * depth)))
        pairs[t] = (key, entry)
    elif op == 21:  # the same tensor's range given to another too
        other = rng.choice(tensors)
        _set(pairs, other, "data_offsets", get("data_offsets"))
    elif op == 22:  # a zero-size tensor at some offset
        at = rng.randrange(0, data_size + 3)
        pairs.append((f"z{at}", [("dtype", "F32"), ("shape", [0]), ("data_offsets", [at, at])]))
    elif op == 23:  # all offsets moved by k
        k = rng.choice([-1, 1, 4])
        for i in tensors:
            b, e = get_offsets(pairs, i)
            _set(pairs, i, "data_offsets", [b + k, e + k])
    elif (
        op == 24
    ):  # a huge dimension with a zero: empty, and only sometimes within the reference's limits
        set_field(
            "shape",
            rng.choice([[0, 2**62], [2**62, 0], [2**60, 2**5, 0], [0, 2**63 - 1, 2**63 - 1]]),
        )
        set_field("data_offsets", [0, 0])
    else:  # a metadata-only change: read the same
        pairs = [(k, v) for k, v in pairs if k != "__metadata__"]
        pairs.insert(0, ("__metadata__", [("format", "pt"), ("note", str(rng.random()))]))
    return pairs


def get_offsets(pairs, i):
    entry = pairs[i][1]
    j = _field(entry, "data_offsets")
    return list(entry[j][1]) if j is not None else [0, 0]


def _set(pairs, i, name, value):
    key, entry = pairs[i]
    entry = list(entry)
    j = _field(entry, name)
    if j is None:
        entry.append((name, value))
    else:
        entry[j] = (name, value)
    pairs[i] = (key, entry)


def mutate(rng, raw):
    """One mutant of ``raw`` (bytes) and the kind of mutation."""
    header, data = split(raw)
    kind = rng.choice(
        [
            "length",
            "length_huge",
            "byte_set",
            "insert",
            "delete",
            "truncate",
            "trailing",
            "data_flip",
            "structural",
            "structural",
            "structural",
            "structural",
            "structural",
            "pad",
            "two",
        ]
    )
    if kind == "length":
        return join(header, data, rng.choice([-8, -7, -4, -3, -2, -1, 1, 2, 3, 4, 7, 8])), kind
    if kind == "length_huge":
        value = rng.choice(
            [
                2**63,
                2**64 - 1,
                100_000_001,
                100_000_000,
                len(raw),
                len(raw) - 7,
                rng.randrange(2**64),
                2**32 + len(header),
            ]
        )
        return struct.pack("<Q", value) + raw[8:], kind
    if kind == "byte_set":
        h = bytearray(header)
        i = rng.randrange(len(h))
        h[i] = (
            rng.randrange(256)
            if rng.random() < 0.5
            else rng.choice(b'{}[]":,-0123456789eE.\\ ntfu\x00')
        )
        return join(bytes(h), data), kind
    if kind == "insert":
        i = rng.randrange(len(header) + 1)
        snippet = rng.choice(SNIPPETS)
        fixed = rng.random() < 0.7
        return join(header[:i] + snippet + header[i:], data, 0 if fixed else -len(snippet)), kind
    if kind == "delete":
        i = rng.randrange(len(header))
        n = rng.randint(1, 4)
        return join(header[:i] + header[i + n :], data), kind
    if kind == "truncate":
        return raw[: rng.randrange(len(raw))], kind
    if kind == "trailing":
        return raw + bytes(rng.randrange(256) for _ in range(rng.randint(1, 16))), kind
    if kind == "data_flip":
        d = bytearray(data)
        if d:
            d[rng.randrange(len(d))] ^= 1 << rng.randrange(8)
        return join(header, bytes(d)), kind
    if kind == "pad":  # padding the header, with the length kept right: read the same
        pad = rng.choice([b" ", b"  \n\t", b"\r\n", b"\x00", b" \xff", b"\x0c"])
        lead = rng.random() < 0.3
        stripped = header.rstrip(b" ")
        return join(pad + stripped if lead else stripped + pad, data), kind
    if kind == "two":
        once, _ = mutate(rng, raw)
        return (mutate(rng, once)[0] if len(once) >= 8 else once), kind
    try:
        edited = structural(rng, _entries(header), len(data))
    except Exception:  # a header an earlier mutation broke: change one byte of it instead
        h = bytearray(header or b" ")
        h[rng.randrange(len(h))] = rng.randrange(256)
        return join(bytes(h), data), kind
    if not isinstance(edited, list):
        new = json.dumps(edited).encode()
    else:
        new = _dump_header(edited, pad=rng.choice([0, 0, 0, 3, 8]), ascii_only=rng.random() < 0.3)
    delta = 0 if rng.random() < 0.85 else rng.choice([-3, -2, -1, 1, 2, 3])
    if rng.random() < 0.05:  # a byte that is not UTF-8 inside a key
        new = new.replace(b'"fc.', b'"f\xc0c.', 1)
    return join(new, data, delta), kind


# ------------------------------------------------------------------------------- the run


def run(binary, work_dir, mutants, seed=0, batch=2000):
    """Check ``mutants`` mutants; returns stats; raises AssertionError on the first disagreement."""
    started = time.monotonic()
    rng = random.Random(seed)
    raw = base_file()
    stats = collections.Counter()
    stricter = collections.Counter()
    base_path = os.path.join(work_dir, "base.safetensors")
    with open(base_path, "wb") as f:
        f.write(raw)
    base = python_read(base_path)
    assert base[0] == "ok", base
    for first in range(0, mutants, batch):
        items = []
        for n in range(first, min(mutants, first + batch)):
            data, kind = mutate(rng, raw)
            path = os.path.join(work_dir, f"m{n % batch}.safetensors")
            with open(path, "wb") as f:
                f.write(data)
            items.append((path, data, kind))
        cpp = cpp_read(binary, [p for p, _, _ in items], os.path.join(work_dir, "list.txt"))
        for path, data, kind in items:
            check_one(path, data, kind, cpp[path], base, stats, stricter)
    stats["seconds"] = round(time.monotonic() - started, 1)
    return stats, stricter


def check_one(path, data, kind, cpp, base, stats, stricter):
    where = f"mutant ({kind}) {path}, header {data[:8].hex()} {data[8:400]!r}"
    py = python_read(path)
    ref = reference_read(data)
    assert cpp[0] == py[0], f"{where}: C++ {cpp}, Python {py}"
    if py[0] == "error":
        for message in (cpp[1], py[1]):
            assert "\n" not in message and message.startswith(path + ": "), f"{where}: {message!r}"
        if "bad header JSON" in py[1] or "bad header JSON" in cpp[1]:
            assert (
                "bad header JSON" in py[1] and "bad header JSON" in cpp[1]
            ), f"{where}: {cpp[1]!r} / {py[1]!r}"
            stats["rejected: bad header JSON"] += 1
        else:
            assert cpp[1] == py[1], f"{where}: C++ says {cpp[1]!r}, Python {py[1]!r}"
        stats["rejected"] += 1
        if ref[0] == "ok":
            reason = next((r for r in STRICTER if r in py[1]), None)
            assert reason is not None, f"{where}: rejected ({py[1]}) though the reference reads it"
            stricter[reason] += 1
        return
    assert cpp[1] == py[1], f"{where}: C++ and Python read different weights:\n{cpp[1]}\n{py[1]}"
    assert ref[0] == "ok", f"{where}: accepted, yet the reference rejects it: {ref[1]}"
    tensors = [line for line in py[1] if line.startswith("tensor ")]
    assert tensors == ref[1], f"{where}: read differently from the reference:\n{tensors}\n{ref[1]}"
    stats["accepted"] += 1
    stats["accepted unchanged" if py[1] == base[1] else "accepted changed"] += 1
