"""``trtgen run OUT``: run OUT's engine on a GPU with inputs from .npy / .pt files.

Everything that can be checked without a GPU is checked first (OUT, the engine file, every
``--input``, the output files), so a mistake is reported the same way on any machine.
"""

import os
import re
import time

import numpy as np

from layers.runtime import Engine, gpu_unavailable_reason, to_numpy

from ..capture.dynamic import shape_text
from ..emit.output import read_manifest, write_error, write_file
from ..errors import NoGpuError, TrtgenError


def run(
    out_dir,
    input_args=(),
    engine_path=None,
    output_dir=None,
    force=False,
    cuda_graph=False,
    iterations=1,
    log=print,
):
    """Run the engine ``iterations`` times; print a table of the outputs of the last run and
    save them to ``output_dir`` as ``<name>.npy``. Returns ``{output name: numpy array}``."""
    manifest = read_manifest(out_dir)
    declared = {entry["name"]: entry for entry in manifest["inputs"]}
    engine_path = existing_engine(out_dir, engine_path)
    if iterations < 1:
        raise TrtgenError(f"--iterations {iterations}: need at least 1")
    given = parse_inputs(input_args, declared)
    inputs = {name: load_array(path, name) for name, path in given}
    protected = [engine_path, *(path for _, path in given)]  # never overwritten by an output
    if output_dir is not None:
        output_paths([o["name"] for o in manifest["outputs"]], output_dir, force, protected)
    reason = gpu_unavailable_reason()
    if reason is not None:
        raise NoGpuError(
            f"{reason}; run this on a machine with a GPU the TensorRT package supports, or compare "
            f"the network with PyTorch on the CPU with `trtgen check {out_dir}`"
        )

    for name in declared:
        if name not in inputs:
            inputs[name] = example_like(declared[name])
            log(f"{name}: no --input given, using {describe_default(declared[name])}")
    outputs, seconds = _execute(engine_path, inputs, cuda_graph, iterations)
    log(table(outputs))
    mode = "CUDA graph replay" if cuda_graph else "execute_async_v3"
    log(f"{iterations} run(s), {mode}: {1000 * seconds / iterations:.3f} ms per run")
    if output_dir is not None:
        save_outputs(outputs, output_dir, force, log, protected)
    return to_numpy(outputs)


def existing_engine(out_dir, engine_path=None):
    """The engine to run (default OUT/model.engine); it must exist."""
    default = os.path.join(out_dir, "model.engine")
    engine_path = engine_path or default
    if not os.path.isfile(engine_path):
        build = f"trtgen build {out_dir}" + ("" if engine_path == default else f" -o {engine_path}")
        raise TrtgenError(f"no engine at {engine_path}; run `{build}` first")
    return engine_path


def parse_inputs(texts, declared):
    """``["x=a.npy", ...]`` → ``[(name, path), ...]``, every name an input of the network."""
    pairs, seen = [], set()
    for text in texts:
        name, sep, path = text.partition("=")
        if not sep or not name or not path:
            raise TrtgenError(f"--input {text!r}: expected NAME=FILE, e.g. x=input.npy")
        if name not in declared:
            raise TrtgenError(
                f"--input {text!r}: no input {name!r}; the inputs are {', '.join(declared)}"
            )
        if name in seen:
            raise TrtgenError(f"--input {name!r} is given twice")
        seen.add(name)
        pairs.append((name, path))
    return pairs


def load_array(path, name):
    """A numpy array from ``.npy``, or a torch tensor from ``.pt`` (torch.save of one tensor)."""
    if not os.path.isfile(path):
        raise TrtgenError(f"--input {name}={path}: no such file")
    if path.endswith(".npy"):
        try:
            return np.load(path, allow_pickle=False)
        except (ValueError, OSError) as exc:
            raise TrtgenError(f"--input {name}={path}: not a readable .npy array ({exc})") from exc
    if path.endswith(".pt"):
        import torch

        try:
            value = torch.load(path, map_location="cpu", weights_only=True)
        except Exception as exc:  # torch raises many kinds for a bad file
            raise TrtgenError(f"--input {name}={path}: not a readable .pt file ({exc})") from exc
        if not isinstance(value, torch.Tensor):
            kind = type(value).__name__
            raise TrtgenError(f"--input {name}={path}: holds a {kind}, not one tensor")
        return value
    raise TrtgenError(f"--input {name}={path}: use a .npy (numpy.save) or .pt (torch.save) file")


def example_like(entry):
    """Values of the example input's shape and dtype from trtgen.json: standard normal for
    floats (seed 0), zeros otherwise (zeros are valid token ids and masks)."""
    import torch

    dtype = getattr(torch, entry["dtype"])
    if dtype.is_floating_point:
        generator = torch.Generator().manual_seed(0)
        return torch.randn(entry["shape"], generator=generator).to(dtype)
    return torch.zeros(entry["shape"], dtype=dtype)


def describe_default(entry):
    shape = shape_text(entry["shape"])
    kind = "random normal" if entry["dtype"].startswith(("float", "bfloat")) else "zero"
    return f"{kind} {entry['dtype']} values of the example shape {shape} from trtgen.json"


def output_paths(names, output_dir, force, protected=()):
    """``{output name: DIR/<name>.npy}``; refuse existing files unless ``force``, and the
    ``protected`` files (the command's inputs) always."""
    if os.path.exists(output_dir) and not os.path.isdir(output_dir):
        raise TrtgenError(f"--output-dir {output_dir} is a file, not a directory")
    paths = {}
    for name in names:
        path = os.path.join(output_dir, re.sub(r"[^\w.-]", "_", name) + ".npy")
        if path in paths.values():
            raise TrtgenError(f"outputs {sorted(names)} would share the file {path}")
        paths[name] = path
    for path in paths.values():
        if any(
            os.path.exists(p) and os.path.exists(path) and os.path.samefile(p, path)
            for p in protected
        ):
            raise TrtgenError(f"{path} is an input of this command; choose another --output-dir")
    existing = [p for p in paths.values() if os.path.exists(p)]
    if existing and not force:
        raise TrtgenError(
            f"{existing[0]} already exists; pass --force to overwrite it, or choose another "
            "--output-dir"
        )
    return paths


def save_outputs(outputs, output_dir, force, log=print, protected=()):
    paths = output_paths(list(outputs), output_dir, force, protected)
    arrays = to_numpy(outputs)
    try:
        os.makedirs(output_dir, exist_ok=True)
    except OSError as exc:
        raise write_error(output_dir, exc) from None
    for name, path in paths.items():  # each a temporary sibling renamed into place
        write_file(path, lambda f, array=arrays[name]: np.save(f, array))
    log(f"wrote {', '.join(paths.values())}")


def _execute(engine_path, inputs, cuda_graph, iterations):
    """``({output name: CPU tensor} of the last run, seconds for all runs)``."""
    try:
        engine = Engine(engine_path, cuda_graph=cuda_graph)
        start = time.perf_counter()
        for _ in range(iterations):
            outputs = engine(inputs)
        seconds = time.perf_counter() - start
    except ValueError as exc:  # an input the engine does not accept: say which and why
        raise TrtgenError(str(exc)) from exc
    except RuntimeError as exc:
        raise NoGpuError(str(exc)) from exc
    return {name: tensor.cpu() for name, tensor in outputs.items()}, seconds


def table(tensors):
    """One row per output: name, shape, dtype, min / max / mean."""
    rows = [("output", "shape", "dtype", "min", "max", "mean")]
    for name, tensor in tensors.items():
        shape = shape_text(tensor.shape) or "scalar"
        if tensor.numel():
            values = tensor.double()
            stats = [f"{v.item():.6g}" for v in (values.min(), values.max(), values.mean())]
        else:
            stats = ["-", "-", "-"]
        rows.append((name, shape, str(tensor.dtype).replace("torch.", ""), *stats))
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    lines = []
    for row in rows:  # text columns left-aligned, numbers right-aligned
        cells = [c.ljust(w) if i < 3 else c.rjust(w) for i, (c, w) in enumerate(zip(row, widths))]
        lines.append("  ".join(cells))
    return "\n".join(lines)
