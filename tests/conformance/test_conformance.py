"""Every conformance case generates and matches PyTorch, or is refused at generation with a
message that names the op and the line."""

import pytest

from .cases import ALL
from .run import NOT_RUN, run_case, verdict
from trtgen.commands.roundtrip import PASS, REFUSED


@pytest.mark.parametrize("case", [pytest.param(c, id=c.id) for c in ALL])
def test_case(case, tmp_path):
    outcome = run_case(case, tmp_path)
    if outcome.status == NOT_RUN:
        pytest.skip(outcome.message)
    status = verdict(case, outcome)
    if case.refused:
        assert status == REFUSED, (
            f"expected a refusal naming {case.refused!r} and where; got {outcome.status} "
            f"(a pass: drop the case from NOT_CONVERTED):\n{outcome.message}"
        )
    else:
        assert status == PASS, f"{outcome.status}:\n{outcome.message}"
