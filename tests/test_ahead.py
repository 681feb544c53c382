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
from reportwatch import prefetch
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


@pytest.mark.parametrize("pool_min", [1, 10_000], ids=["parse-processes", "parse-in-process"])
def test_fetching_ahead_stores_what_one_at_a_time_stores(
    served: tuple[CorpusServer, list[str]],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    pool_min: int,
) -> None:
    monkeypatch.setattr(prefetch, "POOL_MIN_URLS", pool_min)
    server, urls = served
    ahead, plain = Store(tmp_path / "ahead"), Store(tmp_path / "plain")
    for phase in PHASES:
        server.switch(STATE_OF_PHASE[phase])
        expected = one_at_a_time(plain, urls)
        got = ingest([Item(url) for url in urls], ahead, now=NOW, http=SETTINGS).outcomes
        assert got == expected, phase
        assert store_files(ahead.root) == store_files(plain.root), phase
    assert [o.status for o in got[-2:]] == ["unchanged", "failed"]
