"""``--lang cpp``: network.cpp + CMakeLists.txt + support headers, from the network.py build.

The C++ builder is written from the network that ``network.py`` builds (recorded with a
journal), so its layers, names and weights are the Python builder's by construction; module
calls become one helper function per module class, as in a hand-written tensorrtx network.
"""

import os
import re
import shutil
import subprocess

import numpy as np

from ... import __version__
from ...errors import TrtgenError
from ..render import _environment, builtin_template_dir
from .bodies import CppEmitError
from .describe import cpp_describer
from .helpers import HelperBuilder, render_body, signature_params, snake
from .literals import cpp_dims, cpp_enum, cpp_string, data_type_of
from .record import record, layer_type

SUPPORT_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "support")
SUPPORT_FILES = ("trtgen_builder.h", "trtgen_main.h", "trtgen_run.h", "trtgen_safetensors.h")


def render_cpp(network_py, weights, title, source, template_dir=None, profiles=(), scales=None):
    """``{file name: text}`` of the C++ builder equivalent to ``network_py``; ``profiles``:
    ``[{input name: (min, opt, max) shape}]`` for dynamic inputs; ``scales``: the quantization
    scales of a quantized network (quant.safetensors), read by key like the weights."""
    readable = weights if scales is None else {**weights, **scales}
    try:
        rec = record(network_py, weights, scales=scales)
        builder = HelperBuilder(rec, readable, _user_class_test())
        helpers, top_body, _ = builder.build(rec.top)
    except (CppEmitError, NotImplementedError) as exc:
        raise TrtgenError(f"cannot write network.cpp: {exc}") from exc
    env = _environment(template_dir)
    network_cpp = env.get_template("network.cpp.j2").render(
        title=title,
        version=__version__,
        source=source,
        helpers=[_helper_view(h, builder) for h in helpers],
        build_body=drop_unused_declarations(render_body(top_body)),
        expected=_expected(readable, builder.used_keys | _declared(readable)),
        quantized=scales is not None,
        profiles=[
            [(cpp_string(name), *(cpp_dims(s) for s in shapes)) for name, shapes in profile.items()]
            for profile in profiles
        ],
    )
    cmake = env.get_template("CMakeLists.txt.j2").render(
        title=title, version=__version__, project=snake(title)
    )
    files = {
        "network.cpp": format_cpp(network_cpp),
        "CMakeLists.txt": cmake,
        "trtgen_describe.h": format_cpp(cpp_describer({layer_type(l) for l in rec.layers})),
        ".clang-format": _read(os.path.join(builtin_template_dir(), ".clang-format")),
    }
    for name in SUPPORT_FILES:
        files[name] = _read(os.path.join(SUPPORT_DIR, name))
    return files


def _user_class_test():
    # classes defined by the generated network.py (not by `layers`) get a helper each
    return lambda cls: cls is not None and not cls.__module__.startswith("layers")


def _helper_view(helper, builder):
    first = helper.result_call
    writer = builder.writers[id(first)]
    body = helper.body
    text = render_body(body, helper.slots)
    used = {n for n in ("net", "w", "name") if re.search(rf"\b{n}\b", text)}
    # an unused parameter keeps its place in the signature but loses its name (-Wunused-parameter)
    params = [
        f"INetworkDefinition& {'net' if 'net' in used else '/*net*/'}",
        f"WeightsFile& {'w' if 'w' in used else '/*w*/'}",
    ]
    if first.path:
        params.append(f"std::string const& {'name' if 'name' in used else '/*name*/'}")
    params += [f"ITensor* {name}" for _, name in body.inputs]
    params += signature_params(helper)
    results = [writer.scope[tid] for tid in body.outputs]
    text = drop_unused_declarations(text, " ".join(results))
    returns = {0: "void", 1: "ITensor*"}.get(len(results), "std::vector<ITensor*>")
    result = results[0] if len(results) == 1 else "{" + ", ".join(results) + "}" if results else ""
    doc = (helper.cls.__doc__ or helper.cls.__name__).strip().splitlines()[0]
    doc = doc.removeprefix("PyTorch: ")
    return dict(
        function=helper.function,
        params=params,
        returns=returns,
        result=result,
        body=text,
        doc=f"{doc}; this helper builds {len(helper.calls)} of them",
    )


def drop_unused_declarations(text, keep=""):
    """``auto* v = named(...)`` → ``named(...)`` when nothing reads ``v`` (-Wunused-variable):
    the Python network keeps layers whose outputs nothing uses, so the C++ does too."""
    code = re.sub(r'"(?:\\.|[^"\\])*"', '""', text + " " + keep)  # names inside strings don't count
    for name in re.findall(r"auto\* (\w+) =", text):
        if len(re.findall(rf"\b{name}\b", code)) == 1:
            text = re.sub(rf"auto\* {name} =\s*", "", text, count=1)
    return text


def _declared(weights):
    """Every key of the weights (and scales) files: the builder rejects a file holding a key it
    does not declare, so those the C++ does not read are declared too (any TensorRT can hold)."""
    found = set()
    for key, array in weights.items():
        try:
            data_type_of(np.asarray(array))
        except KeyError:
            continue
        found.add(key)
    return found


def _expected(weights, keys):
    rows = []
    for key in sorted(keys):
        array = np.asarray(weights[key])
        shape = ", ".join(str(int(d)) for d in array.shape)
        rows.append((cpp_string(key), cpp_enum(data_type_of(array)), shape))
    return rows


def _read(path):
    with open(path) as f:
        return f.read()


def clang_format_path():
    """The binary the ``clang-format`` package installs (found without an activated venv),
    else one on PATH."""
    found = _packaged_clang_format() or shutil.which("clang-format")
    if found is None:
        raise TrtgenError(
            "clang-format is not installed; `pip install clang-format` (trtgen formats its C++ with it)"
        )
    return found


def _packaged_clang_format():
    try:
        import clang_format
    except ImportError:
        return None
    path = clang_format.get_executable("clang-format")
    return path if os.access(path, os.X_OK) else None


def format_cpp(text):
    style = os.path.join(builtin_template_dir(), ".clang-format")
    result = subprocess.run(
        [clang_format_path(), f"--style=file:{style}", "--assume-filename=network.cpp"],
        input=text,
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode != 0:
        raise TrtgenError(f"clang-format failed: {result.stderr.strip()}")
    return result.stdout


__all__ = ["render_cpp", "format_cpp", "cpp_dims"]
