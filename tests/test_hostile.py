"""Hostile and broken input, end to end through `reportwatch ingest`: each is one line on stderr
naming the input and the reason, the rest of the run goes on (a changed seed is still stored),
and nothing stored before is touched.

Cases tested elsewhere are not repeated here: an empty, blank or binary file, a letter that is no
report, and a statement missing its score (quarantined) in test_cli.py; an error page served
with 200 as text in test_watch_urls.py; stalls, truncated and malformed responses, redirect
loops and the redirect rule itself in test_http.py.
"""

from __future__ import annotations

import gzip
import itertools
import json
import re
import time
import zlib
from collections.abc import Callable, Iterator
from functools import cache
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from pytest_httpserver import HTTPServer
from test_ofsted_pdf import encrypted, truncated
from werkzeug import Request, Response

from reportwatch.cli import main
from reportwatch.fetch import Fetched
from reportwatch.normalize import Defaults
from reportwatch.pipeline import parse

from conftest import LEARNING_HF, MARKDOWN_EXPORT, pdf_file, seed_text, store_files

MB = 1024 * 1024
NOT_A_REPORT = re.escape(
    "not a report reportwatch can read (no CQC score or Ofsted judgement found)"
)


def inflating_pdf(pages: int, content: bytes) -> bytes:
    """Return a PDF of `pages` pages, each drawing `content` as its own Flate-compressed content
    stream: a few KB on disk, `pages` x len(content) once inflated."""
    stream = zlib.compress(content, 9)
    objects = {1: b"<< /Type /Catalog /Pages 2 0 R >>"}
    kids = []
    for n in range(pages):
        page, contents = 3 + 2 * n, 4 + 2 * n
        kids.append(b"%d 0 R" % page)
        objects[page] = (
            b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents %d 0 R >>" % contents
        )
        objects[contents] = b"<< /Length %d /Filter /FlateDecode >>\nstream\n%s\nendstream" % (
            len(stream),
            stream,
        )
    objects[2] = b"<< /Type /Pages /Kids [%s] /Count %d >>" % (b" ".join(kids), pages)
    return pdf_file(objects)


def nested_html(depth: int) -> bytes:
    """Return a page whose only text sits `depth` elements deep, and is no report."""
    body = "<div><span>" * depth + "<p>Opening hours may vary.</p>"
    return f"<!DOCTYPE html><html><body>{body}</body></html>".encode()


FILE_CASES = [
    pytest.param("locked.pdf", lambda: encrypted("secret"), "encrypted PDF", id="encrypted-pdf"),
    pytest.param("cut.pdf", truncated, r"damaged PDF: .+", id="truncated-pdf"),
    pytest.param(
        "bomb.pdf",
        lambda: inflating_pdf(1, b" " * (300 * MB)),
        re.escape("PDF too large: a stream inflates past 4 MB (a decompression bomb?)"),
        id="pdf-bomb-300mb",
    ),
    pytest.param(
        "bombs.pdf",
        lambda: inflating_pdf(8, b"BT ET\n" * (3 * MB // 6)),
        re.escape("PDF too large: its pages' content inflates past 16 MB"),
        id="pdf-bomb-many-pages",
    ),
    pytest.param(
        "huge.html",
        lambda: b"<html><body>" + b"<p>Paragraph.</p>\n" * (21 * MB // 18),
        "HTML page larger than 20 MB",
        id="html-21mb",
    ),
    pytest.param("deep.html", lambda: nested_html(20_000), NOT_A_REPORT, id="html-nested-40000"),
    pytest.param(
        "cookies.html",
        lambda: b"<html><body><div id='cookie-banner'><p>We use cookies.</p></div></body></html>",
        "no report text on the page",
        id="html-no-report",
    ),
    pytest.param(
        "controls.txt",
        lambda: bytes(range(1, 32)) * 400,
        "binary file, not text",
        id="control-characters",
    ),
]


@pytest.fixture
def store(seeds_copy: Path) -> dict[str, bytes]:
    """Ingest the seeds, then change one (so the next run has a change to store); return the
    store's files as they were before that run."""
    assert CliRunner().invoke(main, ["ingest", "seeds"]).exit_code == 0
    seed = seeds_copy / MARKDOWN_EXPORT
    seed.write_text(seed.read_text() + "\nA finding added later.\n")
    return store_files(Path("snapshots"))


def assert_one_line_rest_goes_on(result: Result, location: str, reason: str) -> None:
    """Assert the run failed one input with one line matching `reason`, stored the changed seed,
    and touched nothing that was stored before (only new files: the changed seed's version and
    the failed input's failure count)."""
    assert result.exit_code == 1, result.output
    assert re.fullmatch(f"error: {re.escape(location)}: {reason}\n", result.stderr), result.stderr
    assert "0 new, 1 changed, 4 unchanged, 1 failed" in result.stdout


NOTIFIED = ("feed.", "notify/", "outbox/")
CHANGED_SEED = "cqc/unnamed-004-be58087aa61b4f94/learning-improvement-and-innovation"


def assert_untouched(before: dict[str, bytes]) -> None:
    """Assert every stored file is as it was, that what is new is the changed seed's version
    and input states, and that the one message sent is about the changed seed alone (the
    notification records, feed and ledgers, are rewritten for it)."""
    after = store_files(Path("snapshots"))
    kept = {name: data for name, data in before.items() if not name.startswith(NOTIFIED)}
    assert {name: after[name] for name in kept} == kept
    new = {name.rsplit("/", 1)[0] for name in set(after) - set(before)}
    assert new <= {f"documents/{CHANGED_SEED}", "sources", "outbox"}
    [message] = [
        json.loads(after[n])
        for n in set(after) - set(before)
        if n.endswith(".json") and n.startswith("outbox/")
    ]
    assert [event["id"] for event in message["events"]] == [f"{CHANGED_SEED}@v2"]


@pytest.mark.parametrize(("name", "make", "reason"), FILE_CASES)
def test_hostile_file(
    seeds_copy: Path,
    store: dict[str, bytes],
    name: str,
    make: Callable[[], bytes],
    reason: str,
) -> None:
    (seeds_copy / name).write_bytes(make())
    result = CliRunner().invoke(main, ["ingest", "seeds"])
    assert_one_line_rest_goes_on(result, f"seeds/{name}", reason)
    assert_untouched(store)


def endless(request: Request) -> Response:
    """A body that never ends."""
    return Response(itertools.repeat(b"<p>more</p>" * 1000), content_type="text/html")


def trickle(request: Request) -> Response:
    """A body sent a few bytes at a time, each soon enough to beat the read timeout."""

    def body() -> Iterator[bytes]:
        for _ in range(200):
            yield b"<p>."
            time.sleep(0.05)

    return Response(body(), content_type="text/html")


@cache
def gzip_bomb_body() -> bytes:
    """100 MB of spaces gzip-compressed (about 100 KB), compressed once before the tests: done
    while the run waited, it took up to a second, on a busy machine past the run's 1 s limit on
    a body, which the run then reported instead of the size."""
    return gzip.compress(b" " * (100 * MB))


@pytest.fixture(scope="module", autouse=True)
def bomb_compressed() -> None:
    """Compress the gzip bomb before a test's run asks for it (`gzip_bomb_body`)."""
    gzip_bomb_body()


def gzip_bomb(request: Request) -> Response:
    """100 MB of spaces sent gzip-compressed in about 100 KB."""
    return Response(
        gzip_bomb_body(),
        content_type="text/html",
        headers={"Content-Encoding": "gzip"},
    )


def error_page(request: Request) -> Response:
    """A 200 answer whose page says something went wrong."""
    page = "<html><head><title>Error</title></head><body><h1>Sorry</h1><p>Something went wrong. Please try again later.</p></body></html>"
    return Response(page, content_type="text/html")


def redirect_to(location: str) -> Callable[[Request], Response]:
    """A handler redirecting to `location`."""
    return lambda request: Response(status=302, headers={"Location": location})


URL_CASES = [
    pytest.param(endless, "response larger than 20 MB", id="endless-body"),
    pytest.param(trickle, re.escape("response too slow: body not read within 1s"), id="slow-body"),
    pytest.param(gzip_bomb, "response larger than 20 MB", id="gzip-bomb"),
    pytest.param(error_page, NOT_A_REPORT, id="html-error-page-200"),
    pytest.param(
        redirect_to("ftp://files.example/report.pdf"),
        re.escape("refused redirect to a non-http(s) URL (ftp)"),
        id="redirect-ftp",
    ),
    pytest.param(
        redirect_to("http://127.0.0.2:9/report"),
        "refused redirect to private address 127.0.0.2",
        id="redirect-private-unnamed",
    ),
]


@pytest.fixture
def fast_http(seeds_copy: Path) -> None:
    """Make the run's HTTP settings fast, as a sources file's [http] table sets them: no
    retries, no spacing, a 1 s limit on a body."""
    (seeds_copy.parent / "reportwatch.toml").write_text(
        "[http]\ntimeout = 2.0\nretries = 0\nmin_interval = 0.0\nmax_seconds = 1.0\n"
    )


@pytest.mark.parametrize(("handler", "reason"), URL_CASES)
def test_hostile_url(
    store: dict[str, bytes],
    fast_http: None,
    httpserver: HTTPServer,
    handler: Callable[[Request], Response],
    reason: str,
) -> None:
    httpserver.expect_request("/report").respond_with_handler(handler)
    url = httpserver.url_for("/report")
    result = CliRunner().invoke(main, ["ingest", url, "seeds"])
    assert_one_line_rest_goes_on(result, url, reason)
    assert_untouched(store)


def test_a_private_address_the_sources_name_may_be_redirected_to(
    seeds_copy: Path, fast_http: None, httpserver: HTTPServer
) -> None:
    other = HTTPServer(host="127.0.0.2")
    other.expect_request("/moved").respond_with_data(
        seed_text(LEARNING_HF), content_type="text/plain; charset=utf-8"
    )
    other.start()
    try:
        moved = other.url_for("/moved")
        httpserver.expect_request("/report").respond_with_handler(redirect_to(moved))
        Path("reportwatch.toml").write_text(
            f'[[source]]\nurl = "{httpserver.url_for("/report")}"\n\n[[source]]\nurl = "{moved}"\n'
        )
        result = CliRunner().invoke(main, ["ingest"])
    finally:
        other.clear()
        other.stop()
    assert (result.exit_code, result.stderr) == (0, "")
    assert "1 new, 0 changed, 1 unchanged, 0 failed" in result.stdout


def mixed(text: str) -> bytes:
    """UTF-8, but the first curly apostrophe pasted in as windows-1252."""
    return text.encode().replace("’".encode(), b"\x92", 1)


ENCODINGS = [
    pytest.param(mixed, id="utf8-with-a-cp1252-quote"),
    pytest.param(lambda text: text.encode("cp1252"), id="cp1252"),
    pytest.param(lambda text: text.encode("utf-16"), id="utf16-bom"),
    pytest.param(lambda text: b"\xef\xbb\xbf" + text.encode(), id="utf8-bom"),
]


@pytest.mark.parametrize("encode", ENCODINGS)
def test_a_report_in_a_legacy_or_mixed_encoding_reads_as_in_utf8(
    encode: Callable[[str], bytes],
) -> None:
    text = seed_text(LEARNING_HF)
    expected = parse(Fetched("page.txt", text.encode()), Defaults())
    assert parse(Fetched("page.txt", encode(text)), Defaults()) == expected


def test_invalid_utf8_bytes_do_not_stop_a_report_being_read() -> None:
    text = seed_text(LEARNING_HF)
    raw = text.encode().replace(b"workforce strategy", b"workforce \xff\xfe strategy", 1)
    report = parse(Fetched("page.txt", raw), Defaults())
    first = report.sections[0].findings[0].text
    assert first.startswith("The local authority had a workforce ÿþ strategy with")
