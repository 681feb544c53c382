"""Fetching and parsing ahead (`prefetch.Ahead`, what `pipeline.ingest` runs URLs through) must
store exactly what running each input one at a time stores: the same versions, change records,
per-input state and outcomes, phase after phase, a URL listed twice and a missing one included."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from benchmarks.corpus import PHASES, STATE_OF_PHASE, write_corpus
from benchmarks.server import CorpusServer
from reportwatch import prefetch, processes, store_commit
from reportwatch.http import Fetcher, HttpSettings
from reportwatch.pipeline import Outcome, ingest, ingest_item
from reportwatch.sources import Item
from reportwatch.store import Store

from conftest import store_files

SETTINGS = HttpSettings(min_interval=0.0, retries=0)
NOW = datetime(2026, 3, 1, 9, 30, tzinfo=UTC)


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[CorpusServer, list[str]]]:
    """Serve a two-authority corpus (22 documents) on loopback; yield the server and the URLs
    a run ingests: every document, the first listed again at the end, and one missing page."""
    folder = tmp_path_factory.mktemp("corpus")
    write_corpus(folder, 2)
    paths = json.loads((folder / "truth.json").read_text())["paths"]
    server = CorpusServer(folder).start()
    try:
        urls = [server.base + p for p in paths]
        yield server, [*urls, urls[0], server.base + "/no/such/page"]
    finally:
        server.stop()


def one_at_a_time(store: Store, urls: list[str]) -> list[Outcome]:
    """Return the outcomes of ingesting each URL in turn, nothing fetched ahead."""
    with Fetcher(SETTINGS) as fetcher, store.locked():
        return [ingest_item(store, Item(url), NOW, fetcher) for url in urls]


@pytest.mark.parametrize(
    ("pool_min", "fork", "commit_every"),
    [(1, True, 200), (1, False, 200), (10_000, False, 200), (1, True, 3)],
    ids=[
        "parse-forked-processes",
        "parse-spawned-processes",
        "parse-in-process",
        "commits-in-the-background",
    ],
)
def test_fetching_ahead_stores_what_one_at_a_time_stores(
    served: tuple[CorpusServer, list[str]],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    pool_min: int,
    fork: bool,
    commit_every: int,
) -> None:
    # workers are forked only when the run's process has no other thread: here the loopback
    # server's threads run beside the test, so the choice is made for it. With a commit every
    # 3 versions, group commits run on the committer thread while the run goes on recording.
    monkeypatch.setattr(store_commit, "COMMIT_EVERY", commit_every)
    monkeypatch.setattr(prefetch, "POOL_MIN_URLS", pool_min)
    monkeypatch.setattr(processes, "can_fork", lambda: fork)
    methods: list[str] = []
    context = processes.multiprocessing.get_context
    monkeypatch.setattr(
        processes.multiprocessing, "get_context", lambda m: methods.append(m) or context(m)
    )
    server, urls = served
    ahead, plain = Store(tmp_path / "ahead"), Store(tmp_path / "plain")
    for phase in PHASES:
        server.switch(STATE_OF_PHASE[phase])
        expected = one_at_a_time(plain, urls)
        got = ingest([Item(url) for url in urls], ahead, now=NOW, http=SETTINGS).outcomes
        assert got == expected, phase
        assert store_files(ahead.root) == store_files(plain.root), phase
    assert [o.status for o in got[-2:]] == ["unchanged", "failed"]
    assert set(methods) == ({"fork" if fork else "spawn"} if pool_min == 1 else set())


def mirrored(folder: Path) -> str:
    """Add `/mirror` to every state of a corpus: in each, the page a document's URL serves in
    the changed phase (a later version of it); return that document's path."""
    truth = json.loads((folder / "truth.json").read_text())
    path = next(iter(truth["phases"]["changed"]))
    later = json.loads((folder / "state-2" / "index.json").read_text())[path]
    for state in sorted(folder.glob("state-*")):
        index = json.loads((state / "index.json").read_text())
        mirror = state / "files" / "mirror"
        mirror.write_bytes((folder / "state-2" / "files" / later["file"]).read_bytes())
        index["/mirror"] = {**later, "file": mirror.name}
        (state / "index.json").write_text(json.dumps(index))
    return str(path)


@pytest.fixture
def mirror(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[str, str, str]]:
    """Serve a two-authority corpus with `/mirror` (`mirrored`) on loopback, parsed ahead in
    worker processes; yield the document's URL, the mirror's URL and the document's change
    kinds in the changed phase."""
    monkeypatch.setattr(prefetch, "POOL_MIN_URLS", 1)
    write_corpus(tmp_path / "corpus", 2)
    path = mirrored(tmp_path / "corpus")
    kinds = json.loads((tmp_path / "corpus" / "truth.json").read_text())["phases"]["changed"]
    server = CorpusServer(tmp_path / "corpus").start()
    server.switch(0)
    try:
        yield server.base + path, server.base + "/mirror", kinds[path]
    finally:
        server.stop()


@pytest.mark.parametrize("commit_every", [200, 1], ids=["one-commit", "a-commit-a-version"])
def test_two_urls_of_one_document_parsed_ahead_are_versions_one_after_the_other(
    mirror: tuple[str, str, str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch, commit_every: int
) -> None:
    # both URLs are parsed and diffed in worker processes against the store as it was (no
    # version): the second must be diffed again against the first once that is stored, or
    # while it is being committed in the background
    monkeypatch.setattr(store_commit, "COMMIT_EVERY", commit_every)
    page, copy, kinds = mirror
    ahead, plain = Store(tmp_path / "ahead"), Store(tmp_path / "plain")
    expected = one_at_a_time(plain, [page, copy])
    got = ingest([Item(page), Item(copy)], ahead, now=NOW, http=SETTINGS).outcomes
    assert [(o.status, o.version) for o in got] == [("new", 1), ("changed", 2)]
    assert sorted({c.kind.value for c in got[1].changes} - {"republished"}) == kinds
    assert got == expected
    assert store_files(ahead.root) == store_files(plain.root)


def test_an_input_that_answers_304_shows_the_version_written_before_it_in_the_run(
    mirror: tuple[str, str, str], tmp_path: Path
) -> None:
    # the 304's latest report is read ahead, before any URL is fetched, so before the URL listed
    # first stores a newer version of the same document: the run must show that newer one
    page, copy, _ = mirror
    ahead, plain = Store(tmp_path / "ahead"), Store(tmp_path / "plain")
    ingest([Item(page)], ahead, now=NOW, http=SETTINGS)
    one_at_a_time(plain, [page])
    expected = one_at_a_time(plain, [copy, page])
    got = ingest([Item(copy), Item(page)], ahead, now=NOW, http=SETTINGS).outcomes
    assert [(o.status, o.version) for o in got] == [("changed", 2), ("unchanged", 2)]
    assert got == expected
    assert store_files(ahead.root) == store_files(plain.root)
