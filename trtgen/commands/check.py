"""``trtgen check OUT``: rebuild OUT/network.py with TensorRT, run it, compare with PyTorch.

Runs the reference executor (CPU); the PyTorch model is loaded again from the manifest, with
OUT/weights.safetensors loaded into it so both sides use the same (possibly edited) weights.
"""

import os

import torch

import layers
from layers.runtime import Engine, gpu_unavailable_reason
from layers.weights_file import WeightsFileError, load_file

from ..capture.dynamic import shape_text
from ..capture.iospec import flatten_outputs
from ..capture.load import load_model
from ..emit.netfile import build_with_profiles
from ..emit.output import read_manifest
from ..errors import TrtgenError
from ..reference import execute
from .compare import compare, table, tolerance_for

FP32_RTOL = 1e-4


def load_reference_model(out_dir, manifest):
    source = manifest["source"]
    relative = manifest.get("source_from_output")
    if relative and os.path.exists(os.path.join(out_dir, relative)):
        source = os.path.normpath(os.path.join(out_dir, relative))
    loaded = load_model(source, [tuple(s) for s in manifest.get("input_shapes", [])])
    try:
        arrays = load_file(os.path.join(out_dir, "weights.safetensors"))
    except WeightsFileError as exc:
        raise TrtgenError(f"{exc}; regenerate it with trtgen or fix the file") from exc
    weights = {key: torch.from_numpy(array) for key, array in arrays.items()}
    state = loaded.model.state_dict()
    buffers = dict(loaded.model.named_buffers())
    for key, value in weights.items():
        if key in state:
            _check_same_shape(out_dir, manifest, key, value, state[key])
            state[key] = value.to(state[key].dtype)
    loaded.model.load_state_dict(state, strict=False)
    for name, buffer in buffers.items():  # non-persistent buffers
        if name in weights and name not in state:
            _check_same_shape(out_dir, manifest, name, weights[name], buffer)
            buffer.copy_(weights[name])
    return loaded


def _check_same_shape(out_dir, manifest, key, stored, expected):
    if stored.shape != expected.shape:
        raise TrtgenError(
            f"{out_dir}/weights.safetensors: {key!r} is {list(stored.shape)} but the model "
            f"{manifest['source']} has {list(expected.shape)}; these weights are not for this "
            "model: regenerate OUT, or put back the weights it was generated with"
        )


def _module_outputs(model, inputs):
    """Run PyTorch recording each module's output by module path (first call wins)."""
    recorded, handles = {}, []
    for path, module in model.named_modules():
        if not path:
            continue

        def hook(mod, args, out, path=path):
            if isinstance(out, torch.Tensor):
                recorded.setdefault(path, out.detach().clone())  # in-place ops follow

        handles.append(module.register_forward_hook(hook))
    try:
        with torch.no_grad():
            result = model(*inputs)
    finally:
        for h in handles:
            h.remove()
    return result, recorded


def check(out_dir, rtol=None, layerwise=False, log=print, shapes=None, min_cosine=None):
    """Compare OUT's network with PyTorch on the example inputs, or on random inputs of the
    ``shapes`` given ({input name: shape}, inside the network's dynamic profile).

    The bounds default by OUT's precision (``compare.TOLERANCES``); ``rtol`` / ``min_cosine``
    override them."""
    manifest = read_manifest(out_dir)
    tolerance = tolerance_for(manifest, rtol, min_cosine)
    loaded = load_reference_model(out_dir, manifest)
    builder, network, profiles = build_with_profiles(out_dir)
    names = manifest_input_names(manifest)
    example = reshaped_inputs(manifest, loaded.example_inputs, shapes or {})
    inputs = dict(zip(names, example))
    # on copies: a model that writes into its inputs (x += y) must not change what the network gets
    result, per_module = _module_outputs(loaded.model, [t.clone() for t in example])
    values = _run(builder, network, inputs, layerwise, log, profiles)
    rows = []
    flat = flatten_outputs(result)
    output_names = [entry["name"] for entry in manifest["outputs"]]
    if len(output_names) != len(flat):
        raise TrtgenError(
            f"the model now returns {len(flat)} tensors, {out_dir} was generated for "
            f"{len(output_names)}; regenerate it"
        )
    for (_, _, want), name in zip(flat, output_names):
        if name not in values:
            raise TrtgenError(
                f"network has no output {name!r}; was network.py edited? Outputs: {sorted(values)}"
            )
        rows.append(compare(name, values[name], want, tolerance))
    log(
        f"tolerance ({manifest.get('quant') or manifest.get('precision', 'fp32')}): {tolerance.describe()}"
    )
    log(table(rows))
    ok = all(r.ok for r in rows)
    if layerwise and manifest.get("quant"):
        _report_sqnr(per_module, values, tolerance, log)
    elif layerwise:
        ok = _report_layerwise(per_module, values, tolerance, log) and ok
    log("PASS" if ok else "FAIL")
    return ok


def reshaped_inputs(manifest, example_inputs, shapes):
    """The example inputs, with random ones of the requested shapes in place of some.

    Floats are standard normal; integer inputs (token ids, masks) take values in the example's
    own range, so ids stay inside the vocabulary."""
    inputs = []
    declared = {i["name"]: i for i in manifest["inputs"]}
    unknown = sorted(set(shapes) - set(declared))
    if unknown:
        raise TrtgenError(f"--shape: no input {unknown[0]!r}; the inputs are {', '.join(declared)}")
    generator = torch.Generator().manual_seed(0)
    for name, tensor in zip(declared, example_inputs):
        shape = shapes.get(name)
        if shape is None:
            inputs.append(tensor)
            continue
        _check_in_profile(declared[name], shape)
        if tensor.dtype.is_floating_point:
            inputs.append(torch.randn(shape, generator=generator).to(tensor.dtype))
        else:
            low, high = int(tensor.min()), int(tensor.max())
            inputs.append(torch.randint(low, high + 1, shape, generator=generator).to(tensor.dtype))
    return inputs


def _check_in_profile(entry, shape):
    dims = {int(k): v for k, v in entry.get("dynamic", {}).items()}
    if len(shape) != len(entry["shape"]):
        raise TrtgenError(
            f"--shape {entry['name']}: {len(shape)} dims given, the input has {len(entry['shape'])}"
        )
    for i, (got, static) in enumerate(zip(shape, entry["shape"])):
        low, _, high = dims.get(i, (static, static, static))
        if not low <= got <= high:
            where = f"dynamic {low}..{high}" if i in dims else f"static {static}"
            raise TrtgenError(f"--shape {entry['name']}: dim {i} is {got}, the network has {where}")
    profiles = entry.get("profiles", [])
    if profiles and not any(
        all(lo <= d <= hi for d, lo, hi in zip(shape, low, high)) for low, _, high in profiles
    ):
        ranges = "; ".join(f"{shape_text(low)} .. {shape_text(high)}" for low, _, high in profiles)
        raise TrtgenError(
            f"--shape {entry['name']}: {shape_text(shape)} is in no optimization profile ({ranges})"
        )


def _run(builder, network, inputs, layerwise, log, profiles=()):
    """A built engine where one can run (outputs only), else the reference executor."""
    reason = gpu_unavailable_reason()
    if reason is None and not layerwise:
        log("running: TensorRT engine on the GPU")
        engine = Engine(layers.build_engine(builder, network, profiles=profiles))
        return {name: value.cpu() for name, value in engine(inputs).items()}
    log(f"running: reference executor on the CPU ({reason or 'layerwise needs every tensor'})")
    return execute(network, inputs, keep="all" if layerwise else None)


def manifest_input_names(manifest):
    return [i["name"] for i in manifest["inputs"]]


def _report_layerwise(per_module, values, tolerance, log):
    compared, first_bad = 0, None
    for path, want in per_module.items():
        if path not in values:
            continue
        row = compare(path, values[path], want, tolerance)
        compared += 1
        if not row.ok and first_bad is None:
            first_bad = row
    log(f"layerwise: compared {compared} module outputs")
    if first_bad is not None:
        log(f"first diverging module: {first_bad.name} (rel err {first_bad.rel:.3e})")
        return False
    return True


SQNR_ROWS = 10


def _report_sqnr(per_module, values, tolerance, log):
    """Quantized networks: every module's SQNR against FP32 PyTorch, the lowest first, so the
    modules worth ``--skip-quant`` stand out (error grows along the network, so compare a
    module with its neighbours rather than with a fixed bound)."""
    rows = [compare(p, values[p], want, tolerance) for p, want in per_module.items() if p in values]
    rows.sort(key=lambda r: r.sqnr)
    log(f"layerwise: SQNR of {len(rows)} module outputs against FP32 PyTorch, lowest first")
    log(f"{'module':<48} {'SQNR dB':>8} {'cosine':>10}")
    for row in rows[:SQNR_ROWS]:
        log(f"{row.name:<48} {row.sqnr:>8.2f} {row.cosine:>10.6f}")
