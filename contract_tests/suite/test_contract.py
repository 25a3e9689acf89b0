"""The contract suite, one test per named check, run by ``pytest --pyargs chatlabels.kit``.

Options and the ``contract_report`` fixture come from ``chatlabels.kit.suite.plugin``; without
``--base-url`` every test here is skipped.
"""

from __future__ import annotations

import warnings
from typing import Any

import pytest

from chatlabels.kit.checks.endpoint_checks import CHECKS


@pytest.mark.parametrize("check", list(CHECKS))
def test_contract(check: str, contract_report: Any) -> None:
    if contract_report.status(check) == "skipped":
        pytest.skip(contract_report.skipped[check])
    findings = contract_report.of_check(check)
    for finding in findings:
        if finding.severity == "warning":
            warnings.warn(finding.describe(), UserWarning, stacklevel=1)
    errors = [finding.describe() for finding in findings if finding.severity == "error"]
    if errors:
        pytest.fail(
            f"{CHECKS[check].summary}\n\n"
            + "\n\n".join(errors)
            + f"\n\nreplay: {contract_report.replay}",
            pytrace=False,
        )
