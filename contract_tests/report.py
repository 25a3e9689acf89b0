"""A report three ways: a terminal summary for people, JUnit XML for CI dashboards, JSON
for machines. All three are rendered from the already-redacted ``Report``."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

from chatlabels.kit.checks.endpoint_checks import CHECKS
from chatlabels.kit.findings import Report

__all__ = ["render_terminal", "to_json", "write_json", "write_junit"]


def render_terminal(report: Report) -> str:
    """Checks with their status, the counts, then each finding, then how to replay."""
    width = max(len(name) for name in report.checks)
    lines = [
        f"chatlabels check {report.base_url} (profile {report.profile}, seed {report.seed}, "
        f"{report.requests_sent} requests)",
        "",
    ]
    for name in report.checks:
        status = report.status(name)
        count = len(report.of_check(name))
        extra = f"  ({count} finding{'s' if count != 1 else ''})" if count else ""
        lines.append(f"  {status.upper():7} {name:{width}}{extra}".rstrip())
    counts = report.counts()
    lines += [
        "",
        f"{len(report.checks)} checks: {counts['passed']} passed, {counts['failed']} failed, "
        f"{counts['warned']} warned",
    ]
    for finding in report.findings:
        lines += ["", finding.describe()]
    if report.findings:
        lines += [
            "",
            "replay (token from CHATLABELS_ACCESS_TOKEN):",
            f"  {report.replay}",
        ]
    return "\n".join(lines)


def to_json(report: Report) -> dict[str, Any]:
    return {
        "base_url": report.base_url,
        "profile": report.profile,
        "seed": report.seed,
        "replay": report.replay,
        "requests_sent": report.requests_sent,
        "exit_code": report.exit_code,
        "summary": report.counts(),
        "checks": {name: report.status(name) for name in report.checks},
        "findings": [finding.to_json() for finding in report.findings],
    }


def write_json(report: Report, path: str | Path) -> None:
    Path(path).write_text(json.dumps(to_json(report), indent=2) + "\n", encoding="utf-8")


def _summary(name: str) -> str:
    """What a check enforces; a stateful check is described by ``STATEFUL_CHECKS``."""
    if name in CHECKS:
        return CHECKS[name].summary
    from chatlabels.kit.stateful.run import STATEFUL_CHECKS

    return STATEFUL_CHECKS.get(name, name)


def write_junit(report: Report, path: str | Path) -> None:
    """One <testcase> per check; errors as <failure>, warnings in <system-out>."""
    counts = report.counts()
    suite = ET.Element(
        "testsuite",
        name="chatlabels contract",
        tests=str(len(report.checks)),
        failures=str(counts["failed"]),
        errors="0",
        skipped="0",
    )
    ET.SubElement(
        ET.SubElement(suite, "properties"), "property", name="seed", value=str(report.seed)
    )
    for name in report.checks:
        case = ET.SubElement(suite, "testcase", classname="chatlabels.contract", name=name)
        errors = [f for f in report.of_check(name) if f.severity == "error"]
        warnings = [f for f in report.of_check(name) if f.severity == "warning"]
        if errors:
            failure = ET.SubElement(
                case,
                "failure",
                message=f"{len(errors)} violation(s) of {_summary(name)}",
                type="ContractViolation",
            )
            failure.text = (
                "\n\n".join(f.describe() for f in errors) + f"\n\nreplay: {report.replay}"
            )
        if warnings:
            ET.SubElement(case, "system-out").text = "\n\n".join(f.describe() for f in warnings)
    tree = ET.ElementTree(ET.Element("testsuites"))
    tree.getroot().append(suite)
    ET.indent(tree)
    tree.write(path, encoding="utf-8", xml_declaration=True)
