"""Run one conformance case: write its model file, generate and check it in-process."""

import importlib.util

from trtgen.commands.roundtrip import FAILED, PASS, REFUSED, Outcome, generate_and_check

NOT_RUN = "not run"  # CPU PyTorch cannot run the model: not counted


def run_case(case, directory):
    """``Outcome`` of ``case``, its files under ``directory`` (a pathlib.Path)."""
    directory.mkdir(parents=True, exist_ok=True)
    model = directory / f"{case.id.replace('-', '_')}.py"
    model.write_text(case.source())
    reason = _torch_cannot_run(model)
    if reason:
        return Outcome(NOT_RUN, reason)
    return generate_and_check(model, directory / "out", case.args(), case.shapes)


def _torch_cannot_run(path):
    spec = importlib.util.spec_from_file_location(f"conformance_probe_{path.stem}", path)
    module = importlib.util.module_from_spec(spec)
    try:
        spec.loader.exec_module(module)
        model = module.get_model()
        import torch

        with torch.no_grad():
            model(*module.get_example_inputs())
    except Exception as err:
        return f"PyTorch on the CPU: {type(err).__name__}: {str(err).splitlines()[0] if str(err) else ''}"
    return ""


def verdict(case, outcome):
    """The outcome's status, except that a refusal must say what (the op) and where: one that
    does not counts as a failure."""
    if outcome.status == REFUSED and not names_op_and_line(outcome.message, case.refused or ""):
        return FAILED
    return outcome.status


def names_op_and_line(message, op):
    """Does a refusal say what (the op) and where: the model's ``file.py:line``, or, for an op
    inside a torch module (``nn.Bilinear``), the module's path and class."""
    import re

    where = re.search(r"\.py:\d+", message) or re.search(r"at \S+ \(\w+\.forward\)", message)
    return op in message and where is not None
