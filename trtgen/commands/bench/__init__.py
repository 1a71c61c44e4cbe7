"""``trtgen bench MODEL.py``: the trtgen route beside the ONNX route, measured in one run.

``run`` drives both routes (``trtgen_route``, ``onnx_route``) over one loaded model;
``measure`` and ``gpu`` hold what is measured; ``report``, ``chart`` and ``write`` turn a
``result.BenchResult`` into bench.json, bench.md and bench.png; ``targets`` judges the project's
benchmark targets from measured results.
"""
