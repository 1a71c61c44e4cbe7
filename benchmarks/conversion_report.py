"""Run the whole model corpus through trtgen and through the ONNX route; write a markdown report.

    python benchmarks/conversion_report.py [names...] [--out docs/conversion_report.md]

For every model of ``benchmarks/corpus.py`` (or the names given), in one process:

1. trtgen route: ``trtgen MODEL.py -o OUT --force`` (timed), then the network is rebuilt from
   ``OUT/network.py``; its layers are counted, it is run by the reference executor and compared
   with PyTorch output by output (max rel err), and ``trtgen.commands.check.check`` gives the verdict.
2. ONNX route: ``torch.onnx.export`` of the same model and example inputs (TorchScript exporter,
   opset 17; the dynamo exporter if that fails; timed), parsed by the same TensorRT package's
   ``OnnxParser`` into a strongly typed network, whose layers are counted.

Every stage runs in its own try/except, so one failure never stops the run; outputs go to a
temporary directory, and models are freed between entries. The report is rewritten after each
model, so an interrupted run still leaves the rows done so far. It holds no timestamps:
apart from the two timing columns, the same corpus and environment give the same file.
"""

import argparse
import gc
import inspect
import os
import platform
import shutil
import sys
import tempfile
import time
import traceback

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, HERE)
sys.path.insert(0, ROOT)

import torch  # noqa: E402

import corpus  # noqa: E402
from layers.backend import LIBRARY_VERSION  # noqa: E402
from trtgen.commands.bench.measure import PLUMBING, layer_counts  # noqa: E402
from trtgen.commands.bench.onnx_route import export_onnx, parse_onnx  # noqa: E402
from trtgen.commands.bench.quiet import exc_line, first_line, quiet  # noqa: E402
from trtgen.commands.check import (
    FP32_RTOL,
    check,
    load_reference_model,
    manifest_input_names,
)  # noqa: E402
from trtgen.commands.cli import main as trtgen_main  # noqa: E402
from trtgen.commands.compare import compare  # noqa: E402
from trtgen.capture.iospec import flatten_outputs  # noqa: E402
from trtgen.emit.netfile import build_from_output  # noqa: E402
from trtgen.emit.output import read_manifest  # noqa: E402
from trtgen.reference import execute  # noqa: E402
from layers.atomic import atomic_write  # noqa: E402

DEFAULT_OUT = os.path.join(ROOT, "docs", "conversion_report.md")
REASON_CHARS = 200


class Row:
    def __init__(self, name, family):
        self.name = name
        self.family = family
        self.capture = None  # list of capture modes from trtgen.json
        self.lowered = False
        self.checked = None  # None: check not reached
        self.max_rel = None
        self.trtgen_layers = None
        self.trtgen_types = {}
        self.onnx_layers = None
        self.onnx_types = {}
        self.onnx_exporter = None
        self.torchscript_error = None  # why the TorchScript exporter was not used
        self.gen_s = None
        self.export_s = None
        self.reasons = []  # "stage: first line", in pipeline order

    @property
    def passed(self):
        return self.lowered and self.checked is True


# --------------------------------------------------------------------------- helpers


def gen_error_line(stderr_text):
    """The ``trtgen: error: ...`` line from trtgen's stderr (its first non-empty line otherwise)."""
    lines = [line.strip() for line in stderr_text.splitlines() if line.strip()]
    for line in lines:
        if line.startswith("trtgen:"):
            return (
                line.split(":", 2)[-1].strip()
                if line.startswith("trtgen: error:")
                else line[len("trtgen:") :].strip()
            )
    return lines[0] if lines else ""


def free_memory():
    for key in [k for k in sys.modules if k.startswith(("trtgen_network_", "trtgen_user_model_"))]:
        del sys.modules[key]  # imported network.py / MODEL.py files, one per model
    gc.collect()


# --------------------------------------------------------------------------- trtgen route


def run_trtgen(row, name, folder):
    model_path = corpus.model_file(name, folder)
    out = os.path.join(folder, name + "_out")
    start = time.perf_counter()
    with quiet() as (_, err):
        try:
            code = trtgen_main([model_path, "-o", out, "--force"])
        except BaseException as exc:  # noqa: BLE001 - SystemExit from argparse included
            code, crash = "crash", exc_line(exc)
    row.gen_s = time.perf_counter() - start
    if code != 0:
        reason = crash if code == "crash" else gen_error_line(err.getvalue()) or f"exit code {code}"
        row.reasons.append(f"generation: {reason}")
        return
    row.lowered = True

    try:
        row.capture = list(read_manifest(out).get("capture", []))
    except Exception as exc:  # noqa: BLE001
        row.reasons.append(f"manifest: {exc_line(exc)}")

    try:
        with quiet():
            builder, network = build_from_output(out)
        row.trtgen_layers, row.trtgen_types = layer_counts(network)
        del builder, network
    except Exception as exc:  # noqa: BLE001
        row.reasons.append(f"network build: {exc_line(exc)}")
    gc.collect()

    failing = None
    try:
        with quiet():
            failing = max_relative_error(row, out)
    except Exception as exc:  # noqa: BLE001
        row.reasons.append(f"compare: {exc_line(exc)}")
    gc.collect()

    log = []
    try:
        with quiet():
            row.checked = bool(check(out, log=log.append))
    except Exception as exc:  # noqa: BLE001
        row.reasons.append(f"check: {exc_line(exc)}")
    if row.checked is False:
        if failing:
            row.reasons.append(
                "check FAIL: "
                + ", ".join(f"{n} rel {r:.2e}" for n, r in failing[:3])
                + (f" (+{len(failing) - 3} more)" if len(failing) > 3 else "")
            )
        else:
            bad = [
                line.split()[0]
                for line in log
                if line.rstrip().endswith("FAIL") and line.split()[0] != "FAIL"
            ]
            row.reasons.append(
                "check FAIL: " + (", ".join(bad[:3]) or first_line(log[-1] if log else ""))
            )


def max_relative_error(row, out):
    """Largest rel err over the outputs (trtgen.commands.compare), the network run by the reference executor.

    Returns the [(output, rel)] that exceed the fp32 tolerance, for the failure reason."""
    manifest = read_manifest(out)
    loaded = load_reference_model(out, manifest)
    builder, network = build_from_output(out)
    inputs = dict(zip(manifest_input_names(manifest), loaded.example_inputs))
    with torch.no_grad():
        result = loaded.model(*loaded.example_inputs)
    values = execute(network, inputs)
    rels, failing = [], []
    for _, output, want in flatten_outputs(result):
        got = values.get(output)
        rel = float("inf") if got is None else compare(output, got, want, FP32_RTOL).rel
        rels.append(rel)
        if not rel <= FP32_RTOL:
            failing.append((output, rel))
    row.max_rel = max(rels) if rels else None
    del loaded, builder, network, values, result
    return failing


# --------------------------------------------------------------------------- ONNX route


def input_names(model, count):
    try:
        params = [
            p
            for p in inspect.signature(model.forward).parameters.values()
            if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)
        ]
        names = [p.name for p in params][:count]
        return names if len(names) == count else None
    except (TypeError, ValueError):
        return None


# TorchScript at opset 17 first (what most deployments used), the dynamo exporter if it fails
EXPORT_ORDER = ("torchscript", "dynamo")
EXPORT_OPSETS = {"torchscript": 17, "dynamo": 18}


def export_options(names):
    return {
        name: {"opset_version": opset, "input_names": names}
        for name, opset in EXPORT_OPSETS.items()
    }


def run_onnx(row, name, folder):
    entry = corpus.CORPUS[name]
    try:
        with quiet():
            model = entry.build().eval()
            args = tuple(entry.inputs())
    except Exception as exc:  # noqa: BLE001
        row.reasons.append(f"onnx: model build: {exc_line(exc)}")
        return
    export_dir = os.path.join(folder, name + "_onnx")
    os.makedirs(export_dir, exist_ok=True)
    path = os.path.join(export_dir, "model.onnx")
    start = time.perf_counter()
    try:
        with torch.no_grad():
            row.onnx_exporter, failed = export_onnx(
                model, args, path, EXPORT_ORDER, export_options(input_names(model, len(args)))
            )
        row.torchscript_error = failed.get("torchscript")
    except Exception as exc:  # noqa: BLE001
        row.reasons.append(f"onnx export: {exc_line(exc)}")
        return
    finally:
        row.export_s = time.perf_counter() - start
        del model, args
        gc.collect()
    try:
        with quiet():
            builder, network, parser = parse_onnx(
                path
            )  # the parser owns the weights while counting
        row.onnx_layers, row.onnx_types = layer_counts(network)
        del parser, network, builder
    except Exception as exc:  # noqa: BLE001
        row.reasons.append(f"onnx parse: {exc_line(exc)}")
    finally:
        shutil.rmtree(export_dir, ignore_errors=True)
    gc.collect()


# --------------------------------------------------------------------------- report


def cell(text):
    text = " ".join(str(text).split()).replace("|", "\\|")
    return text if len(text) <= REASON_CHARS else text[: REASON_CHARS - 1] + "…"


def yes_no(value):
    return "—" if value is None else ("yes" if value else "no")


def number(value, fmt="{}"):
    return "—" if value is None else fmt.format(value)


def rel_text(value):
    if value is None:
        return "—"
    return "inf" if value == float("inf") else f"{value:.1e}"


def environment():
    versions = [
        f"Python {platform.python_version()}",
        f"torch {torch.__version__}",
        LIBRARY_VERSION,
    ]
    for package in ("torchvision", "timm", "transformers", "onnx", "onnxscript"):
        try:
            versions.append(f"{package} {__import__(package).__version__}")
        except Exception:  # noqa: BLE001
            pass
    return ", ".join(versions)


def render(rows, total):
    passed = sum(r.passed for r in rows)
    percent = 100.0 * passed / len(rows) if rows else 0.0
    lines = ["# trtgen conversion report", ""]
    lines.append(
        f"**{passed}/{len(rows)} models pass end to end ({percent:.0f}%)** — generated by trtgen and "
        f"`trtgen check`ed within max rel err {FP32_RTOL:g}."
    )
    if len(rows) < total:
        lines.append("")
        lines.append(f"*Partial run: {len(rows)} of {total} models done.*")
    lines += ["", f"Environment: {environment()}; CPU only (reference executor).", ""]
    lines += [
        "Written by `python benchmarks/conversion_report.py [names...] [--out docs/conversion_report.md]` over "
        "`benchmarks/corpus.py` (random weights, fixed seeds). *lowered?*: `trtgen MODEL.py` succeeded. "
        "*check passed?*: `trtgen.commands.check.check` returned True. *max rel err*: largest "
        "max\\|trt − torch\\| / max(1, max\\|torch\\|) over the outputs, the network run by the reference "
        "executor. *ONNX-route layers*: `torch.onnx.export` of the same model and inputs (TorchScript "
        "exporter at opset 17, else dynamo at opset 18) parsed by the same TensorRT package's `OnnxParser` "
        "into a strongly typed network. Timings are wall-clock seconds on a shared machine; the first "
        "model's also include one-time imports.",
        "",
        "| model | family | capture mode | lowered? | check passed? | max rel err | trtgen layers "
        "| ONNX-route layers | trtgen gen s | onnx export s | failure reason |",
        "|---|---|---|---|---|---|---:|---:|---:|---:|---|",
    ]
    for r in rows:
        lines.append(
            "| "
            + " | ".join(
                [
                    r.name,
                    r.family,
                    cell(", ".join(r.capture)) if r.capture else "—",
                    yes_no(r.lowered),
                    yes_no(r.checked),
                    rel_text(r.max_rel),
                    number(r.trtgen_layers),
                    number(r.onnx_layers),
                    number(r.gen_s, "{:.2f}"),
                    number(r.export_s, "{:.2f}"),
                    cell("; ".join(r.reasons)) or "",
                ]
            )
            + " |"
        )

    both = [r for r in rows if r.trtgen_layers is not None and r.onnx_layers is not None]
    if both:
        ours = sum(r.trtgen_layers for r in both)
        theirs = sum(r.onnx_layers for r in both)
        fewer = sum(r.trtgen_layers < r.onnx_layers for r in both)
        lines += [
            "",
            f"Over the {len(both)} models both routes built: {ours} trtgen layers vs {theirs} "
            f"ONNX-route layers; trtgen has fewer layers on {fewer} of them.",
        ]

    lines += [
        "",
        "## Plumbing layers",
        "",
        "Layers of these types in each network, as *trtgen / ONNX route* (— where a route built no "
        "network).",
        "",
        "| model | ONNX exporter | " + " | ".join(PLUMBING) + " | total |",
        "|---|---|" + "---:|" * (len(PLUMBING) + 1),
    ]
    for r in rows:

        def pair(kind):
            ours = "—" if r.trtgen_layers is None else r.trtgen_types.get(kind, 0)
            theirs = "—" if r.onnx_layers is None else r.onnx_types.get(kind, 0)
            return f"{ours} / {theirs}"

        def total():
            ours = (
                "—" if r.trtgen_layers is None else sum(r.trtgen_types.get(k, 0) for k in PLUMBING)
            )
            theirs = "—" if r.onnx_layers is None else sum(r.onnx_types.get(k, 0) for k in PLUMBING)
            return f"{ours} / {theirs}"

        lines.append(
            "| "
            + " | ".join([r.name, r.onnx_exporter or "—"] + [pair(k) for k in PLUMBING] + [total()])
            + " |"
        )
    fallbacks = [r for r in rows if r.torchscript_error]
    if fallbacks:
        lines += [
            "",
            "## ONNX exporter fallbacks",
            "",
            "Models the TorchScript exporter (opset 17) could not export, so the dynamo exporter was used:",
            "",
            "| model | TorchScript exporter error |",
            "|---|---|",
        ]
        lines += [f"| {r.name} | {cell(r.torchscript_error)} |" for r in fallbacks]
    return "\n".join(lines) + "\n"


def write(path, text):
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    atomic_write(path, text)


# --------------------------------------------------------------------------- main


def warm_up():
    """Import what generation and export import lazily, so the first model's timings are not inflated."""
    for module in (
        "trtgen.commands.generate",
        "trtgen.emit.output",
        "trtgen.plan.rules",
        "trtgen.capture.load",
        "trtgen.emit.render",
        "black",
        "torch.onnx",
        "onnx",
        "onnxscript",
    ):
        try:
            __import__(module)
        except Exception:  # noqa: BLE001
            pass


def run_model(name, folder, onnx=True):
    row = Row(name, corpus.CORPUS[name].family)
    try:
        run_trtgen(row, name, folder)
    except BaseException as exc:  # noqa: BLE001 - never stop the run
        if isinstance(exc, KeyboardInterrupt):
            raise
        row.reasons.append(f"trtgen route: {exc_line(exc)}")
    free_memory()
    if onnx:
        try:
            run_onnx(row, name, folder)
        except Exception as exc:  # noqa: BLE001
            row.reasons.append(f"onnx route: {exc_line(exc)}")
        free_memory()
    return row


def parse_args(argv):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("names", nargs="*", help="corpus entries to run (default: all, in corpus order)")
    p.add_argument(
        "--out",
        default=DEFAULT_OUT,
        help="markdown report path (default: docs/conversion_report.md)",
    )
    p.add_argument("--no-onnx", action="store_true", help="skip the ONNX route")
    p.add_argument(
        "--keep", action="store_true", help="keep the temporary output directory and print its path"
    )
    args = p.parse_args(argv)
    unknown = [n for n in args.names if n not in corpus.CORPUS]
    if unknown:
        p.error(
            f"unknown model(s) {', '.join(unknown)}; the corpus has: {', '.join(corpus.CORPUS)}"
        )
    return args


def main(argv=None):
    args = parse_args(sys.argv[1:] if argv is None else argv)
    names = args.names or list(corpus.CORPUS)
    warm_up()
    folder = tempfile.mkdtemp(prefix="trtgen_report_")
    rows = []
    try:
        for name in names:
            start = time.perf_counter()
            try:
                row = run_model(name, folder, onnx=not args.no_onnx)
            except Exception:  # noqa: BLE001 - last resort
                row = Row(name, corpus.CORPUS[name].family)
                row.reasons.append(
                    "report: " + first_line(traceback.format_exc().strip().splitlines()[-1])
                )
            rows.append(row)
            if not args.keep:
                shutil.rmtree(os.path.join(folder, name + "_out"), ignore_errors=True)
            status = "PASS" if row.passed else "FAIL"
            print(
                f"{name}: {status} rel={rel_text(row.max_rel)} layers={row.trtgen_layers}/{row.onnx_layers} "
                f"{time.perf_counter() - start:.0f}s {'; '.join(row.reasons)[:300]}",
                flush=True,
            )
            write(args.out, render(rows, len(names)))
    finally:
        if args.keep:
            print(f"outputs kept in {folder}")
        else:
            shutil.rmtree(folder, ignore_errors=True)
    passed = sum(r.passed for r in rows)
    print(f"{passed}/{len(rows)} pass end to end; wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
