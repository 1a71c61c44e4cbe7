"""Quantized accuracy on held-out inputs: ResNet-18 models, every format and calibrator.

    python benchmarks/quant_accuracy.py [--model M.py ...] [--calib-samples 32] [--held-out 64]
                                        [--out docs/quant_accuracy.md]

Each row is the real command line (``trtgen ... --quant FORMAT --calibrator NAME --calib DIR``,
or ``--precision fp16``) on random calibration inputs, then the generated network run by the
reference executor on other random inputs and compared with FP32 PyTorch: the worst cosine
similarity and how often the top-1 class agrees. Per model it also says how much the logits
depend on the input at all: the margin between the top two logits and how many distinct top-1
classes the held-out inputs produce.
"""

import argparse
import os
import subprocess
import sys
import tempfile

import numpy as np
import torch
from layers.atomic import atomic_write

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
MODELS = [
    os.path.join(REPO, "examples", "resnet18.py"),
    os.path.join(HERE, "models", "resnet18_torchvision_init.py"),
]
VARIANTS = [
    ("fp16", ["--precision", "fp16"]),
    ("int8 percentile", ["--quant", "int8", "--calibrator", "percentile"]),
    ("int8 max", ["--quant", "int8", "--calibrator", "max"]),
    ("int8 mse", ["--quant", "int8", "--calibrator", "mse"]),
    ("int8 entropy", ["--quant", "int8", "--calibrator", "entropy"]),
    ("fp8 max", ["--quant", "fp8", "--calibrator", "max"]),
    ("fp8 mse", ["--quant", "fp8", "--calibrator", "mse"]),
]


def _inputs(count, seed):
    generator = torch.Generator().manual_seed(seed)
    return [torch.randn(1, 3, 224, 224, generator=generator) for _ in range(count)]


def _measure(out, held_out):
    sys.path.insert(0, REPO)
    from trtgen.commands.check import load_reference_model
    from trtgen.emit.netfile import build_from_output
    from trtgen.emit.output import read_manifest
    from trtgen.reference import execute

    loaded = load_reference_model(out, read_manifest(out))
    _, network = build_from_output(out)
    cosines, agree, margins, classes = [], [], [], set()
    for x in held_out:
        with torch.no_grad():
            want = loaded.model(x).flatten()
        got = execute(network, {"x": x})["output"].flatten()
        cosines.append(float(torch.nn.functional.cosine_similarity(want, got, dim=0)))
        agree.append(int(want.argmax() == got.argmax()))
        top = want.sort(descending=True).values
        margins.append(float(top[0] - top[1]))
        classes.add(int(want.argmax()))
    logits = {"margin": float(np.median(margins)), "spread": float(want.std()), "classes": classes}
    return min(cosines), float(np.mean(agree)), logits


def _model_rows(model, calib, held_out, work):
    """Table rows for one model, and how input-dependent its logits are."""
    rows, logits = [], None
    stem = os.path.splitext(os.path.basename(model))[0]
    for name, flags in VARIANTS:
        out = os.path.join(work, stem + "_" + name.replace(" ", "_"))
        extra = ["--calib", calib] if "--quant" in flags else []
        result = subprocess.run(
            [sys.executable, "-m", "trtgen", model, "-o", out, *flags, *extra],
            capture_output=True,
            text=True,
        )
        if result.returncode:
            rows.append(f"| {name} | generation failed: {result.stderr.strip()[-200:]} | | |")
            continue
        worst, agreement, logits = _measure(out, held_out)
        rows.append(f"| {name} | {worst:.5f} | {agreement:.0%} | `{' '.join(flags)}` |")
        print(stem, rows[-1], flush=True)
    return rows, logits


def _model_section(model, rows, logits, args):
    relative = os.path.relpath(model, REPO)
    about = "every variant failed to generate"
    if logits:
        about = (
            f"Median gap between the top two FP32 logits: {logits['margin']:.3f}, against a "
            f"spread (std) of {logits['spread']:.2f} over the classes; the {args.held_out} "
            f"held-out inputs have {len(logits['classes'])} distinct FP32 top-1 classes."
        )
    return [
        f"## {relative}",
        "",
        "| network | worst cosine | top-1 agreement | flags |",
        "|---|---:|---:|---|",
        *rows,
        "",
        about,
        "",
    ]


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", action="append", help="MODEL.py (repeatable; default: both)")
    parser.add_argument("--calib-samples", type=int, default=32)
    parser.add_argument("--held-out", type=int, default=64)
    parser.add_argument("--out", default=os.path.join(REPO, "docs", "quant_accuracy.md"))
    args = parser.parse_args()
    held_out = _inputs(args.held_out, seed=2)
    sections = []
    with tempfile.TemporaryDirectory() as work:
        calib = os.path.join(work, "calib")
        os.makedirs(calib)
        for i, x in enumerate(_inputs(args.calib_samples, seed=1)):
            torch.save((x,), os.path.join(calib, f"{i:03d}.pt"))
        for model in args.model or MODELS:
            rows, logits = _model_rows(model, calib, held_out, work)
            sections += _model_section(model, rows, logits, args)
    text = "\n".join(
        [
            "# Reduced precision and quantization: accuracy on held-out inputs",
            "",
            f"Measured by `python benchmarks/quant_accuracy.py`: random-weight ResNet-18 models, "
            f"{args.calib_samples} random calibration inputs, {args.held_out} other random inputs "
            "compared with FP32 PyTorch by the reference executor.",
            "",
            "Random weights make top-1 agreement a statement about the model more than about the "
            "quantization. examples/resnet18.py randomizes its BatchNorm statistics, which leaves "
            "its top two logits almost tied for every input, so an error far below what the cosine "
            "notices flips the top class. torchvision's own initialization gives every input the "
            "same top class, so agreement is trivially high. The worst cosine is the measure of "
            "the error on both.",
            "",
            *sections,
        ]
    )
    atomic_write(args.out, text)
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
