"""Weights files (safetensors), read as untrusted input.

The same rules, in the same order and with the same messages, as the C++ reader shipped with
network.cpp (trtgen_safetensors.h); docs/cpp.md lists them. A file that breaks one raises
``WeightsFileError``, whose text is one line: the file, then what is wrong with which key or
byte. The header is checked here; the tensor bytes are then read as they lie.
"""

import json
import os
import stat

import numpy as np

MAX_HEADER_BYTES = 100_000_000  # as the reference safetensors implementation
MAX_NESTING = 128
BOOKKEEPING_SUFFIX = "num_batches_tracked"  # PyTorch counts BatchNorm training steps here

DTYPE_BYTES = {
    "F64": 8,
    "I64": 8,
    "U64": 8,
    "C64": 8,
    "F32": 4,
    "I32": 4,
    "U32": 4,
    "F16": 2,
    "BF16": 2,
    "I16": 2,
    "U16": 2,
    "I8": 1,
    "U8": 1,
    "BOOL": 1,
    "F8_E4M3": 1,
    "F8_E5M2": 1,
    "F8_E8M0": 1,
}
NUMPY_DTYPES = {
    "F64": np.float64,
    "F32": np.float32,
    "F16": np.float16,
    "C64": np.complex64,
    "I64": np.int64,
    "I32": np.int32,
    "I16": np.int16,
    "I8": np.int8,
    "U64": np.uint64,
    "U32": np.uint32,
    "U16": np.uint16,
    "U8": np.uint8,
    "BOOL": np.bool_,
}


class WeightsFileError(ValueError):
    """A weights file that cannot be used; ``str()`` is one line naming the file."""


class _Members(list):
    """A JSON object's (key, value) pairs in file order, duplicates kept for the checks."""


class _NotAnIndex:
    """A JSON integer that is negative or has more than 19 digits: never a shape or offset."""


_NOT_AN_INDEX = _NotAnIndex()


def shown(text):
    """``text`` for a one-line message: control characters as \\xNN."""
    return "".join(c if ord(c) >= 0x20 and c != "\x7f" else f"\\x{ord(c):02x}" for c in text)


def _index(value):
    return type(value) is int and 0 <= value < 2**63


def _list_text(values, close="]"):
    return "[" + ", ".join(str(v) for v in values) + close


class _Reader:
    def __init__(self, path):
        self.path = os.fspath(path)

    def fail(self, what):
        raise WeightsFileError(f"{self.path}: {what}")

    def read(self):
        try:
            info = os.stat(self.path)
            if not stat.S_ISREG(info.st_mode):
                self.fail("not a regular file")
            with open(self.path, "rb") as f:
                raw = f.read()
        except OSError as exc:
            self.fail(f"cannot open the weights file: {os.strerror(exc.errno or 0)}")
        return raw

    def header(self, raw):
        """``(members, data start)``: the header's top-level (key, value) pairs, checked."""
        if len(raw) < 8:
            self.fail(f"truncated: {len(raw)} bytes, too short for the 8-byte header length")
        length = int.from_bytes(raw[:8], "little")
        if length > MAX_HEADER_BYTES:
            self.fail(
                f"the header length field says {length} bytes, over the {MAX_HEADER_BYTES}-byte "
                "limit: not a safetensors file, or corrupt"
            )
        if length > len(raw) - 8:
            self.fail(
                f"truncated: the header length says {length} bytes but only {len(raw) - 8} follow it"
            )
        try:
            text = raw[8 : 8 + length].decode("utf-8")
        except UnicodeDecodeError as exc:
            self.fail(f"header is not valid UTF-8 at byte {8 + exc.start}")
        try:
            top = json.loads(
                text,
                object_pairs_hook=_Members,
                parse_int=lambda s: _NOT_AN_INDEX if s[0] == "-" or len(s) > 19 else int(s),
                parse_constant=self._constant,
            )
        except json.JSONDecodeError as exc:
            self.fail(f"bad header JSON at byte {8 + len(text[:exc.pos].encode())}: {exc.msg}")
        except (ValueError, RecursionError) as exc:
            self.fail(f"bad header JSON: {exc}")
        self._walk(top, 0)
        if not isinstance(top, _Members):
            self.fail("bad header JSON: the header is not a JSON object")
        return top, 8 + length

    def _constant(self, name):
        raise ValueError(f"{name} is not JSON")

    def _walk(self, value, depth):
        """Strings must be Unicode text (no lone surrogate); nesting is bounded."""
        if isinstance(value, (list, _Members)):
            if depth >= MAX_NESTING:
                self.fail("bad header JSON: values nested too deeply")
            for item in value:
                for part in item if isinstance(value, _Members) else (item,):
                    self._walk(part, depth + 1)
        elif isinstance(value, str):
            try:
                value.encode("utf-8")
            except UnicodeEncodeError:
                self.fail("bad header JSON: unpaired surrogate in a \\u escape")

    def tensors(self, raw):
        """``(tensors, metadata)``: {key: (dtype, shape, bytes)} and the ``__metadata__`` map."""
        members, start = self.header(raw)
        size = len(raw) - start
        tensors, metadata, seen = {}, {}, set()
        for key, value in members:
            if key in seen:
                self.fail(f"duplicate key '{shown(key)}' in the header")
            seen.add(key)
            if key == "__metadata__":
                metadata = self._metadata(value)
            else:
                tensors[key] = self._entry(key, value, size)
        ranges = sorted((b, e, key) for key, (_, _, (b, e)) in tensors.items())
        end, last = 0, None
        for b, e, key in ranges:
            if b > end:
                self.fail(
                    f"bytes [{end}, {b}) of the data section belong to no tensor: the file is corrupt"
                )
            if b < end:
                self.fail(
                    f"tensors '{shown(last[2])}' [{last[0]}, {last[1]}) and '{shown(key)}' [{b}, {e}) "
                    "overlap: the file is corrupt"
                )
            end, last = e, (b, e, key)
        if end != size:
            self.fail(
                f"the tensors end at byte {end} of the {size}-byte data section: the header length "
                "is wrong or the file has trailing bytes"
            )
        data = memoryview(raw)[start:]
        return {k: (d, s, data[b:e]) for k, (d, s, (b, e)) in tensors.items()}, metadata

    def _metadata(self, value):
        if value is None:
            return {}
        if not isinstance(value, _Members):
            self.fail("__metadata__ is not a map of strings")
        found = {}
        for key, text in value:
            if key in found:
                self.fail(f"__metadata__: duplicate key '{shown(key)}'")
            if not isinstance(text, str):
                self.fail(f"__metadata__: the value of '{shown(key)}' is not a string")
            found[key] = text
        return found

    def _entry(self, key, value, size):
        name = f"tensor '{shown(key)}'"
        if not isinstance(value, _Members):
            self.fail(f"{name}: the header entry is not an object")
        fields = {}
        for field, item in value:
            if field in fields:
                self.fail(f"{name}: duplicate field '{shown(field)}'")
            fields[field] = item  # fields other than these three are ignored, as by the reference
        for field in ("dtype", "shape", "data_offsets"):
            if field not in fields:
                self.fail(f"{name}: the header entry has no '{field}'")
        dtype, shape, offsets = fields["dtype"], fields["shape"], fields["data_offsets"]
        if not isinstance(dtype, str):
            self.fail(f"{name}: dtype is not a string")
        if dtype not in DTYPE_BYTES:
            self.fail(f"{name}: unknown dtype '{shown(dtype)}'")
        if not isinstance(shape, list) or not all(_index(d) for d in shape):
            self.fail(f"{name}: shape is not a list of non-negative integers")
        if (
            not isinstance(offsets, list)
            or len(offsets) != 2
            or not all(_index(o) for o in offsets)
        ):
            self.fail(f"{name}: data_offsets is not two non-negative integers [begin, end]")
        begin, end = offsets
        span = _list_text(offsets, ")")
        if begin > end:
            self.fail(f"{name}: data_offsets {span} end before they begin")
        count = 1  # in order, overflowing as the reference's checked 64-bit product does
        for d in shape:
            count *= d
            if count >= 2**64:
                break
        if count >= 2**64 or count * DTYPE_BYTES[dtype] * 8 >= 2**64:
            self.fail(f"{name}: shape {_list_text(shape)} of {dtype} is over 2^64 bytes")
        need = count * DTYPE_BYTES[dtype]
        if end - begin != need:
            self.fail(
                f"{name}: data_offsets {span} do not match its shape {_list_text(shape)} {dtype} "
                f"({need} bytes)"
            )
        if end > size:
            self.fail(
                f"{name}: data_offsets {span} run past the end of the {size}-byte data section: "
                "the file is truncated or corrupt"
            )
        return dtype, tuple(shape), (begin, end)


def read_tensors(path):
    """``(tensors, metadata)`` of a safetensors file: ``{key: (dtype, shape, bytes)}`` (dtype
    as safetensors spells it: ``F32``...) and the ``__metadata__`` strings."""
    reader = _Reader(path)
    return reader.tensors(reader.read())


def load_file(path):
    """``{key: numpy array}`` of a safetensors file; BF16 widens (exactly) to float32."""
    tensors, _ = read_tensors(path)
    arrays = {}
    for key, (dtype, shape, data) in tensors.items():
        if dtype == "BF16":
            array = (np.frombuffer(data, "<u2").astype(np.uint32) << 16).view(np.float32)
        elif dtype in NUMPY_DTYPES:
            native = np.dtype(NUMPY_DTYPES[dtype])
            array = np.frombuffer(data, native.newbyteorder("<")).astype(native)  # a copy
        else:
            raise WeightsFileError(
                f"{os.fspath(path)}: tensor '{shown(key)}' is {dtype}, which numpy cannot hold"
            )
        arrays[key] = array.reshape(shape)
    return arrays


def is_bookkeeping(key):
    """A PyTorch buffer no network reads (``bn.num_batches_tracked``): a checkpoint may carry it."""
    return key == BOOKKEEPING_SUFFIX or key.endswith("." + BOOKKEEPING_SUFFIX)


def key_problems(keys, declared, what="weights", extra_hint=""):
    """What is wrong with a file's ``keys`` for a network declaring ``declared``, or None.

    Every declared key must be present; a key the network does not declare is an error unless
    it is PyTorch bookkeeping (``*.num_batches_tracked``), which a full state_dict carries."""
    have, want = set(keys), set(declared)
    missing = sorted(k for k in want if k not in have)
    if missing:
        return f"{what} are missing {len(missing)} key(s): {', '.join(map(shown, missing))}"
    extra = sorted(k for k in have if k not in want and not is_bookkeeping(k))
    if extra:
        return (
            f"{what} have {len(extra)} key(s) the model does not declare: "
            f"{', '.join(map(shown, extra))} (only *.{BOOKKEEPING_SUFFIX} may be left in){extra_hint}"
        )
    return None
