"""The report as one self-contained HTML page, for a person with a browser.

Same content as the terminal report (each check's verdict, each finding's request, pointer,
expected, found and curl line), plus the labels the run saw drawn as WhatsApp draws them:
coloured badges, in the label's ``colorHex``. One file, inline CSS, no script, no request to
any other host, so it can be attached to a CI run and opened anywhere. Every text from the
target is escaped (a label named ``<script>`` is shown, not run).
"""

from __future__ import annotations

import json
import re
from html import escape
from pathlib import Path
from typing import Any

from chatlabels.contract.schemas import PALETTE
from chatlabels.kit.findings import Finding, Report
from chatlabels.kit.report import summary_line

__all__ = ["render_html", "write_html"]

_HEX = re.compile(r"#[0-9a-fA-F]{6}")
_STATUS_COLORS = {
    "passed": "#1a7f37",
    "failed": "#cf222e",
    "warned": "#9a6700",
    "skipped": "#6e7781",
}
_CSS = """
body{font:15px/1.45 system-ui,sans-serif;margin:2rem auto;max-width:70rem;color:#1f2328;
padding:0 1rem}
h1{font-size:1.4rem;margin:0 0 .3rem}h2{font-size:1.1rem;margin:1.8rem 0 .6rem}
.meta{color:#59636e}.pill{display:inline-block;border-radius:1rem;padding:.05rem .6rem;
color:#fff;font-weight:600;font-size:.8rem;margin-right:.3rem}
table{border-collapse:collapse;width:100%}td{padding:.3rem .5rem;border-bottom:1px solid #d1d9e0;
vertical-align:top}td.reason{color:#59636e}
.finding{border:1px solid #d1d9e0;border-left:4px solid #cf222e;border-radius:6px;
padding:.6rem .9rem;margin:.8rem 0}.finding.warning{border-left-color:#9a6700}
.finding dl{display:grid;grid-template-columns:7rem 1fr;margin:.4rem 0;gap:.2rem .6rem}
.finding dt{color:#59636e}.finding dd{margin:0;word-break:break-all}
code,pre{font:13px ui-monospace,monospace}pre{background:#f6f8fa;padding:.5rem;
border-radius:6px;white-space:pre-wrap;word-break:break-all;margin:.2rem 0}
.badge{display:inline-block;border-radius:.35rem;padding:.1rem .55rem;margin:.15rem;
font-size:.85rem;font-weight:600}.chat{margin:.3rem 0}.chat code{margin-right:.5rem}
.swatch{display:inline-block;width:.9rem;height:.9rem;border-radius:.2rem;margin-left:.4rem;
vertical-align:middle;border:1px solid #d1d9e0}
.partial{background:#fff8c5;border:1px solid #d4a72c;border-radius:6px;padding:.5rem .8rem}
"""


def write_html(report: Report, path: str | Path) -> None:
    Path(path).write_text(render_html(report), encoding="utf-8")


def render_html(report: Report) -> str:
    counts = report.counts()
    pills = "".join(
        f'<span class="pill" style="background:{_STATUS_COLORS[s]}">{n} {s}</span>'
        for s, n in counts.items()
    )
    parts = [
        "<!doctype html>",
        '<html lang="en"><head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width,initial-scale=1">',
        f"<title>chatlabels check {escape(report.base_url)}</title>",
        f"<style>{_CSS}</style></head><body>",
        f"<h1>chatlabels check <code>{escape(report.base_url)}</code></h1>",
        f'<p class="meta">profile {escape(report.profile)} &middot; seed {report.seed} &middot; '
        f"{report.requests_sent} requests &middot; {escape(summary_line(report))}</p>",
        f"<p>{pills}</p>",
    ]
    if report.stopped:
        parts.append(
            f'<p class="partial">Partial report: the run stopped early: '
            f"{escape(report.stopped)}</p>"
        )
    parts += [f'<p class="meta">note: {escape(note)}</p>' for note in report.notes]
    parts += ["<h2>Checks</h2>", "<table>", *map(lambda n: _check_row(report, n), report.checks)]
    parts.append("</table>")
    if report.labels:
        parts.append("<h2>Labels seen</h2>")
        for where, labels in report.labels.items():
            badges = "".join(_badge(label) for label in labels) or '<span class="meta">none</span>'
            parts.append(f'<div class="chat"><code>{escape(where)}</code>{badges}</div>')
    if report.findings:
        parts.append(f"<h2>Findings ({len(report.findings)})</h2>")
        parts += [_finding(finding, report.base_url) for finding in report.findings]
    parts += [
        "<h2>Replay</h2>",
        "<p class='meta'>the token is read from CHATLABELS_ACCESS_TOKEN</p>",
        f"<pre>{escape(report.replay)}</pre>",
        "</body></html>",
    ]
    return "\n".join(parts) + "\n"


def _check_row(report: Report, name: str) -> str:
    status = report.status(name)
    count = len(report.of_check(name))
    detail = report.skipped.get(name, "") if status == "skipped" else ""
    if count:
        detail = f"{count} finding{'s' if count != 1 else ''}"
    pill = f'<span class="pill" style="background:{_STATUS_COLORS[status]}">{status}</span>'
    return (
        f"<tr><td>{pill}</td><td><code>{escape(name)}</code></td>"
        f'<td class="reason">{escape(detail)}</td></tr>'
    )


def _finding(finding: Finding, base_url: str) -> str:
    head = f"{finding.severity}: {finding.check}"
    if finding.drift:
        head += f" (known drift: {finding.drift})"
    rows = []
    if finding.request is not None:
        rows.append(("request", f"<code>{escape(str(finding.request))}</code>"))
    rows += [
        ("pointer", f"<code>{escape(finding.pointer or '/')}</code>"),
        ("expected", escape(finding.expected) + _swatches(finding.expected)),
        ("found", escape(finding.found) + _swatches(finding.found) + _badges_in(finding.found)),
    ]
    if finding.note:
        rows.append(("note", f"<pre>{escape(finding.note)}</pre>"))
    if finding.request is not None:
        rows.append(("curl", f"<pre>{escape(finding.request.curl(base_url))}</pre>"))
    cells = "".join(f"<dt>{name}</dt><dd>{value}</dd>" for name, value in rows)
    return (
        f'<div class="finding {escape(finding.severity)}"><strong>{escape(head)}</strong>'
        f"<dl>{cells}</dl></div>"
    )


def _swatches(text: str) -> str:
    """A colour chip for each ``#rrggbb`` in ``text`` (a colorHex finding shows both colours)."""
    return "".join(
        f'<span class="swatch" style="background:{hex_value.lower()}"></span>'
        for hex_value in dict.fromkeys(_HEX.findall(text))
    )


def _badges_in(text: str) -> str:
    """Badges for the labels in a finding's ``found`` text, when it is a whole JSON value."""
    try:
        value = json.loads(text)
    except ValueError:
        return ""
    items = value if isinstance(value, list) else [value]
    labels = [item for item in items if isinstance(item, dict) and "name" in item]
    return "<br>" + "".join(map(_badge, labels)) if labels else ""


def _badge(label: dict[str, Any]) -> str:
    """A label as WhatsApp shows it: its name on its colour, text dark or light to contrast."""
    color = label.get("colorHex")
    if not (isinstance(color, str) and _HEX.fullmatch(color)):
        index = label.get("color")
        color = "#d1d9e0"
        if isinstance(index, int) and 0 <= index < len(PALETTE):
            color = PALETTE[index]
    red, green, blue = (int(color[i : i + 2], 16) for i in (1, 3, 5))
    ink = "#1f2328" if 0.299 * red + 0.587 * green + 0.114 * blue > 150 else "#ffffff"
    name = label.get("name")
    return (
        f'<span class="badge" style="background:{color.lower()};color:{ink}" '
        f'title="id {escape(str(label.get("id")))}">{escape(str(name))}</span>'
    )
