"""Watching URLs end to end: `reportwatch ingest` against a real HTTP server on loopback.

Where each case of issue 3's list is tested on loopback: first fetch, 304 and changed page,
chrome-only change (and a new date stamp), 5xx then success, wrong charset, error page with 200,
a PDF: here; 429 with Retry-After, timeout, redirect loop, oversize body, and 5xx then success
at the fetcher: tests/test_http.py."""

from __future__ import annotations

import json
from collections.abc import Iterable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, cast

import pytest
from click.testing import CliRunner, Result
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

import reportwatch.http
from reportwatch import pipeline, store_files
from reportwatch.cli import main
from reportwatch.http import Fetcher
from reportwatch.http_settings import DEFAULT_SETTINGS, HttpSettings
from reportwatch.sources import Item
from reportwatch.store import Store

from conftest import LEARNING_EALING, LEARNING_HF, ROOT, cqc_page, seed_text

HF_LEARNING = "cqc/hammersmith-and-fulham/learning-improvement-and-innovation"


def ingest(*args: str) -> Result:
    """Return the result of `reportwatch ingest ARGS --json` in the working directory."""
    return CliRunner().invoke(main, ["ingest", *args, "--json"])


def statuses(result: Result) -> list[tuple[str, str | None]]:
    """Return each input's status and error from an ingest's JSON output."""
    return [(d["status"], d["error"]) for d in json.loads(result.stdout)["documents"]]


class Page:
    """A page served with an ETag, answering conditional requests with 304."""

    def __init__(self, body: str | bytes, content_type: str = "text/plain; charset=utf-8") -> None:
        self.body = body
        self.content_type = content_type
        self.requests: list[dict[str, str]] = []
        self.statuses: list[int] = []

    def etag(self) -> str:
        return f'"{abs(hash((self.body, self.content_type)))}"'

    def __call__(self, request: Request) -> Response:
        self.requests.append(dict(request.headers))
        if request.headers.get("If-None-Match") == self.etag():
            self.statuses.append(304)
            return Response(status=304, headers={"ETag": self.etag()})
        self.statuses.append(200)
        return Response(self.body, content_type=self.content_type, headers={"ETag": self.etag()})


def served_learning_page(httpserver: HTTPServer) -> tuple[Page, str]:
    """Serve Hammersmith and Fulham's learning statement at /p; return the page and its URL."""
    page = Page(seed_text(LEARNING_HF))
    httpserver.expect_request("/p").respond_with_handler(page)
    return page, httpserver.url_for("/p")


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


def test_an_input_answering_304_again_is_not_rewritten(
    workdir: Path, httpserver: HTTPServer
) -> None:
    page, url = served_learning_page(httpserver)
    assert statuses(ingest(url)) == [("new", None)]
    state_file = Store("snapshots").source_path(url)
    first = (state_file.read_bytes(), state_file.stat().st_mtime_ns)
    assert statuses(ingest(url)) == [("unchanged", None)]
    assert statuses(ingest(url)) == [("unchanged", None)]
    assert page.statuses == [200, 304, 304]
    assert (state_file.read_bytes(), state_file.stat().st_mtime_ns) == first
    assert sorted(p.name for p in state_file.parent.iterdir()) == [state_file.name]


def test_a_version_that_cannot_be_written_stops_the_run_and_remembers_nothing(
    workdir: Path, httpserver: HTTPServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    page, url = served_learning_page(httpserver)

    def disk_full(path: Path, data: bytes) -> None:
        raise OSError(28, "No space left on device")

    real_write = store_files.write_new
    monkeypatch.setattr(store_files, "write_new", disk_full)
    result = ingest(url)
    assert result.exit_code == 2
    assert result.stderr.startswith("error: snapshots: could not store versions: ")
    assert "No space left on device" in result.stderr
    assert not Store("snapshots").source_path(url).exists()  # no ETag without its version
    assert Store("snapshots").documents() == []
    monkeypatch.setattr(store_files, "write_new", real_write)
    assert statuses(ingest(url)) == [("new", None)]
    assert page.statuses == [200, 200]  # fetched afresh: nothing was lost


@pytest.mark.parametrize(
    ("answers", "since"),
    [
        ([200, 304, 304], "2026-01-01T00:00:00+00:00"),  # succeeding since the first fetch
        ([200, 410, 304], "2026-01-03T00:00:00+00:00"),  # recovered on the third run
        ([410, 410, 200], "2026-01-03T00:00:00+00:00"),  # first success on the third run
    ],
)
def test_succeeding_since_is_when_an_input_last_recovered(
    workdir: Path, httpserver: HTTPServer, answers: list[int], since: str
) -> None:
    page = Page(seed_text(LEARNING_HF))
    url = httpserver.url_for("/p")
    store = Store("snapshots")
    for day, answer in enumerate(answers, start=1):
        httpserver.clear()
        if answer == 410:
            httpserver.expect_request("/p").respond_with_data("Gone", status=410)
        else:
            httpserver.expect_request("/p").respond_with_handler(page)
        when = datetime(2026, 1, day, tzinfo=UTC)
        pipeline.ingest([Item(url)], store, now=when, http=HttpSettings(min_interval=0))
    state = Store("snapshots").source_state(url)
    assert (state.consecutive_failures, state.succeeding_since) == (0, since)


def test_server_error_then_success_never_fakes_a_change(
    workdir: Path, httpserver: HTTPServer
) -> None:
    _, url = served_learning_page(httpserver)
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
        def __init__(
            self, settings: HttpSettings = DEFAULT_SETTINGS, named: Iterable[str] = ()
        ) -> None:
            super().__init__(settings, named)
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


HTML = "text/html; charset=utf-8"
NEW_NAV = ("Home", "Our work", "News", "Jobs")
NEW_CHROME = {
    "cookie_text": "Cookies help us improve this site. Choose which ones you accept.",
    "footer_text": "Care Quality Commission, 2 Redman Place, London E20 1JQ",
    "asset_version": "zz99-cache-bust",
    "promo_text": "Join our online community and help shape how we regulate care.",
}


def document(result: Result) -> dict[str, Any]:
    """Return the one document of an ingest's JSON output."""
    [found] = json.loads(result.stdout)["documents"]
    return cast(dict[str, Any], found)


def test_a_chrome_only_change_is_no_new_version_and_a_new_date_stamp_a_low_republish(
    workdir: Path, httpserver: HTTPServer
) -> None:
    page = Page(cqc_page(LEARNING_HF), HTML)
    httpserver.expect_request("/la/learning").respond_with_handler(page)
    url = httpserver.url_for("/la/learning")
    assert statuses(ingest(url)) == [("new", None)]

    page.body = cqc_page(LEARNING_HF, NEW_NAV, **NEW_CHROME)
    result = ingest(url)
    assert page.statuses == [200, 200]  # a new ETag: the whole page was served and read
    assert (document(result)["status"], document(result)["changes"]) == ("unchanged", [])
    assert Store("snapshots").versions(HF_LEARNING) == [1]

    page.body = cqc_page(LEARNING_HF, NEW_NAV, **NEW_CHROME, updated="28 May 2025")
    result = ingest(url)
    assert (document(result)["status"], document(result)["version"]) == ("republished", 2)
    assert document(result)["changes"] == [
        {
            "kind": "republished",
            "severity": "low",
            "document": HF_LEARNING,
            "where": "last_updated",
            "old": "2025-04-03",
            "new": "2025-05-28",
            "direction": None,
            "words": [],
        }
    ]
    stored = Store("snapshots").load(HF_LEARNING, 2)
    assert pipeline.substantive(list(stored.changes)) == []  # never news
    assert stored.report.model_dump(exclude={"publication"}) == (
        Store("snapshots").load(HF_LEARNING, 1).report.model_dump(exclude={"publication"})
    )


@pytest.mark.parametrize(
    ("encoding", "content_type"),
    [
        ("cp1252", "text/html; charset=utf-8"),  # and its <meta charset> says utf-8 too
        ("cp1252", "text/html"),
        ("utf-8", "text/html; charset=iso-8859-1"),
    ],
    ids=["cp1252-labelled-utf8", "cp1252-unlabelled", "utf8-labelled-latin1"],
)
def test_a_page_in_the_wrong_charset_reads_the_same(
    workdir: Path, httpserver: HTTPServer, encoding: str, content_type: str
) -> None:
    page = Page(cqc_page(LEARNING_HF), HTML)
    httpserver.expect_request("/p").respond_with_handler(page)
    url = httpserver.url_for("/p")
    first = document(ingest(url))
    assert first["status"] == "new"

    page.body = cqc_page(LEARNING_HF).decode("utf-8").encode(encoding)
    page.content_type = content_type
    again = document(ingest(url))
    assert (again["status"], again["error"], again["version"]) == ("unchanged", None, 1)
    texts = [f["text"] for s in again["report"]["sections"] for f in s["findings"]]
    assert any("supported the local authority's decision" in text for text in texts)
    assert not [text for text in texts if "\ufffd" in text or "â€" in text]


def test_a_pdf_report_is_fetched_then_answered_304(workdir: Path, httpserver: HTTPServer) -> None:
    pdf = (ROOT / "tests/fixtures/ofsted/derbyshire-2024-01-12.pdf").read_bytes()
    page = Page(pdf, "application/octet-stream")  # as file servers often label PDFs
    httpserver.expect_request("/files/50240474").respond_with_handler(page)
    url = httpserver.url_for("/files/50240474")

    first = document(ingest(url))
    assert (first["status"], first["document"]) == ("new", "ofsted/derbyshire/ilacs")
    assert first["report"]["grades"]["Overall effectiveness"] == "Good"
    assert first["report"]["source"]["media_type"] == "application/pdf"
    assert document(ingest(url))["status"] == "unchanged"
    assert page.statuses == [200, 304]
    assert Store("snapshots").load("ofsted/derbyshire/ilacs", 1).meta.raw_file == "raw.pdf"


def test_a_url_list_file_is_watched(workdir: Path, httpserver: HTTPServer) -> None:
    httpserver.expect_request("/hf").respond_with_handler(Page(seed_text(LEARNING_HF)))
    httpserver.expect_request("/ealing").respond_with_handler(Page(seed_text(LEARNING_EALING)))
    Path("watch.txt").write_text(
        f"# two statement pages\n{httpserver.url_for('/hf')}\n{httpserver.url_for('/ealing')}\n"
    )
    Path("reportwatch.toml").write_text('[[source]]\nurls = "watch.txt"\n')
    assert statuses(ingest()) == [("new", None), ("new", None)]
    assert Store("snapshots").documents() == [
        "cqc/ealing/learning-improvement-and-innovation",
        HF_LEARNING,
    ]
