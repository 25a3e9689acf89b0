"""A report three ways: a terminal summary for people, JUnit XML for CI dashboards, JSON
for machines. All three are rendered from the already-redacted ``Report``."""

from __future__ import annotations

import json
import sys
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

from chatlabels.kit.checks.endpoint_checks import CHECKS
from chatlabels.kit.findings import Report

__all__ = ["render_terminal", "summary_line", "to_json", "write_json", "write_junit"]


def render_terminal(report: Report) -> str:
    """Checks with their status (a skipped one with why), the counts, then each finding
    with its curl line, then how to replay."""
    width = max(len(name) for name in report.checks)
    lines = [f"chatlabels check {report.base_url} ({_header(report)})", ""]
    for name in report.checks:
        status = report.status(name)
        count = len(report.of_check(name))
        extra = f"  ({count} finding{'s' if count != 1 else ''})" if count else ""
        if status == "skipped":
            extra = f"  ({report.skipped[name]})"
        lines.append(f"  {status.upper():7} {name:{width}}{extra}".rstrip())
    lines += ["", summary_line(report)]
    if report.stopped:
        lines.append(f"partial report: the run stopped early: {report.stopped}")
    lines += [f"note: {note}" for note in report.notes]
    for finding in report.findings:
        lines += ["", finding.describe(report.base_url)]
    if report.findings or report.stopped:
        lines += [
            "",
            "replay (token from CHATLABELS_ACCESS_TOKEN):",
            f"  {report.replay}",
        ]
    return "\n".join(lines)


def _header(report: Report) -> str:
    parts = [f"profile {report.profile}", f"seed {report.seed}", f"{report.requests_sent} requests"]
    if report.waits:
        parts.append(
            f"{len(report.waits)} throttled answer(s) waited out, {sum(report.waits):.3g}s"
        )
    return ", ".join(parts)


def summary_line(report: Report) -> str:
    """``13 checks: 12 passed, 1 failed, 0 warned, 0 skipped``."""
    counts = report.counts()
    return f"{len(report.checks)} checks: " + ", ".join(f"{n} {s}" for s, n in counts.items())


def to_json(report: Report) -> dict[str, Any]:
    return {
        "base_url": report.base_url,
        "profile": report.profile,
        "seed": report.seed,
        "replay": report.replay,
        "requests_sent": report.requests_sent,
        "throttled": {"waits": len(report.waits), "seconds": round(sum(report.waits), 3)},
        "exit_code": report.exit_code,
        "partial": report.stopped,
        "summary": report.counts(),
        "checks": {name: report.status(name) for name in report.checks},
        "skipped": {
            name: reason
            for name, reason in report.skipped.items()
            if report.status(name) == "skipped"
        },
        "timings": {name: round(seconds, 3) for name, seconds in report.timings.items()},
        "notes": report.notes,
        "findings": [
            {**finding.to_json(), "curl": finding.request.curl(report.base_url)}
            if finding.request is not None
            else finding.to_json()
            for finding in report.findings
        ],
    }


def write_json(report: Report, path: str | Path) -> None:
    """The JSON report to ``path``; ``-`` is standard output."""
    text = json.dumps(to_json(report), indent=2) + "\n"
    if str(path) == "-":
        sys.stdout.write(text)
    else:
        Path(path).write_text(text, encoding="utf-8")


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
        skipped=str(counts["skipped"]),
        time=f"{sum(report.timings.values()):.3f}",
    )
    ET.SubElement(
        ET.SubElement(suite, "properties"), "property", name="seed", value=str(report.seed)
    )
    for name in report.checks:
        case = ET.SubElement(
            suite,
            "testcase",
            classname="chatlabels.contract",
            name=name,
            time=f"{report.timings.get(name, 0.0):.3f}",
        )
        if report.status(name) == "skipped":
            ET.SubElement(case, "skipped", message=report.skipped[name])
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
                "\n\n".join(f.describe(report.base_url) for f in errors)
                + f"\n\nreplay: {report.replay}"
            )
        if warnings:
            ET.SubElement(case, "system-out").text = "\n\n".join(f.describe() for f in warnings)
    root = ET.Element("testsuites")
    root.append(suite)
    tree = ET.ElementTree(root)
    ET.indent(tree)
    tree.write(path, encoding="utf-8", xml_declaration=True)
