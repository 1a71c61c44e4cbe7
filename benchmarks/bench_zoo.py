"""Run `trtgen bench` over a set of corpus models; write docs/benchmarks.md, .json and .png.

    python benchmarks/bench_zoo.py [names...] [--no-engine] [--repeat N] [--out docs/benchmarks.md]
    python benchmarks/bench_zoo.py --render docs/benchmarks.json  # rewrite the reports only

Each model is benchmarked by `trtgen bench` in its own process (a large model's two routes,
networks and engines stay out of the next model's memory and timings), from a MODEL.py written
by ``corpus.model_file``. The report is rewritten after every model, so an interrupted run leaves
the models done so far; its "Targets" section is computed from the measurements.
"""

import argparse
import json
import os
import shlex
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, HERE)
sys.path.insert(0, ROOT)

import corpus  # noqa: E402
from trtgen.commands.bench.extra import require_bench_packages  # noqa: E402

require_bench_packages()  # before the modules that import them
from trtgen.commands.bench.chart import zoo_chart  # noqa: E402
from trtgen.commands.bench.report import zoo_markdown  # noqa: E402
from trtgen.commands.bench.result import BenchResult, RouteResult  # noqa: E402
from trtgen.commands.bench.run import ROUTES, environment  # noqa: E402
from trtgen.commands.bench.gpu import gpu_status, skipped  # noqa: E402
from trtgen.commands.bench.targets import evaluate  # noqa: E402
from layers.atomic import atomic_write  # noqa: E402

DEFAULT_MODELS = (
    "resnet18",
    "resnet50",
    "mobilenet_v2",
    "vgg11_bn",
    "densenet121",
    "vit_b_16",
    "bert",
)
DEFAULT_OUT = os.path.join(ROOT, "docs", "benchmarks.md")


def bench_model(name, folder, options):
    """Run `trtgen bench` on one corpus model in a child process; its BenchResult."""
    model = os.path.basename(corpus.model_file(name, folder))
    command = [sys.executable, "-m", "trtgen", "bench", model, "-o", f"{name}-bench", *options]
    env = dict(
        os.environ, PYTHONPATH=os.pathsep.join(filter(None, [ROOT, os.environ.get("PYTHONPATH")]))
    )
    lines = []
    with subprocess.Popen(
        command, cwd=folder, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True
    ) as child:
        for line in child.stderr:  # progress, as it happens
            if line.strip():
                lines.append(line.strip())
                print(f"  {name}: {line.rstrip()}", flush=True)
    path = os.path.join(folder, f"{name}-bench", "bench.json")
    if not os.path.isfile(path):
        return failed_result(
            name, f"trtgen bench exited {child.returncode}: {lines[-1] if lines else ''}"
        )
    with open(path) as f:
        return BenchResult.from_dict(json.load(f))


def failed_result(name, reason):
    """A row for a model whose benchmark produced no bench.json."""
    no_gpu = skipped(reason)
    routes = {
        route.name: RouteResult(convert="", network="", error=reason, gpu=dict(no_gpu))
        for route in ROUTES
    }
    return BenchResult(
        model=name,
        source=f"{name}.py",
        inputs=[],
        order=[],
        repeat=0,
        engine=False,
        environment=environment(),
        gpu=gpu_status(),
        routes=routes,
        pytorch={"eager": dict(no_gpu), "compile": dict(no_gpu)},
    )


def write_reports(results, out, command):
    base = os.path.splitext(out)[0]
    summary = {
        "command": command,
        "models": [r.to_dict() for r in results],
        "targets": [{"target": t, "measured": m, "result": v} for t, m, v in evaluate(results)],
    }
    files = {
        out: zoo_markdown(results, command),
        base + ".json": json.dumps(summary, indent=2, sort_keys=True) + "\n",
        base + ".png": zoo_chart(results),
    }
    os.makedirs(os.path.dirname(os.path.abspath(out)), exist_ok=True)
    for path, content in files.items():
        atomic_write(path, content)  # readers never see a half-written report


def render(path, out):
    """Rewrite the reports of a previous run (after a change to how they are written)."""
    with open(path) as f:
        summary = json.load(f)
    results = [BenchResult.from_dict(model) for model in summary["models"]]
    write_reports(results, out, summary["command"])
    print(f"wrote {out} from {path}")
    return 0


def parse_args(argv):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("names", nargs="*", help=f"corpus models (default: {' '.join(DEFAULT_MODELS)})")
    p.add_argument("--out", default=DEFAULT_OUT, help="markdown path; .json and .png go beside it")
    p.add_argument(
        "--no-engine", action="store_true", help="skip the engine builds (slow on a CPU)"
    )
    p.add_argument(
        "--repeat",
        type=int,
        default=5,  # the fewest rounds a sign test can judge a timing target from
        metavar="N",
        help="conversions and engine builds per route and model, medians reported (default 5)",
    )
    p.add_argument(
        "--render",
        metavar="JSON",
        help="measure nothing: rewrite the reports from a previous run's benchmarks.json",
    )
    args = p.parse_args(argv)
    unknown = [n for n in args.names if n not in corpus.CORPUS]
    if unknown:
        p.error(
            f"unknown model(s) {', '.join(unknown)}; the corpus has: {', '.join(corpus.CORPUS)}"
        )
    return args


def main(argv=None):
    argv = sys.argv[1:] if argv is None else list(argv)
    args = parse_args(argv)
    if args.render:
        return render(args.render, args.out)
    names = args.names or list(DEFAULT_MODELS)
    options = ["--force", "--repeat", str(args.repeat)] + (
        ["--no-engine"] if args.no_engine else []
    )
    command = " ".join(["python benchmarks/bench_zoo.py", *map(shlex.quote, argv)])
    results = []
    with tempfile.TemporaryDirectory(prefix="trtgen-zoo-") as folder:
        for name in names:
            print(f"{name}:", flush=True)
            results.append(bench_model(name, folder, options))
            write_reports(results, args.out, command)
    for target, measured, verdict in evaluate(results):
        print(f"{verdict}: {target} — {measured}")
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
