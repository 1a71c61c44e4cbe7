"""A longer run of the weights-reader fuzzing of tests/fuzz/test_weights_fuzz.py.

    python benchmarks/fuzz_weights.py [--mutants 100000] [--seed 0]

Builds tests/fuzz/read_weights.cpp with AddressSanitizer and UBSan, then checks every mutant as
the test does (weights_fuzz.check_one); stops at the first disagreement with the mutant's bytes.
"""

import argparse
import os
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "tests", "fuzz"))
sys.path.insert(0, ROOT)

import weights_fuzz  # noqa: E402


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mutants", type=int, default=100000)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as work:
        binary = weights_fuzz.compile_harness(work)
        if binary is None:
            sys.exit("fuzz_weights: no g++ on PATH")
        stats, stricter = weights_fuzz.run(binary, work, args.mutants, seed=args.seed)
    print(
        f"{args.mutants} mutants (seed {args.seed}) in {stats['seconds']} s: "
        f"{stats['accepted']} read ({stats['accepted unchanged']} unchanged), {stats['rejected']} refused "
        f"({stats['rejected: bad header JSON']} as bad JSON)"
    )
    for reason, count in sorted(stricter.items()):
        print(f"  refused though the reference reads it: {count} x {reason}")


if __name__ == "__main__":
    main()
