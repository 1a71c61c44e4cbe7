"""``trtgen MODEL.py``: load → capture → plan → render → write, one step per module."""

import dataclasses
import os

import torch

import layers

from .. import __version__
from ..capture.dynamic import parse_profiles, probe_candidates
from ..capture.graphs import capture, record_run
from ..capture.iospec import io_spec, run_model
from ..capture.load import load_model
from ..emit.cpp.render import render_cpp
from ..emit.precision import Precision, check_module_paths, model_precision
from ..emit.render import render_python, render_text, user_templates
from ..emit.weights import network_weights
from ..errors import TrtgenError
from ..plan.classes import build_plan
from ..quant.calib_data import calibration_samples
from ..quant.calibrate import calibrate
from ..quant.imported import import_quantizers, imported_metadata
from ..quant.modelopt_import import import_modelopt
from ..quant.options import check_skip_paths
from ..quant.placement import add_product_quantizers, add_residual_quantizers, mark_weighted_modules
from ..quant.weight_only import mark_linear_modules, weight_only_metadata, weight_only_scales
from .build_check import GENERATED_FILE, check_network_builds
from .unread_inputs import refuse_ignored_inputs, unread_inputs


@dataclasses.dataclass
class Generated:
    files: dict  # file name → str | bytes
    weights: dict  # key → numpy array
    manifest: dict
    plan: object
    scales: dict = None  # quant.safetensors: key → float32 array (quantized networks)
    scales_metadata: dict = None


def _generated_namespace(source):
    """The generated network.py, run as a module that is not ``__main__``."""
    namespace = {"__name__": "trtgen_generated", "__trtgen_source__": source}
    exec(compile(source, GENERATED_FILE, "exec"), namespace)
    return namespace


def _root(namespace, root_ctor):
    """The generated root module, named."""
    model = eval(root_ctor, namespace)
    model._assign_names()
    return model


def _relative_source(source, out_dir):
    """The model file as seen from OUT, so `trtgen check OUT` works from any directory."""
    if out_dir is None or not source.endswith(".py"):
        return None
    return os.path.relpath(os.path.abspath(source), os.path.abspath(out_dir))


LANGUAGES = ("python", "cpp")


def parse_languages(text):
    """``python``, ``cpp`` or ``python,cpp`` → a tuple, or a TrtgenError naming the bad entry."""
    langs = tuple(dict.fromkeys(part.strip() for part in text.split(",") if part.strip()))
    bad = [lang for lang in langs if lang not in LANGUAGES]
    if bad or not langs:
        raise TrtgenError(f"--lang {text!r}: choose from python, cpp (comma-separated for both)")
    return langs


def _quant_format(quant, weight_only, imported, modelopt):
    """The label of the network's quantization (manifest, generated docstrings), or None."""
    if quant:
        return quant.quant
    if weight_only:
        return f"weight-only {weight_only.weight_only}"
    if modelopt:
        return modelopt.label()
    return "int8" if imported else None


def generate(source, input_shapes=(), **options):
    """``trtgen MODEL.py``: load the model, then ``generate_loaded`` (same options)."""
    return generate_loaded(load_model(source, input_shapes), input_shapes, **options)


def generate_loaded(
    loaded,
    input_shapes=(),
    template_dir=None,
    out_dir=None,
    plugins=False,
    langs=("python",),
    dynamic=(),
    profiles=(),
    precision=None,
    quant=None,
    weight_only=None,
):
    """Everything after loading, on a model already in memory (``trtgen bench`` times this part).

    ``precision`` None: the model's own (an all-fp16 model gives an fp16 network)."""
    source = loaded.source
    precision = precision or Precision(model_precision(loaded.model))
    run = run_model(loaded, record_run)  # one forward pass serves io_spec and capture
    io, _ = io_spec(loaded, run.result_of(loaded.model))
    # MODEL.py's get_dynamic_shapes() first: --dynamic on the command line overrides it
    io.profile_dims = parse_profiles(
        [*loaded.dynamic_specs, *dynamic], profiles, io.input_names, io.input_shapes
    )
    # every input dim resized where the model runs so, the --dynamic ones always: shapes in
    # the network then come from tensors whether or not it is dynamic
    probes = probe_candidates(loaded.example_inputs, io.input_names, io.dynamic)
    samples = None
    if weight_only and "cpp" in langs:
        raise TrtgenError(
            "--weight-only with --lang cpp: network.cpp cannot round weights to INT8/INT4 yet; "
            "generate it with --lang python"
        )
    if quant or weight_only:  # checked before the slow steps
        check_skip_paths(quant or weight_only, (path for path, _ in loaded.model.named_modules()))
    if quant:
        samples = calibration_samples(loaded, quant.calib_dir)
        mark_weighted_modules(loaded.model, quant.quant, quant.skip)
    if weight_only:
        mark_linear_modules(loaded.model, weight_only.weight_only, weight_only.skip)
    modelopt = import_modelopt(loaded.model)  # ModelOpt quantizers → trtgen's, before capture
    captures = capture(loaded.model, loaded.example_inputs, probes, run)
    imported = import_quantizers(captures)  # the model's own fake-quantize / Q/DQ scales
    if modelopt:
        modelopt.insert_input_quantizers(captures)
        imported.update(modelopt.scales)
    if imported and (quant or weight_only):
        raise TrtgenError(
            "the model is already quantized (fake-quantize, quantize/dequantize ops or ModelOpt "
            "quantizers); drop --quant / --weight-only to keep its own scales"
        )
    if quant:
        add_residual_quantizers(captures, quant.quant, quant.skip)
        add_product_quantizers(captures, quant.quant, quant.skip)
    quant_format = _quant_format(quant, weight_only, imported, modelopt)
    if "cpp" in langs and modelopt and modelopt.weight_only():
        raise TrtgenError(
            f"--lang cpp: the model's ModelOpt {modelopt.weight_only()} quantization needs "
            "weights rounded to INT8/INT4, which network.cpp cannot do yet; generate it with "
            "--lang python"
        )
    plan = build_plan(captures, loaded.init_args, plugins=plugins)
    origin = f"{source}:{loaded.entry}"
    with user_templates(template_dir):
        network_py = render_python(plan, io, origin, template_dir, precision, quant_format)
    namespace = _generated_namespace(network_py)
    model = _root(namespace, plan.root_ctor)
    module_paths = [path for path, _ in model.named_modules()]
    check_module_paths(precision, module_paths)
    declared = [
        (key, param.shape)
        for key, param in model.named_parameters()
        if param.kind == "weight"  # quantization scales go to quant.safetensors
    ]
    weights = network_weights(loaded.model, declared, plan.constants)
    scales = metadata = None
    if quant:
        scales, metadata = calibrate(
            model, namespace["build_network"], weights, samples, io.input_names, quant
        )
        if not scales and not quant.skip:
            raise TrtgenError(
                f"--quant {quant.quant}: nothing in the model was quantized; trtgen quantizes "
                "the Conv*d, ConvTranspose*d and Linear modules a model calls as modules"
            )
    elif weight_only:
        scales = weight_only_scales(model, weights, weight_only.weight_only)
        metadata = weight_only_metadata(weight_only.weight_only, weight_only.skip)
    elif imported:
        scales = imported
        metadata = modelopt.metadata() if modelopt else imported_metadata()
    if not plan.placeholders:  # a placeholder builds only once the user supplies its plugin
        network = check_network_builds(
            namespace["build_network"], weights, io, scales if quant_format else None
        )
        refuse_ignored_inputs(loaded, unread_inputs(network), run.result_of(loaded.model))
    manifest = {
        "trtgen": __version__,
        "source": source,
        "source_from_output": _relative_source(source, out_dir),
        "entry": loaded.entry,
        "input_shapes": [list(s) for s in input_shapes],
        "capture": plan.capture_modes,
        "root_class": plan.root.name,
        "plugin_placeholders": [
            {"op": op, "count": count, "where": where} for op, count, where in plan.placeholders
        ],
        **io.manifest(),
        "precision": precision.name,
        **({"quant": quant_format, "quantization": metadata} if quant_format else {}),
        "versions": {
            "torch": torch.__version__,
            "tensorrt": layers.LIBRARY_VERSION,
        },
    }
    manifest["languages"] = list(langs)
    with user_templates(template_dir):
        readme = render_text("README.md.j2", template_dir, manifest=manifest, title=plan.root.name)
        files = {"network.py": network_py, "README.md": readme}
        if "cpp" in langs:
            files.update(
                render_cpp(
                    network_py, weights, plan.root.name, origin, template_dir, io.profiles(), scales
                )
            )
    if "python" not in langs:
        del files["network.py"]
    return Generated(files, weights, manifest, plan, scales, metadata)
