"""Redaction by value (issue 12): a known secret never leaves the mock, whatever carries it.

Over a real socket to a running mock, requests hide a secret of the loaded fixture (a
token, a WAHA key) or the admin token in a query value or name (``&`` or ``;``), a header
(``Authorization: Bearer``, ``Cookie``...), a path segment, a JSON body, a fixture sent to a
mistyped path or a control API body, glued to other text or not, spelled raw,
percent-encoded or JSON-escaped. Neither the log (text and JSON), nor the journal, nor an
error answer, nor a control API answer may hold it, in any of those spellings.
"""

from __future__ import annotations

import copy
import http.client
import io
import json
import logging
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote, quote_plus

import flask
import pytest
from hypothesis import given, note
from hypothesis import strategies as st

from chatlabels.contract.fixtures import parse_fixture
from chatlabels.contract.value_redaction import MIN_EMBEDDED_SECRET_CHARS
from chatlabels.mock.app import create_app
from chatlabels.mock.http.logs import JsonFormatter, TextFormatter
from chatlabels.mock.serving.server import MockServer, WaitressThread
from chatlabels.mock.state.store import Store
from tests.conftest import default_fixture_data

ADMIN_TOKEN = "adminZq7-k3y!"
CHAT = "/v2/labels/chats/5511988887777%40c.us"
PROVIDER = "instance_id=123456789"


def spellings(secret: str) -> set[str]:
    """The secret as a log, a journal or an answer could spell it."""
    forms = {secret, quote_plus(secret), json.dumps(secret)[1:-1]}
    forms.add(json.dumps(secret, ensure_ascii=False)[1:-1])
    for safe in ("", "/", "/@:+,;=-._~!$&'()*", "/@:+,;-._~!$'()*"):
        encoded = quote(secret, safe=safe)
        forms |= {encoded, _lower_hex(encoded)}
    return forms


def _lower_hex(encoded: str) -> str:
    parts = encoded.split("%")
    return parts[0] + "".join("%" + p[:2].lower() + p[2:] for p in parts[1:])


@dataclass
class Seen:
    """Everything the mock let out: log lines in both formats and the bodies it answered."""

    text_log: io.StringIO = field(default_factory=io.StringIO)
    json_log: io.StringIO = field(default_factory=io.StringIO)
    bodies: list[str] = field(default_factory=list)

    def clear(self) -> None:
        for stream in (self.text_log, self.json_log):
            stream.seek(0)
            stream.truncate()
        self.bodies.clear()

    def leaks(self, secret: str) -> list[str]:
        outputs = {"text log": self.text_log.getvalue(), "json log": self.json_log.getvalue()}
        outputs.update({f"answer {i}": body for i, body in enumerate(self.bodies)})
        return [
            f"{where}: {form!r}"
            for where, text in outputs.items()
            for form in spellings(secret)
            if form in text
        ]


@pytest.fixture(scope="module")
def seen() -> Iterator[Seen]:
    """Both log formats captured from the chatlabels loggers, debug lines included."""
    found = Seen()
    logger = logging.getLogger("chatlabels")
    handlers = []
    for stream, formatter in ((found.text_log, TextFormatter()), (found.json_log, JsonFormatter())):
        handler = logging.StreamHandler(stream)
        handler.setFormatter(formatter)
        handlers.append(handler)
        logger.addHandler(handler)
    level = logger.level
    logger.setLevel(logging.DEBUG)
    yield found
    for handler in handlers:
        logger.removeHandler(handler)
    logger.setLevel(level)


@pytest.fixture(scope="module")
def server() -> Iterator[MockServer]:
    mock = MockServer(parse_fixture(default_fixture_data()), port=0, admin_token=ADMIN_TOKEN)
    mock.start()
    yield mock
    mock.stop()


def send(
    server: MockServer | WaitressThread,
    seen: Seen,
    method: str,
    target: str,
    *,
    headers: dict[str, str] | None = None,
    body: str | None = None,
) -> tuple[int, str]:
    """One request as given (the target is not re-encoded); its answer is kept in ``seen``."""
    connection = http.client.HTTPConnection(server.host, server.port, timeout=10)
    try:
        connection.putrequest(method, target, skip_accept_encoding=True)
        for name, value in (headers or {}).items():
            connection.putheader(name, value.encode("latin-1"))
        data = body.encode() if body is not None else None
        if data is not None:
            connection.putheader("Content-Type", "application/json")
            connection.putheader("Content-Length", str(len(data)))
        connection.endheaders(data)
        response = connection.getresponse()
        text = response.read().decode("utf-8", "replace")
    finally:
        connection.close()
    seen.bodies.append(text)
    return response.status, text


def admin(server: MockServer, seen: Seen, method: str, path: str, body: Any = None) -> str:
    status, text = send(
        server,
        seen,
        method,
        f"/__admin{path}",
        headers={"X-Admin-Token": ADMIN_TOKEN},
        body=None if body is None else json.dumps(body),
    )
    assert status < 500, text
    return text


def fixture_with(token: str, api_key: str) -> dict[str, Any]:
    fixture = default_fixture_data()
    fixture["instances"][1].update(token=token, api_key=api_key)
    return fixture


def observe(server: MockServer, seen: Seen) -> None:
    """Read back what the control API shows: the journal, the dump, the rules, the log."""
    for path in ("/requests", "/fixture", "/faults", "/webhooks", "/health"):
        admin(server, seen, "GET", path)


# -- explicit examples: each row of the issue ---------------------------------------------

SECRET = "s3cr3t-T0ken.x"
KEY = "waha/K3y é+1"


@pytest.fixture
def loaded(server: MockServer, seen: Seen) -> MockServer:
    admin(server, seen, "POST", "/fixture", fixture_with(SECRET, KEY))
    admin(server, seen, "DELETE", "/requests")
    seen.clear()
    return server


def assert_kept_in(seen: Seen, *secrets: str) -> None:
    for secret in secrets:
        assert seen.leaks(secret) == [], secret
    assert "[redacted]" in seen.text_log.getvalue() + "".join(seen.bodies)


def test_a_secret_spelled_in_another_case_is_redacted(
    start_server: Callable[..., MockServer], seen: Seen
) -> None:
    """granian upper-cases a request's method and the journal title-cases header names: a
    secret sent as a method or a header name comes out in another case, still redacted."""
    mock = start_server(fixture_with(SECRET, KEY), server="granian", admin_token=ADMIN_TOKEN)
    seen.clear()
    status, _ = send(mock, seen, SECRET, "/v2/labels")
    assert status == 405
    send(mock, seen, "GET", f"{CHAT}?{PROVIDER}", headers={SECRET: "v"})
    observe(mock, seen)
    for spelled in (SECRET, SECRET.upper(), SECRET.title()):
        assert seen.leaks(spelled) == [], spelled
    assert "[redacted]" in "".join(seen.bodies)


@pytest.mark.parametrize(
    "target",
    [
        f"{CHAT}?{PROVIDER}&accessToken={SECRET}",
        f"{CHAT}?{PROVIDER};access_token={SECRET}",
        f"{CHAT}?{PROVIDER}&note=xx{SECRET}yy",
        f"{CHAT}?{PROVIDER}&note=xx{quote(SECRET, safe='')}yy&n2={quote(KEY)}",
        f"{CHAT}?{PROVIDER}&{SECRET}=1",
        f"/v2/labels/chats/{SECRET}?{PROVIDER}",
        f"/api/{quote(KEY, safe='')}/labels",
        # refused by the HTTP server itself (over --max-query-params), logged there
        f"/v2/{SECRET}?" + "&".join(f"p{i}=1" for i in range(150)),
    ],
)
def test_a_secret_anywhere_in_the_request_line_is_redacted(
    loaded: MockServer, seen: Seen, target: str
) -> None:
    send(loaded, seen, "GET", target)
    observe(loaded, seen)
    assert_kept_in(seen, SECRET, KEY)


@pytest.mark.parametrize(
    "headers",
    [
        {"Authorization": f"Bearer {SECRET}"},
        {"X-Note": f"xx{SECRET}yy", "Cookie": f"s={SECRET}"},
        {"X-Note": ADMIN_TOKEN},  # the admin token, on a request that is not to /__admin/
        {"X-Api-Key": quote(KEY)},
    ],
)
def test_a_secret_in_a_header_is_redacted(
    loaded: MockServer, seen: Seen, headers: dict[str, str]
) -> None:
    send(loaded, seen, "GET", f"{CHAT}?{PROVIDER}&access_token=123456789", headers=headers)
    observe(loaded, seen)
    assert_kept_in(seen, SECRET, KEY, ADMIN_TOKEN)


@pytest.mark.parametrize("path", ["/v2/fixture", "/admin/fixture", "/__admin/fixtures"])
def test_a_fixture_posted_to_a_mistyped_path_is_journaled_redacted(
    loaded: MockServer, seen: Seen, path: str
) -> None:
    body = json.dumps(fixture_with(SECRET, KEY))
    status, _ = send(loaded, seen, "POST", path, headers={"X-Admin-Token": ADMIN_TOKEN}, body=body)
    assert status in {404, 405}
    observe(loaded, seen)
    assert_kept_in(seen, SECRET, KEY, ADMIN_TOKEN)
    journal = json.loads(seen.bodies[1])["requests"]
    if path.startswith("/v2/"):  # journaled: the body is there, its secrets are not
        assert '"token": "[redacted]"' in journal[-1]["body"]


def test_the_dump_and_422_answers_echo_no_secret(loaded: MockServer, seen: Seen) -> None:
    fixture = fixture_with(SECRET, KEY)
    fixture["instances"][1]["webhooks"] = [{"url": f"http://127.0.0.1:9/hook?t={SECRET}"}]
    admin(loaded, seen, "POST", "/fixture", fixture)
    bad = copy.deepcopy(fixture)
    bad["instances"][1]["labels"] = [{"id": "1", "name": "x", "color": SECRET}]  # quoted
    bad["instances"][0]["token"] = "n3w-" + "t" * 300  # a too-long secret: quoted
    answer = json.loads(admin(loaded, seen, "POST", "/fixture", bad))
    assert answer["status"] == 422 and len(answer["problems"]) == 2
    rule = {"match": {"path": f"/v2/{SECRET}"}, "status": 503}
    admin(loaded, seen, "POST", "/faults", rule)
    admin(loaded, seen, "PUT", "/instances/sales/rate-limit", {"requests": KEY})
    observe(loaded, seen)
    assert_kept_in(seen, SECRET, KEY, "n3w-" + "t" * 300)
    dump = json.loads(seen.bodies[-4])
    assert dump["instances"][1]["webhooks"][0]["url"].endswith("?t=[redacted]")
    shown = admin(loaded, seen, "GET", "/fixture?secrets=true")  # the one way to see them
    assert SECRET in shown


def test_a_traceback_quoting_a_secret_is_redacted(seen: Seen) -> None:
    """An unexpected failure whose message quotes what the client sent: the 500's log line
    carries the traceback, in both formats, with the secret taken out."""
    app = create_app(Store(parse_fixture(fixture_with(SECRET, KEY))))

    @app.get("/boom")
    def boom() -> str:
        raise RuntimeError(f"a bug with {flask.request.args['x']}")

    server = WaitressThread(app)
    server.start()
    try:
        seen.clear()
        status, _ = send(server, seen, "GET", f"/boom?x=xx{SECRET}yy")  # type: ignore[arg-type]
    finally:
        server.stop()
    assert status == 500
    assert "RuntimeError: a bug with xx[redacted]yy" in seen.text_log.getvalue()
    assert "RuntimeError: a bug with xx[redacted]yy" in seen.json_log.getvalue()
    assert seen.leaks(SECRET) == []


def test_a_short_secret_is_redacted_only_where_it_stands_alone(
    server: MockServer, seen: Seen
) -> None:
    short = "t1"
    assert len(short) < MIN_EMBEDDED_SECRET_CHARS
    admin(server, seen, "POST", "/fixture", fixture_with(short, "zz9"))
    seen.clear()
    send(server, seen, "GET", f"{CHAT}?{PROVIDER}&note=t1&other=at1b&kind=text/html")
    journal = json.loads(admin(server, seen, "GET", "/requests"))["requests"]
    assert journal[-1]["query"] == {
        "instance_id": ["123456789"],
        "note": ["[redacted]"],
        "other": ["at1b"],
        "kind": ["text/html"],
    }
    assert "note=[redacted]&other=at1b&kind=text/html " in seen.text_log.getvalue()


def test_a_secret_equal_to_its_instance_id_stays_readable(server: MockServer, seen: Seen) -> None:
    """The default fixture's token is its instance id (the provider docs' placeholder): the
    id is public, so only the name redacts it."""
    admin(server, seen, "POST", "/fixture", default_fixture_data())
    seen.clear()
    send(server, seen, "GET", f"{CHAT}?{PROVIDER}&access_token=123456789&note=123456789")
    line = seen.text_log.getvalue()
    assert "?instance_id=123456789&access_token=[redacted]&note=123456789 200" in line


# -- the property -------------------------------------------------------------------------

_URL_PLAIN = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-._~")

secret_texts = st.builds(
    lambda tail: "zQ" + tail,
    st.text(
        st.characters(min_codepoint=0x21, max_codepoint=0x7E) | st.sampled_from(" é€"),
        min_size=MIN_EMBEDDED_SECRET_CHARS - 2,
        max_size=20,
    ).filter(lambda t: t == t.strip()),
)
glue = st.text(st.sampled_from("abXY09-_ "), max_size=3)


@st.composite
def url_encoded(draw: st.DrawFn, text: str) -> str:
    """``text`` percent-encoded for a URL, each character its own way: plain where that is
    safe, ``%XX`` or ``%xx`` otherwise (and sometimes for a plain one too)."""
    out = []
    for char in text:
        if char in _URL_PLAIN and draw(st.booleans()):
            out.append(char)
            continue
        encoded = quote(char, safe="")
        encoded = encoded if encoded != char else "".join(f"%{b:02X}" for b in char.encode())
        out.append(_lower_hex(encoded) if draw(st.booleans()) else encoded)
    return "".join(out)


def _header_value(value: str) -> str:
    try:
        value.encode("latin-1")
    except UnicodeEncodeError:
        return quote(value)
    return value


Request = tuple[str, str, dict[str, str], str | None]


@st.composite
def hiding_requests(draw: st.DrawFn, secret: str) -> Request:
    """A request with ``secret`` (glued to other text or not) somewhere in it."""
    value = draw(glue) + secret + draw(glue)
    where = draw(
        st.sampled_from(
            ["query value", "query name", "header", "path", "json body", "mistyped", "control"]
        )
    )
    note(f"hidden in: {where}")
    encoded = draw(url_encoded(value))
    sep = draw(st.sampled_from(["&", ";"]))
    admin_header = {"X-Admin-Token": ADMIN_TOKEN}
    if where == "query value":
        name = draw(st.sampled_from(["access_token", "accessToken", "token", "note", "chatId"]))
        return "GET", f"{CHAT}?{PROVIDER}{sep}{name}={encoded}", {}, None
    if where == "query name":
        return "GET", f"{CHAT}?{PROVIDER}{sep}{encoded}=1", {}, None
    if where == "header":
        name = draw(st.sampled_from(["Authorization", "Cookie", "X-Api-Key", "X-Note", "Accept"]))
        shaped = draw(st.sampled_from(["{}", "Bearer {}", "s={}; o=1"])).format(value)
        return "GET", f"{CHAT}?{PROVIDER}", {name: _header_value(shaped)}, None
    if where == "path":
        shape = draw(st.sampled_from(["/v2/labels/chats/{}", "/api/{}/labels", "/v2/{}/x"]))
        return "GET", shape.format(encoded) + f"?{PROVIDER}", {}, None
    body = json.dumps({"name": value}, ensure_ascii=draw(st.booleans()))
    if where == "json body":
        path = draw(st.sampled_from(["/v2/labels", "/api/default/labels", "/v2/labels/1"]))
        return draw(st.sampled_from(["POST", "PUT"])), f"{path}?{PROVIDER}", {}, body
    if where == "mistyped":
        fixture = json.dumps(fixture_with(secret, secret + "-k"))
        path = draw(st.sampled_from(["/v2/fixture", "/admin/fixture", "/__admin/fixtures"]))
        return "POST", path, admin_header, fixture
    document = draw(
        st.sampled_from(
            [
                ("/__admin/faults", {"match": {"path": value}, "status": 503}),
                ("/__admin/faults", {"match": {"path": 1}, "status": value}),
                ("/__admin/instances/sales/rate-limit", {"requests": value}),
                ("/__admin/fixture", {"instances": [{"id": "1", "token": "t", "x": value}]}),
            ]
        )
    )
    method = "PUT" if "rate-limit" in document[0] else "POST"
    return method, document[0], admin_header, json.dumps(document[1])


@given(data=st.data(), token=secret_texts, key=secret_texts)
def test_a_known_secret_hidden_anywhere_never_comes_out(
    server: MockServer, seen: Seen, data: st.DataObject, token: str, key: str
) -> None:
    """Property: with a fixture whose secrets are ``token`` and ``key`` loaded, and the admin
    token set, requests hiding any of them anywhere leave no spelling of any of them in the
    text or JSON log, the journal, an answer or a dump."""
    admin(server, seen, "POST", "/fixture", fixture_with(token, key))
    admin(server, seen, "DELETE", "/requests")
    seen.clear()
    secrets = [token, key, ADMIN_TOKEN]
    hidden: Callable[[str], st.SearchStrategy[Request]] = hiding_requests
    for _ in range(data.draw(st.integers(1, 3))):
        method, target, headers, body = data.draw(hidden(data.draw(st.sampled_from(secrets))))
        note(f"{method} {target} {headers} {body}")
        send(server, seen, method, target, headers=headers, body=body)
    observe(server, seen)
    for secret in secrets:
        assert seen.leaks(secret) == []
