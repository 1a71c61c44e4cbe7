"""Recurrent layers as one TensorRT loop per layer and direction, or unrolled into per-step
layers: layer count, network-definition time and ahead-of-time engine-build time (TensorRT-RTX
on the CPU) for a 3-layer LSTM(40, 256) at several sequence lengths.

    python benchmarks/rnn_loop_vs_unrolled.py [--lengths 8,32,128] [--out docs/rnn.md]

Both forms run the same step math (``layers.functional.recurrent``); only the driver over
time differs. Each form's numbers are checked against torch.nn.LSTM with the reference
executor first, so the two measure equivalent networks.
"""

import argparse
import os
import re
import time

import numpy as np
import torch

import layers
from layers.functional.indexing import select
from layers.functional.join import stack
from layers.functional.recurrent import loop_scan
from trtgen.reference import execute
from layers.atomic import atomic_write

HERE = os.path.dirname(os.path.abspath(__file__))
INPUT, HIDDEN, NUM_LAYERS = 40, 256, 3


def unrolled_scan(step, xs, initial, time_dim, reverse):
    """``loop_scan``'s contract with one copy of the step's layers per time step."""
    steps = range(xs.shape[time_dim])
    state, outputs = initial, {}
    for t in reversed(steps) if reverse else steps:
        outputs[t], state = step(select(xs, time_dim, t), state)
    return stack([outputs[t] for t in steps], time_dim), state


SCANS = {"loop": loop_scan, "unrolled": unrolled_scan}


class Net(layers.Module):
    def __init__(self, scan):
        super().__init__()
        self.lstm = layers.LSTM(INPUT, HIDDEN, num_layers=NUM_LAYERS, batch_first=True)
        self.scan = scan

    def forward(self, x):
        lstm = self.lstm
        output, finals = layers.functional.recurrent(
            "LSTM", x, None, lstm._layer_weights(), NUM_LAYERS, False, True, scan=self.scan
        )
        return output, finals[0]


def measure(form, length, weights, reference):
    model = Net(SCANS[form])
    model.load_weights({f"lstm.{k}": v for k, v in weights.items()})
    builder, network = layers.create_network()
    start = time.perf_counter()
    with layers.net_guard(network):
        output, h_n = model(layers.add_input("x", layers.float32, (1, length, INPUT)))
        layers.mark_output(output, "output")
        layers.mark_output(h_n, "h_n")
    define = time.perf_counter() - start
    x = torch.randn(1, length, INPUT, generator=torch.Generator().manual_seed(length))
    got = execute(network, {"x": x})
    with torch.no_grad():
        want, (h, _) = reference(x)
    error = max((got["output"] - want).abs().max().item(), (got["h_n"] - h).abs().max().item())
    assert error <= 1e-4, f"{form} at {length}: max abs error {error:.3g}"
    start = time.perf_counter()
    engine = layers.build_engine(builder, network)
    build = time.perf_counter() - start
    return dict(layers=network.num_layers, define=define, build=build, size=len(engine))


def run(lengths):
    torch.manual_seed(0)
    reference = torch.nn.LSTM(INPUT, HIDDEN, num_layers=NUM_LAYERS, batch_first=True).eval()
    weights = {k: v.detach().numpy() for k, v in reference.state_dict().items()}
    rows = []
    for length in lengths:
        for form in SCANS:
            row = dict(form=form, length=length, **measure(form, length, weights, reference))
            print(
                f"{form:9s} T={length:4d}  {row['layers']:6d} layers  define {row['define']:.2f} s"
                f"  build {row['build']:.1f} s  engine {row['size'] / 1e6:.1f} MB",
                flush=True,
            )
            rows.append(row)
    return rows


def table(rows):
    lines = [
        "| sequence length | form | layers | network definition (s) | engine build (s) | engine (MB) |",
        "|---:|---|---:|---:|---:|---:|",
    ]
    for r in rows:
        lines.append(
            f"| {r['length']} | {r['form']} | {r['layers']} | {r['define']:.2f} | {r['build']:.1f} "
            f"| {r['size'] / 1e6:.1f} |"
        )
    return "\n".join(lines)


def write(path, rows):
    """Replace the measurement table in ``path`` (between the two marker comments)."""
    text = open(path).read()
    start, end = "<!-- measurement:start -->", "<!-- measurement:end -->"
    new = f"{start}\n{table(rows)}\n{end}"
    text = re.sub(re.escape(start) + ".*?" + re.escape(end), new, text, flags=re.S)
    atomic_write(path, text)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lengths", default="8,32,128")
    parser.add_argument("--out", default=None, help="docs/rnn.md: rewrite its measurement table")
    args = parser.parse_args()
    np.set_printoptions(precision=3)
    rows = run([int(n) for n in args.lengths.split(",")])
    print(table(rows))
    if args.out:
        write(args.out, rows)


if __name__ == "__main__":
    main()
