"""bench.json and the markdown tables: one model (bench.md) and a set of models (the zoo)."""

import json

from ...capture.dynamic import shape_text
from .measure import PLUMBING
from .targets import evaluate

DASH = "—"
ROUTE_TITLES = {"trtgen": "trtgen", "onnx": "ONNX route"}


def to_json(result):
    return json.dumps(result.to_dict(), indent=2, sort_keys=True) + "\n"


# --------------------------------------------------------------------------- cells


def number(value, fmt="{:.2f}"):
    return DASH if value is None else fmt.format(value)


def megabytes(size):
    return number(None if size is None else size / 1e6, "{:.1f}")


def ratio(result, key="convert_s"):
    """trtgen generation seconds / torch.onnx.export seconds (``convert_cpu_s``: CPU seconds)."""
    ours, theirs = getattr(result.routes["trtgen"], key), getattr(result.routes["onnx"], key)
    return ours / theirs if ours is not None and theirs else None


def count(route, kind=None):
    """Layers of ``kind`` (all layers when None) in a route's network; None if it has none."""
    if route.layers is None:
        return None
    return route.layers if kind is None else route.layer_types.get(kind, 0)


def pair(a, b, fmt=str):
    return f"{DASH if a is None else fmt(a)} / {DASH if b is None else fmt(b)}"


def latency(numbers):
    return number(numbers["latency_ms"])


def cell(text):
    return " ".join(str(text).split()).replace("|", "\\|")


def gpu_note(result):
    if result.gpu["available"]:
        return f"GPU: {result.gpu['device']}."
    return f"GPU numbers are {DASH}: {result.gpu['reason']}."


def environment_line(environment):
    versions = ", ".join(f"{name} {version}" for name, version in environment["versions"].items())
    machine = environment["machine"]
    return f"{versions}; {machine['platform']}, {machine['cpu_count']} CPU cores"


def input_text(result):
    return ", ".join(f"`{i['name']}` {shape_text(i['shape'])} {i['dtype']}" for i in result.inputs)


def load_text(result):
    return " / ".join(number(value) for value in result.load_average)


def exporter_text(onnx):
    exporter = onnx.details.get("exporter")
    if exporter is None:
        return DASH
    failed = onnx.details.get("exporter_errors") or {}
    fallback = "; ".join(f"{name} failed: {error}" for name, error in failed.items())
    return exporter + (f" ({fallback})" if fallback else "")


MEASURING = (
    "Both routes start from the same loaded model and example inputs, in one process: the trtgen "
    "route first, then the ONNX route, {repeat} run(s) each, median shown. *Generation* is "
    "trtgen's capture, plan, render, weights and writing OUT; *export* is "
    "`torch.onnx.export(model, args, path)` with torch's default (dynamo) exporter, the "
    "TorchScript exporter only if that fails. Modules either route imports lazily are imported "
    "first; nothing else is warmed up, so both include their own first-call costs (the trtgen "
    "route, running first, also the ones they share). Each run writes into a fresh folder after "
    "its route's previous output is deleted (untimed), so both write weights into memory the "
    "page cache already holds rather than growing it. *Network s*: building the network from "
    "OUT/network.py, or `OnnxParser` parsing model.onnx into a strongly typed network. Engines "
    "are built from both networks with the same default build options, {repeat} time(s) each, "
    "alternating, median shown. A timing target holds for a model whose median is within its "
    "limit; a median over the limit counts as over it if too few rounds were run to test it "
    "(under 5), or if a one-sided sign test over the rounds (each pairs a trtgen run with the "
    "ONNX route's next run) finds trtgen over the limit in significantly many of them (5% level). "
    "Wall-clock seconds on a "
    "shared machine, where other work stretches the wall clock; the CPU seconds of the "
    "process (`time.process_time`) are shown beside it."
)


# --------------------------------------------------------------------------- one model


def model_markdown(result):
    ours, theirs = result.routes["trtgen"], result.routes["onnx"]
    rows = [
        ("generation s / torch.onnx.export s", number(ours.convert_s), number(theirs.convert_s)),
        ("the same in CPU s", number(ours.convert_cpu_s), number(theirs.convert_cpu_s)),
        (
            "network s (network.py build / OnnxParser)",
            number(ours.network_s),
            number(theirs.network_s),
        ),
        ("network layers", number(count(ours), "{}"), number(count(theirs), "{}")),
        *[
            (f"{kind} layers", number(count(ours, kind), "{}"), number(count(theirs, kind), "{}"))
            for kind in PLUMBING
        ],
        (
            "engine build s",
            number(ours.engine_build_s),
            number(theirs.engine_build_s),
        ),
        ("engine MB", megabytes(ours.engine_bytes), megabytes(theirs.engine_bytes)),
        ("GPU latency ms", latency(ours.gpu), latency(theirs.gpu)),
        (
            "GPU throughput /s",
            number(ours.gpu["throughput_per_s"], "{:.0f}"),
            number(theirs.gpu["throughput_per_s"], "{:.0f}"),
        ),
    ]
    lines = [
        f"# Benchmark: {result.model}",
        "",
        f"`trtgen bench {result.source}` — inputs {input_text(result)}.",
        "",
        "| | trtgen | ONNX route |",
        "|---|---:|---:|",
    ]
    lines += [f"| {name} | {a} | {b} |" for name, a, b in rows]
    lines.append("")
    if ratio(result) is not None:
        lines.append(
            f"Generation takes {ratio(result):.2f}× the wall-clock time of torch.onnx.export "
            f"({number(ratio(result, 'convert_cpu_s'))}× its CPU time)."
        )
    eager, compiled = result.pytorch["eager"], result.pytorch["compile"]
    lines += [
        f"PyTorch on the GPU: eager {latency(eager)} ms, torch.compile {latency(compiled)} ms.",
        gpu_note(result),
        f"ONNX exporter: {exporter_text(theirs)}.",
    ]
    if not result.engine:
        lines.append("Engines were not built (`--no-engine`).")
    for name, route in result.routes.items():
        if route.error:
            lines.append(f"{ROUTE_TITLES[name]} failed at {cell(route.error)}")
    lines += ["", "## Layer types", "", "| layer type | trtgen | ONNX route |", "|---|---:|---:|"]
    for kind in sorted(set(ours.layer_types) | set(theirs.layer_types)):
        lines.append(
            f"| {kind} | {ours.layer_types.get(kind, 0)} | {theirs.layer_types.get(kind, 0)} |"
        )
    lines += [
        "",
        "## How it was measured",
        "",
        MEASURING.format(repeat=result.repeat),
        "",
        f"Environment: {environment_line(result.environment)}.",
    ]
    if result.load_average:
        lines.append(f"Machine load average (1 min) before / after: {load_text(result)}.")
    return "\n".join(lines) + "\n"


# --------------------------------------------------------------------------- many models

ZOO_COLUMNS = (
    "model",
    "layers trtgen / ONNX",
    *PLUMBING,
    "gen s / export s",
    "gen ÷ export",
    "gen ÷ export CPU s",
    "engine build s",
    "engine MB",
    "GPU ms trtgen / ONNX / eager / compile",
    "notes",
)


def zoo_row(result):
    ours, theirs = result.routes["trtgen"], result.routes["onnx"]
    gpu_cells = [
        latency(ours.gpu),
        latency(theirs.gpu),
        latency(result.pytorch["eager"]),
        latency(result.pytorch["compile"]),
    ]
    notes = [
        f"{ROUTE_TITLES[name]}: {route.error}"
        for name, route in result.routes.items()
        if route.error
    ]
    if theirs.details.get("exporter") not in (None, "dynamo"):
        notes.append(f"exporter: {exporter_text(theirs)}")
    return [
        result.model,
        pair(count(ours), count(theirs)),
        *[pair(count(ours, kind), count(theirs, kind)) for kind in PLUMBING],
        pair(ours.convert_s, theirs.convert_s, "{:.2f}".format),
        number(ratio(result)),
        number(ratio(result, "convert_cpu_s")),
        pair(ours.engine_build_s, theirs.engine_build_s, "{:.2f}".format),
        pair(ours.engine_bytes, theirs.engine_bytes, lambda size: f"{size / 1e6:.1f}"),
        " / ".join(gpu_cells),
        cell("; ".join(notes)),
    ]


def zoo_markdown(results, command):
    """docs/benchmarks.md: targets (computed), one table over the models, how it was measured."""
    lines = [
        "# Benchmarks: trtgen and the ONNX route",
        "",
        f"Measured by `{command}` (the harness behind `trtgen bench MODEL.py`) over "
        "`benchmarks/corpus.py`: random weights, fixed seeds, FP32. Each cell is "
        "*trtgen / ONNX route*; the ONNX route is `torch.onnx.export` parsed by the same "
        "TensorRT package's `OnnxParser`.",
        "",
        "## Targets",
        "",
        "| target | measured | result |",
        "|---|---|---|",
    ]
    for target, measured, verdict in evaluate(results):
        lines.append(f"| {target} | {cell(measured)} | **{verdict}** |")
    lines += [
        "",
        "## Results",
        "",
        "| " + " | ".join(ZOO_COLUMNS) + " |",
        "|---|" + "---:|" * (len(ZOO_COLUMNS) - 2) + "---|",
    ]
    lines += ["| " + " | ".join(zoo_row(r)) + " |" for r in results]
    lines.append("")
    lines += sorted({gpu_note(r) for r in results})
    if results and not all(r.engine for r in results):
        unbuilt = ", ".join(r.model for r in results if not r.engine)
        lines.append(f"Engines not built (`--no-engine`) for: {unbuilt}.")
    lines += ["", *layer_types_table(results)]
    lines += [
        "",
        "Where the layers go, and what the ViT-B/16 target would take: [layer_counts.md](layer_counts.md).",
    ]
    inputs = "; ".join(f"{r.model} {input_text(r)}" for r in results)
    lines += [
        "",
        "## How it was measured",
        "",
        MEASURING.format(repeat=_repeats(results)),
        "",
        f"Inputs: {inputs}.",
        "",
    ]
    lines += sorted({f"Environment: {environment_line(r.environment)}." for r in results})
    loads = ", ".join(f"{r.model} {load_text(r)}" for r in results if r.load_average)
    if loads:
        lines.append(f"Machine load average (1 min) before / after each model: {loads}.")
    lines += ["", "![layers and seconds per model](benchmarks.png)"]
    return "\n".join(lines) + "\n"


def layer_types_table(results):
    """Every layer type of every network, as *trtgen / ONNX route* per model."""
    kinds = sorted({k for r in results for route in r.routes.values() for k in route.layer_types})
    lines = [
        "## Layer types",
        "",
        "Layers of each type, *trtgen / ONNX route*.",
        "",
        "| layer type | " + " | ".join(r.model for r in results) + " |",
        "|---|" + "---:|" * len(results),
    ]
    for kind in kinds:
        cells = [
            pair(count(r.routes["trtgen"], kind), count(r.routes["onnx"], kind)) for r in results
        ]
        lines.append(f"| {kind} | " + " | ".join(cells) + " |")
    return lines


def _repeats(results):
    return "/".join(sorted({str(r.repeat) for r in results})) or "1"
