"""Watching URLs end to end: `reportwatch ingest` against a real HTTP server on loopback."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

import reportwatch.http
from reportwatch.cli import main
from reportwatch.http import Fetcher
from reportwatch.http_settings import DEFAULT_SETTINGS, HttpSettings
from reportwatch.store import Store

from conftest import LEARNING_HF, seed_text

HF_LEARNING = "cqc/hammersmith-and-fulham/learning-improvement-and-innovation"


def ingest(*args: str) -> Result:
    """Return the result of `reportwatch ingest ARGS --json` in the working directory."""
    return CliRunner().invoke(main, ["ingest", *args, "--json"])


def statuses(result: Result) -> list[tuple[str, str | None]]:
    """Return each input's status and error from an ingest's JSON output."""
    return [(d["status"], d["error"]) for d in json.loads(result.stdout)["documents"]]


class Page:
    """A page served with an ETag, answering conditional requests with 304."""

    def __init__(self, body: str) -> None:
        self.body = body
        self.requests: list[dict[str, str]] = []

    def etag(self) -> str:
        return f'"{abs(hash(self.body))}"'

    def __call__(self, request: Request) -> Response:
        self.requests.append(dict(request.headers))
        if request.headers.get("If-None-Match") == self.etag():
            return Response(status=304, headers={"ETag": self.etag()})
        return Response(
            self.body, content_type="text/plain; charset=utf-8", headers={"ETag": self.etag()}
        )


@pytest.fixture
def workdir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Run in an empty scratch folder."""
    monkeypatch.chdir(tmp_path)
    return tmp_path


def test_first_fetch_then_304_then_a_changed_page(workdir: Path, httpserver: HTTPServer) -> None:
    page = Page(seed_text(LEARNING_HF))
    httpserver.expect_request("/la/learning").respond_with_handler(page)
    url = httpserver.url_for("/la/learning")

    assert statuses(ingest(url)) == [("new", None)]
    assert statuses(ingest(url)) == [("unchanged", None)]
    assert page.requests[1]["If-None-Match"] == page.etag()

    page.body = page.body.replace(
        "Score: 2\n2 - Evidence shows some shortfalls",
        "Score: 3\n3 - Evidence shows a good standard",
    )
    result = ingest(url)
    assert statuses(result) == [("changed", None)]
    changes = json.loads(result.stdout)["documents"][0]["changes"]
    assert [(c["kind"], c["old"], c["new"]) for c in changes] == [("score_changed", 2, 3)]
    meta = Store("snapshots").load(HF_LEARNING, 2).meta
    assert (meta.source, meta.http["etag"]) == (url, page.etag())


def test_server_error_then_success_never_fakes_a_change(
    workdir: Path, httpserver: HTTPServer
) -> None:
    page = Page(seed_text(LEARNING_HF))
    httpserver.expect_request("/p").respond_with_handler(page)
    url = httpserver.url_for("/p")
    assert statuses(ingest(url)) == [("new", None)]
    httpserver.clear()
    httpserver.expect_request("/p").respond_with_data("Service Unavailable", status=503)
    failed = ingest(url)
    assert failed.exit_code == 1
    assert statuses(failed) == [("failed", "HTTP 503 Service Unavailable after 3 retries")]
    assert Store("snapshots").source_state(url).consecutive_failures == 1
    httpserver.clear()
    httpserver.expect_request("/p").respond_with_handler(Page(seed_text(LEARNING_HF)))
    assert statuses(ingest(url)) == [("unchanged", None)]
    assert Store("snapshots").versions(HF_LEARNING) == [1]
    assert Store("snapshots").source_state(url).consecutive_failures == 0


def test_error_page_served_with_200_creates_no_version(
    workdir: Path, httpserver: HTTPServer
) -> None:
    httpserver.expect_request("/p").respond_with_data(
        "Sorry, something went wrong. Please try again later.", content_type="text/plain"
    )
    result = ingest(httpserver.url_for("/p"))
    assert statuses(result) == [
        ("failed", "not a report reportwatch can read (no CQC score or Ofsted judgement found)")
    ]
    assert Store("snapshots").documents() == []


def test_sources_file_urls_are_watched(workdir: Path, httpserver: HTTPServer) -> None:
    httpserver.expect_request("/p").respond_with_handler(Page(seed_text(LEARNING_HF)))
    Path("reportwatch.toml").write_text(
        f'[[source]]\nurl = "{httpserver.url_for("/p")}"\nregulator = "CQC"\n'
    )
    assert statuses(ingest()) == [("new", None)]
    assert Store("snapshots").documents() == [HF_LEARNING]


@pytest.fixture
def fetchers(monkeypatch: pytest.MonkeyPatch) -> list[Fetcher]:
    """Return the list of every Fetcher a run makes (real ones, recorded as they are made)."""
    made: list[Fetcher] = []

    class Recorded(Fetcher):
        def __init__(self, settings: HttpSettings = DEFAULT_SETTINGS) -> None:
            super().__init__(settings)
            made.append(self)

    monkeypatch.setattr(reportwatch.http, "Fetcher", Recorded)
    return made


def test_http_table_of_the_sources_file_is_how_urls_are_fetched(
    workdir: Path, httpserver: HTTPServer, fetchers: list[Fetcher]
) -> None:
    httpserver.expect_request("/busy").respond_with_data("Service Unavailable", status=503)
    Path("reportwatch.toml").write_text(
        f'[[source]]\nurl = "{httpserver.url_for("/busy")}"\n\n'
        "[http]\nretries = 1\nbackoff = 0\nper_host = 1\nmin_interval = 0.25\n"
        'user_agent = "reportwatch-test (ops@example.org)"\n'
    )
    assert statuses(ingest()) == [("failed", "HTTP 503 Service Unavailable after 1 retry")]
    assert len(httpserver.log) == 2  # one try and the one retry configured
    agents = {request.headers["User-Agent"] for request, _ in httpserver.log}
    assert agents == {"reportwatch-test (ops@example.org)"}
    [fetcher] = fetchers
    assert (fetcher.settings.per_host, fetcher.settings.min_interval) == (1, 0.25)


def test_a_bad_http_setting_stops_the_run_naming_line_and_key(
    workdir: Path, httpserver: HTTPServer
) -> None:
    Path("reportwatch.toml").write_text(
        f'[[source]]\nurl = "{httpserver.url_for("/p")}"\n\n[http]\nper_host = 0\n'
    )
    result = ingest()
    assert result.exit_code == 2
    assert result.stderr == (
        "error: reportwatch.toml:5: http.per_host: Input should be greater than or equal to 1\n"
    )
    assert httpserver.log == []
