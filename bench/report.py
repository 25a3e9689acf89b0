"""What the bench measured, and how it is printed: one table of all servers side by side,
the memory series, the ratios to WireMock, the Python ceiling and nginx, and issue 9's
goals met or not.

The machine (cores, CPU, versions, load average) is printed with the figures because on a
shared 2-core machine they mean nothing without it.
"""

from __future__ import annotations

import argparse
import os
import platform
import re
import socket
import statistics
import subprocess
import time
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path

from harness import WrkRun

#: Issue 9's goals for chatlabels: req/s against WireMock's, p99 and cold start bounds.
GOAL_C16_RATIO = 3.0
GOAL_C1_RATIO = 1.0
GOAL_P99_MS = 5.0
GOAL_COLD_S = 0.5
#: "Flat" memory: RSS after the long run at most this much above RSS after the warm-up.
FLAT_RSS_GROWTH = 0.05


@dataclass
class LongRun:
    """The long run: requests and seconds done, RSS (requests done so far, MiB) series."""

    rss_mib: list[tuple[int, float]] = field(default_factory=list)
    requests: int = 0
    seconds: float = 0.0
    unexpected: int = 0
    complete: bool = False


@dataclass
class TargetResult:
    """Everything measured on one server; ``error`` says why it was not, if it was not."""

    name: str
    kind: str
    cold_start_s: list[float] = field(default_factory=list)
    #: request name -> connections -> one wrk run per round
    runs: dict[str, dict[int, list[WrkRun]]] = field(default_factory=dict)
    long_run: LongRun | None = None
    error: str | None = None

    @property
    def cold(self) -> float:
        return statistics.median(self.cold_start_s)

    def rss_growth(self) -> float:
        assert self.long_run is not None
        first, last = self.long_run.rss_mib[0][1], self.long_run.rss_mib[-1][1]
        return (last - first) / first if first else 0.0


def typical(runs: list[WrkRun]) -> WrkRun:
    """The rounds' median of each figure (req/s, p50, p99), and their sums."""
    return WrkRun(
        requests=sum(r.requests for r in runs),
        seconds=sum(r.seconds for r in runs),
        rps=statistics.median(r.rps for r in runs),
        p50_ms=statistics.median(r.p50_ms for r in runs),
        p99_ms=statistics.median(r.p99_ms for r in runs),
        unexpected=sum(r.unexpected for r in runs),
    )


def ratios(ours: list[WrkRun], ref: list[WrkRun]) -> list[float]:
    """Req/s of ``ours`` over ``ref``, round by round (each pair measured minutes apart at
    most, under the same load)."""
    return [a.rps / b.rps for a, b in zip(ours, ref, strict=True)]


def ratio_text(values: list[float]) -> str:
    """The median ratio, with the rounds' range when there are several."""
    text = f"{statistics.median(values):.2f}x"
    return text if len(values) == 1 else f"{text} ({min(values):.2f}-{max(values):.2f})"


def free_port() -> int:
    """A port the kernel just gave out on 127.0.0.1 (free a moment ago; a race is unlikely)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def loadavg() -> str:
    return " ".join(Path("/proc/loadavg").read_text().split()[:3])


def machine() -> dict[str, str]:
    """Date, cores, CPU, versions and load: what a figure needs to be read."""
    cpu = re.search(r"model name\s*:\s*(.*)", Path("/proc/cpuinfo").read_text())
    info = {
        "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
        "nproc": str(len(os.sched_getaffinity(0))),
        "cpu": cpu.group(1).strip() if cpu else platform.processor(),
        "python": platform.python_version(),
        "loadavg_start": loadavg(),
        # every server and wrk inherit it: a negative one keeps other users' work off them
        "nice": str(os.nice(0)),
    }
    for package in ("chatlabels", "flask", "waitress", "granian", "pytest-httpserver"):
        try:
            info[package] = metadata.version(package)
        except metadata.PackageNotFoundError:
            info[package] = "not installed"
    for tool, command in {"wrk": ["wrk", "-v"], "java": ["java", "-version"]}.items():
        try:
            run = subprocess.run(command, capture_output=True, text=True, timeout=30)
            info[tool] = (run.stdout + run.stderr).splitlines()[0].strip()
        except (OSError, subprocess.SubprocessError, IndexError):
            info[tool] = "not found"
    return info


def runs_line(runs: dict[int, WrkRun]) -> str:
    return ", ".join(
        f"c{c} {r.rps:.0f} req/s p50 {r.p50_ms:.2f} ms p99 {r.p99_ms:.2f} ms"
        for c, r in runs.items()
    )


def long_run_line(run: LongRun) -> str:
    rate = run.requests / run.seconds if run.seconds else 0.0
    done = "" if run.complete else " (stopped by --long-max-seconds)"
    return f"{run.requests:,} requests in {run.seconds:.1f} s, {rate:.0f} req/s{done}"


def print_all(info: dict[str, str], results: list[TargetResult], args: argparse.Namespace) -> None:
    print(
        f"machine: {info['date']}, nproc {info['nproc']}, {info['cpu']}, Python {info['python']},"
        f" load average {info['loadavg_start']} at start, {info['loadavg_end']} at end,"
        f" nice {info['nice']}"
    )
    named = ("machine", "date", "nproc", "cpu", "python", "loadavg_start", "loadavg_end", "nice")
    print("versions: " + ", ".join(f"{k} {v}" for k, v in info.items() if k not in named))
    print(
        f"wrk runs of {args.seconds} s in {args.rounds} interleaved rounds (figures: the"
        f" rounds' median; ratios: the median of the rounds' ratios, and their range);"
        f" cold start = median of {args.cold_runs} launches, bytecode compiled"
    )
    print()
    print_table(results)
    print()
    print_memory(results)
    print()
    print_ratios(results)
    print()
    print_goals(results)
    for r in results:
        wrong = sum(run.unexpected for runs in r.runs.values() for c in runs.values() for run in c)
        if r.long_run is not None:
            wrong += r.long_run.unexpected
        if wrong:
            print(f"WARNING: {r.name}: {wrong} answers of the wrong kind or socket errors")


def print_table(results: list[TargetResult]) -> None:
    print(
        f"{'target / request':<44}{'cold s':>7}{'c1 rps':>8}{'c1 p50':>8}{'c1 p99':>8}"
        f"{'c16 rps':>9}{'c16 p50':>8}{'c16 p99':>8}"
    )
    for r in results:
        if r.error:
            print(f"{r.name:<44}  not measured: {r.error.splitlines()[0]}")
            continue
        print(f"{r.name:<44}{r.cold:>7.2f}")
        for name, runs in r.runs.items():
            c1, c16 = typical(runs[1]), typical(runs[16])
            print(
                f"{'  ' + name:<51}{c1.rps:>8.0f}{c1.p50_ms:>8.2f}{c1.p99_ms:>8.2f}"
                f"{c16.rps:>9.0f}{c16.p50_ms:>8.2f}{c16.p99_ms:>8.2f}"
            )


def print_memory(results: list[TargetResult]) -> None:
    print("RSS MiB of the process group: after the warm-up, then at requests done (c16)")
    for r in results:
        if r.long_run is None:
            continue
        series = " | ".join(f"{n / 1000:.0f}k {mib:.1f}" for n, mib in r.long_run.rss_mib)
        print(f"{r.name:<44}{series}")
        print(f"{'':<44}{long_run_line(r.long_run)}, growth {r.rss_growth():+.1%}")


def _pairs(results: list[TargetResult], kind: str) -> list[tuple[TargetResult, TargetResult]]:
    ours = [r for r in results if r.kind == "chatlabels" and not r.error]
    refs = [r for r in results if r.kind == kind and not r.error]
    return [(a, b) for a in ours for b in refs]


def print_ratios(results: list[TargetResult]) -> None:
    refs = [_pairs(results, kind) for kind in ("wiremock", "python-ceiling", "nginx")]
    for ours, ref in [pair for pairs in refs for pair in pairs]:
        base = ref.runs["Get Chat Labels"]
        parts = [
            f"{name} c1 {ratio_text(ratios(runs[1], base[1]))}"
            f" c16 {ratio_text(ratios(runs[16], base[16]))}"
            for name, runs in ours.runs.items()
        ]
        print(f"{ours.name} / {ref.name} (req/s): " + "; ".join(parts))


def print_goals(results: list[TargetResult]) -> None:
    """Issue 9's goals for each chatlabels row, each request, against WireMock's read."""
    for ours, ref in _pairs(results, "wiremock"):
        base = ref.runs["Get Chat Labels"]
        print(f"issue 9 goals, {ours.name} (against {ref.name}):")
        c16, p99, c1 = [], [], []
        for name, runs in ours.runs.items():
            ratios16, ratios1 = ratios(runs[16], base[16]), ratios(runs[1], base[1])
            ratio16, ratio1 = statistics.median(ratios16), statistics.median(ratios1)
            c16.append(f"{name} {ratio_text(ratios16)} {_verdict(ratio16 >= GOAL_C16_RATIO)}")
            p99_ms = typical(runs[16]).p99_ms
            p99.append(f"{name} {p99_ms:.2f} ms {_verdict(p99_ms < GOAL_P99_MS)}")
            c1.append(f"{name} {ratio_text(ratios1)} {_verdict(ratio1 >= GOAL_C1_RATIO)}")
        print(f"  c16 req/s >= {GOAL_C16_RATIO:g}x WireMock: " + "; ".join(c16))
        print(f"  c16 p99 < {GOAL_P99_MS:g} ms: " + "; ".join(p99))
        print(f"  c1 req/s >= {GOAL_C1_RATIO:g}x WireMock: " + "; ".join(c1))
        cold = f"{ours.cold:.2f} s {_verdict(ours.cold < GOAL_COLD_S)}"
        print(f"  cold start < {GOAL_COLD_S:g} s: {cold}")
        if ours.long_run is not None:
            growth = ours.rss_growth()
            flat = growth <= FLAT_RSS_GROWTH and ours.long_run.complete
            requests = f"{ours.long_run.requests:,} requests"
            print(f"  RSS flat over {requests}: {growth:+.1%} {_verdict(flat)}")


def _verdict(ok: bool) -> str:
    return "met" if ok else "NOT MET"
