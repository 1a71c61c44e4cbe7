"""Compile and run a generated C++ builder: find TensorRT headers, the TensorRT-RTX library
from its wheel, and the CUDA runtime headers from the nvidia-cuda-runtime wheel (or a toolkit).

The TensorRT C++ headers are not pip-installable: tests that compile skip unless
TENSORRT_INCLUDE_DIR names a folder with NvInfer.h (see docs/cpp.md).
"""

import glob
import importlib.util
import os
import shutil
import subprocess

import pytest


def tensorrt_include_dir():
    path = os.environ.get("TENSORRT_INCLUDE_DIR", "")
    return path if path and os.path.isfile(os.path.join(path, "NvInfer.h")) else None


def tensorrt_lib_dir():
    if os.environ.get("TENSORRT_LIB_DIR"):
        return os.environ["TENSORRT_LIB_DIR"]
    spec = importlib.util.find_spec("tensorrt_rtx_libs")
    if spec is None or not spec.submodule_search_locations:
        return None
    folder = list(spec.submodule_search_locations)[0]
    return folder if glob.glob(os.path.join(folder, "libtensorrt_rtx.so*")) else None


def cuda_include_dir():
    if os.environ.get("CUDA_INCLUDE_DIR"):
        return os.environ["CUDA_INCLUDE_DIR"]
    spec = importlib.util.find_spec("nvidia")
    for root in list(spec.submodule_search_locations) if spec else []:
        for candidate in sorted(
            glob.glob(os.path.join(root, "*", "include", "cuda_runtime_api.h"))
        ):
            folder = os.path.dirname(candidate)
            # cuda_runtime_api.h includes crt/host_defines.h, which some wheels leave out
            if os.path.exists(os.path.join(folder, "crt", "host_defines.h")):
                return folder
    toolkit = "/usr/local/cuda/include"
    return toolkit if os.path.exists(os.path.join(toolkit, "cuda_runtime_api.h")) else None


def require_toolchain():
    """(include, lib, cuda include) or skip with the reason."""
    missing = []
    include, lib, cuda = tensorrt_include_dir(), tensorrt_lib_dir(), cuda_include_dir()
    if include is None:
        missing.append("TensorRT C++ headers (set TENSORRT_INCLUDE_DIR to a folder with NvInfer.h)")
    if lib is None:
        missing.append("libtensorrt_rtx (the tensorrt-rtx-cu13-libs wheel)")
    if cuda is None:
        missing.append("CUDA runtime headers (nvidia-cuda-runtime wheel or CUDA_INCLUDE_DIR)")
    if shutil.which("cmake") is None or shutil.which("c++") is None:
        missing.append("cmake and a C++ compiler")
    if missing:
        pytest.skip("cannot compile generated C++: no " + "; no ".join(missing))
    return include, lib, cuda


def compile_builder(out_dir, build_dir):
    """cmake + build OUT's CMakeLists.txt (-O0: these tests check the network, not speed)."""
    include, lib, cuda = require_toolchain()
    configure = subprocess.run(
        [
            "cmake",
            "-S",
            str(out_dir),
            "-B",
            str(build_dir),
            "-DCMAKE_BUILD_TYPE=Debug",
            f"-DTENSORRT_INCLUDE_DIR={include}",
            f"-DTENSORRT_LIB_DIR={lib}",
            f"-DCUDA_INCLUDE_DIR={cuda}",
            "-DCMAKE_CXX_FLAGS=-Werror",
        ],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert configure.returncode == 0, configure.stdout + configure.stderr
    build = subprocess.run(
        ["cmake", "--build", str(build_dir), "-j2"], capture_output=True, text=True, timeout=1800
    )
    assert build.returncode == 0, build.stdout[-6000:] + build.stderr[-6000:]
    return os.path.join(str(build_dir), "build_engine"), lib


def run_builder(exe, lib, *args, cwd=None):
    env = dict(os.environ, LD_LIBRARY_PATH=lib + os.pathsep + os.environ.get("LD_LIBRARY_PATH", ""))
    return subprocess.run(
        [exe, *map(str, args)], capture_output=True, text=True, timeout=1800, env=env, cwd=cwd
    )


def build_and_describe(out_dir, tmp_path):
    """Compile OUT's builder, build an engine with it; (C++ --describe, Python description)."""
    import json

    from trtgen.emit.cpp.describe import describe_network
    from trtgen.emit.netfile import build_from_output

    exe, lib = compile_builder(out_dir, tmp_path / "build")
    engine, description = tmp_path / "model.engine", tmp_path / "network.json"
    result = run_builder(
        exe,
        lib,
        "--weights",
        out_dir / "weights.safetensors",
        "--engine",
        engine,
        "--describe",
        description,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert engine.stat().st_size > 0
    return json.loads(description.read_text()), describe_network(build_from_output(str(out_dir))[1])
