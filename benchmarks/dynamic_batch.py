"""Dynamic-batch acceptance run: generate with ``--dynamic x:0=1:8:32``, build an engine with
the profile, and ``trtgen check`` at several batch sizes inside it.

    python benchmarks/dynamic_batch.py [names...] [--batches 1,7,32] [--out docs/dynamic_batch.md]

Models come from ``benchmarks/corpus.py`` (default: resnet50, vit_b_16). Each step is the real
command line in a subprocess, so the table shows what a user would see.
"""

import argparse
import os
import subprocess
import sys
import tempfile
import time

import corpus
from layers.atomic import atomic_write

HERE = os.path.dirname(os.path.abspath(__file__))


def trtgen(*args):
    start = time.perf_counter()
    result = subprocess.run(
        [sys.executable, "-m", "trtgen", *map(str, args)], capture_output=True, text=True
    )
    return result, time.perf_counter() - start


def last_line(result, folder):
    lines = (result.stdout + result.stderr).strip().splitlines()
    return lines[-1].replace(folder + os.sep, "") if lines else f"exit {result.returncode}"


MODEL_AT_SIZE = """import sys
sys.path.insert(0, {here!r})
import torch
import corpus

def get_model():
    return corpus.CORPUS[{name!r}].build()

def get_example_inputs():
    return (torch.randn({shape}, generator=torch.Generator().manual_seed(1)),)
"""


def model_file(name, folder, image_size):
    """corpus's MODEL.py, or one whose example image is ``image_size`` pixels square."""
    if image_size is None:
        return corpus.model_file(name, folder)
    channels = corpus.CORPUS[name].inputs()[0].shape[1]
    path = os.path.join(folder, f"{name}.py")
    with open(path, "w") as f:
        f.write(
            MODEL_AT_SIZE.format(
                here=HERE, name=name, shape=f"1, {channels}, {image_size}, {image_size}"
            )
        )
    return path


def run_model(name, batches, profile, folder, image_size=None):
    model = model_file(name, folder, image_size)
    out = os.path.join(folder, name)
    input_name = "x"
    rows = []
    result, seconds = trtgen(model, "-o", out, "--force", "--dynamic", f"{input_name}:0={profile}")
    rows.append((name, "generate", "", result.returncode == 0, seconds, last_line(result, folder)))
    if result.returncode != 0:
        return rows
    result, seconds = trtgen("build", out)
    rows.append(
        (name, "build engine", "", result.returncode == 0, seconds, last_line(result, folder))
    )
    example = corpus.CORPUS[name].inputs()[0].shape
    if image_size is not None:
        example = (*example[:2], image_size, image_size)
    for batch in batches:
        shape = "x".join(str(d) for d in (batch, *example[1:]))
        result, seconds = trtgen("check", out, "--shape", f"{input_name}={shape}")
        rows.append(
            (name, "check", shape, result.returncode == 0, seconds, last_line(result, folder))
        )
    return rows


def table(rows, profile):
    lines = [
        "# Dynamic batch: generate, build, check",
        "",
        f"Written by `python benchmarks/dynamic_batch.py`: each model generated with "
        f"`--dynamic x:0={profile}`, an engine built with that profile (`trtgen build`), and "
        "`trtgen check --shape` run at each batch size (random inputs, reference executor on the "
        "CPU, fp32 tolerance max|trt − torch| ≤ 1e-4 × max(1, max|torch|)). Seconds are wall-clock "
        "on a 2-core CPU machine.",
        "",
        "| model | step | shape | passed | seconds | last line of output |",
        "|---|---|---|---|---:|---|",
    ]
    for name, step, shape, ok, seconds, line in rows:
        lines.append(
            f"| {name} | {step} | {shape} | {'yes' if ok else 'NO'} | {seconds:.1f} | "
            f"{line.replace('|', '/')[:120]} |"
        )
    return "\n".join(lines) + "\n"


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("names", nargs="*", default=["resnet50", "vit_b_16"])
    parser.add_argument("--batches", default="1,7,32")
    parser.add_argument("--profile", default="1:8:32")
    parser.add_argument(
        "--image-size",
        type=int,
        default=224,
        help="square image size for the example input (0: the corpus's own)",
    )
    parser.add_argument("--out", default=os.path.join(HERE, "..", "docs", "dynamic_batch.md"))
    args = parser.parse_args()
    batches = [int(b) for b in args.batches.split(",")]
    rows = []
    with tempfile.TemporaryDirectory() as folder:
        for name in args.names:
            rows += run_model(name, batches, args.profile, folder, args.image_size or None)
            print(table(rows, args.profile).splitlines()[-1], flush=True)
    atomic_write(args.out, table(rows, args.profile))
    print(f"wrote {args.out}")
    return 0 if all(row[3] for row in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
