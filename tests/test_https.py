"""HTTPS against a real TLS server on loopback, its certificate issued by a test authority
(trustme): which certificates a fetch trusts (REQUESTS_CA_BUNDLE, CURL_CA_BUNDLE, else
certifi's), the one-line error when a server is not trusted or the bundle named cannot be
loaded, and that a run of http URLs never loads a bundle."""

from __future__ import annotations

import json
import ssl
from collections.abc import Iterator
from pathlib import Path

import pytest
import trustme
from click.testing import CliRunner, Result
from pytest_httpserver import HTTPServer

from reportwatch import processes
from reportwatch.cli import main
from reportwatch.errors import FetchError
from reportwatch.fetch_process import FetchProcess
from reportwatch.http import Fetcher, HttpSettings
from reportwatch.http_pools import BUNDLE_VARIABLES
from reportwatch.store import Store

from conftest import LEARNING_EALING, LEARNING_HF, seed_text

PAGE = seed_text(LEARNING_HF)
HF_LEARNING = "cqc/hammersmith-and-fulham/learning-improvement-and-innovation"
FAST = HttpSettings(timeout=2.0, retries=0, min_interval=0.0)


@pytest.fixture(scope="module")
def authority() -> trustme.CA:
    """A certificate authority no system trusts."""
    return trustme.CA()


@pytest.fixture(scope="module")
def bundles(authority: trustme.CA, tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """Bundle files by name: the test authority's certificate, a file with no certificate in
    it, and a path where there is no file."""
    folder = tmp_path_factory.mktemp("bundles")
    authority.cert_pem.write_to_path(str(folder / "test-ca.pem"))
    (folder / "empty.pem").write_text("not a certificate\n")
    names = ("test-ca.pem", "empty.pem", "missing.pem")
    return {name: str(folder / name) for name in names}


@pytest.fixture(scope="module")
def tls_server(authority: trustme.CA) -> Iterator[HTTPServer]:
    """An HTTPS server on 127.0.0.1 serving Hammersmith and Fulham's learning page at /p, its
    certificate issued for 127.0.0.1 by the test authority."""
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    authority.issue_cert("127.0.0.1").configure_cert(context)
    server = HTTPServer(host="127.0.0.1", ssl_context=context)
    server.expect_request("/p").respond_with_data(PAGE, content_type="text/plain; charset=utf-8")
    server.start()
    yield server
    server.clear()
    server.stop()


@pytest.fixture
def bundle_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """Start each test with neither bundle variable set (a CI machine may set them)."""
    for name in BUNDLE_VARIABLES:
        monkeypatch.delenv(name, raising=False)


def text_of(fetcher: Fetcher | FetchProcess, url: str) -> str:
    """Return the text `fetcher` gets from `url`, or 'error: ' and the error's line (with
    ' (transient)' when it may pass)."""
    try:
        return fetcher.fetch(url).raw.decode()
    except FetchError as exc:
        return f"error: {exc}" + (" (transient)" if exc.transient else "")


def fetch_once(url: str) -> str:
    """Return the text one fresh Fetcher gets from `url` (`text_of`)."""
    with Fetcher(FAST) as fetcher:
        return text_of(fetcher, url)


def with_paths(expected: str, bundles: dict[str, str]) -> str:
    """Return `expected` with each bundle's name in brackets replaced by its path."""
    for bundle, path in bundles.items():
        expected = expected.replace(f"({bundle})", f"({path})")
    return expected


# the bundle variables set (to the bundle files named), and what the fetch gives; a bundle's
# name in brackets stands for its path
BUNDLE_CASES = [
    ("requests", {"REQUESTS_CA_BUNDLE": "test-ca.pem"}, PAGE),
    ("curl", {"CURL_CA_BUNDLE": "test-ca.pem"}, PAGE),
    ("both", {"REQUESTS_CA_BUNDLE": "test-ca.pem", "CURL_CA_BUNDLE": "missing.pem"}, PAGE),
    ("certifi", {}, "error: TLS error (unable to get local issuer certificate)"),
    (
        "missing",
        {"REQUESTS_CA_BUNDLE": "missing.pem"},
        "error: could not load the CA bundle REQUESTS_CA_BUNDLE names (missing.pem): "
        "no such file or directory",
    ),
    (
        "empty",
        {"CURL_CA_BUNDLE": "empty.pem"},
        "error: could not load the CA bundle CURL_CA_BUNDLE names (empty.pem): "
        "no certificate or crl found",
    ),
]


@pytest.mark.parametrize(
    ("env", "expected"), [c[1:] for c in BUNDLE_CASES], ids=[c[0] for c in BUNDLE_CASES]
)
def test_a_server_is_trusted_by_the_bundle_named_else_one_line_that_is_final(
    bundle_env: None,
    monkeypatch: pytest.MonkeyPatch,
    bundles: dict[str, str],
    tls_server: HTTPServer,
    env: dict[str, str],
    expected: str,
) -> None:
    for name, bundle in env.items():
        monkeypatch.setenv(name, bundles[bundle])
    assert fetch_once(tls_server.url_for("/p")) == with_paths(expected, bundles)


def test_http_urls_are_fetched_without_loading_the_bundle(
    bundle_env: None,
    monkeypatch: pytest.MonkeyPatch,
    bundles: dict[str, str],
    httpserver: HTTPServer,
) -> None:
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", bundles["missing.pem"])
    httpserver.expect_request("/p").respond_with_data(PAGE)
    assert fetch_once(httpserver.url_for("/p")) == PAGE


EMPTY = (
    "error: could not load the CA bundle REQUESTS_CA_BUNDLE names (empty.pem): "
    "no certificate or crl found"
)


@pytest.mark.parametrize("fork", [True, False], ids=["forked", "spawned"])
@pytest.mark.parametrize(("bundle", "expected"), [("test-ca.pem", PAGE), ("empty.pem", EMPTY)])
def test_the_fetch_process_trusts_the_bundle_the_run_names(
    bundle_env: None,
    monkeypatch: pytest.MonkeyPatch,
    bundles: dict[str, str],
    tls_server: HTTPServer,
    fork: bool,
    bundle: str,
    expected: str,
) -> None:
    # a large run fetches in a process of its own, forked or spawned (tests/test_fetch_process.py)
    monkeypatch.setattr(processes, "can_fork", lambda: fork)
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", bundles[bundle])
    url = tls_server.url_for("/p")
    with Fetcher(FAST, named=[url]) as fetcher, FetchProcess(fetcher, 2) as process:
        assert text_of(process, url) == with_paths(expected, bundles)


def ingest(*args: str) -> Result:
    """Return the result of `reportwatch ingest ARGS --json --no-notify` with fast HTTP
    settings (no retries), in the working directory."""
    Path("reportwatch.toml").write_text("[http]\ntimeout = 2.0\nretries = 0\nmin_interval = 0.0\n")
    return CliRunner().invoke(main, ["ingest", *args, "--json", "--no-notify"])


def test_ingest_over_https_stores_the_page_and_a_bundle_error_fails_only_the_https_input(
    bundle_env: None,
    monkeypatch: pytest.MonkeyPatch,
    bundles: dict[str, str],
    tls_server: HTTPServer,
    httpserver: HTTPServer,
    tmp_path: Path,
) -> None:
    monkeypatch.chdir(tmp_path)
    secure = tls_server.url_for("/p")
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", bundles["test-ca.pem"])
    result = ingest(secure)
    assert result.exit_code == 0
    assert [d["status"] for d in json.loads(result.stdout)["documents"]] == ["new"]
    assert Store("snapshots").load(HF_LEARNING, 1).meta.source == secure
    stored = {p: p.read_bytes() for p in Path("snapshots").rglob("*") if p.is_file()}

    monkeypatch.setenv("REQUESTS_CA_BUNDLE", bundles["missing.pem"])
    httpserver.expect_request("/ealing").respond_with_data(seed_text(LEARNING_EALING))
    result = ingest(secure, httpserver.url_for("/ealing"))
    reason = f"could not load the CA bundle REQUESTS_CA_BUNDLE names ({bundles['missing.pem']})"
    assert result.exit_code == 1
    assert result.stderr == f"error: {secure}: {reason}: no such file or directory\n"
    documents = json.loads(result.stdout)["documents"]
    assert [(d["status"], d["document"]) for d in documents] == [
        ("failed", None),
        ("new", "cqc/ealing/learning-improvement-and-innovation"),
    ]
    assert {p: p.read_bytes() for p in stored if p.parts[1] != "sources"} == {
        p: data for p, data in stored.items() if p.parts[1] != "sources"
    }
    state = Store("snapshots").source_state(secure)
    assert (state.consecutive_failures, state.last_error) == (
        1,
        f"{reason}: no such file or directory",
    )
