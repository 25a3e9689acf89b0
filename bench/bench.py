"""Benchmark Get Chat Labels on ``chatlabels serve`` against a minimal Flask app under the
same server and, when available, WireMock serving the same stub.

Measures, per target: cold start to the first 200, req/s with p50 and p99 at 1 and 16
concurrent clients (wrk), and resident memory before and after a long run. Prints a table
and the ratios. See bench/README.md for how to run it and the last figures.
"""

from __future__ import annotations

import argparse
import json
import re
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

from minimal_app import BODY

HERE = Path(__file__).resolve().parent
PATH = "/v2/labels/chats/5511988887777@c.us?instance_id=123456789&access_token=123456789"
#: The other hot reads of the issue, measured on ``chatlabels serve`` only: (path, headers).
OTHER_PATHS = {
    "WAHA chat labels": ("/api/default/labels/chats/5511988887777@c.us", ["X-Api-Key: 123456789"]),
    "provider 401": (PATH.replace("access_token=123456789", "access_token=wrong"), []),
}


@dataclass
class Result:
    name: str
    cold_start_s: float = 0.0
    runs: dict[int, dict[str, float]] = field(default_factory=dict)
    rss_mib: list[float] = field(default_factory=list)
    others: dict[str, dict[int, dict[str, float]]] = field(default_factory=dict)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for_200(url: str, deadline: float) -> None:
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=1) as response:
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.005)
    raise TimeoutError(f"no 200 from {url}")


def rss_mib(pid: int) -> float:
    """Resident memory of a process and its children (WireMock's JVM, granian workers)."""
    pids = [
        pid,
        *map(
            int,
            subprocess.run(
                ["pgrep", "-P", str(pid)], capture_output=True, text=True
            ).stdout.split(),
        ),
    ]
    total_kib = 0
    for p in pids:
        status = Path(f"/proc/{p}/status")
        if status.exists():
            match = re.search(r"VmRSS:\s+(\d+) kB", status.read_text())
            total_kib += int(match.group(1)) if match else 0
    return total_kib / 1024


def wrk(
    url: str, connections: int, seconds: int, headers: list[str] | None = None
) -> dict[str, float]:
    threads = min(connections, 2)
    header_args = [arg for header in headers or [] for arg in ("-H", header)]
    out = subprocess.run(
        [
            "wrk",
            f"-t{threads}",
            f"-c{connections}",
            f"-d{seconds}s",
            "--latency",
            *header_args,
            url,
        ],
        capture_output=True,
        text=True,
        check=True,
    ).stdout

    def latency_ms(label: str) -> float:
        value, unit = re.search(rf"{label}%\s+([\d.]+)(us|ms|s)", out).groups()
        return float(value) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit]

    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    return {
        "rps": float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1)),
        "p50_ms": latency_ms("50"),
        "p99_ms": latency_ms("99"),
        "non_2xx": float(errors.group(1)) if errors else 0.0,
    }


def measure(
    name: str,
    command: list[str],
    port: int,
    args: argparse.Namespace,
    *,
    setup=None,
    others: dict[str, tuple[str, list[str]]] | None = None,
    warmup_seconds: int = 2,
) -> Result:
    result = Result(name)
    url = f"http://127.0.0.1:{port}{PATH}"
    started = time.monotonic()
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        if setup is not None:
            setup(port, started + 60)
        wait_for_200(url, started + 60)
        result.cold_start_s = time.monotonic() - started
        wrk(url, 16, warmup_seconds)  # warm-up (a JVM needs about a minute)
        result.rss_mib.append(rss_mib(process.pid))
        for connections in (1, 16):
            result.runs[connections] = wrk(url, connections, args.seconds)
        for other, (path, headers) in (others or {}).items():
            other_url = f"http://127.0.0.1:{port}{path}"
            result.others[other] = {c: wrk(other_url, c, args.seconds, headers) for c in (1, 16)}
        wrk(url, 16, args.long_seconds)
        result.rss_mib.append(rss_mib(process.pid))
    finally:
        process.terminate()
        process.wait(timeout=30)
    return result


def wiremock_setup(port: int, deadline: float) -> None:
    """Register WireMock's stub for the same request and body, once it is up."""
    mapping = {
        "request": {"method": "GET", "urlPath": PATH.split("?")[0]},
        "response": {
            "status": 200,
            "headers": {"Content-Type": "application/json"},
            "body": BODY,
        },
    }
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}/__admin/mappings",
        data=json.dumps(mapping).encode(),
        headers={"Content-Type": "application/json"},
        method="POST",
    )
    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen(request, timeout=1).close()
            return
        except OSError:
            time.sleep(0.02)
    raise TimeoutError("WireMock did not accept the stub")


def find_wiremock_jar(explicit: str | None) -> Path | None:
    """The WireMock standalone jar: given, or from the npm package ``wiremock`` (fetched
    into bench/.cache when npm is available)."""
    if explicit:
        return Path(explicit)
    cache = HERE / ".cache"
    jars = sorted(cache.glob("node_modules/wiremock/build/wiremock-standalone-*.jar"))
    if not jars and shutil.which("npm") and shutil.which("java"):
        cache.mkdir(exist_ok=True)
        subprocess.run(
            ["npm", "install", "--prefix", str(cache), "--silent", "wiremock@3"],
            check=False,
            capture_output=True,
        )
        jars = sorted(cache.glob("node_modules/wiremock/build/wiremock-standalone-*.jar"))
    return jars[-1] if jars else None


def report(results: list[Result]) -> None:
    print(
        f"{'target':<22}{'cold s':>8}{'c1 rps':>9}{'c1 p50':>8}{'c1 p99':>8}"
        f"{'c16 rps':>9}{'c16 p50':>9}{'c16 p99':>9}{'RSS MiB':>16}"
    )
    for r in results:
        c1, c16 = r.runs[1], r.runs[16]
        print(
            f"{r.name:<22}{r.cold_start_s:>8.2f}{c1['rps']:>9.0f}{c1['p50_ms']:>8.2f}"
            f"{c1['p99_ms']:>8.2f}{c16['rps']:>9.0f}{c16['p50_ms']:>9.2f}{c16['p99_ms']:>9.2f}"
            f"{r.rss_mib[0]:>7.1f} -> {r.rss_mib[1]:.1f}"
        )
    ours = results[0]
    for other in results[1:]:
        ratios = ", ".join(
            f"c{c} {ours.runs[c]['rps'] / other.runs[c]['rps']:.2f}x" for c in (1, 16)
        )
        print(
            f"chatlabels / {other.name}: throughput {ratios}; "
            f"cold start {ours.cold_start_s / other.cold_start_s:.2f}x; "
            f"RSS after run {ours.rss_mib[1] / other.rss_mib[1]:.2f}x"
        )
    for r in results:
        for other, runs in r.others.items():
            c1, c16 = runs[1], runs[16]
            print(
                f"{r.name}, {other}: c1 {c1['rps']:.0f} req/s (p99 {c1['p99_ms']:.2f} ms), c16 "
                f"{c16['rps']:.0f} req/s (p50 {c16['p50_ms']:.2f} ms, p99 {c16['p99_ms']:.2f} ms)"
            )
    for r in results:
        if any(run["non_2xx"] for run in r.runs.values()):
            print(f"WARNING: {r.name} answered non-2xx responses during the run")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=int, default=10, help="length of each wrk run")
    parser.add_argument(
        "--long-seconds", type=int, default=60, help="the long run before the last RSS reading"
    )
    parser.add_argument("--threads", type=int, default=8, help="server threads for the minimal app")
    parser.add_argument(
        "--wiremock-jar", help="WireMock standalone jar (default: fetched with npm)"
    )
    parser.add_argument("--no-wiremock", action="store_true")
    parser.add_argument(
        "--wiremock-warmup", type=int, default=60, help="seconds of load before measuring it"
    )
    parser.add_argument("--json", help="also write the figures to this file")
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        print("bench: needs wrk (Debian: apt-get install wrk)", file=sys.stderr)
        return 2
    chatlabels = shutil.which("chatlabels") or sys.exit("bench: run `pip install -e .` first")
    results = []
    port = free_port()
    results.append(
        measure(
            "chatlabels serve",
            [chatlabels, "serve", "--port", str(port)],
            port,
            args,
            others=OTHER_PATHS,
        )
    )
    port = free_port()
    results.append(
        measure(
            "minimal Flask app",
            [sys.executable, str(HERE / "minimal_app.py"), str(port), str(args.threads)],
            port,
            args,
        )
    )
    jar = None if args.no_wiremock else find_wiremock_jar(args.wiremock_jar)
    if jar is not None:
        port = free_port()
        results.append(
            measure(
                "WireMock " + jar.stem.rsplit("-", 1)[-1],
                # WireMock at its fastest (bench-peers notes): no journal, no request log.
                [
                    "java",
                    "-jar",
                    str(jar),
                    "--port",
                    str(port),
                    "--disable-banner",
                    "--no-request-journal",
                    "--disable-request-logging",
                    "--async-response-enabled",
                    "true",
                    "--container-threads",
                    "16",
                ],
                port,
                args,
                setup=wiremock_setup,
                warmup_seconds=args.wiremock_warmup,
            )
        )
    else:
        print("bench: WireMock skipped (no jar, java or npm)", file=sys.stderr)
    report(results)
    if args.json:
        Path(args.json).write_text(json.dumps([r.__dict__ for r in results], indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
