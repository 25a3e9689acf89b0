"""The servers the bench compares, each serving the same answer to the same request.

- ``chatlabels serve`` as a user runs it (default settings: access log on, journal on,
  auth checked), plus any configuration given with ``--serve-args``;
- WireMock, the peer issue 9 names, with one stub for the same request and body, twice:
  as users start it (its defaults: it journals every request, as chatlabels does by
  default), and with the flags that make it fastest (no journal, no request log; see
  /work/notes/bench-peers.md), WireMock at its best, doing less than chatlabels;
- the Python ceiling (fixed_wsgi.py): a WSGI callable answering the same body on
  chatlabels' own granian server, doing nothing else: what any Python app could reach on it;
- nginx answering the same body from its config: not a mock, the ceiling that wrk can
  reach on this machine, so the distance to it is visible.
"""

from __future__ import annotations

import json
import re
import shlex
import shutil
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

from harness import Probe

#: Get Chat Labels in the provider's dialect: three labels for this chat in the default
#: fixture, the request copied from the provider's docs.
CHAT_PATH = "/v2/labels/chats/5511988887777@c.us"
AUTH_QUERY = "instance_id=123456789&access_token=123456789"
#: The body ``chatlabels serve`` answers to GET_LABELS (checked at run time), which the
#: WireMock stub and nginx serve byte for byte.
BODY = (
    '[{"id":"3","name":"VIP","color":2,"colorHex":"#ffd429"},'
    '{"id":"4","name":"Pending Payment","color":3,"colorHex":"#dfaef0"},'
    '{"id":"6","name":"Assigned to Alice","color":5,"colorHex":"#55ccb3"}]\n'
)
GET_LABELS = Probe(f"{CHAT_PATH}?{AUTH_QUERY}")
#: The other requests issue 9 sets goals for, sent to chatlabels only (a stub has no
#: second dialect, and answers a wrong token with its own 404).
CHATLABELS_PROBES = {
    "Get Chat Labels": GET_LABELS,
    "WAHA chat labels": Probe(
        "/api/default/labels/chats/5511988887777@c.us", ("X-Api-Key: 123456789",)
    ),
    "401 wrong token": Probe(f"{CHAT_PATH}?instance_id=123456789&access_token=wrong", (), 401),
}


@dataclass(frozen=True)
class Target:
    """A server to launch: its name in the report, command, probes and warm-up."""

    name: str
    command: list[str]
    port: int
    probes: dict[str, Probe] = field(default_factory=lambda: {"Get Chat Labels": GET_LABELS})
    warmup_seconds: int = 2
    kind: str = "chatlabels"
    cwd: Path | None = None

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"


def has_server_option(server: str) -> bool:
    """Whether ``chatlabels serve --help`` lists ``--server`` with ``server`` among its
    choices (issue 9's new option; older versions have no such option)."""
    command = [sys.executable, "-m", "chatlabels", "serve", "--help"]
    text = subprocess.run(command, capture_output=True, text=True, timeout=60).stdout
    # The option's entry: from "  --server" to the next line that starts another option.
    entry = re.search(r"^\s+--server\b.*?(?=^\s+-|\Z)", text, re.MULTILINE | re.DOTALL)
    return entry is not None and re.search(rf"\b{re.escape(server)}\b", entry.group()) is not None


def chatlabels(port: int, serve_args: str = "") -> Target:
    """``python -m chatlabels serve`` with the bundled default fixture, plus ``serve_args``."""
    extra = shlex.split(serve_args)
    name = " ".join(["chatlabels serve", *extra])
    command = [sys.executable, "-m", "chatlabels", "serve", "--port", str(port), *extra]
    return Target(name, command, port, probes=dict(CHATLABELS_PROBES))


#: WireMock's flags for its fastest answers (/work/notes/bench-peers.md): no request journal,
#: no request log, responses written on their own pool, thread pools sized for 2 cores.
WIREMOCK_FASTEST = (
    "--no-request-journal", "--disable-request-logging",
    "--async-response-enabled", "true", "--async-response-threads", "4",
    "--container-threads", "16", "--jetty-acceptor-threads", "1",
    "--disable-gzip", "--disable-extensions-scanning", "--disable-response-templating",
)  # fmt: skip


def wiremock(jar: Path, port: int, workdir: Path, warmup_seconds: int, *, fastest: bool) -> Target:
    """WireMock with the stub as a mapping file, so its cold start ends at a real 200;
    ``fastest``: with WIREMOCK_FASTEST and a fixed heap, else as users start it (no flags,
    the JVM's own heap size: a request journal that keeps every request, as WireMock's
    defaults do)."""
    root = workdir / f"wiremock-{port}"
    mappings = root / "mappings"
    mappings.mkdir(parents=True)
    stub = {
        "request": {
            "method": "GET",
            "urlPath": CHAT_PATH,
            "queryParameters": {
                "instance_id": {"equalTo": "123456789"},
                "access_token": {"equalTo": "123456789"},
            },
        },
        "response": {
            "status": 200,
            "headers": {"Content-Type": "application/json"},
            "body": BODY,
        },
    }
    (mappings / "labels.json").write_text(json.dumps(stub))
    heap = ["-Xms256m", "-Xmx512m"] if fastest else []
    command = [
        "java", *heap, "-jar", str(jar),
        "--bind-address", "127.0.0.1", "--port", str(port), "--root-dir", str(root),
        "--disable-banner", *(WIREMOCK_FASTEST if fastest else ()),
    ]  # fmt: skip
    version = jar.stem.rsplit("-", 1)[-1]
    variant = "fastest flags, no journal" if fastest else "defaults"
    name = f"WireMock {version} ({variant})"
    return Target(name, command, port, warmup_seconds=warmup_seconds, kind="wiremock")


def python_ceiling(port: int) -> Target:
    """``bench/fixed_wsgi.py``: the fastest a Python app answers on chatlabels' server."""
    command = [sys.executable, str(Path(__file__).with_name("fixed_wsgi.py")), str(port)]
    name = "fixed-body WSGI callable, same server"
    return Target(name, command, port, kind="python-ceiling")


NGINX_CONF = """\
daemon off;
master_process on;
worker_processes 1;
pid {dir}/nginx.pid;
error_log {dir}/error.log warn;
events {{ worker_connections 1024; }}
http {{
    access_log off;
    client_body_temp_path {dir}/tmp;
    proxy_temp_path {dir}/tmp;
    fastcgi_temp_path {dir}/tmp;
    uwsgi_temp_path {dir}/tmp;
    scgi_temp_path {dir}/tmp;
    keepalive_requests 10000000;
    server {{
        listen 127.0.0.1:{port};
        location / {{
            default_type application/json;
            return 200 '{body}';
        }}
    }}
}}
"""


def nginx(binary: str, port: int, workdir: Path) -> Target:
    """nginx in the foreground, one worker, no access log, config and temp files in
    ``workdir`` (nothing under /etc or /var), answering BODY to any GET."""
    home = workdir / "nginx"
    (home / "tmp").mkdir(parents=True)
    conf = home / "nginx.conf"
    # nginx reads \\n in a quoted string as a newline.
    body = BODY.replace("\n", "\\n")
    conf.write_text(NGINX_CONF.format(dir=home, port=port, body=body))
    # -e: the error log before the config is read would be /var/log/nginx/error.log.
    command = [binary, "-p", str(home), "-c", str(conf), "-e", str(home / "error.log")]
    return Target(f"nginx {nginx_version(binary)} (fixed body)", command, port, kind="nginx")


def nginx_version(binary: str) -> str:
    out = subprocess.run([binary, "-v"], capture_output=True, text=True, timeout=10).stderr
    match = re.search(r"nginx/([\w.]+)", out)
    return match.group(1) if match else "?"


def find_wiremock_jar(explicit: str | None) -> Path | None:
    """The WireMock standalone jar: given, else from the npm package ``wiremock`` in
    bench/.cache (fetched once when npm is available)."""
    if explicit:
        return Path(explicit)
    cache = Path(__file__).resolve().parent / ".cache"
    pattern = "node_modules/wiremock/build/wiremock-standalone-*.jar"
    jars = sorted(cache.glob(pattern))
    if not jars and shutil.which("npm") and shutil.which("java"):
        cache.mkdir(exist_ok=True)
        subprocess.run(
            ["npm", "install", "--prefix", str(cache), "--silent", "wiremock@3"],
            check=False,
            capture_output=True,
            timeout=600,
        )
        jars = sorted(cache.glob(pattern))
    return jars[-1] if jars else None
