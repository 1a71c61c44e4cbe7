"""Every conformance case generates and matches PyTorch, or is refused at generation with a
message that names the op and the line. Cases another part of issue 18 makes pass are
``xfail(strict=False)`` (``OWNED_ELSEWHERE``) until that work is merged."""

import pytest

from .cases import ALL, OWNED_ELSEWHERE
from .run import NOT_RUN, run_case, verdict
from trtgen.roundtrip import PASS, REFUSED


def _param(case):
    reason = OWNED_ELSEWHERE.get(case.id)
    marks = [pytest.mark.xfail(reason=reason, strict=False)] if reason else []
    return pytest.param(case, id=case.id, marks=marks)


@pytest.mark.parametrize("case", [_param(c) for c in ALL])
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
