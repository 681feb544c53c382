"""`benchmarks.floor` sends an unchanged corpus's conditional requests through a fetch process
alone: every one must come back a 304, as in the ingest it is set against; a pair is measured
only over a store a cold run filled, and only when its ingest ended well. No timing here."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from benchmarks import floor
from benchmarks.corpus import write_corpus
from benchmarks.floor import fetch_alone, pairs, table
from benchmarks.server import CorpusServer
from benchmarks.tools import Reportwatch


def test_fetch_alone_gets_a_304_for_every_document_a_cold_run_stored(tmp_path: Path) -> None:
    write_corpus(tmp_path / "corpus", 2)
    paths = json.loads((tmp_path / "corpus" / "truth.json").read_text())["paths"]
    server = CorpusServer(tmp_path / "corpus").start()
    try:
        server.switch(0)
        cold = Reportwatch(tmp_path / "work", server.base, paths).run("cold")
        before = dict(server.requests)
        alone = fetch_alone(tmp_path / "work")
        answered = {k: v - before.get(k, 0) for k, v in server.requests.items()}
    finally:
        server.stop()
    assert (cold.exit_code, cold.new) == (0, 22)
    assert alone["not_modified"] == 22
    assert {k: v for k, v in answered.items() if v} == {"304": 22}
    assert sorted(alone) == ["cpu", "not_modified", "wall"]


def test_pairs_set_each_unchanged_ingest_beside_its_fetch_process_alone(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(floor, "settle", lambda delete: None)  # no fresh inodes needed here

    found = pairs(tmp_path, 2, 2)

    assert [pair["not_modified"] for pair in found] == [22, 22]
    assert all(
        sorted(pair) == ["cpu", "ingest", "ingest_cpu", "not_modified", "wall"] for pair in found
    )
    logs = sorted(p.name for p in (tmp_path / "floor-2").glob("*.log"))
    assert logs == ["cold.log", "unchanged.log"]


def test_pairs_stop_when_the_cold_run_fails(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(floor, "settle", lambda delete: None)
    (tmp_path / "floor-2").mkdir()
    (tmp_path / "floor-2" / "snapshots").write_text("not a store")  # the store cannot be made
    log = tmp_path / "floor-2" / "cold.log"

    with pytest.raises(RuntimeError) as failure:
        pairs(tmp_path, 2, 2)

    assert re.fullmatch(
        rf"the cold run went wrong \(exit 2, -1 inputs failed, 0 new of 22, 0 alerts\); see {log}",
        str(failure.value),
    )


def test_table_gives_each_pair_and_the_medians() -> None:
    found = [
        {"ingest": 1.2, "ingest_cpu": 1.5, "wall": 0.75, "cpu": 0.7, "not_modified": 1683},
        {"ingest": 1.1, "ingest_cpu": 1.4, "wall": 0.71, "cpu": 0.69, "not_modified": 1683},
        {"ingest": 1.3, "ingest_cpu": 1.6, "wall": 0.8, "cpu": 0.72, "not_modified": 1683},
    ]
    assert table(found).splitlines() == [
        "| pair | ingest wall s | ingest CPU s | fetch alone wall s | fetch alone CPU s | 304s |",
        "|---|---:|---:|---:|---:|---:|",
        "| 1 | 1.20 | 1.50 | 0.75 | 0.70 | 1683 |",
        "| 2 | 1.10 | 1.40 | 0.71 | 0.69 | 1683 |",
        "| 3 | 1.30 | 1.60 | 0.80 | 0.72 | 1683 |",
        "| median | 1.20 | 1.50 | 0.75 | 0.70 |  |",
    ]
