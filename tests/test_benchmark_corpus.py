"""The benchmark's corpus (benchmarks/) is what its figures rest on: its truth file must say what
changed, and reportwatch's alerts over it, served from loopback, must match that truth exactly.
No timing here: the benchmark itself measures; this checks that what it measures is right."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from benchmarks.corpus import PHASES, STATE_OF_PHASE, build_world, documents, write_corpus
from benchmarks.server import CorpusServer
from reportwatch.http import Fetcher, HttpSettings
from reportwatch.pipeline import Outcome, ingest_item, substantive
from reportwatch.sources import Item
from reportwatch.store import Store

AUTHORITIES = 2
KINDS = {
    "score_changed",
    "rating_changed",
    "grade_changed",
    "finding_reworded",
    "finding_added",
    "finding_removed",
    "improvement_added",
}


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict]:
    """Write a two-authority corpus (22 documents); return its folder and truth."""
    folder = tmp_path_factory.mktemp("corpus")
    write_corpus(folder, AUTHORITIES)
    return folder, json.loads((folder / "truth.json").read_text())


@pytest.fixture(scope="module")
def phases(
    corpus: tuple[Path, dict], tmp_path_factory: pytest.TempPathFactory
) -> Iterator[dict[str, dict[str, Outcome]]]:
    """Serve the corpus on loopback and ingest every URL in each phase in turn, into one store
    (the pipeline's own `ingest_item`, with no politeness wait); return path -> outcome per phase,
    and the server's status counts per phase under 'requests'."""
    folder, truth = corpus
    server = CorpusServer(folder).start()
    store = Store(tmp_path_factory.mktemp("store"))
    fetcher = Fetcher(HttpSettings(min_interval=0.0, retries=0))
    seen: dict[str, dict[str, Outcome]] = {}
    try:
        for phase in PHASES:
            server.switch(STATE_OF_PHASE[phase])
            before = dict(server.requests)
            with store.locked():
                outcomes = {
                    path: ingest_item(store, Item(server.base + path), datetime.now(UTC), fetcher)
                    for path in truth["paths"]
                }
            seen[phase] = outcomes
            seen[f"{phase} requests"] = {k: v - before[k] for k, v in server.requests.items()}  # type: ignore[assignment]
        yield seen
    finally:
        fetcher.close()
        server.stop()


def alerts(outcomes: dict[str, Outcome]) -> dict[str, set[str]]:
    """Return path -> the kinds of the changes of substance, for documents that have any."""
    found = {
        path: {c.kind.value for c in substantive(o.changes)}
        for path, o in outcomes.items()
        if o.status == "changed"
    }
    return {path: kinds for path, kinds in found.items() if kinds}


def test_truth_file_names_every_document_and_what_changed(corpus: tuple[Path, dict]) -> None:
    _, truth = corpus
    assert truth["documents"] == len(truth["paths"]) == 22
    assert (
        truth["phases"]["cold"] == truth["phases"]["unchanged"] == truth["phases"]["chrome"] == {}
    )
    changed = truth["phases"]["changed"]
    assert changed and set(changed) <= set(truth["paths"])
    assert all(kinds and set(kinds) <= KINDS for kinds in changed.values())


def test_every_document_parses_to_its_exact_scores_and_grades(phases: dict) -> None:
    world = build_world(AUTHORITIES)
    for path, authority, kind, doc in documents(world):
        report = phases["cold"][path].report
        assert phases["cold"][path].status == "new", phases["cold"][path].error
        assert report is not None and report.authority == authority
        if kind == "statement":
            assert (report.statement, report.score and report.score.value) == (
                doc["statement"],
                doc["score"],
            )
        elif kind == "summary":
            assert (report.statement_scores, report.overall_rating) == (
                doc["scores"],
                doc["rating"],
            )
        else:
            assert report.grades == doc["grades"]


@pytest.mark.parametrize(
    ("phase", "statuses", "answers"),
    [
        ("unchanged", {"unchanged": 22}, {"200": 0, "304": 22, "404": 0}),
        ("chrome", {"republished": 20, "unchanged": 2}, {"200": 20, "304": 2, "404": 0}),
    ],
)
def test_quiet_phases_raise_no_alert(
    phases: dict, phase: str, statuses: dict, answers: dict
) -> None:
    outcomes = phases[phase]
    counts: dict[str, int] = {}
    for outcome in outcomes.values():
        counts[outcome.status] = counts.get(outcome.status, 0) + 1
    assert counts == statuses  # chrome phase: HTML pages republished (low), PDFs answer 304
    assert phases[f"{phase} requests"] == answers
    assert alerts(outcomes) == {}


def test_changed_phase_alerts_exactly_the_changed_documents_with_the_right_kinds(
    corpus: tuple[Path, dict], phases: dict
) -> None:
    _, truth = corpus
    found = alerts(phases["changed"])
    expected = truth["phases"]["changed"]
    assert set(found) == set(expected)  # precision = recall = 1
    for path, kinds in expected.items():
        assert set(kinds) <= found[path], path  # a score change is named a score change
