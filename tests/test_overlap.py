"""Overlapping runs: two real `reportwatch ingest` processes over the same sources and store.

The first run holds the store's lock for its whole run (here: while a loopback server holds its
first request). The second says on stderr that it waits, waits, then runs against what the first
stored; with `--lock-timeout` (or REPORTWATCH_LOCK_TIMEOUT) it gives up after that many seconds
with one line and exit status 2. Either way every version is stored exactly once.
"""

from __future__ import annotations

import subprocess
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from reportwatch.cli import main
from reportwatch.errors import StoreError
from reportwatch.store import Store

from conftest import LEARNING_EALING, seed_text, start_reportwatch
from notify_receivers import Webhook

WAITING = "store: another reportwatch run holds the store; waiting up to 600s for it\n"


class HeldPage:
    """A page whose first request is held until the test releases it; notes each request's
    If-None-Match header."""

    def __init__(self, body: str) -> None:
        self.body = body
        self.arrived = threading.Event()
        self.release = threading.Event()
        self.conditions: list[str | None] = []

    def __call__(self, request: Request) -> Response:
        self.conditions.append(request.headers.get("If-None-Match"))
        if not self.arrived.is_set():
            self.arrived.set()
            self.release.wait(60)
        if request.headers.get("If-None-Match") == '"v1"':
            return Response(status=304, headers={"ETag": '"v1"'})
        return Response(
            self.body, content_type="text/plain; charset=utf-8", headers={"ETag": '"v1"'}
        )


@pytest.fixture
def page(httpserver: HTTPServer) -> Iterator[HeldPage]:
    """A held page at /report on the test's loopback server; released when the test ends."""
    held = HeldPage(seed_text(LEARNING_EALING).replace("Ealing", "Barnet"))
    httpserver.expect_request("/report").respond_with_handler(held)
    yield held
    held.release.set()


@pytest.fixture
def first_run(
    seeds_copy: Path, httpserver: HTTPServer, page: HeldPage
) -> Iterator[subprocess.Popen[str]]:
    """A run over the held URL and the seeds, started and now holding the store's lock (its
    request is held at the server)."""
    proc = start_reportwatch(
        "ingest", httpserver.url_for("/report"), "seeds", "--store", "store", cwd=seeds_copy.parent
    )
    try:
        assert page.arrived.wait(30), "the first run never fetched its URL"
        yield proc
    finally:
        page.release.set()
        if proc.poll() is None:
            proc.communicate(timeout=60)


def versions(store: Path) -> dict[str, list[int]]:
    """Return each stored document's version numbers."""
    opened = Store(store)
    return {key: opened.versions(key) for key in opened.documents()}


@pytest.fixture
def hooked(seeds_copy: Path, webhook: Webhook) -> Webhook:
    """A reportwatch.toml beside the seeds whose one channel is a JSON webhook on loopback."""
    (seeds_copy.parent / "reportwatch.toml").write_text(
        f'[[channel]]\nname = "hook"\nurl = "{webhook.url}"\n'
    )
    return webhook


def test_second_run_waits_for_the_first_then_finds_nothing_new(
    seeds_copy: Path,
    httpserver: HTTPServer,
    page: HeldPage,
    hooked: Webhook,
    first_run: subprocess.Popen[str],
) -> None:
    url = httpserver.url_for("/report")
    second = start_reportwatch("ingest", url, "seeds", "--store", "store", cwd=seeds_copy.parent)
    assert second.stderr is not None
    assert second.stderr.readline() == WAITING  # it is at the lock, the first run holds it
    page.release.set()

    first_out, first_err = first_run.communicate(timeout=60)
    second_out, second_err = second.communicate(timeout=60)

    assert (first_run.returncode, first_err) == (0, "")
    assert first_out.endswith(
        "6 new, 0 changed, 0 unchanged, 0 failed\n\n"
        "notified hook: 1 message, 6 events → json://127.0.0.1/…\n"
        "notified feed: 1 message, 6 events → store/feed.atom\n"
    )
    assert [len(n["events"]) for n in hooked.notifications()] == [6]  # once, not twice
    assert (second.returncode, second_err) == (0, "")
    assert second_out.endswith("0 new, 0 changed, 6 unchanged, 0 failed\nno changes\n")
    assert page.conditions == [None, '"v1"']  # the second run sent what the first one stored
    assert set(map(tuple, versions(seeds_copy.parent / "store").values())) == {(1,)}
    assert len(versions(seeds_copy.parent / "store")) == 6
    check = CliRunner().invoke(main, ["check", "--store", str(seeds_copy.parent / "store")])
    assert check.exit_code == 0


@pytest.mark.parametrize("how", ["option", "environment"])
def test_second_run_with_a_lock_timeout_gives_up_with_one_line(
    seeds_copy: Path,
    httpserver: HTTPServer,
    page: HeldPage,
    first_run: subprocess.Popen[str],
    how: str,
) -> None:
    args = ["ingest", httpserver.url_for("/report"), "seeds", "--store", "store"]
    if how == "option":
        second = start_reportwatch(*args, "--lock-timeout", "0", cwd=seeds_copy.parent)
    else:
        second = start_reportwatch(*args, cwd=seeds_copy.parent, REPORTWATCH_LOCK_TIMEOUT="0")
    out, err = second.communicate(timeout=60)

    assert (second.returncode, out) == (2, "")
    assert err == "error: store: another reportwatch run holds the store; gave up after 0s\n"
    page.release.set()
    first_out, _ = first_run.communicate(timeout=60)
    assert first_run.returncode == 0
    assert "6 new, 0 changed, 0 unchanged, 0 failed\n" in first_out
    assert set(map(tuple, versions(seeds_copy.parent / "store").values())) == {(1,)}


def test_a_lock_timeout_that_is_no_number_is_a_clear_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("REPORTWATCH_LOCK_TIMEOUT", "soon")
    error = r"^REPORTWATCH_LOCK_TIMEOUT='soon': not a number of seconds$"
    with pytest.raises(StoreError, match=error), Store(tmp_path / "store").locked():
        pass
    result = CliRunner().invoke(main, ["ingest", "seeds", "--store", str(tmp_path / "store")])
    assert result.exit_code == 2
    assert "Invalid value for '--lock-timeout'" in result.stderr
