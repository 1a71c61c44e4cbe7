"""Command line: ``trtgen MODEL`` generates; ``trtgen check|build|run OUT`` verify, build, run;
``trtgen bench MODEL`` measures trtgen beside the ONNX route."""

import argparse
import os
import sys

from ..errors import (
    ENVIRONMENT_ERRNOS,
    INTERNAL_ERROR_EXIT,
    Stopped,
    TrtgenError,
    environment_message,
    signals_as_exceptions,
)

SUBCOMMANDS = ("check", "build", "run", "support", "bench")


def _generate_parser():
    p = argparse.ArgumentParser(
        prog="trtgen",
        description="Generate a readable TensorRT network (network.py + weights.safetensors) from a PyTorch model.",
        epilog="Other commands: trtgen check OUT, trtgen build OUT, trtgen run OUT, "
        "trtgen support MODEL.py, trtgen bench MODEL.py.",
    )
    p.add_argument(
        "model",
        help="MODEL.py defining get_model()/get_example_inputs(), or package.module:factory",
    )
    p.add_argument("-o", "--output", help="output directory (default: generated/<name>/)")
    p.add_argument(
        "--input",
        action="append",
        default=[],
        metavar="SHAPE",
        help="input shape for package.module:factory models, e.g. 1x3x224x224 (repeat per input)",
    )
    p.add_argument(
        "--force", action="store_true", help="replace OUT if it is a previous trtgen output"
    )
    p.add_argument("--templates", help="directory of templates overriding the built-in ones")
    p.add_argument(
        "--rules",
        action="append",
        default=[],
        metavar="FILE",
        help="Python file registering lowerings with @trtgen.plan.rules.lowering (repeatable)",
    )
    p.add_argument(
        "--plugin-placeholders",
        action="store_true",
        help="write ops with no TensorRT layer as F.plugin(...) placeholders instead of failing",
    )
    p.add_argument(
        "--dynamic",
        action="append",
        default=[],
        metavar="NAME:DIM=MIN:OPT:MAX",
        help="make input dim DIM dynamic within MIN..MAX, tuned for OPT (repeatable), e.g. x:0=1:8:32",
    )
    p.add_argument(
        "--profile",
        action="append",
        default=[],
        metavar="NAME:DIM=MIN:OPT:MAX[,...]",
        help="one more optimization profile (repeatable); dims it leaves out stay at the "
        "example's size, e.g. --dynamic x:0=1:8:32 --profile x:0=33:64:128",
    )
    p.add_argument(
        "--precision",
        default=None,
        metavar="fp32|fp16|bf16",
        help="float type of weights and activations (default: the model's own, fp32 "
        "unless its parameters are all fp16 or bf16); softmax, "
        "normalization, sums and exp/log stay FP32 (network.py's FP32_OPS)",
    )
    p.add_argument(
        "--keep-fp32",
        action="append",
        default=[],
        metavar="PATHS",
        help="module paths (comma-separated, repeatable) that run wholly in FP32 "
        "in an fp16/bf16 network, e.g. encoder.ln,heads",
    )
    p.add_argument(
        "--quant",
        choices=None,
        metavar="int8|fp8",
        help="post-training quantization: Q/DQ on conv/linear inputs and residual skips, "
        "scales calibrated into quant.safetensors",
    )
    p.add_argument(
        "--calib",
        metavar="DIR",
        help="calibration samples, one .pt (or, for one input, .npy) file each "
        "(default: MODEL.py's get_calibration_data())",
    )
    p.add_argument(
        "--calibrator",
        metavar="max|percentile|entropy|mse",
        help="how activation ranges are chosen (default: percentile for int8, max for fp8)",
    )
    p.add_argument(
        "--percentile",
        type=float,
        default=99.99,
        help="the percentile calibrator's percentile (default 99.99)",
    )
    p.add_argument(
        "--skip-quant",
        action="append",
        default=[],
        metavar="PATHS",
        help="module paths (comma-separated, repeatable) left in float",
    )
    p.add_argument(
        "--weight-only",
        metavar="int8|int4",
        help="Linear weights stored quantized (W8A16, or W4A16 in blocks of 128), "
        "dequantized into the matmul; activations stay float",
    )
    p.add_argument(
        "--lang",
        default="python",
        metavar="LANGS",
        help="python (network.py, the default), cpp (network.cpp + CMakeLists.txt) or python,cpp",
    )
    return p


def _check_parser():
    p = argparse.ArgumentParser(
        prog="trtgen check", description="Build OUT/network.py and compare it with PyTorch."
    )
    p.add_argument("out")
    p.add_argument(
        "--layerwise",
        action="store_true",
        help="compare every module's output, name the first divergence",
    )
    p.add_argument(
        "--rtol",
        type=float,
        default=None,
        help="relative max error allowed (default by precision: fp32 1e-4, fp16/bf16 1e-2, "
        "quantized not checked)",
    )
    p.add_argument(
        "--min-cosine",
        type=float,
        default=None,
        help="cosine similarity each output needs (default: fp16/bf16 0.999, int8/fp8 0.99)",
    )
    p.add_argument(
        "--shape",
        action="append",
        default=[],
        metavar="NAME=D0xD1x...",
        help="check at this input shape (random values) instead of the example inputs (repeatable)",
    )
    return p


def _build_parser():
    p = argparse.ArgumentParser(
        prog="trtgen build", description="Build a serialized TensorRT engine from OUT."
    )
    p.add_argument("out")
    p.add_argument("-o", "--engine", help="engine path (default: OUT/model.engine)")
    return p


def _run_parser():
    p = argparse.ArgumentParser(
        prog="trtgen run", description="Run OUT's engine on a GPU and summarize its outputs."
    )
    p.add_argument("out")
    p.add_argument(
        "--input",
        action="append",
        default=[],
        metavar="NAME=FILE",
        help="input values from a .npy or .pt file (repeatable); inputs not given get "
        "random values of the example shape in OUT/trtgen.json",
    )
    p.add_argument("--engine", help="engine path (default: OUT/model.engine)")
    p.add_argument("--output-dir", metavar="DIR", help="save each output as DIR/<name>.npy")
    p.add_argument("--force", action="store_true", help="overwrite existing files in --output-dir")
    p.add_argument(
        "--cuda-graph",
        action="store_true",
        help="replay a CUDA graph instead of launching each layer's kernels",
    )
    p.add_argument(
        "--iterations",
        type=int,
        default=1,
        metavar="N",
        help="run N times and report the mean time per run",
    )
    return p


def default_output(model):
    base = (
        os.path.splitext(os.path.basename(model))[0]
        if model.endswith(".py")
        else model.split(":")[-1]
    )
    return os.path.join("generated", base)


def run_generate(argv):
    from .generate import generate, parse_languages
    from ..capture.load import parse_shape
    from ..emit.output import check_target, write_output
    from ..emit.precision import parse_precision
    from ..quant.options import parse_quant, parse_weight_only
    from ..plan.rules import load_rules

    args = _generate_parser().parse_args(argv)
    out = args.output or default_output(args.model)
    langs = parse_languages(args.lang)
    precision = parse_precision(args.precision, args.keep_fp32)
    quant = parse_quant(
        args.quant, args.calibrator, args.percentile, args.skip_quant, args.calib, args.weight_only
    )
    weight_only = parse_weight_only(args.weight_only, args.quant, args.skip_quant)
    check_target(out, args.force)
    for path in args.rules:
        load_rules(path)
    generated = generate(
        args.model,
        [parse_shape(s) for s in args.input],
        template_dir=args.templates,
        out_dir=out,
        plugins=args.plugin_placeholders,
        langs=langs,
        dynamic=args.dynamic,
        profiles=args.profile,
        precision=precision,
        quant=quant,
        weight_only=weight_only,
    )
    write_output(out, generated, force=args.force)
    sources = ", ".join(
        n for n in ("network.py", "network.cpp", "CMakeLists.txt") if n in generated.files
    )
    sources += ", quant.safetensors" if generated.scales is not None else ""
    shown = os.fsencode(out).decode("utf-8", "backslashreplace")  # a file name may not be UTF-8
    print(
        f"wrote {shown}/ ({sources}, weights.safetensors, trtgen.json, README.md); "
        f"captured with {', '.join(generated.manifest['capture'])}"
    )
    for entry in generated.manifest["plugin_placeholders"]:
        print(
            f"plugin placeholder: {entry['op']} (x{entry['count']}) — supply a TensorRT IPluginV3 named "
            f"{entry['op']!r} before building (TensorRT-RTX has no plugins)"
        )
    return 0


def run_check(argv):
    from .check import check

    args = _check_parser().parse_args(argv)
    from ..capture.dynamic import parse_shape_override

    shapes = dict(parse_shape_override(text) for text in args.shape)
    ok = check(
        args.out,
        rtol=args.rtol,
        layerwise=args.layerwise,
        shapes=shapes,
        min_cosine=args.min_cosine,
    )
    return 0 if ok else 1


def _support_parser():
    p = argparse.ArgumentParser(
        prog="trtgen support",
        description="List every op and module of the model with its lowering; writes nothing.",
    )
    p.add_argument("model")
    p.add_argument("--input", action="append", default=[], metavar="SHAPE")
    p.add_argument("--rules", action="append", default=[], metavar="FILE")
    return p


def run_support(argv):
    from ..capture.load import parse_shape
    from ..plan.rules import load_rules
    from .support import report

    args = _support_parser().parse_args(argv)
    for path in args.rules:
        load_rules(path)
    return 0 if report(args.model, [parse_shape(s) for s in args.input]) else 1


def _bench_parser():
    p = argparse.ArgumentParser(
        prog="trtgen bench",
        description="Measure trtgen beside the ONNX route (torch.onnx.export + the same TensorRT "
        "package's OnnxParser): conversion seconds, layers by type, engine build seconds and size, "
        "and GPU latency when a GPU can run the engines. Writes bench.json, bench.md, bench.png.",
    )
    p.add_argument(
        "model",
        help="MODEL.py defining get_model()/get_example_inputs(), or package.module:factory",
    )
    p.add_argument(
        "--input",
        action="append",
        default=[],
        metavar="SHAPE",
        help="input shape for package.module:factory models, e.g. 1x3x224x224 (repeat per input)",
    )
    p.add_argument("-o", "--output", help="output directory (default: bench/<name>/)")
    p.add_argument(
        "--force",
        action="store_true",
        help="replace the output directory if it is a previous bench output",
    )
    p.add_argument(
        "--no-engine", action="store_true", help="skip the engine builds (slow on a CPU)"
    )
    p.add_argument(
        "--repeat",
        type=int,
        default=1,
        metavar="N",
        help="convert, and build engines, N times per route; medians reported (default 1)",
    )
    p.add_argument(
        "--iterations",
        type=int,
        default=100,
        metavar="N",
        help="timed GPU runs per engine or model, after 10 warm-up runs (default 100)",
    )
    return p


def run_bench(argv):
    from .bench.extra import require_bench_packages

    args = _bench_parser().parse_args(argv)
    require_bench_packages()  # before the modules that import them
    from .bench.run import bench
    from .bench.write import check_bench_target, write_bench
    from ..capture.load import parse_shape

    if args.repeat < 1 or args.iterations < 1:
        raise TrtgenError("--repeat and --iterations take a positive number")
    out = args.output or os.path.join("bench", os.path.basename(default_output(args.model)))
    check_bench_target(out, args.force)
    result = bench(
        args.model,
        [parse_shape(s) for s in args.input],
        engine=not args.no_engine,
        repeat=args.repeat,
        iterations=args.iterations,
    )
    write_bench(out, result, force=args.force)
    print(f"wrote {out}/ (bench.json, bench.md, bench.png)")
    failed = [f"{name}: {route.error}" for name, route in result.routes.items() if route.error]
    for line in failed:
        print(f"trtgen bench: {line}", file=sys.stderr)
    return 1 if failed else 0


def run_build(argv):
    from .build import build

    args = _build_parser().parse_args(argv)
    path = build(args.out, args.engine)
    print(f"wrote {path}")
    return 0


def run_run(argv):
    from .run import run

    args = _run_parser().parse_args(argv)
    run(
        args.out,
        args.input,
        engine_path=args.engine,
        output_dir=args.output_dir,
        force=args.force,
        cuda_graph=args.cuda_graph,
        iterations=args.iterations,
    )
    return 0


def main(argv=None):
    argv = sys.argv[1:] if argv is None else list(argv)
    commands = {
        "check": run_check,
        "build": run_build,
        "run": run_run,
        "support": run_support,
        "bench": run_bench,
    }
    command = commands.get(argv[0] if argv else None)
    try:
        with signals_as_exceptions():
            if command is not None:
                return command(argv[1:])
            return run_generate(argv)
    except TrtgenError as err:
        return _report(f"error: {err}", err.exit_code)
    except KeyboardInterrupt as stop:  # Ctrl-C or SIGTERM: writers have removed their temporaries
        reason, exit_code = (
            (stop.reason, stop.exit_code) if isinstance(stop, Stopped) else ("interrupted", 130)
        )
        return _report(f"{reason}; nothing was written", exit_code)
    except OSError as err:
        if err.errno not in ENVIRONMENT_ERRNOS or os.environ.get("TRTGEN_DEBUG"):
            return _internal_error(err)
        return _report(f"error: {environment_message(err)}", TrtgenError.exit_code)
    except MemoryError:
        return _report(
            "error: out of memory; free memory or use a smaller model or input shape",
            TrtgenError.exit_code,
        )
    except Exception as err:  # a bug: no traceback wall
        return _internal_error(err)


def _report(message, exit_code):
    print(f"trtgen: {message}", file=sys.stderr)
    return exit_code


def _internal_error(err):
    if os.environ.get("TRTGEN_DEBUG"):
        raise err
    return _report(
        f"internal error: {type(err).__name__}: {err}\n"
        "Nothing was written. Rerun with TRTGEN_DEBUG=1 for the traceback and report it.",
        INTERNAL_ERROR_EXIT,
    )


if __name__ == "__main__":
    sys.exit(main())
