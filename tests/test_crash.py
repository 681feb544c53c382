"""Crash at any point: a real `reportwatch ingest` process is killed with SIGKILL at each named
checkpoint of a run (reportwatch.faults) and at a few timed moments; afterwards the store passes
`reportwatch check`, holds no half-written version, and the next run leaves it exactly as an
uninterrupted run would have.

Each case starts from the store of the seeds and ingests: two URLs on loopback servers (one a
changed document, one new), then a folder of files (two changed documents, one unchanged).
"""

from __future__ import annotations

import json
import re
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from reportwatch import faults
from reportwatch.cli import main

from conftest import (
    GOVERNANCE_HF,
    LEARNING_EALING,
    LEARNING_HF,
    MARKDOWN_EXPORT,
    OFSTED_NEWS,
    SEEDS,
    process_env,
    seed_text,
    start_reportwatch,
    store_files,
)

SRC = Path(__file__).resolve().parent.parent / "src" / "reportwatch"

# kill points beyond the first arrival at each checkpoint: the N-th time it is reached
LATER_ARRIVALS = ["fetch.done:4", "version.renamed:3", "atomic.before-rename:2", "state.written:2"]
# seconds after the process's first HTTP request (its sign of life) at which it is killed
TIMED_KILLS = [0.0, 0.02, 0.08, 0.25]


class Page:
    """A text page served with an ETag; answers a matching If-None-Match with 304, and notes
    when a request first arrives."""

    def __init__(self, body: str) -> None:
        self.body = body
        self.arrived = threading.Event()

    def __call__(self, request: Request) -> Response:
        self.arrived.set()
        etag = f'"{len(self.body)}"'
        if request.headers.get("If-None-Match") == etag:
            return Response(status=304, headers={"ETag": etag})
        return Response(self.body, content_type="text/plain; charset=utf-8", headers={"ETag": etag})


@contextmanager
def served(host: str, page: Page) -> Iterator[str]:
    """Serve `page` at /report on `host`; yield the page's URL."""
    server = HTTPServer(host=host, threaded=True)
    server.expect_request("/report").respond_with_handler(page)
    server.start()
    try:
        yield server.url_for("/report")
    finally:
        server.clear()
        server.stop()


EALING_CHANGED = Page(seed_text(LEARNING_EALING).replace("Score: 3\n3 -", "Score: 2\n2 -"))
EALING_GOVERNANCE = Page(
    seed_text(GOVERNANCE_HF).replace("Hammersmith and Fulham", "London Borough of Ealing", 1)
)


@pytest.fixture(scope="module")
def urls() -> Iterator[list[str]]:
    """Two URLs on two loopback hosts (so the per-host spacing of requests does not slow the
    run): a changed Ealing statement, and a new one."""
    with (
        served("127.0.0.1", EALING_CHANGED) as first,
        served("127.0.0.2", EALING_GOVERNANCE) as second,
    ):
        yield [first, second]


@pytest.fixture(scope="module")
def workspace(tmp_path_factory: pytest.TempPathFactory, urls: list[str]) -> Path:
    """A folder holding `base` (the store of the seeds), `inputs/` (two changed documents, one
    unchanged) and `reference` (the store after an uninterrupted run over the URLs and inputs)."""
    root = tmp_path_factory.mktemp("crash")
    inputs = root / "inputs"
    inputs.mkdir()
    (inputs / LEARNING_HF).write_text(
        seed_text(LEARNING_HF).replace("Score: 2\n2 -", "Score: 3\n3 -")
    )
    (inputs / MARKDOWN_EXPORT).write_text(seed_text(MARKDOWN_EXPORT) + "\nA finding added later.\n")
    shutil.copy(SEEDS / OFSTED_NEWS, inputs / OFSTED_NEWS)
    assert invoke(root, "ingest", str(SEEDS), "--store", "base").exit_code == 0
    shutil.copytree(root / "base", root / "reference")
    result = invoke(root, *run_args(urls, "reference"))
    assert result.exit_code == 0, result.output
    assert "1 new, 3 changed, 1 unchanged, 0 failed" in result.stdout
    return root


def invoke(cwd: Path, *args: str) -> Result:
    """Return the result of `reportwatch ARGS` run in this process in `cwd`."""
    with pytest.MonkeyPatch.context() as patch:
        patch.chdir(cwd)
        return CliRunner().invoke(main, list(args), catch_exceptions=False)


def run_args(urls: list[str], store: str) -> list[str]:
    """Return the arguments of the run under test: the URLs first, then the inputs folder."""
    return ["ingest", *urls, "inputs", "--store", store]


NOTIFIED = ("outbox/", "feed.", "notify/")
# what an interrupted run leaves (a file being written, a format-1 version's folder): readers skip it,
# the next run removes it; the clean mark says the last run finished
VERSION = re.compile(r"/v\d{4}\.json$")
RAW = re.compile(r"^(.*/v\d{4})\.raw\.[a-z]+$")
UNFINISHED = re.compile(r"(^|/)\.tmp-[0-9a-f]{32}/|(^|/)\.[^/]+\.[0-9a-f]{32}\.tmp$|^\.clean$")


def comparable(files: dict[str, bytes]) -> dict[str, object]:
    """Return a store's files with the moments of runs left out (when a version was ingested,
    when an input last succeeded) and what an interrupted run leaves: what must be equal between
    two runs over the same input.
    What was notified is compared by `notified`: its files name times and the store's path."""
    out: dict[str, object] = {}
    for name, data in files.items():
        if name.startswith(NOTIFIED) or UNFINISHED.search(name):
            continue
        if VERSION.search(name) or name.startswith("sources/"):
            fields = json.loads(data)
            for moment in ("ingested_at", "succeeding_since", "last_failure_at"):
                fields.get("meta", fields).pop(moment, None)
            out[name] = fields
        else:
            out[name] = data
    return out


def assert_sound_after_crash(store: Path, reference: dict[str, object]) -> None:
    """Assert what must hold right after a kill: `check` passes, and every version a reader
    would see is complete and equal to the uninterrupted run's."""
    result = invoke(store.parent, "check", "--store", store.name)
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines()[-1].endswith(": ok")
    seen = comparable(store_files(store))
    versions = {n for n in seen if VERSION.search(n)}
    versions |= {n for n in seen if (raw := RAW.search(n)) and f"{raw.group(1)}.json" in seen}
    assert versions, "the crash must leave the seeds' versions in place"
    assert {n: seen[n] for n in versions} == {n: reference[n] for n in versions}


def notified(store: Path) -> tuple[list[str], list[str], dict[str, int]]:
    """Return what a store's channels were sent: every event id in the outbox's messages (one
    entry each time it was sent), the feed's entry ids, and the outbox ledger's versions."""
    events = sorted(
        event["id"]
        for path in (store / "outbox").glob("*.json")
        for event in json.loads(path.read_text())["events"]
    )
    feed = sorted(entry["id"] for entry in json.loads((store / "feed.json").read_text()))
    handled = json.loads((store / "notify/outbox.json").read_text())["handled"]
    return events, feed, handled


def resume_and_compare(case: Path, workspace: Path, urls: list[str]) -> None:
    """Run again, uninterrupted, and assert the store is now the uninterrupted run's, and that
    every change was notified exactly once, as the uninterrupted run notified it."""
    result = invoke(case, *run_args(urls, "store"))
    assert result.exit_code == 0, result.output
    assert [n for n in store_files(case / "store") if UNFINISHED.search(n)] == [".clean"]
    assert comparable(store_files(case / "store")) == comparable(
        store_files(workspace / "reference")
    )
    assert invoke(case, "check", "--store", "store").exit_code == 0
    assert notified(case / "store") == notified(workspace / "reference")


@pytest.fixture
def case(workspace: Path, tmp_path: Path) -> Path:
    """A fresh copy of the seeds' store and the inputs, in a folder of this test's own."""
    shutil.copytree(workspace / "base", tmp_path / "store")
    shutil.copytree(workspace / "inputs", tmp_path / "inputs")
    return tmp_path


@pytest.mark.parametrize("crash_at", [*faults.CHECKPOINTS, *LATER_ARRIVALS])
def test_killed_at_a_checkpoint(
    case: Path, workspace: Path, urls: list[str], crash_at: str
) -> None:
    proc = start_reportwatch(*run_args(urls, "store"), cwd=case, REPORTWATCH_CRASH_AT=crash_at)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == -signal.SIGKILL, f"never reached {crash_at}: {err}"
    reference = comparable(store_files(workspace / "reference"))
    assert_sound_after_crash(case / "store", reference)
    resume_and_compare(case, workspace, urls)


@pytest.mark.parametrize("delay", TIMED_KILLS)
def test_killed_at_a_timed_moment(
    case: Path, workspace: Path, urls: list[str], delay: float
) -> None:
    EALING_CHANGED.arrived.clear()
    proc = start_reportwatch(*run_args(urls, "store"), cwd=case)
    try:
        assert EALING_CHANGED.arrived.wait(30), "the run never fetched its first URL"
        time.sleep(delay)
        proc.send_signal(signal.SIGKILL)  # a no-op if it has already finished
        proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
    reference = comparable(store_files(workspace / "reference"))
    assert_sound_after_crash(case / "store", reference)
    resume_and_compare(case, workspace, urls)


def test_every_checkpoint_in_the_code_is_listed_and_every_listed_one_is_in_the_code() -> None:
    called = set()
    for path in set(SRC.rglob("*.py")) - {SRC / "faults.py"}:
        called |= set(re.findall(r'checkpoint\("([^"]+)"\)', path.read_text()))
    assert called == set(faults.CHECKPOINTS)
    for name in faults.CHECKPOINTS:
        assert f"    {name} " in faults.__doc__  # documented


@pytest.mark.parametrize(
    ("setting", "output", "killed"),
    [
        ("", "1 2 3 ", False),
        ("three", "1 2 3 ", False),  # a checkpoint never reached
        ("two", "1 ", True),
        ("two:2", "1 2 ", True),
        ("one:3", "1 2 3 ", True),
    ],
)
def test_checkpoint_kills_only_on_the_arrival_asked_for(
    setting: str, output: str, killed: bool
) -> None:
    script = (
        "from reportwatch.faults import checkpoint\n"
        "for n in (1, 2, 3):\n"
        "    print(n, end=' ', flush=True)\n"
        "    checkpoint('one')\n"
        "    checkpoint('two')\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script],
        env=process_env(REPORTWATCH_CRASH_AT=setting),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert (done.stdout, done.returncode) == (output, -signal.SIGKILL if killed else 0)


def test_a_message_accepted_just_before_a_kill_is_sent_again_marked_as_such(
    case: Path, urls: list[str]
) -> None:
    proc = start_reportwatch(
        *run_args(urls, "store"), cwd=case, REPORTWATCH_CRASH_AT="notify.after-send"
    )
    proc.communicate(timeout=60)
    assert proc.returncode == -signal.SIGKILL
    assert invoke(case, *run_args(urls, "store")).exit_code == 0
    messages = [json.loads(p.read_text()) for p in (case / "store/outbox").glob("*.json")]
    marks = sorted((len(m["events"]), [e["resent"] for e in m["events"]]) for m in messages)
    assert marks == [(4, [True] * 4), (5, [False] * 5)]
