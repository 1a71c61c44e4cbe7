"""The one exception type the command line turns into a short message and a non-zero exit."""

from . import data_dependent


class TrtgenError(Exception):
    """A problem with the user's input: ``str(err)`` says what is wrong and what to do."""

    exit_code = 2


class NoGpuError(TrtgenError):
    """The input is fine, but the engine cannot run here (no GPU, or one TensorRT rejects)."""

    exit_code = 1


class UnsupportedOpsError(TrtgenError):
    """Ops with no lowering rule, collected over the whole graph."""

    def __init__(self, report):
        self.report = report  # list of (op, count, [where, ...])
        lines = [f"{len(report)} unsupported op(s) — nothing was written:"]
        for op, count, where in report:
            shown = ", ".join(where[:3]) + (", ..." if len(where) > 3 else "")
            reason = data_dependent.REASONS.get(op)
            lines.append(f"  {op}  x{count}  at {shown}" + (f": {reason}" if reason else ""))
        lines.append(
            "Register a lowering rule with --rules my_rules.py, or rewrite these ops in the model."
        )
        super().__init__("\n".join(lines))
