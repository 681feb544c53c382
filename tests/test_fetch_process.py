"""The fetch process (`fetch_process.FetchProcess`, a large run's fetches beside its own process)
must answer as the fetcher answers in-process, carry errors across intact, fail what it cannot
fetch with one line when it dies, and end when the run is killed. Against a real server on
loopback, forked and spawned."""

from __future__ import annotations

import os
import pickle
import signal
import subprocess
import sys
import textwrap
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from pytest_httpserver import HTTPServer

from reportwatch import prefetch, processes
from reportwatch.errors import FetchError
from reportwatch.fetch import Fetched
from reportwatch.fetch_process import FetchProcess
from reportwatch.http import Fetcher, HttpSettings
from reportwatch.pipeline import ingest
from reportwatch.sources import Item
from reportwatch.store import Store

SETTINGS = HttpSettings(timeout=2.0, retries=0, min_interval=0.0)
PAGE = "<html><body><main><h1>Barnet</h1></main></body></html>"


@pytest.fixture
def server() -> Iterator[HTTPServer]:
    """A loopback server: /page (200 with an ETag, 304 when it matches), /gone (404),
    /broken (500)."""
    server = HTTPServer(host="127.0.0.1", threaded=True)
    server.expect_request("/page", headers={"If-None-Match": '"v1"'}).respond_with_data(
        "", status=304, headers={"ETag": '"v1"'}
    )
    server.expect_request("/page").respond_with_data(
        PAGE, content_type="text/html", headers={"ETag": '"v1"'}
    )
    server.expect_request("/gone").respond_with_data("no", status=404)
    server.expect_request("/broken").respond_with_data("oops", status=500)
    server.start()
    yield server
    server.clear()
    server.stop()


def answer_of(
    fetcher: Fetcher | FetchProcess, url: str, validators: dict[str, str] | None
) -> object:
    """Return what a fetch gives, its error as (type, message, transient) when it fails."""
    try:
        return fetcher.fetch(url, validators)
    except FetchError as exc:
        return (type(exc), str(exc), exc.transient)


@pytest.mark.parametrize("fork", [True, False], ids=["forked", "spawned"])
@pytest.mark.parametrize(
    ("path", "validators"),
    [("/page", None), ("/page", {"etag": '"v1"'}), ("/gone", None), ("/broken", None)],
    ids=["200", "304", "404", "500"],
)
def test_the_fetch_process_answers_as_the_fetcher_in_process(
    server: HTTPServer,
    monkeypatch: pytest.MonkeyPatch,
    fork: bool,
    path: str,
    validators: dict[str, str] | None,
) -> None:
    monkeypatch.setattr(processes, "can_fork", lambda: fork)
    url = server.url_for(path)
    with Fetcher(SETTINGS, named=[url]) as fetcher:
        expected = answer_of(fetcher, url, validators)
        with FetchProcess(fetcher, 2) as process:
            assert answer_of(process, url, validators) == expected
    if path == "/page" and validators is None:
        assert isinstance(expected, Fetched) and expected.raw == PAGE.encode()


def test_a_fetcher_pickles_as_a_new_one_with_the_same_settings() -> None:
    # a spawned fetch process gets the run's fetcher this way
    with Fetcher(SETTINGS, named=["http://127.0.0.1:1/a"]) as fetcher:
        copy = pickle.loads(pickle.dumps(fetcher))
    assert (copy.settings, copy.named) == (SETTINGS, ("http://127.0.0.1:1/a",))


class Odd(Exception):
    """An error that cannot be unpickled (its constructor wants two arguments)."""

    def __init__(self, what: str, why: str) -> None:
        super().__init__(f"{what}: {why}")


class Scripted:
    """A fetcher that dies on /die, raises Odd on /odd, a transient FetchError on /busy."""

    def fetch(self, url: str, validators: dict[str, str] | None = None) -> Fetched:
        if url.endswith("/die"):
            os._exit(3)
        if url.endswith("/odd"):
            raise Odd("odd", "no reason")
        raise FetchError("503 Service Unavailable", transient=True)


@pytest.fixture
def forked(monkeypatch: pytest.MonkeyPatch) -> None:
    """Fork the fetch process (a `Scripted` fetcher is defined here, not importable by name)."""
    monkeypatch.setattr(processes, "can_fork", lambda: True)


@pytest.mark.usefixtures("forked")
def test_errors_cross_with_their_kind_and_an_unpicklable_one_as_an_internal_error() -> None:
    with FetchProcess(Scripted(), 2) as process:
        busy, odd = process.submit_many([("http://x/busy", None), ("http://x/odd", None)])
        error = busy.exception(timeout=30)
        assert isinstance(error, FetchError)
        assert (str(error), error.transient) == ("503 Service Unavailable", True)
        assert repr(odd.exception(timeout=30)) == "RuntimeError(\"Odd('odd: no reason')\")"


@pytest.mark.usefixtures("forked")
def test_when_the_fetch_process_dies_what_it_owed_fails_with_one_line() -> None:
    with FetchProcess(Scripted(), 1) as process:
        futures = process.submit_many([("http://x/die", None), ("http://x/busy", None)])
        errors = [future.exception(timeout=30) for future in futures]
        errors.append(process.submit("http://x/busy").exception(timeout=30))
    for error in errors:
        assert isinstance(error, FetchError)
        assert (str(error), error.transient) == ("not fetched: the run's fetch process ended", True)


def test_a_run_whose_fetch_process_dies_reports_each_input_and_stores_nothing(
    server: HTTPServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # the fetch process is forked with a fetcher that dies on its first URL
    monkeypatch.setattr(processes, "can_fork", lambda: True)
    monkeypatch.setattr(prefetch, "POOL_MIN_URLS", 1)
    monkeypatch.setattr(Fetcher, "fetch", lambda *_: os._exit(3))
    urls = [server.url_for("/page"), server.url_for("/gone")]
    store = Store(tmp_path / "store")
    now = datetime(2026, 3, 1, 9, 30, tzinfo=UTC)
    result = ingest([Item(url) for url in urls], store, now=now, http=SETTINGS)
    assert [(o.location, o.status, o.error) for o in result.outcomes] == [
        (url, "failed", "not fetched: the run's fetch process ended") for url in urls
    ]
    assert store.documents() == []
    assert [s.consecutive_failures for s in store.source_states()] == [1, 1]


def test_the_fetch_process_ends_when_its_run_is_killed(tmp_path: Path) -> None:
    script = textwrap.dedent(
        """
        import sys, time
        from reportwatch.fetch_process import FetchProcess
        from reportwatch.http import Fetcher
        process = FetchProcess(Fetcher(), 1)
        print(process.pid, flush=True)
        time.sleep(60)
        """
    )
    run = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True)
    assert run.stdout is not None
    child = int(run.stdout.readline())
    os.kill(run.pid, signal.SIGKILL)
    run.wait()
    deadline = time.monotonic() + 30  # it checks every PARENT_WATCH_SECONDS
    while alive(child) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not alive(child)


def alive(pid: int) -> bool:
    """Return True while a process exists and is not a zombie."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().split(") ")[1][0]
    except (FileNotFoundError, IndexError):
        return False
    return state != "Z"
