"""One module call as C++ statements with holes for the literals that may differ by instance.

A body is text plus a list of literals; two calls of a class whose texts agree share one helper,
and the literals that differ between them become the helper's parameters.
"""

import re
from dataclasses import dataclass, field

import numpy as np

from layers.backend import trt
from layers.functional.constant import SHARED_PREFIX

from .literals import CPP_KEYWORDS, SUPPORT_NAMES, cpp_dims, cpp_enum, cpp_string, data_type_of
from .record import input_ids
from .specs import In, InList, Lit, LoopRef, Wt, defaults_of, spec_for, UNSET

HOLE = "\x00"
INLINE_CONSTANT_LIMIT = 4096  # elements; larger non-state_dict weights get a clear error


# float weights the C++ builder reads as stored or converts (WeightsFile::get(key, type));
# bfloat16 has no numpy type, so the Python layers never hand TensorRT bfloat16 weights
FLOAT_WEIGHTS = (np.dtype(np.float32), np.dtype(np.float16))


class CppEmitError(Exception):
    pass


@dataclass
class Body:
    """Statements of one call: ``text`` with a HOLE per entry of ``literals``."""

    statements: list = field(default_factory=list)  # [tag, chunks]: tag = the child that made it
    inputs: list = field(default_factory=list)  # (tensor id, parameter name)
    outputs: list = field(default_factory=list)  # tensor ids, return order
    children: list = field(default_factory=list)  # nested user calls, in order

    @property
    def chunks(self):
        return [c for _, chunks in self.statements for c in chunks]

    @property
    def text(self):
        return "".join(c if isinstance(c, str) else HOLE for c in self.chunks)

    @property
    def literals(self):
        return [c for c in self.chunks if isinstance(c, Lit)]


class Names:
    """C++ identifiers unique within one function."""

    def __init__(self, taken=()):
        self.taken = set(taken)

    def fresh(self, stem):
        stem = re.sub(r"\W", "_", stem, flags=re.ASCII).strip("_") or "t"
        if stem[0].isdigit():
            stem = "layer_" + stem
        if stem in CPP_KEYWORDS:
            stem += "_"
        candidate, index = stem, 0
        while candidate in self.taken:
            index += 1
            candidate = f"{stem}_{index}"
        self.taken.add(candidate)
        return candidate


def relative(text, path):
    """``(True, suffix)`` when ``text`` is ``path`` + ``.x`` / ``/x`` (or ``path``), else absolute."""
    if path and (text == path or text.startswith(path + ".") or text.startswith(path + "/")):
        return (True, text[len(path) :])
    return (False, text)


def _stem(name, path):
    rel = relative(name, path)[1] if path else name
    rel = rel.lstrip("./")
    module, _, op = rel.rpartition("/")
    return module or op or "t"


class BodyWriter:
    """Writes the events of one call (library calls inline, user calls as helper calls)."""

    def __init__(self, recording, call, weights, is_user_class, write_child, used_keys):
        self.rec = recording
        self.call = call
        self.path = call.path
        self.weights = weights
        self.is_user_class = is_user_class
        self.write_child = write_child  # user Call -> its Body (written first)
        self.used_keys = used_keys  # state_dict keys read by the C++ builder
        self.body = Body()
        self.names = Names({"net", "w", "name"} | SUPPORT_NAMES)
        self.scope = {}  # tensor id -> C++ pointer expression
        self.produced = set()
        self.loops = {}  # loop name -> C++ ILoop* variable
        self.back_edges = {}  # tensor id made later in the body -> [(layer var, input index)]
        self.open = None  # statement being written
        self.tag = None  # first path component (below this call) of what is being written

    # ------------------------------------------------------------------ output
    def emit(self, *chunks):
        for chunk in chunks:
            if self.open is None:
                self.open = [self.tag, []]
                self.body.statements.append(self.open)
            self.open[1].append(chunk)
            if isinstance(chunk, CallRef) or isinstance(chunk, str) and chunk.endswith("\n"):
                self.open = None

    def ptr(self, tid):
        if tid not in self.scope:
            shared = self._shared_layer(tid)
            self.scope[tid] = self._shared(shared) if shared else self._new_input(tid)
        return self.scope[tid]

    def _shared_layer(self, tid):
        """The layer of a constant every module may read (``shared/one_3d``), or None."""
        if tid[0] == "input":
            return None
        layer = self.rec.layers[tid[0]]
        return layer if layer.name.startswith(SHARED_PREFIX) else None

    def _shared(self, layer):
        """Fetch a shared constant where it is read: the first reader makes it, as in Python,
        so no helper passes it on as an argument or a result."""
        var = self.names.fresh(layer.name[len(SHARED_PREFIX) :])
        value = float(np.asarray(layer.weights).reshape(-1)[0])
        self.emit(
            f"ITensor* {var} = w.shared_scalar(net, {cpp_string(layer.name)}, {value!r}, "
            f"{len(layer.shape)}, {cpp_enum(layer.get_output(0).dtype)});\n"
        )
        return var

    def _new_input(self, tid):
        name = self.rec_name(tid)
        param = self.names.fresh(self.call.arg_names.get(tid) or _stem(name, self.path))
        self.body.inputs.append((tid, param))
        return param

    def rec_name(self, tid):
        return self.rec.creation_names.get(tid, tid[1] if tid[0] == "input" else str(tid))

    # ------------------------------------------------------------------ events
    def write(self):
        top = self.call.cls is None
        if top:
            self._network_inputs()
        events = list(self._flatten(self.call))
        last_rename = {}
        for position, event in enumerate(events):
            if event[0] == "rename":
                last_rename[event[1]] = position
        own_layers = {e[1] for e in events if e[0] == "layer"}
        # a layer's output renamed in this same body gets its final name where it is created
        self.folded = {
            e[1][0]: e[2]
            for p, e in enumerate(events)
            if e[0] == "rename"
            and last_rename[e[1]] == p
            and e[1][0] in own_layers
            and e[1][1] == 0
        }
        for position, event in enumerate(events):
            kind = event[0]
            self.tag = self._tag(event)
            if kind == "layer":
                self.layer(event[1])
            elif kind == "call":
                self.user_call(event[1])
            elif (
                kind == "rename"
                and last_rename[event[1]] == position
                and event[1][0] not in self.folded
            ):
                self.rename(event[1], event[2])
        if top:
            for tid, _ in self.rec.outputs:
                self.emit(f"net.markOutput(*{self.ptr(tid)});\n")
        return self.body

    def _network_inputs(self):
        network = self.rec.network
        for i in range(network.num_inputs):
            tensor = network.get_input(i)
            var = self.names.fresh(tensor.name)
            self.emit(
                f"ITensor* {var} = net.addInput({cpp_string(tensor.name)}, {cpp_enum(tensor.dtype)}, "
                f"{cpp_dims(tensor.shape)});\n"
            )
            self.scope[("input", tensor.name)] = var

    def _tag(self, event):
        if event[0] == "layer":
            name = self.rec.layers[event[1]].name
        elif event[0] == "call":
            name = event[1].path
        else:
            return None
        rel = relative(name, self.path)
        if not rel[0] or not rel[1].startswith("."):
            return None
        return re.split(r"[./]", rel[1][1:])[0]

    def _flatten(self, call):
        for event in call.events:
            if event[0] == "call" and not self.is_user_class(event[1].cls):
                yield from self._flatten(event[1])
            else:
                yield event

    def rename(self, tid, new_name):
        self.emit(f"rename({self.ptr(tid)}, ", Lit("name", relative(new_name, self.path)), ");\n")

    # ------------------------------------------------------------------ layers
    def layer(self, index):
        layer = self.rec.layers[index]
        if layer.name.startswith(SHARED_PREFIX):
            return  # made by its first reader (``_shared``)
        spec = spec_for(layer)
        var = self.names.fresh(_stem(layer.name, self.path))
        ins = input_ids(layer, self.rec.tensor_ids)
        pre = []
        parts = spec.create(layer)
        expr = []
        for part in parts:
            expr.extend(self._part(part, layer, var, ins, pre))
        self.emit(*pre)
        output_name = []
        if index in self.folded:
            output_name = [", ", Lit("name", relative(self.folded[index], self.path))]
        name = [Lit("name", relative(layer.name, self.path)), *output_name]
        if spec.set_before_naming:
            self.emit(f"auto* {var} = ", *expr, ";\n")
            self._setters(spec, layer, var)
            self.emit(f"named({var}, ", *name, ");\n")
        else:
            self.emit(f"auto* {var} = named(", *expr, ", ", *name, ");\n")
            self._setters(spec, layer, var)
        created = spec.created_inputs if spec.created_inputs is not None else len(ins)
        for i in range(created, len(ins)):
            if ins[i] is None:
                continue
            if isinstance(ins[i][0], int) and ins[i][0] > index:  # a recurrence's next state
                self.back_edges.setdefault(ins[i], []).append((var, i))
                continue
            self.emit(f"{var}->setInput({i}, *{self.ptr(ins[i])});\n")
        for j in range(layer.num_outputs):
            tid = (index, j)
            expected = layer.name if j == 0 else f"{layer.name}:{j}"
            actual = self.rec.creation_names.get(tid, expected)
            if actual != expected:
                self.emit(
                    f"rename({var}->getOutput({j}), ",
                    Lit("name", relative(actual, self.path)),
                    ");\n",
                )
            self.scope[tid] = f"{var}->getOutput({j})"
            self.produced.add(tid)
            for waiting, i in self.back_edges.pop(tid, []):
                self.emit(f"{waiting}->setInput({i}, *{self.scope[tid]});\n")

    def _part(self, part, layer, var, ins, pre):
        if isinstance(part, str):
            return [part]
        if isinstance(part, Lit):
            return [Lit(part.kind, _plain(part.value), f"{var}_{part.hint or part.kind}")]
        if isinstance(part, In):
            return [f"*{self.ptr(ins[part.index])}"]
        if isinstance(part, InList):
            array = f"{var}_inputs"
            pre.append(f"ITensor* {array}[] = {{{', '.join(self.ptr(t) for t in ins)}}};\n")
            return [f"{array}, {len(ins)}"]
        if isinstance(part, Wt):
            return self._weights(part.role, layer, var, pre)
        if isinstance(part, LoopRef):
            return [self._loop(layer.loop.name, pre)]
        raise TypeError(part)

    def _loop(self, name, pre):
        """The ILoop* named ``name``, declared (and named) before its first boundary layer."""
        if name not in self.loops:
            var = self.loops[name] = self.names.fresh(_stem(name, self.path) + "_loop")
            pre.extend(
                [
                    f"ILoop* {var} = net.addLoop();\n",
                    f"{var}->setName(std::string(",  # ILoop takes a C string
                    Lit("name", relative(name, self.path)),
                    ").c_str());\n",
                ]
            )
        return self.loops[name]

    def _setters(self, spec, layer, var):
        if spec.sizing is not None:
            for chunk in spec.sizing(layer, var):
                self.emit(
                    Lit(chunk.kind, chunk.value, f"{var}_{chunk.hint}")
                    if isinstance(chunk, Lit)
                    else chunk
                )
        defaults = defaults_of(spec, layer)
        skip = spec.skip(layer) if spec.skip else ()
        values = {attr.py: getattr(layer, attr.py) for attr in spec.attrs if attr.py not in skip}
        symmetric = "pre_padding" in spec.explicit and _same(
            values["pre_padding"], values["post_padding"]
        )
        for attr in spec.attrs:
            if attr.py in skip or not attr.settable:
                continue
            value = values[attr.py]
            default = defaults[attr.py]
            if symmetric and attr.py in ("pre_padding", "post_padding"):
                if attr.py == "pre_padding":  # one setPaddingNd for equal pre / post padding
                    self.emit(
                        f"{var}->setPaddingNd(",
                        Lit("dims", _plain(value), f"{var}_padding"),
                        ");\n",
                    )
                continue
            rank = _perm_rank(layer, attr.py) if attr.kind == "perm" else 0
            if attr.kind == "perm" and tuple(_plain(value))[:rank] == tuple(range(rank)):
                continue
            if attr.py not in spec.explicit and default is not UNSET and _same(value, default):
                continue
            if value is None:
                continue
            value = _plain(value)
            if attr.kind == "perm":  # entries past the input's rank mean nothing: perm() fills them
                value = value[: _perm_rank(layer, attr.py)]
            self.emit(f"{var}->set{attr.cpp}(", Lit(attr.kind, value, f"{var}_{attr.py}"), ");\n")

    # ------------------------------------------------------------------ weights
    def _weights(self, role, layer, var, pre):
        array = getattr(layer, role)
        if isinstance(array, trt.Weights) and array.size == 0:  # e.g. a kernel given as an input
            return ["no_weights(", Lit("enum", array.dtype), ")"]
        if array is None or np.asarray(array).size == 0:
            dtype = _empty_weights_type(layer)
            return ["no_weights(", Lit("enum", dtype), ")"]
        array = np.asarray(array)
        source = self.rec.weight_sources.get(array.ctypes.data)
        if source is not None and source[0] == "param" and source[1] in self.weights:
            return self._param(source[1], array, layer)
        if source is not None and source[0] == "batch_norm" and array.dtype in FLOAT_WEIGHTS:
            return self._batch_norm(source, array)
        if source is not None and source[0] == "rows_scaled" and array.dtype in FLOAT_WEIGHTS:
            return self._rows_scaled(source, array, layer)
        if source is not None and source[0] == "conv_batch_norm" and array.dtype in FLOAT_WEIGHTS:
            return self._conv_batch_norm(source, array, layer)
        return self._inline_weights(array, layer, var, role, pre)

    def _param(self, key, array, layer):
        """``w.get(key)`` for the tensor as stored; ``w.get(key, DataType::kHALF)`` for a float
        tensor the network uses in another float type (an FP16 network, FP32 weights file)."""
        stored = np.asarray(self.weights[key])
        name = Lit("name", relative(key, self.path))
        if stored.size == array.size and stored.dtype == array.dtype:
            self.used_keys.add(key)
            return ["w.get(", name, ")"]
        if stored.size == array.size and {stored.dtype, array.dtype} <= set(FLOAT_WEIGHTS):
            self.used_keys.add(key)
            return ["w.get(", name, ", ", Lit("enum", data_type_of(array)), ")"]
        why = (
            f"{array.size} values, not {stored.size}"
            if stored.size != array.size
            else "the C++ builder converts weights only between float32, float16 and bfloat16"
        )
        raise CppEmitError(
            f"layer {layer.name!r} reads {key!r} as {array.dtype} {list(array.shape)}, but "
            f"weights.safetensors holds it as {stored.dtype} {list(stored.shape)}; {why}"
        )

    def _batch_norm(self, source, array):
        _, role, mean, var, weight, bias, eps = source
        prefix = self._batch_norm_prefix([mean, var, weight, bias])
        # folded in double from the stored values, then rounded to the SCALE layer's type
        return [
            f"w.batch_norm_{role}(",
            Lit("name", relative(prefix, self.path)),
            ", ",
            Lit("double", eps),
            *_type_argument(array),
            ")",
        ]

    def _conv_batch_norm(self, source, array, layer):
        _, role, kernel, bias, mean, var, weight, bn_bias, eps = source
        prefix = self._batch_norm_prefix([mean, var, weight, bn_bias])
        key = kernel if role == "kernel" else bias
        return [
            f"w.conv_batch_norm_{role}(",
            self._float_key(key, layer, "folds a batch norm into"),
            ", ",
            Lit("name", relative(prefix, self.path)),
            ", ",
            Lit("double", eps),
            *_type_argument(array),
            ")",
        ]

    def _float_key(self, key, layer, what):
        """The argument naming the float32/float16 tensor ``key`` a derived weight is computed
        from (marked used), or "" for none; CppEmitError when the weights file lacks it."""
        if key is None:
            return Lit("str", "")
        if key not in self.weights or np.asarray(self.weights[key]).dtype not in FLOAT_WEIGHTS:
            raise CppEmitError(
                f"layer {layer.name!r} {what} {key!r}, which weights.safetensors does not hold "
                "as float32/float16"
            )
        self.used_keys.add(key)
        return Lit("name", relative(key, self.path))

    def _batch_norm_prefix(self, keys):
        """The module prefix of a batch norm's weights (marked used), or CppEmitError."""
        prefix = _common_prefix(keys)
        if (
            prefix is not None
            and all(k is None or k in self.weights for k in keys)
            and all(k is None or np.asarray(self.weights[k]).dtype in FLOAT_WEIGHTS for k in keys)
        ):
            self.used_keys.update(k for k in keys if k)
            return prefix
        raise CppEmitError(
            f"batch norm over {[k for k in keys if k]}: C++ output folds batch norm only for "
            "float32/float16 running_mean/running_var/weight/bias of one module"
        )

    def _rows_scaled(self, source, array, layer):
        _, key, rows, factor, total = source
        dtype = _type_argument(array)
        return [
            "w.rows_scaled(",
            self._float_key(key, layer, "scales rows of"),
            ", ",
            Lit("int", rows),
            ", ",
            Lit("double", factor),
            ", ",
            Lit("int", total),
            *dtype,
            ")",
        ]

    def _inline_weights(self, array, layer, var, role, pre):
        if array.size > INLINE_CONSTANT_LIMIT:
            raise CppEmitError(
                f"layer {layer.name!r}: {role} weights of {array.size} elements are not a state_dict "
                "tensor, so the C++ builder would have to embed them; keep such constants in the "
                "model's buffers (register_buffer) so they land in weights.safetensors"
            )
        ctype, values = _c_array(array)
        name = f"{var}_{role}"
        pre.append(f"static {ctype} const {name}[] = {{{values}}};\n")
        return ["Weights{", Lit("enum", data_type_of(array)), f", {name}, {array.size}}}"]

    # ------------------------------------------------------------------ user calls
    def user_call(self, child):
        child_body = self.write_child(child)
        var = self.names.fresh(_stem(child.path, self.path) if child.path else "model")
        inputs = [self.ptr(tid) for tid, _ in child_body.inputs]
        name = Lit("name", relative(child.path, self.path)) if child.path else None
        self.emit(CallRef(child, var, name, inputs, len(child_body.outputs)))
        for k, tid in enumerate(child_body.outputs):
            self.scope[tid] = var if len(child_body.outputs) == 1 else f"{var}[{k}]"
            self.produced.add(tid)
        self.body.children.append(child)


@dataclass
class CallRef:
    """A nested helper call, spelled out once the callee's helper is known."""

    call: object
    var: str
    name: object  # Lit or None (the root module has no name)
    inputs: list
    n_outputs: int

    def chunks(self, function, params):
        kind = {0: "", 1: "ITensor* "}.get(self.n_outputs, "std::vector<ITensor*> ")
        out = [f"{kind}{self.var + ' = ' if self.n_outputs else ''}{function}(net, w"]
        if self.name is not None:
            out += [", ", self.name]
        out += [f", {expr}" for expr in self.inputs]
        for lit in params:
            out += [", ", Lit(lit.kind, lit.value, f"{self.var}_{lit.hint}")]
        out.append(");\n")
        return out


def _perm_rank(layer, attr):
    """A shuffle's first transpose acts on its input, the second on the reshaped output."""
    tensor = layer.get_output(0) if attr == "second_transpose" else layer.get_input(0)
    return len(tensor.shape)


def _same(value, default):
    value = _plain(value)
    if default is None or value is None:
        return value is default or (value is not None and len(value) == 0 and default is None)
    if isinstance(default, tuple) or isinstance(value, (list, tuple)):
        return value is not None and default is not None and tuple(value) == tuple(default)
    if isinstance(default, float) and isinstance(value, float):
        return np.float32(value) == np.float32(default)
    return value == default


def _plain(value):
    if isinstance(value, (list, tuple)) or type(value).__name__ in ("Dims", "Permutation"):
        return tuple(int(v) for v in value)
    return value


def _empty_weights_type(layer):
    if layer.num_inputs and layer.get_input(0) is not None:
        return layer.get_input(0).dtype
    return trt.float32


def _type_argument(array):
    """The ``type`` argument of a derived-weights call: none for float32, the default."""
    return [] if array.dtype == np.float32 else [", ", Lit("enum", data_type_of(array))]


def _common_prefix(keys):
    suffixes = ("running_mean", "running_var", "weight", "bias")
    prefix = None
    for key, suffix in zip(keys, suffixes):
        if key is None:
            continue
        if not key.endswith("." + suffix) and key != suffix:
            return None
        this = key[: -len(suffix) - 1] if key != suffix else ""
        if prefix is not None and this != prefix:
            return None
        prefix = this
    return prefix


_C_TYPES = {
    np.dtype(np.float32): "float",
    np.dtype(np.float16): "uint16_t",
    np.dtype(np.int8): "int8_t",
    np.dtype(np.uint8): "uint8_t",
    np.dtype(np.int32): "int32_t",
    np.dtype(np.int64): "int64_t",
    np.dtype(np.bool_): "bool",
}


def _c_array(array):
    from .literals import cpp_float

    flat = array.reshape(-1)
    dtype = np.dtype(array.dtype)
    if dtype == np.float32:
        return "float", ", ".join(cpp_float(v) for v in flat)
    if dtype == np.float16:
        return "uint16_t", ", ".join(f"0x{int(v):04x}" for v in flat.view(np.uint16))
    if dtype == np.bool_:
        return "bool", ", ".join("true" if v else "false" for v in flat)
    if dtype == np.int64:
        return "int64_t", ", ".join(
            f"{int(v)}LL" if abs(int(v)) > 2**31 - 1 else str(int(v)) for v in flat
        )
    if dtype in _C_TYPES:
        return _C_TYPES[dtype], ", ".join(str(int(v)) for v in flat)
    raise CppEmitError(f"C++ output cannot embed {dtype} constants")


__all__ = ["Body", "BodyWriter", "CppEmitError", "HOLE", "Names", "relative", "cpp_string"]
