"""Tests of reportwatch.http against real HTTP servers on loopback (pytest-httpserver, raw sockets)."""

from __future__ import annotations

import pickle
import re
import socket
import ssl
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from types import SimpleNamespace
from typing import Any

import pytest
import urllib3.exceptions as u3
import urllib3.util.retry
from pytest_httpserver import HTTPServer
from slow_handler import InFlight
from werkzeug import Request, Response

from reportwatch import http
from reportwatch.errors import ConfigError, InputError
from reportwatch.http import (
    Fetcher,
    FetchError,
    HttpSettings,
    describe,
    redirect_refusal,
)
from reportwatch.http_failures import fetch_error

FAST = {"timeout": 2.0, "retries": 3, "backoff": 0.01, "min_interval": 0.0, "max_retry_after": 5.0}
Spec = tuple[int, dict[str, str]]  # status and headers of one scripted response


@pytest.fixture(scope="module")
def _server() -> Iterator[HTTPServer]:
    """A threaded server on 127.0.0.1, so slow handlers never hold up other requests."""
    server = HTTPServer(host="127.0.0.1", threaded=True)
    server.start()
    yield server
    server.clear()
    server.stop()


@pytest.fixture
def server(_server: HTTPServer) -> Iterator[HTTPServer]:
    """The module's server with no handlers and an empty log."""
    _server.clear()
    yield _server
    _server.clear()


@pytest.fixture
def make_fetcher() -> Iterator[Callable[..., Fetcher]]:
    """Return a function making fast-settings Fetchers (overrides as keywords), closed after."""
    made: list[Fetcher] = []

    def make(**overrides: Any) -> Fetcher:
        made.append(Fetcher(HttpSettings(**{**FAST, **overrides})))
        return made[-1]

    yield make
    for fetcher in made:
        fetcher.close()


def scripted(specs: list[Spec], body: bytes = b"<html>ok</html>") -> Callable[[Request], Response]:
    """Return a handler answering with `specs` in order, repeating the last one."""
    remaining = list(specs)

    def handler(request: Request) -> Response:
        status, headers = remaining.pop(0) if len(remaining) > 1 else remaining[0]
        return Response(body if status == 200 else b"", status=status, headers=headers)

    return handler


def wait_for_log(server: HTTPServer, count: int, seconds: float = 3.0) -> None:
    """Wait until the server has logged `count` requests (handlers log when they finish)."""
    deadline = time.monotonic() + seconds
    while len(server.log) < count and time.monotonic() < deadline:
        time.sleep(0.02)


@contextmanager
def raw_server(payload: bytes, accepted: list[int] | None = None) -> Iterator[str]:
    """Serve `payload` verbatim to every connection on loopback, then close it; yield the URL.
    Each connection accepted is counted in `accepted`."""
    listener = socket.create_server(("127.0.0.1", 0))
    listener.settimeout(0.1)
    stop = threading.Event()

    def serve() -> None:
        while not stop.is_set():
            try:
                conn, _ = listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            if accepted is not None:
                accepted.append(1)
            with conn:
                conn.settimeout(2)
                request = b""
                while b"\r\n\r\n" not in request and (chunk := conn.recv(4096)):
                    request += chunk
                conn.sendall(payload)

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{listener.getsockname()[1]}/"
    finally:
        stop.set()
        thread.join(2)
        listener.close()


def test_first_fetch_returns_body_validators_and_media_type(
    server: HTTPServer, make_fetcher: Callable[..., Fetcher]
) -> None:
    headers = {"ETag": '"v1"', "Last-Modified": "Mon, 01 Jan 2024 00:00:00 GMT"}
    server.expect_request("/report").respond_with_data(
        b"<html>report</html>", content_type="text/html; charset=utf-8", headers=headers
    )
    url = server.url_for("/report")

    got = make_fetcher().fetch(url)

    assert got.location == url
    assert got.raw == b"<html>report</html>"
    assert got.media_type == "text/html"
    assert not got.not_modified
    assert got.http == {
        "etag": '"v1"',
        "last_modified": "Mon, 01 Jan 2024 00:00:00 GMT",
        "charset": "utf-8",
        "final_url": url,
        "status": "200",
    }
    assert server.log[0][0].headers["User-Agent"].startswith("reportwatch/")


def test_conditional_fetch_gets_304_then_the_changed_page(
    server: HTTPServer, make_fetcher: Callable[..., Fetcher]
) -> None:
    page = {"etag": '"v1"', "body": b"<html>first</html>"}
    modified = "Mon, 01 Jan 2024 00:00:00 GMT"

    def handler(request: Request) -> Response:
        headers = {"ETag": page["etag"], "Last-Modified": modified}
        if request.headers.get("If-None-Match") == page["etag"]:
            return Response(status=304, headers=headers)
        return Response(page["body"], headers=headers, content_type="text/html")

    server.expect_request("/report").respond_with_handler(handler)
    url = server.url_for("/report")
    fetcher = make_fetcher()

    first = fetcher.fetch(url)
    second = fetcher.fetch(url, first.http)

    assert second.not_modified
    assert second.raw == b""
    assert second.http == {"etag": '"v1"', "last_modified": modified}
    assert server.log[1][0].headers["If-None-Match"] == '"v1"'
    assert server.log[1][0].headers["If-Modified-Since"] == modified

    page.update(etag='"v2"', body=b"<html>second</html>")
    third = fetcher.fetch(url, second.http)

    assert not third.not_modified
    assert third.raw == b"<html>second</html>"
    assert third.http["etag"] == '"v2"'


STATUS_CASES = [
    # responses in order (last repeats), retries, error expected (reason, transient), requests
    # seen, the waits between tries (backoff 0.01: none before the first retry, then 0.02, 0.04)
    pytest.param([(503, {}), (200, {})], 3, None, 2, [], id="503-then-200"),
    pytest.param([(500, {}), (502, {}), (504, {}), (200, {})], 3, None, 4, [0.02, 0.04], id="5xx-then-200"),
    pytest.param([(429, {"Retry-After": "1"}), (200, {})], 3, None, 2, [1], id="429-retry-after"),
    pytest.param([(503, {"Retry-After": "2"}), (200, {})], 3, None, 2, [2], id="503-retry-after"),
    pytest.param([(503, {})], 2, ("HTTP 503 Service Unavailable after 2 retries", True), 3, [0.02], id="503-exhausted"),
    pytest.param([(429, {})], 1, ("HTTP 429 Too Many Requests after 1 retry", True), 2, [], id="429-exhausted"),
    pytest.param([(404, {})], 3, ("HTTP 404 Not Found", False), 1, [], id="404-not-retried"),
    pytest.param([(410, {})], 3, ("HTTP 410 Gone", False), 1, [], id="410-not-retried"),
    pytest.param([(403, {})], 3, ("HTTP 403 Forbidden", False), 1, [], id="403-not-retried"),
]  # fmt: skip


@pytest.fixture
def waits(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    """Return the waits urllib3's Retry asks for between tries (backoff, Retry-After), recorded
    instead of slept: what the fetcher waits is asserted, not how long a test took."""
    asked: list[float] = []
    clock = SimpleNamespace(sleep=asked.append, time=time.time)
    monkeypatch.setattr(urllib3.util.retry, "time", clock)
    return asked


@pytest.mark.parametrize(("specs", "retries", "error", "requests_seen", "waited"), STATUS_CASES)
def test_status_retries(
    server: HTTPServer,
    make_fetcher: Callable[..., Fetcher],
    waits: list[float],
    specs: list[Spec],
    retries: int,
    error: tuple[str, bool] | None,
    requests_seen: int,
    waited: list[float],
) -> None:
    server.expect_request("/report").respond_with_handler(scripted(specs))
    fetcher = make_fetcher(retries=retries)

    if error is None:
        assert fetcher.fetch(server.url_for("/report")).raw == b"<html>ok</html>"
    else:
        with pytest.raises(FetchError, match=f"^{re.escape(error[0])}$") as failure:
            fetcher.fetch(server.url_for("/report"))
        assert failure.value.transient is error[1]

    assert len(server.log) == requests_seen
    assert waits == pytest.approx(waited)


@pytest.mark.parametrize(
    "retry_after",
    ["600", time.strftime("%a, %d %b %Y %H:%M:%S GMT", time.gmtime(time.time() + 3600))],
    ids=["seconds", "http-date"],
)
def test_retry_after_beyond_the_cap_fails_without_waiting(
    server: HTTPServer, make_fetcher: Callable[..., Fetcher], waits: list[float], retry_after: str
) -> None:
    server.expect_request("/report").respond_with_handler(
        scripted([(503, {"Retry-After": retry_after}), (200, {})])
    )

    with pytest.raises(
        FetchError, match=r"server asked to retry after \d+s, more than the 5s limit"
    ) as failure:
        make_fetcher(max_retry_after=5.0).fetch(server.url_for("/report"))

    assert failure.value.transient
    assert waits == []
    assert len(server.log) == 1


def slow_headers(request: Request) -> Response:
    """Answer after 0.6 s."""
    time.sleep(0.6)
    return Response(b"late")


def slow_body(request: Request) -> Response:
    """Answer at once, then stall 0.6 s in the middle of the body."""

    def body() -> Iterator[bytes]:
        yield b"<html>start"
        time.sleep(0.6)
        yield b"end</html>"

    return Response(body(), content_type="text/html")


@pytest.mark.parametrize(
    ("handler", "requests_seen"),
    [(slow_headers, 2), (slow_body, 1)],  # a stall before the headers is retried, in the body not
    ids=["slow-headers", "slow-body"],
)
def test_read_timeout_is_reported(
    server: HTTPServer,
    make_fetcher: Callable[..., Fetcher],
    handler: Callable[[Request], Response],
    requests_seen: int,
) -> None:
    server.expect_request("/slow").respond_with_handler(handler)

    with pytest.raises(FetchError, match=r"^timed out after 0\.2s$") as failure:
        make_fetcher(timeout=0.2, retries=1).fetch(server.url_for("/slow"))

    assert failure.value.transient
    wait_for_log(server, requests_seen)  # let sleeping handlers finish before the next test
    assert len(server.log) == requests_seen


REDIRECT_CASES = [
    pytest.param({"/a": "/b", "/b": "/a"}, "too many redirects", id="loop"),
    pytest.param({"/a": "/a"}, "too many redirects", id="self-loop"),
    pytest.param(
        {"/a": "ftp://example.com/report"},
        "refused redirect to a non-http(s) URL (ftp)",
        id="ftp",
    ),
    pytest.param(
        {"/a": "file:///etc/passwd"}, "refused redirect to a non-http(s) URL (file)", id="file"
    ),
]


@pytest.mark.parametrize(("routes", "error"), REDIRECT_CASES)
def test_refused_redirects(
    server: HTTPServer,
    make_fetcher: Callable[..., Fetcher],
    routes: dict[str, str],
    error: str,
) -> None:
    for path, location in routes.items():
        server.expect_request(path).respond_with_data(b"", 302, headers={"Location": location})

    with pytest.raises(FetchError, match=f"^{re.escape(error)}$") as failure:
        make_fetcher(max_redirects=3).fetch(server.url_for("/a"))

    assert not failure.value.transient


def test_redirect_is_followed_and_final_url_recorded(
    server: HTTPServer, make_fetcher: Callable[..., Fetcher]
) -> None:
    server.expect_request("/old").respond_with_data(b"", 301, headers={"Location": "/new"})
    server.expect_request("/new").respond_with_data(b"moved", content_type="text/plain")

    got = make_fetcher().fetch(server.url_for("/old"))

    assert got.raw == b"moved"
    assert got.location == server.url_for("/old")
    assert got.http["final_url"] == server.url_for("/new")


REFUSAL_CASES = [
    # redirect target, URL asked for, reason (None: followed); no other URL named
    ("http://10.0.0.1/x", "http://93.184.216.34/", "refused redirect to private address 10.0.0.1"),
    ("http://169.254.169.254/", "https://93.184.216.34/", "refused redirect to private address 169.254.169.254"),
    ("http://127.0.0.1:8080/", "http://93.184.216.34/", "refused redirect to private address 127.0.0.1"),
    ("http://[::1]/", "http://93.184.216.34/", "refused redirect to private address ::1"),
    ("http://[::ffff:192.168.1.1]/", "http://93.184.216.34/", "refused redirect to private address 192.168.1.1"),
    ("http://10.0.0.1/x", "http://127.0.0.1:5000/", "refused redirect to private address 10.0.0.1"),
    ("http://10.0.0.1/x", "http://192.168.0.10/", "refused redirect to private address 10.0.0.1"),
    ("http://192.168.0.10:8080/y", "http://192.168.0.10/", None),
    ("http://127.0.0.1:8080/", "http://localhost:5000/", None),
    ("https://93.184.216.35/", "http://93.184.216.34/", None),
    ("javascript:alert(1)", "http://93.184.216.34/", "refused redirect to a non-http(s) URL (javascript)"),
]  # fmt: skip


@pytest.mark.parametrize(("target", "origin", "reason"), REFUSAL_CASES)
def test_redirect_refusal_rule(target: str, origin: str, reason: str | None) -> None:
    assert redirect_refusal(target, origin) == reason


NAMED_CASES = [
    # redirect target, URL asked for, the run's other URLs, reason (None: followed)
    ("http://10.0.0.1/x", "http://192.168.0.10/", ["http://10.0.0.1/"], None),
    ("http://10.0.0.1/x", "http://93.184.216.34/", ["https://10.0.0.1:8443/a"], None),
    ("http://10.0.0.2/x", "http://192.168.0.10/", ["http://10.0.0.1/"], "refused redirect to private address 10.0.0.2"),
]  # fmt: skip


@pytest.mark.parametrize(("target", "origin", "named", "reason"), NAMED_CASES)
def test_a_private_address_named_by_the_run_may_be_redirected_to(
    target: str, origin: str, named: list[str], reason: str | None
) -> None:
    assert redirect_refusal(target, origin, named) == reason


@pytest.mark.parametrize("chunked", [False, True], ids=["content-length", "chunked"])
def test_oversize_body_is_refused(
    server: HTTPServer, make_fetcher: Callable[..., Fetcher], chunked: bool
) -> None:
    parts = [b"x" * 1000] * 5
    response = Response(iter(parts) if chunked else b"".join(parts), content_type="text/html")
    server.expect_request("/big").respond_with_response(response)

    with pytest.raises(FetchError, match=r"^response larger than 2000 bytes$") as failure:
        make_fetcher(max_bytes=2000).fetch(server.url_for("/big"))

    assert not failure.value.transient
    assert ("Content-Length" in server.log[0][1].headers) is not chunked


CHARSET_CASES = [
    # Content-Type sent, media type, charset in http (None: no key)
    ("text/html; charset=utf-8", "text/html", "utf-8"),
    ('text/html; charset="ISO-8859-1"', "text/html", "ISO-8859-1"),
    ("Text/HTML;charset=windows-1252; q=1", "text/html", "windows-1252"),
    ("application/pdf", "application/pdf", None),
]


@pytest.mark.parametrize(("header", "media_type", "charset"), CHARSET_CASES)
def test_content_type_and_declared_charset_pass_through(
    server: HTTPServer,
    make_fetcher: Callable[..., Fetcher],
    header: str,
    media_type: str,
    charset: str | None,
) -> None:
    latin1 = "café".encode("latin-1")  # whatever the header says; bytes are passed on untouched
    server.expect_request("/p").respond_with_data(latin1, headers={"Content-Type": header})

    got = make_fetcher().fetch(server.url_for("/p"))

    assert got.raw == latin1
    assert got.media_type == media_type
    assert got.http.get("charset") == charset


def test_empty_200_is_refused(server: HTTPServer, make_fetcher: Callable[..., Fetcher]) -> None:
    server.expect_request("/empty").respond_with_data(b"", content_type="text/html")

    with pytest.raises(FetchError, match=r"^empty response$") as failure:
        make_fetcher().fetch(server.url_for("/empty"))
    assert not failure.value.transient


@pytest.mark.parametrize("proxy_env", ["HTTP_PROXY", "http_proxy"])
def test_urls_are_fetched_through_the_proxy_the_environment_names_on_every_request(
    server: HTTPServer,
    make_fetcher: Callable[..., Fetcher],
    monkeypatch: pytest.MonkeyPatch,
    proxy_env: str,
) -> None:
    hosts: list[str] = []

    def proxied(request: Request) -> Response:
        hosts.append(request.headers["Host"])
        return Response("via the proxy", content_type="text/plain")

    server.expect_request("/report").respond_with_handler(proxied)
    for name in ("HTTP_PROXY", "http_proxy", "NO_PROXY", "no_proxy"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv(proxy_env, server.url_for("/"))
    fetcher = make_fetcher(retries=0)

    got = [
        fetcher.fetch(f"http://{host}/report") for host in ("a.example", "b.example", "a.example")
    ]
    assert [g.raw for g in got] == [b"via the proxy"] * 3
    assert hosts == ["a.example", "b.example", "a.example"]


def test_no_proxy_hosts_are_fetched_directly(
    server: HTTPServer, make_fetcher: Callable[..., Fetcher], monkeypatch: pytest.MonkeyPatch
) -> None:
    server.expect_request("/direct").respond_with_data("direct", content_type="text/plain")
    with socket.create_server(("127.0.0.1", 0)) as probe:
        dead = probe.getsockname()[1]  # closed when the block ends: a proxy that is not there
    monkeypatch.setenv("HTTP_PROXY", f"http://127.0.0.1:{dead}")
    monkeypatch.setenv("NO_PROXY", "127.0.0.1")
    fetcher = make_fetcher(retries=0)

    assert [fetcher.fetch(server.url_for("/direct")).raw for _ in range(2)] == [b"direct"] * 2


def test_connection_refused(make_fetcher: Callable[..., Fetcher]) -> None:
    with socket.create_server(("127.0.0.1", 0)) as probe:
        port = probe.getsockname()[1]  # closed when the block ends: nothing listens there

    with pytest.raises(FetchError, match=r"^connection refused$") as failure:
        make_fetcher(retries=1).fetch(f"http://127.0.0.1:{port}/")
    assert failure.value.transient
    assert isinstance(failure.value, InputError)


def test_a_host_that_stops_answering_is_left_alone_then_tried_again(
    make_fetcher: Callable[..., Fetcher], monkeypatch: pytest.MonkeyPatch
) -> None:
    accepted: list[int] = []
    fetcher = make_fetcher(retries=1)
    with raw_server(b"", accepted) as url:  # every connection closed without an answer

        def errors(count: int) -> list[tuple[str, bool]]:
            found = []
            for n in range(count):
                with pytest.raises(FetchError) as failure:
                    fetcher.fetch(f"{url}page-{n}")
                found.append((str(failure.value), failure.value.transient))
            return found

        silent = ("server closed the connection without a response", True)
        left = (
            "not tried: 127.0.0.1 answered none of the last 3 URLs"
            " (last: server closed the connection without a response)",
            True,
        )
        assert errors(5) == [silent, silent, silent, left, left]
        assert len(accepted) == 6  # three URLs, each tried and retried once
        later = time.monotonic() + http.UNREACHABLE_FOR
        monkeypatch.setattr(http, "monotonic", lambda: later)
        assert errors(1) == [silent]  # the time is up: the host is asked again
        assert len(accepted) == 8


def test_an_answer_from_the_host_ends_its_run_of_silence(
    make_fetcher: Callable[..., Fetcher],
) -> None:
    fetcher = make_fetcher(retries=0)
    not_found = b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
    # both on 127.0.0.1: one host, as the fetcher counts them
    with raw_server(b"") as silent, raw_server(not_found) as answering:

        def reason(url: str) -> str:
            with pytest.raises(FetchError) as failure:
                fetcher.fetch(url)
            return str(failure.value)

        order = [silent, silent, answering, silent, silent, answering, silent, silent, silent]
        reasons = [reason(url) for url in [*order, answering]]
    closed, gone = "server closed the connection without a response", "HTTP 404 Not Found"
    assert reasons[:9] == [closed, closed, gone, closed, closed, gone, closed, closed, closed]
    assert reasons[9].startswith("not tried: 127.0.0.1 answered none of the last 3 URLs")


RAW_CASES = [
    pytest.param(
        b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: 100\r\n"
        b"Connection: close\r\n\r\nonly a few bytes",
        "truncated response",
        True,
        id="short-of-content-length",
    ),
    pytest.param(
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n",
        "truncated response",
        True,
        id="chunked-cut-off",
    ),
    pytest.param(b"", "server closed the connection without a response", True, id="no-response"),
    pytest.param(b"NOT HTTP AT ALL\r\n\r\n", "malformed response", False, id="not-http"),
]


@pytest.mark.parametrize(("payload", "error", "transient"), RAW_CASES)
def test_broken_responses(
    make_fetcher: Callable[..., Fetcher], payload: bytes, error: str, transient: bool
) -> None:
    with (
        raw_server(payload) as url,
        pytest.raises(FetchError, match=f"^{re.escape(error)}$") as failure,
    ):
        make_fetcher(retries=1).fetch(url)
    assert failure.value.transient is transient


def test_min_interval_spaces_request_starts_as_the_server_sees_them(
    server: HTTPServer, make_fetcher: Callable[..., Fetcher]
) -> None:
    arrivals: list[float] = []

    def stamp(request: Request) -> Response:
        arrivals.append(time.monotonic())
        return Response(b"ok")

    server.expect_request("/p").respond_with_handler(stamp)
    fetcher = make_fetcher(min_interval=0.3)

    fetcher.fetch(server.url_for("/p"))
    fetcher.fetch(server.url_for("/p"))

    assert len(arrivals) == 2
    assert arrivals[1] - arrivals[0] >= 0.3


@pytest.mark.parametrize("per_host", [1, 2])
def test_per_host_limits_requests_in_flight(
    server: HTTPServer, make_fetcher: Callable[..., Fetcher], per_host: int
) -> None:
    slow = InFlight()
    server.expect_request("/p").respond_with_handler(slow)
    fetcher = make_fetcher(per_host=per_host)
    threads = [
        threading.Thread(target=fetcher.fetch, args=(server.url_for("/p"),)) for _ in range(4)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(5)

    assert len(server.log) == 4
    assert slow.most == per_host


@pytest.mark.parametrize(
    "overrides",
    [{"per_host": 0}, {"timeout": 0}, {"retries": -1}, {"max_bytes": 0}, {"min_interval": -1}],
)
def test_settings_out_of_range_are_config_errors(overrides: dict[str, Any]) -> None:
    with pytest.raises(ConfigError, match=next(iter(overrides))):
        HttpSettings(**overrides)


def test_non_http_url_is_refused(make_fetcher: Callable[..., Fetcher]) -> None:
    with pytest.raises(FetchError, match=r"^not an http\(s\) URL$") as failure:
        make_fetcher().fetch("ftp://example.com/report.pdf")
    assert not failure.value.transient


def cert_error() -> ssl.SSLCertVerificationError:
    """Return a certificate failure as the ssl module raises it."""
    error = ssl.SSLCertVerificationError(1, "certificate verify failed")
    error.verify_message = "certificate has expired"
    return error


DESCRIBE_CASES = [
    # exception as urllib3 raises it, reason given
    (
        u3.MaxRetryError(None, "/", u3.NameResolutionError("x.invalid", None, socket.gaierror(-2, "no"))),  # type: ignore[arg-type]
        "could not resolve host",
        True,
    ),
    (u3.ProtocolError("aborted", ConnectionResetError(104, "reset")), "connection reset by server", True),
    (u3.MaxRetryError(None, "/", u3.SSLError(cert_error())), "TLS error (certificate has expired)", False),
    (u3.MaxRetryError(None, "/", u3.ConnectTimeoutError(None, "connect")), "timed out after 2s", True),
    (u3.DecodeError("bad gzip"), "could not decompress the response", False),
    (u3.LocationParseError("bad"), "invalid URL", False),
    (u3.HTTPError("odd"), "request failed (HTTPError)", True),
]  # fmt: skip


@pytest.mark.parametrize(("exc", "reason", "transient"), DESCRIBE_CASES)
def test_describe_names_the_reason(exc: BaseException, reason: str, transient: bool) -> None:
    assert describe(exc, HttpSettings(**FAST)) == reason
    error = fetch_error(exc, HttpSettings(**FAST))
    assert (str(error), error.transient) == (reason, transient)
    copied = pickle.loads(pickle.dumps(error))
    assert (type(copied), str(copied), copied.transient) == (FetchError, reason, transient)
