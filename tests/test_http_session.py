"""What a run's requests carry and where they go, beyond a single response: cookies kept for
the run, credentials written in a URL, NO_PROXY forms, URLs no request can be made for, the
request target sent, more hosts than pools kept. Real servers on loopback (pytest-httpserver)."""

from __future__ import annotations

import re
import socket
from collections.abc import Iterator

import pytest
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from reportwatch.http import Fetcher, FetchError, HttpSettings
from reportwatch.http_pools import POOLS

FAST = {"timeout": 2.0, "retries": 0, "min_interval": 0.0}
PROXY_VARIABLES = ("HTTP_PROXY", "http_proxy", "ALL_PROXY", "all_proxy", "NO_PROXY", "no_proxy")


@pytest.fixture
def fetcher() -> Iterator[Fetcher]:
    """A fast-settings fetcher, closed after the test."""
    with Fetcher(HttpSettings(**FAST)) as made:
        yield made


def test_a_cookie_set_on_a_redirect_is_sent_back_and_kept_for_the_run(
    httpserver: HTTPServer, fetcher: Fetcher
) -> None:
    def login(request: Request) -> Response:
        response = Response(status=302, headers={"Location": "/report"})
        response.set_cookie("session", "s1", path="/")
        return response

    def report(request: Request) -> Response:
        return Response(f"session={request.cookies.get('session')}", content_type="text/plain")

    httpserver.expect_request("/login").respond_with_handler(login)
    httpserver.expect_request("/report").respond_with_handler(report)

    assert fetcher.fetch(httpserver.url_for("/login")).raw == b"session=s1"
    assert fetcher.fetch(httpserver.url_for("/report")).raw == b"session=s1"


def test_credentials_in_the_url_are_sent_but_not_to_another_host(
    httpserver: HTTPServer, fetcher: Fetcher
) -> None:
    def auth(request: Request) -> Response:
        return Response(request.headers.get("Authorization", "none"), content_type="text/plain")

    away = f"http://localhost:{httpserver.port}/auth"  # the same server under another host name
    httpserver.expect_request("/auth").respond_with_handler(auth)
    httpserver.expect_request("/away").respond_with_data(b"", 302, headers={"Location": away})
    base = f"http://us%40er:p%3Aw@127.0.0.1:{httpserver.port}"

    assert fetcher.fetch(f"{base}/auth").raw == b"Basic dXNAZXI6cDp3"  # us@er:p:w
    assert fetcher.fetch(f"{base}/away").raw == b"none"


@pytest.mark.parametrize("no_proxy", ["127.0.0.0/8", "*", "127.0.0.1", "localhost:{port}"])
def test_no_proxy_forms_reach_the_host_directly(
    httpserver: HTTPServer, monkeypatch: pytest.MonkeyPatch, no_proxy: str
) -> None:
    httpserver.expect_request("/direct").respond_with_data("direct", content_type="text/plain")
    with socket.create_server(("127.0.0.1", 0)) as probe:
        dead = probe.getsockname()[1]  # closed when the block ends: a proxy that is not there
    for name in PROXY_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("HTTP_PROXY", f"http://127.0.0.1:{dead}")
    monkeypatch.setenv("NO_PROXY", no_proxy.format(port=httpserver.port))
    host = "localhost" if no_proxy.startswith("localhost") else "127.0.0.1"

    with Fetcher(HttpSettings(**FAST)) as fetcher:
        assert fetcher.fetch(f"http://{host}:{httpserver.port}/direct").raw == b"direct"


@pytest.mark.parametrize("url", ["http://[::1/report", "http://*.example/", "http://.example/"])
def test_a_url_no_request_can_be_made_for_is_an_invalid_url(fetcher: Fetcher, url: str) -> None:
    with pytest.raises(FetchError, match=f"^{re.escape('invalid URL')}$") as failure:
        fetcher.fetch(url)
    assert not failure.value.transient


@pytest.mark.parametrize(
    ("written", "sent"),
    [
        ("/report?a=1&b=2", "/report?a=1&b=2"),
        ("/report#findings", "/report"),
        ("/a report", "/a%20report"),
        ("/café", "/caf%C3%A9"),
        ("", "/"),
    ],
)
def test_the_request_target_is_the_url_as_urllib3_normalizes_it(
    httpserver: HTTPServer, fetcher: Fetcher, written: str, sent: str
) -> None:
    def target(request: Request) -> Response:
        return Response(request.environ["REQUEST_URI"], content_type="text/plain")

    httpserver.expect_request(re.compile(".*")).respond_with_handler(target)

    assert fetcher.fetch(f"http://127.0.0.1:{httpserver.port}{written}").raw == sent.encode()


def test_a_run_over_more_hosts_than_pools_kept_fetches_every_url(fetcher: Fetcher) -> None:
    servers = [HTTPServer(host="127.0.0.1") for _ in range(POOLS + 2)]
    for number, server in enumerate(servers):
        server.expect_request("/report").respond_with_data(f"host {number}")
        server.start()
    try:
        order = [*range(len(servers)), 0, len(servers) - 1, 0]  # the first host's pool let go
        answers = [fetcher.fetch(servers[n].url_for("/report")).raw for n in order]
    finally:
        for server in servers:
            server.stop()

    assert answers == [f"host {n}".encode() for n in order]
