"""Seeded mutation fuzzing of both weights readers against the reference safetensors library
(weights_fuzz.py says what is checked). A longer run: python benchmarks/fuzz_weights.py --mutants 100000
"""

import pytest

import weights_fuzz

pytestmark = pytest.mark.fuzz

MUTANTS = 10000


def test_mutants_are_read_as_the_reference_reads_them_or_rejected_alike(read_weights, tmp_path):
    stats, stricter = weights_fuzz.run(read_weights, str(tmp_path), MUTANTS, seed=0)
    print(dict(stats), dict(stricter))
    assert stats["accepted"] + stats["rejected"] == MUTANTS
    # the mutations reach every outcome: read unchanged, read with other bytes/dtypes/shapes, refused
    assert stats["accepted unchanged"] > 200 and stats["accepted changed"] > 500
    assert stats["rejected"] > MUTANTS // 2 and stats["rejected: bad header JSON"] > 500
