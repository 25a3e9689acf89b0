"""What one test costs with the ``chatlabels_mock`` fixture, next to pytest-httpserver.

Issue 9 asks for the pytest plugin's per-test overhead (state reset plus one request)
against pytest-httpserver doing the same (a handler registered plus one request). Both
keep one server per session and reset it per test, so the fair measure is the wall time of
each test's whole protocol (setup, call, teardown) in a real pytest run: this writes N
generated tests per variant into a temporary directory, runs each file in its own pytest
subprocess with a tiny conftest that times every test, and reports the median and mean.
A bare test (no fixture, no request) is measured the same way, as pytest's own floor.

The first test of a file also starts the session's server; the median leaves it out, the
mean does not, and it is printed on its own.

    python bench/plugin_overhead.py [--tests 200]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import textwrap
import time
from dataclasses import asdict, dataclass
from importlib.util import find_spec
from pathlib import Path

#: Every test file starts with this: the same request, client and check for both plugins.
HEADER = """\
import requests

PATH = "/v2/labels/chats/5511988887777@c.us"
AUTH = {"instance_id": "123456789", "access_token": "123456789"}
BODY = (
    '[{"id":"3","name":"VIP","color":2,"colorHex":"#ffd429"},'
    '{"id":"4","name":"Pending Payment","color":3,"colorHex":"#dfaef0"},'
    '{"id":"6","name":"Assigned to Alice","color":5,"colorHex":"#55ccb3"}]'
)
"""

#: One test per variant; ``{i}`` numbers the copies.
VARIANTS = {
    "bare test (pytest's floor)": """
        def test_{i}():
            assert True
        """,
    "chatlabels_mock (reset + 1 request)": """
        def test_{i}(chatlabels_mock):
            answer = requests.get(chatlabels_mock.base_url + PATH, params=AUTH, timeout=5)
            assert answer.status_code == 200 and len(answer.json()) == 3
        """,
    "pytest-httpserver (handler + 1 request)": """
        def test_{i}(httpserver):
            httpserver.expect_request(PATH, query_string=AUTH).respond_with_data(
                BODY, content_type="application/json"
            )
            answer = requests.get(httpserver.url_for(PATH), params=AUTH, timeout=5)
            assert answer.status_code == 200 and len(answer.json()) == 3
        """,
}

#: Times each test's whole protocol (setup + call + teardown) and writes the list as JSON.
CONFTEST = """\
import json, os, time
import pytest

_times = []

@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_protocol(item, nextitem):
    started = time.perf_counter()
    yield
    _times.append(time.perf_counter() - started)

def pytest_sessionfinish(session):
    with open(os.environ["BENCH_TIMES"], "w") as out:
        json.dump(_times, out)
"""

#: A whole pytest run may take this long before the bench gives up on it.
RUN_TIMEOUT_S = 600


@dataclass(frozen=True)
class Overhead:
    """Per-test wall times of one variant, in milliseconds."""

    variant: str
    tests: int
    median_ms: float
    mean_ms: float
    first_ms: float
    run_s: float


def measure(tests: int = 200) -> list[Overhead]:
    """Run each variant's generated file in a fresh pytest; skip pytest-httpserver when it
    is not installed (it is in the ``bench`` extra: ``pip install -e '.[bench]'``)."""
    results = []
    with tempfile.TemporaryDirectory(prefix="chatlabels-plugin-bench-") as tmp:
        root = Path(tmp)
        (root / "conftest.py").write_text(CONFTEST)
        (root / "pytest.ini").write_text("[pytest]\n")
        for number, (variant, template) in enumerate(VARIANTS.items()):
            if "httpserver" in variant and find_spec("pytest_httpserver") is None:
                print(f"plugin overhead: {variant} skipped (pip install -e '.[bench]')")
                continue
            body = "".join(textwrap.dedent(template).format(i=i) for i in range(tests))
            test_file = root / f"test_variant_{number}.py"
            test_file.write_text(HEADER + body)
            results.append(_run(variant, test_file, root))
    return results


def _run(variant: str, test_file: Path, root: Path) -> Overhead:
    times_file = root / "times.json"
    command = [
        sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
        "-p", "no:randomly", "--rootdir", str(root), "-c", str(root / "pytest.ini"),
        str(test_file),
    ]  # fmt: skip
    started = time.perf_counter()
    run = subprocess.run(
        command,
        cwd=root,
        capture_output=True,
        text=True,
        timeout=RUN_TIMEOUT_S,
        env={**os.environ, "BENCH_TIMES": str(times_file)},
        check=False,
    )
    run_s = time.perf_counter() - started
    if run.returncode != 0:
        raise RuntimeError(f"pytest failed for {variant}:\n{run.stdout[-3000:]}{run.stderr}")
    times = [t * 1000 for t in json.loads(times_file.read_text())]
    return Overhead(
        variant=variant,
        tests=len(times),
        median_ms=statistics.median(times[1:]),
        mean_ms=statistics.fmean(times),
        first_ms=times[0],
        run_s=run_s,
    )


def report(results: list[Overhead]) -> None:
    print(f"{'per test (wall ms)':<42}{'median':>8}{'mean':>8}{'first':>8}{'pytest run s':>14}")
    for r in results:
        print(
            f"{r.variant:<42}{r.median_ms:>8.2f}{r.mean_ms:>8.2f}{r.first_ms:>8.1f}{r.run_s:>14.2f}"
        )


def as_json(results: list[Overhead]) -> list[dict[str, object]]:
    return [asdict(r) for r in results]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tests", type=int, default=200, help="tests per variant")
    report(measure(parser.parse_args().tests))
    return 0


if __name__ == "__main__":
    sys.exit(main())
