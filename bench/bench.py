"""Benchmark ``chatlabels serve`` against WireMock, the Python ceiling and nginx, in one run.

Issue 9 asks for a mock that is never the bottleneck (3x WireMock's req/s on the same
machine, in the same run). Per server: cold start (launch to the first 200, median of a
few launches); then, in rounds that take every server in turn (so a change in the machine's
load touches all alike), req/s with p50 and p99 at 1 and 16 connections (wrk), for
chatlabels also the WAHA dialect's read and a 401; then, one server at a time, resident
memory of the process group after the warm-up and along a long run sized in requests. WireMock runs
twice (as users start it, and at its fastest); the Python ceiling is a fixed-body WSGI
callable on chatlabels' own server (fixed_wsgi.py). Then the ratios,
the issue's goals, and what the pytest plugin costs per test (plugin_overhead.py).

Every server runs in its own process group and is stopped with it, whatever happens; every
step has a time bound. See bench/README.md for how to run it and the last figures.
"""

from __future__ import annotations

import argparse
import compileall
import importlib.util
import json
import math
import os
import shutil
import signal
import statistics
import sys
import tempfile
import time
from contextlib import ExitStack
from dataclasses import asdict
from pathlib import Path
from types import FrameType

import plugin_overhead
import report
import targets
from harness import (
    QUIET_IDLE,
    BenchError,
    ServerProcess,
    get,
    group_rss_mib,
    wait_until_quiet,
    wrk,
)
from report import LongRun, TargetResult

#: RSS is read after the warm-up and at this many points of the long run.
RSS_POINTS = 5


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add = parser.add_argument
    add("--seconds", type=int, default=10, help="length of each wrk run (default 10)")
    add("--long-requests", type=int, default=1_000_000, help="requests in the long run")
    add("--long-max-seconds", type=int, default=600, help="time bound of one long run")
    add("--cold-runs", type=int, default=3, help="launches whose median is the cold start")
    add("--rounds", type=int, default=3, help="interleaved rounds of wrk runs (default 3)")
    add(
        "--serve-args",
        action="append",
        default=[],
        metavar="ARGS",
        help="one more chatlabels row, `chatlabels serve ARGS` (repeatable; shell-quoted, "
        "given with '=': --serve-args='--quiet')",
    )
    add("--wiremock-jar", help="WireMock standalone jar (default: fetched with npm)")
    add("--wiremock-warmup", type=int, default=60, help="seconds of load before measuring it")
    add("--no-wiremock", action="store_true", help="skip WireMock")
    add("--no-nginx", action="store_true", help="skip nginx")
    add("--no-plugin", action="store_true", help="skip the pytest plugin's per-test cost")
    add("--plugin-tests", type=int, default=200, help="generated tests per plugin variant")
    add("--json", metavar="FILE", help="also write every figure to FILE")
    args = parser.parse_args()
    if min(args.seconds, args.long_requests, args.cold_runs, args.rounds, args.plugin_tests) < 1:
        parser.error(
            "--seconds, --long-requests, --cold-runs, --rounds, --plugin-tests must be >= 1"
        )
    return args


def plan(args: argparse.Namespace, workdir: Path) -> list[targets.Target]:
    """The servers of this run; what is missing on this machine is said and skipped."""
    rows = [targets.chatlabels(port=report.free_port())]
    if targets.has_server_option("waitress"):
        rows.append(targets.chatlabels(report.free_port(), "--server waitress"))
    else:
        note("`chatlabels serve` has no --server option: one chatlabels row (its only server)")
    rows += [targets.chatlabels(report.free_port(), extra) for extra in args.serve_args]
    if targets.has_server_option("granian"):
        rows.append(targets.python_ceiling(report.free_port()))
    if not args.no_wiremock:
        jar = targets.find_wiremock_jar(args.wiremock_jar)
        if jar is None or not jar.is_file() or shutil.which("java") is None:
            note("WireMock skipped: needs java and the jar (--wiremock-jar, or npm)")
        else:
            for fastest in (False, True):
                port = report.free_port()
                warmup = args.wiremock_warmup
                rows.append(targets.wiremock(jar, port, workdir, warmup, fastest=fastest))
    if not args.no_nginx:
        binary = shutil.which("nginx", path=os.environ.get("PATH", "") + ":/usr/sbin:/sbin")
        if binary is None:
            note("nginx skipped: not installed (Debian: apt-get install nginx-light)")
        else:
            rows.append(targets.nginx(binary, report.free_port(), workdir))
    return rows


def start(
    target: targets.Target, result: TargetResult, args: argparse.Namespace, workdir: Path
) -> ServerProcess:
    """Launch ``target`` --cold-runs times for its cold start; return the last launch,
    running, its answers checked and warmed up (the caller stops it)."""
    log = workdir / f"{target.kind}-{target.port}.log"
    first = next(iter(target.probes.values()))
    for _ in range(args.cold_runs - 1):
        with ServerProcess(target.command, log, target.cwd) as server:
            result.cold_start_s.append(server.wait_until_answers(target.base_url, first))
    server = ServerProcess(target.command, log, target.cwd).start()
    try:
        result.cold_start_s.append(server.wait_until_answers(target.base_url, first))
        check_answers(target)
        wrk(target.base_url, 16, target.warmup_seconds, first)  # a JVM needs ~1 min
    except BaseException:
        server.stop()
        raise
    note(f"{target.name}: cold start {statistics.median(result.cold_start_s):.2f} s")
    return server


def measure_round(target: targets.Target, result: TargetResult, args: argparse.Namespace) -> None:
    """One round: each request of ``target`` at 1 and 16 connections, each run started on
    a quiet machine."""
    for name, probe in target.probes.items():
        runs = {}
        for c in (1, 16):
            idle = wait_until_quiet()
            if idle < QUIET_IDLE:
                note(f"{target.name}, {name}, c{c}: started at {idle:.0%} idle (busy machine)")
            runs[c] = wrk(target.base_url, c, args.seconds, probe)
        for c, run in runs.items():
            result.runs.setdefault(name, {}).setdefault(c, []).append(run)
        note(f"{target.name}, {name}: " + report.runs_line(runs))


def compile_bytecode() -> None:
    """Compile chatlabels' bytecode once, before any launch.

    Cold start is measured as users start the mock: pip compiles a package's bytecode when
    it installs it, and an editable install writes it on its first import, unless
    ``PYTHONDONTWRITEBYTECODE`` is set (as on this bench's machines), where every launch
    would compile chatlabels' own modules again (about 65 ms).
    """
    spec = importlib.util.find_spec("chatlabels")
    roots = list(spec.submodule_search_locations or []) if spec else []
    if not roots or not all(compileall.compile_dir(root, quiet=1) for root in roots):
        note("WARNING: chatlabels' bytecode could not be compiled: cold starts include it")


def check_answers(target: targets.Target) -> None:
    """Each probe answers its status, and Get Chat Labels the body the others serve."""
    for name, probe in target.probes.items():
        status, body = get(target.base_url + probe.path, probe.headers)
        if status != probe.status:
            raise BenchError(f"{target.name}, {name}: {status}, expected {probe.status}")
        if name == "Get Chat Labels" and body.decode() != targets.BODY:
            note(f"WARNING: {target.name} answers another body than the others: {body[:200]!r}")


def long_run(target: targets.Target, pid: int, args: argparse.Namespace, rate: float) -> LongRun:
    """--long-requests at 16 connections in wrk runs sized from ``rate`` (req/s), RSS read
    after the warm-up and at each of RSS_POINTS checkpoints; at most --long-max-seconds."""
    probe = target.probes["Get Chat Labels"]
    run = LongRun(rss_mib=[(0, group_rss_mib(pid))])
    rate = max(rate, 100.0)
    deadline = time.monotonic() + args.long_max_seconds
    while run.requests < args.long_requests and time.monotonic() < deadline - 1:
        goal = min(args.long_requests, args.long_requests * len(run.rss_mib) // RSS_POINTS)
        seconds = math.ceil(max(goal - run.requests, 1) / rate)
        seconds = max(1, min(seconds, int(deadline - time.monotonic())))
        part = wrk(target.base_url, 16, seconds, probe)
        run.requests += part.requests
        run.seconds += part.seconds
        run.unexpected += part.unexpected
        rate = max(part.rps, 100.0)
        run.rss_mib.append((run.requests, group_rss_mib(pid)))
    run.complete = run.requests >= args.long_requests
    note(f"{target.name}: long run " + report.long_run_line(run))
    return run


def fail(result: TargetResult, error: BenchError) -> None:
    note(f"{result.name} not measured: {error}")
    result.error = str(error)


def note(line: str) -> None:
    print(f"bench: {line}", file=sys.stderr, flush=True)


def stop_on_sigterm(signum: int, frame: FrameType | None) -> None:
    """SIGTERM unwinds like Ctrl-C, so every server's group is stopped on the way out."""
    raise SystemExit(128 + signum)


def main() -> int:
    args = parse_args()
    if shutil.which("wrk") is None:
        print("bench: needs wrk, the load generator (Debian: apt-get install wrk)", file=sys.stderr)
        return 2
    signal.signal(signal.SIGTERM, stop_on_sigterm)
    machine = report.machine()
    compile_bytecode()
    results: list[TargetResult] = []
    with tempfile.TemporaryDirectory(prefix="chatlabels-bench-") as tmp, ExitStack() as stack:
        live: list[tuple[targets.Target, TargetResult, ServerProcess]] = []
        for target in plan(args, Path(tmp)):
            note(f"{target.name}: starting")
            result = TargetResult(target.name, target.kind)
            results.append(result)
            try:
                server = start(target, result, args, Path(tmp))
            except BenchError as error:
                fail(result, error)
                continue
            stack.callback(server.stop)
            live.append((target, result, server))
        # Interleaved: every server is measured in every round, so a change in the machine's
        # load during the run touches all of them alike, and the ratios stay fair.
        # Each round starts with another server (the order turns), so whatever one server
        # leaves behind is not always paid by the same one.
        for number in range(1, args.rounds + 1):
            note(f"round {number} of {args.rounds}")
            turn = (number - 1) % max(len(live), 1)
            for target, result, _ in live[turn:] + live[:turn]:
                if result.error is None:
                    try:
                        measure_round(target, result, args)
                    except BenchError as error:
                        fail(result, error)
        for target, result, server in live:  # one at a time, the others stopped
            if result.error is None:
                rate = statistics.median(r.rps for r in result.runs["Get Chat Labels"][16])
                try:
                    result.long_run = long_run(target, server.pid, args, rate)
                except BenchError as error:
                    fail(result, error)
            server.stop()
    overhead = [] if args.no_plugin else plugin_overhead.measure(args.plugin_tests)
    machine["loadavg_end"] = report.loadavg()
    report.print_all(machine, results, args)
    if overhead:
        print()
        plugin_overhead.report(overhead)
    if args.json:
        document = {
            "machine": machine,
            "targets": [asdict(r) for r in results],
            "plugin_overhead": plugin_overhead.as_json(overhead),
        }
        Path(args.json).write_text(json.dumps(document, indent=2))
    return 1 if any(r.error for r in results) else 0


if __name__ == "__main__":
    sys.exit(main())
