"""What the kit found: one ``Finding`` per violation, collected in a ``Report``.

A finding says Received / Expected at a JSON pointer, for one request (token redacted), under
one named check. The report never stops at the first finding: every check runs and every
violation is kept, so one run tells the whole story of what drifted.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any, Literal
from urllib.parse import urlencode

from chatlabels.contract.redaction import REDACTED

__all__ = ["REDACTED", "Finding", "Report", "RequestInfo", "Severity"]


Severity = Literal["error", "warning"]


@dataclass(frozen=True)
class RequestInfo:
    """A request as it may be shown: the token is already replaced by ``[redacted]``."""

    method: str
    path: str
    query: tuple[tuple[str, str], ...] = ()
    headers: tuple[tuple[str, str], ...] = ()

    def __str__(self) -> str:
        query = urlencode(self.query, safe="[]@")
        return f"{self.method} {self.path}{'?' + query if query else ''}"


@dataclass(frozen=True)
class Finding:
    """One violation (``error``) or tolerated drift (``warning``) of the contract.

    ``pointer`` is the RFC 6901 JSON pointer of the offending value in the response body
    (``""`` is the whole body). ``drift`` names a known real-world drift that the lenient
    profile tolerates (``php-object-root``, ``extra-label-field``, ``upper-case-hex``).
    """

    check: str
    request: RequestInfo | None
    pointer: str
    expected: str
    found: str
    severity: Severity = "error"
    drift: str | None = None
    note: str | None = None

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        if self.request is not None:
            data["request"] = {
                "method": self.request.method,
                "path": self.request.path,
                "query": dict(self.request.query),
                "line": str(self.request),
            }
        return data

    def describe(self) -> str:
        """Several lines for a terminal or a JUnit failure message."""
        head = f"[{self.severity}] {self.check}"
        if self.drift:
            head += f" (known drift: {self.drift})"
        lines = [head]
        if self.request is not None:
            lines.append(f"  request:  {self.request}")
        lines += [
            f"  pointer:  {self.pointer or '/'} ",
            f"  expected: {self.expected}",
            f"  found:    {self.found}",
        ]
        if self.note:
            lines.append(f"  note:     {self.note}")
        return "\n".join(line.rstrip() for line in lines)


@dataclass
class Report:
    """Every finding of one run, plus what is needed to replay it.

    ``secrets`` are scrubbed from every text added to the report (a target that echoes the
    token in a body must not make the report leak it).
    """

    base_url: str
    profile: str
    seed: int
    checks: list[str]
    secrets: tuple[str, ...] = ()
    findings: list[Finding] = field(default_factory=list)
    requests_sent: int = 0
    replay: str = ""

    def add(self, finding: Finding) -> None:
        scrubbed = Finding(
            check=finding.check,
            request=finding.request,
            pointer=self.scrub(finding.pointer),
            expected=self.scrub(finding.expected),
            found=self.scrub(finding.found),
            severity=finding.severity,
            drift=finding.drift,
            note=self.scrub(finding.note) if finding.note else None,
        )
        if scrubbed not in self.findings:
            self.findings.append(scrubbed)

    def scrub(self, text: str) -> str:
        for secret in self.secrets:
            if secret:
                text = text.replace(secret, REDACTED)
        return text

    def of_check(self, check: str) -> list[Finding]:
        return [f for f in self.findings if f.check == check]

    def status(self, check: str) -> str:
        """``failed`` (an error), ``warned`` (warnings only) or ``passed``."""
        severities = {f.severity for f in self.of_check(check)}
        if "error" in severities:
            return "failed"
        return "warned" if severities else "passed"

    def counts(self) -> dict[str, int]:
        statuses = [self.status(check) for check in self.checks]
        return {s: statuses.count(s) for s in ("passed", "failed", "warned")}

    @property
    def exit_code(self) -> int:
        """0 when no check failed (warnings allowed), 1 otherwise."""
        return 1 if any(f.severity == "error" for f in self.findings) else 0
