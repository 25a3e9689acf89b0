"""The benchmark's moving parts: server processes, readiness, memory, and the wrk runs.

Every server runs in its own session (process group), so stopping it takes its children
too (granian forks a worker, nginx a worker, the JVM its threads), and a bench that is
interrupted or fails half-way leaves nothing listening. Every wait has a deadline.
"""

from __future__ import annotations

import contextlib
import os
import re
import signal
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType

#: How long a server may take from launch to its first expected answer.
START_TIMEOUT_S = 60.0
#: How long a stopped server may take to exit after SIGTERM before its group is killed.
STOP_TIMEOUT_S = 10.0
#: A wrk run starts once this share of the cores' time is idle over QUIET_SAMPLE_S ...
QUIET_IDLE = 0.85
QUIET_SAMPLE_S = 0.5
#: ... or after this long, whatever the machine does.
QUIET_MAX_S = 10.0


class BenchError(RuntimeError):
    """A measurement could not be taken; the message says which and why."""


@dataclass(frozen=True)
class Probe:
    """One request the bench sends: path with query, headers, the status it must answer."""

    path: str
    headers: tuple[str, ...] = ()
    status: int = 200


class ServerProcess:
    """A server started in its own process group, stopped with that whole group.

    Use as a context manager; the output goes to ``log`` so a failed start can show why.
    """

    def __init__(self, command: Sequence[str], log: Path, cwd: Path | None = None) -> None:
        self.command = list(command)
        self.log = log
        self._cwd = cwd
        self._process: subprocess.Popen[bytes] | None = None
        self.started = 0.0

    @property
    def pid(self) -> int:
        if self._process is None:
            raise BenchError("server not started")
        return self._process.pid

    def __enter__(self) -> ServerProcess:
        return self.start()

    def start(self) -> ServerProcess:
        """Launch the server (``stop()`` ends it)."""
        with self.log.open("ab") as out:
            self.started = time.monotonic()
            self._process = subprocess.Popen(
                self.command,
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
                cwd=self._cwd,
                start_new_session=True,
            )
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        self.stop()

    def stop(self) -> None:
        """SIGTERM to the group, then SIGKILL to whatever of the group is still there."""
        process, self._process = self._process, None
        if process is None:
            return
        _signal_group(process.pid, signal.SIGTERM)
        deadline = time.monotonic() + STOP_TIMEOUT_S
        while time.monotonic() < deadline:
            process.poll()
            if not group_pids(process.pid):
                break
            time.sleep(0.05)
        _signal_group(process.pid, signal.SIGKILL)
        process.wait(timeout=STOP_TIMEOUT_S)

    def tail(self, lines: int = 15) -> str:
        """The end of the server's output, to explain a failed start."""
        try:
            return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""

    def wait_until_answers(self, base_url: str, probe: Probe) -> float:
        """Seconds from launch until ``probe`` gets its expected status (polled every 5 ms)."""
        deadline = self.started + START_TIMEOUT_S
        while time.monotonic() < deadline:
            if self._process is not None and self._process.poll() is not None:
                raise BenchError(f"{self.command[0]} exited at start:\n{self.tail()}")
            try:
                if status_of(base_url + probe.path, probe.headers) == probe.status:
                    return time.monotonic() - self.started
            except OSError:
                pass
            time.sleep(0.005)
        raise BenchError(f"no {probe.status} from {base_url}{probe.path}:\n{self.tail()}")


def _signal_group(group: int, sig: signal.Signals) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(group, sig)


def group_pids(group: int) -> list[int]:
    """Live (not zombie) processes of a process group, read from /proc."""
    pids = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        # "pid (comm) state ppid pgrp ...": comm may hold spaces, so split after the ")".
        fields = stat[stat.rindex(")") + 2 :].split()
        if int(fields[2]) == group and fields[0] != "Z":
            pids.append(int(entry.name))
    return pids


def group_rss_mib(group: int) -> float:
    """Resident memory of every process of the group (a forked worker's shared pages count
    once per process, so a forking server is slightly overstated)."""
    total_kib = 0
    for pid in group_pids(group):
        try:
            match = re.search(r"VmRSS:\s+(\d+) kB", Path(f"/proc/{pid}/status").read_text())
        except OSError:
            continue
        total_kib += int(match.group(1)) if match else 0
    return total_kib / 1024


def status_of(url: str, headers: Sequence[str] = ()) -> int:
    """The HTTP status of one GET, errors included (a 401 is an answer, not a failure)."""
    return get(url, headers)[0]


def get(url: str, headers: Sequence[str] = ()) -> tuple[int, bytes]:
    """Status and body of one GET; an HTTP error status is returned, not raised."""
    request = urllib.request.Request(url, headers=dict(h.split(": ", 1) for h in headers))
    try:
        with urllib.request.urlopen(request, timeout=2) as response:
            return int(response.status), response.read()
    except urllib.error.HTTPError as error:
        return int(error.code), error.read()


@dataclass(frozen=True)
class WrkRun:
    """What one wrk run measured. ``unexpected`` counts answers of the wrong kind (non-2xx
    where a 200 was expected, 2xx where an error was) plus socket errors."""

    requests: int
    seconds: float
    rps: float
    p50_ms: float
    p99_ms: float
    unexpected: int


def _cpu_times() -> tuple[int, int]:
    """(idle, total) jiffies of all cores, from /proc/stat's first line."""
    with open("/proc/stat", encoding="ascii") as stat:
        fields = [int(field) for field in stat.readline().split()[1:]]
    return fields[3] + fields[4], sum(fields)  # idle and iowait


def wait_until_quiet() -> float:
    """Wait until the cores are mostly idle (at most ``QUIET_MAX_S``); the idle share seen.

    A server keeps working after its load ends (WireMock's JVM collects a heap of gigabytes
    for seconds), and would take the cores from the next server measured: without this,
    the server measured first in a round paid for the one measured before it.
    """
    deadline = time.monotonic() + QUIET_MAX_S
    idle = 0.0
    while time.monotonic() < deadline:
        idle_before, total_before = _cpu_times()
        time.sleep(QUIET_SAMPLE_S)
        idle_after, total_after = _cpu_times()
        idle = (idle_after - idle_before) / max(total_after - total_before, 1)
        if idle >= QUIET_IDLE:
            break
    return idle


def wrk(url: str, connections: int, seconds: int, probe: Probe) -> WrkRun:
    """Run wrk (one thread per connection, up to one per core) and parse its report."""
    header_args = [arg for header in probe.headers for arg in ("-H", header)]
    threads = min(connections, len(os.sched_getaffinity(0)))
    command = ["wrk", f"-t{threads}", f"-c{connections}", f"-d{seconds}s"]
    try:
        out = subprocess.run(
            [*command, "--latency", *header_args, url + probe.path],
            capture_output=True,
            text=True,
            check=True,
            timeout=seconds + 30,
        ).stdout
    except (subprocess.SubprocessError, OSError) as error:
        raise BenchError(f"wrk failed on {url}{probe.path}: {error}") from error
    return parse_wrk(out, expect_ok=probe.status < 300)


def parse_wrk(out: str, *, expect_ok: bool) -> WrkRun:
    def number(pattern: str) -> str:
        match = re.search(pattern, out)
        if match is None:
            raise BenchError(f"unexpected wrk output (no {pattern!r}):\n{out}")
        return match.group(1)

    def latency_ms(label: str) -> float:
        match = re.search(rf"\s{label}%\s+([\d.]+)(us|ms|s)\b", out)
        if match is None:
            raise BenchError(f"unexpected wrk output (no p{label}):\n{out}")
        return float(match.group(1)) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[match.group(2)]

    requests = int(number(r"(\d+) requests in"))
    non_2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    wrong = int(non_2xx.group(1)) if non_2xx else 0
    if not expect_ok:
        wrong = requests - wrong
    socket_errors = re.search(r"Socket errors: (.*)", out)
    if socket_errors:
        wrong += sum(int(n) for n in re.findall(r"\d+", socket_errors.group(1)))
    seconds_match = re.search(r"requests in ([\d.]+)(ms|s|m)\b", out)
    seconds = float(seconds_match.group(1)) if seconds_match else 0.0
    if seconds_match and seconds_match.group(2) == "m":
        seconds *= 60
    elif seconds_match and seconds_match.group(2) == "ms":
        seconds /= 1000
    return WrkRun(
        requests=requests,
        seconds=seconds,
        rps=float(number(r"Requests/sec:\s+([\d.]+)")),
        p50_ms=latency_ms("50"),
        p99_ms=latency_ms("99"),
        unexpected=wrong,
    )
