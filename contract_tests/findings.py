"""What the kit found: one ``Finding`` per violation, collected in a ``Report``.

A finding says Received / Expected at a JSON pointer, for one request (token redacted), under
one named check. The report never stops at the first finding: every check runs and every
violation is kept, so one run tells the whole story of what drifted.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any, Literal
from urllib.parse import quote, urlencode

from chatlabels.contract.redaction import REDACTED
from chatlabels.kit.redact import Secrets

__all__ = ["REDACTED", "Finding", "Report", "RequestInfo", "Severity"]


Severity = Literal["error", "warning"]


#: Where the kit reads each secret from, for curl lines (a header name or "access_token").
_VARIABLES = {
    "access_token": "${CHATLABELS_ACCESS_TOKEN}",
    "access-token": "${CHATLABELS_ACCESS_TOKEN}",
    "x-api-key": "${CHATLABELS_API_KEY}",
}


def _double_quoted(text: str, keep: str = "") -> str:
    """``text`` safe inside a shell's double quotes (characters in ``keep`` left alone)."""
    for char in '\\$`"':
        if char not in keep:
            text = text.replace(char, "\\" + char)
    return text


@dataclass(frozen=True)
class RequestInfo:
    """A request as it may be shown: the token is already replaced by ``[redacted]``."""

    method: str
    path: str
    query: tuple[tuple[str, str], ...] = ()
    headers: tuple[tuple[str, str], ...] = ()
    own_secrets: bool = True  # False: a check sent another token (a wrong one, a near miss)

    def __str__(self) -> str:
        query = urlencode(self.query, safe="[]@")
        return f"{self.method} {self.path}{'?' + query if query else ''}"

    def curl(self, base_url: str) -> str:
        """A ready-to-paste ``curl`` line; each redacted secret is read from the variable
        the kit reads it from (``$CHATLABELS_ACCESS_TOKEN``, ``$CHATLABELS_API_KEY``), so
        the line repeats the request without holding the secret. A request a check sent
        with another token says ``not-the-token`` there: the curl line cannot repeat a near
        miss of the real token without holding it."""
        token = _VARIABLES["access_token"] if self.own_secrets else "not-the-token"
        query = "&".join(
            f"{quote(k, safe='')}={token if v == REDACTED else quote(v, safe='')}"
            for k, v in self.query
        )
        url = _double_quoted(base_url + self.path) + (
            "?" + _double_quoted(query, keep="$") if query else ""
        )
        words = ["curl", "-sS", "-i"] + ([] if self.method == "GET" else ["-X", self.method])
        words.append(f'"{url}"')
        for name, value in self.headers:
            secret = _VARIABLES.get(name.lower(), "") if self.own_secrets else "not-the-token"
            shown = secret if value == REDACTED else _double_quoted(value)
            words += ["-H", f'"{_double_quoted(name)}: {shown or value}"']
        return " ".join(words)


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

    def describe(self, base_url: str = "") -> str:
        """Several lines for a terminal or a JUnit failure message; with ``base_url``, the
        curl line that repeats the request."""
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
        if base_url and self.request is not None:
            lines.append(f"  curl:     {self.request.curl(base_url)}")
        return "\n".join(line.rstrip() for line in lines)


@dataclass
class Report:
    """Every finding of one run, plus what is needed to replay it.

    ``secrets`` are scrubbed from every text added to the report (a target that echoes the
    token in a body must not make the report leak it); ``public`` are values sent in clear
    (the instance id), never masked. ``skipped`` gives the reason of each check that did not
    judge anything (not selected, nothing to judge, not served by the target, the run
    stopped); ``stopped`` says why a run ended early (``--max-time``, rate-limited, Ctrl-C:
    ``interrupted``), which makes the report partial.
    """

    base_url: str
    profile: str
    seed: int
    checks: list[str]
    secrets: tuple[str, ...] = ()
    public: tuple[str, ...] = ()
    findings: list[Finding] = field(default_factory=list)
    requests_sent: int = 0
    replay: str = ""
    skipped: dict[str, str] = field(default_factory=dict)
    timings: dict[str, float] = field(default_factory=dict)
    waits: list[float] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    labels: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    stopped: str | None = None
    interrupted: bool = False

    def saw_labels(self, where: str, body: Any) -> None:
        """Keep the labels of an answer (already redacted) for the HTML report's badges."""
        items = body if isinstance(body, list) else []
        if isinstance(body, dict) and all(key.isdigit() for key in body):
            items = list(body.values())
        self.labels[where] = [item for item in items[:50] if isinstance(item, dict)]

    def __post_init__(self) -> None:
        self._secrets = Secrets(self.secrets, self.public)
        self.notes = [*self.notes, *self._secrets.notes]

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

    def skip(self, check: str, reason: str) -> None:
        """Mark ``check`` as having judged nothing, for ``reason``."""
        self.skipped.setdefault(check, reason)

    def scrub(self, text: str) -> str:
        return self._secrets.scrub(text)

    def of_check(self, check: str) -> list[Finding]:
        return [f for f in self.findings if f.check == check]

    def status(self, check: str) -> str:
        """``failed`` (an error), ``warned`` (warnings only), ``skipped`` (nothing judged,
        see ``skipped``) or ``passed``."""
        severities = {f.severity for f in self.of_check(check)}
        if "error" in severities:
            return "failed"
        if severities:
            return "warned"
        return "skipped" if check in self.skipped else "passed"

    def counts(self) -> dict[str, int]:
        statuses = [self.status(check) for check in self.checks]
        return {s: statuses.count(s) for s in ("passed", "failed", "warned", "skipped")}

    @property
    def exit_code(self) -> int:
        """130 interrupted, 2 stopped early (partial), 1 a check failed, else 0."""
        if self.interrupted:
            return 130
        if self.stopped:
            return 2
        return 1 if any(f.severity == "error" for f in self.findings) else 0
