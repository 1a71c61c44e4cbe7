"""network.cpp vs network.py over the model corpus: generate with --lang python,cpp, compile,
build an engine with the C++ builder and compare `--describe` with network.py's network.

    TENSORRT_INCLUDE_DIR=/path/to/headers python benchmarks/cpp_equivalence.py [names...]

Prints one line per model: OK, or where it stopped (generation, compile, run, first differing
layer). Needs the same toolchain as tests/trtgen/test_cpp.py (see docs/cpp.md).
"""

import json
import os
import shutil
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "tests", "trtgen"))

import corpus  # noqa: E402
from cli_helpers import run_trtgen  # noqa: E402
from cpp_helpers import compile_builder, run_builder  # noqa: E402

from trtgen.emit.cpp.describe import describe_network  # noqa: E402
from trtgen.emit.netfile import build_from_output  # noqa: E402


def compare(name, folder):
    out = os.path.join(folder, "out")
    result = run_trtgen(corpus.model_file(name, folder), "-o", out, "--lang", "python,cpp")
    if result.returncode:
        return "generate failed: " + result.stderr.strip().splitlines()[-1]
    exe, lib = compile_builder(out, os.path.join(folder, "build"))
    description = os.path.join(folder, "network.json")
    result = run_builder(
        exe,
        lib,
        "--weights",
        os.path.join(out, "weights.safetensors"),
        "--engine",
        os.path.join(folder, "model.engine"),
        "--describe",
        description,
    )
    if result.returncode:
        return "build_engine failed: " + result.stderr.strip()[-300:]
    with open(description) as f:
        cpp = json.load(f)
    python = describe_network(build_from_output(out)[1])
    if (cpp["inputs"], cpp["outputs"]) != (python["inputs"], python["outputs"]):
        return "network inputs or outputs differ"
    if len(cpp["layers"]) != len(python["layers"]):
        return f"{len(cpp['layers'])} C++ layers, {len(python['layers'])} Python layers"
    for index, (c, p) in enumerate(zip(cpp["layers"], python["layers"])):
        if c != p:
            return f"layer {index} ({p['name']}) differs"
    lines = sum(1 for _ in open(os.path.join(out, "network.cpp")))
    return f"OK ({len(cpp['layers'])} layers, network.cpp {lines} lines)"


def main(names):
    for name in names or sorted(corpus.CORPUS):
        folder = tempfile.mkdtemp(prefix=f"cpp-{name}-")
        try:
            print(f"{name}: {compare(name, folder)}", flush=True)
        except KeyboardInterrupt:
            raise
        except BaseException as exc:  # compile errors are AssertionErrors, missing headers a skip
            print(f"{name}: {type(exc).__name__}: {str(exc)[:300]}", flush=True)
        finally:
            shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main(sys.argv[1:])
