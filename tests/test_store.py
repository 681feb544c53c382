"""The snapshot store: atomic versions, its format number, and re-deriving history (reparse)."""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from pytest_httpserver import HTTPServer

from reportwatch import store_commit, store_files
from reportwatch.cli import main
from reportwatch.errors import StoreError
from reportwatch.http import Fetcher
from reportwatch.http_settings import HttpSettings
from reportwatch.normalize import PARSER_VERSION
from reportwatch.pipeline import ingest_item
from reportwatch.sources import Item
from reportwatch.store import Store
from reportwatch.store_files import to_json
from reportwatch.store_format import current_format

from conftest import LEARNING_HF, edit_json

HF_LEARNING = "cqc/hammersmith-and-fulham/learning-improvement-and-innovation"
EALING_WEST = "cqc/ealing-west/learning-improvement-and-innovation"
NOW = datetime(2026, 11, 22, tzinfo=UTC)


def invoke(*args: str) -> tuple[int, str, str]:
    """Return exit status, stdout and stderr of `reportwatch ARGS`."""
    result = CliRunner().invoke(main, list(args))
    return result.exit_code, result.stdout, result.stderr


class PowerCut(BaseException):
    """Stands for the process dying mid-write (click would swallow KeyboardInterrupt)."""


def test_interrupted_version_write_leaves_no_version(
    seeds_copy: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    invoke("ingest", "seeds")
    (seeds_copy / LEARNING_HF).write_text((seeds_copy / LEARNING_HF).read_text() + "\nNew text.\n")
    real_write = store_files.write_new

    def cut_mid_version(path: Path, data: bytes) -> None:
        if path.name.startswith(".v0002.json."):
            real_write(path, data[: len(data) // 2])
            raise PowerCut
        real_write(path, data)

    monkeypatch.setattr(store_files, "write_new", cut_mid_version)
    with pytest.raises(PowerCut):
        CliRunner().invoke(main, ["ingest", f"seeds/{LEARNING_HF}"], catch_exceptions=False)
    monkeypatch.setattr(store_files, "write_new", real_write)
    document = Path("snapshots/documents") / HF_LEARNING
    assert sorted(p.name for p in document.iterdir()) == ["v0001.json", "v0001.raw.txt"]
    status, out, _ = invoke("ingest", f"seeds/{LEARNING_HF}")
    assert status == 0 and "changed (v2)" in out


def test_leftover_temporary_folder_is_ignored_by_readers(seeds_copy: Path) -> None:
    invoke("ingest", "seeds")
    document = Path("snapshots/documents") / HF_LEARNING
    (document / ".tmp-deadbeefdeadbeefdeadbeefdeadbeef").mkdir()
    (document / ".tmp-deadbeefdeadbeefdeadbeefdeadbeef" / "raw.txt").write_text("half")
    (document / ".v0002.json.deadbeefdeadbeefdeadbeefdeadbeef.tmp").write_text("half")
    (document / "v0002.raw.txt").write_text("renamed, its version file not yet")
    assert Store("snapshots").versions(HF_LEARNING) == [1]
    assert invoke("ingest", "seeds")[1].endswith("no changes\n")


def test_documents_are_listed_in_key_order_with_their_versions(seeds_copy: Path) -> None:
    invoke("ingest", "seeds")
    invoke("ingest", str(edit_hf_learning(seeds_copy)))
    documents = Path("snapshots/documents")
    # a key sorting between two others by its parts (ealing < ealing-west < hammersmith...), and
    # what is not a document: a folder with no version, hidden folders, a stray file
    (documents / "cqc/ealing/no-versions-yet").mkdir()
    for copy in (EALING_WEST, ".tmp-deadbeefdeadbeefdeadbeefdeadbeef/x/y", "cqc/.hidden/report"):
        (documents / copy).mkdir(parents=True)
        for name in ("v0001.json", "v0001.raw.txt"):
            shutil.copy(documents / HF_LEARNING / name, documents / copy / name)
    (documents / "cqc/ealing/stray-file").write_text("")
    expected = {
        "cqc/ealing/learning-improvement-and-innovation": [1],
        EALING_WEST: [1],
        "cqc/hammersmith-and-fulham/governance-management-and-sustainability": [1],
        HF_LEARNING: [1, 2],
        "cqc/unnamed-004-be58087aa61b4f94/learning-improvement-and-innovation": [1],
        "ofsted/hammersmith-and-fulham/ilacs": [1],
    }
    store = Store("snapshots")
    assert store.version_numbers() == expected
    assert list(store.version_numbers()) == list(expected)
    assert store.documents() == list(expected)


def test_input_states_a_run_holds_are_the_ones_stored(
    seeds_copy: Path, httpserver: HTTPServer
) -> None:
    # the second run reads each state (the first wrote them): listing them under the lock gives
    # what was read and written, as a fresh reader finds them on disk
    for path, seed in (("/a", "000_c2e9ab2eba705b57.txt"), ("/b", "001_ac718487f3257af1.txt")):
        text = (seeds_copy / seed).read_text()
        httpserver.expect_request(path).respond_with_data(text, content_type="text/plain")
    httpserver.expect_request("/gone").respond_with_data("", status=404)
    items = [Item(httpserver.url_for(path)) for path in ("/a", "/b", "/gone")]
    store = Store("snapshots")
    with Fetcher(HttpSettings(min_interval=0.0)) as fetcher:
        for _ in range(2):
            with store.locked():
                outcomes = [ingest_item(store, item, NOW, fetcher) for item in items]
                store.commit()
                held = store.source_states()
    assert [o.status for o in outcomes] == ["unchanged", "unchanged", "failed"]
    assert held == Store("snapshots").source_states()
    assert [(s.location, s.consecutive_failures) for s in held] == [
        (items[0].location, 0),
        (items[1].location, 0),
        (items[2].location, 2),
    ]


def edit_hf_learning(seeds: Path) -> Path:
    """Return a copy of the Hammersmith and Fulham learning seed with a finding added."""
    edited = seeds.parent / "edited" / LEARNING_HF
    edited.parent.mkdir()
    edited.write_text((seeds / LEARNING_HF).read_text() + "\nNew text.\n")
    return edited


@pytest.mark.parametrize("size", [0, 1, 4096, 200_000])
def test_read_file_gives_every_byte(tmp_path: Path, size: int) -> None:
    data = bytes(range(256)) * (size // 256) + b"\r\n\x00"[: size % 256]
    (tmp_path / "f").write_bytes(data)
    assert store_files.read_file(tmp_path / "f") == data
    with pytest.raises(FileNotFoundError):
        store_files.read_file(tmp_path / "missing")


@pytest.mark.parametrize("size", [0, 1, 200_000])
def test_write_file_replaces_what_was_there(tmp_path: Path, size: int) -> None:
    data = bytes(range(256)) * (size // 256) + b"\r\n\x00"[: size % 256]
    (tmp_path / "f").write_bytes(b"x" * 300_000)
    store_files.write_file(tmp_path / "f", data)
    store_files.write_new(tmp_path / "g", data)
    assert (tmp_path / "f").read_bytes() == (tmp_path / "g").read_bytes() == data


def test_temporary_names_differ_in_a_forked_process(tmp_path: Path) -> None:
    """A forked process (a parse worker, the fetch process) draws its own random part."""
    read, write = os.pipe()
    child = os.fork()
    if child == 0:  # pragma: no cover - the child reports through the pipe
        os.write(write, store_files.temporary_token().encode())
        os._exit(0)
    os.close(write)
    os.waitpid(child, 0)
    theirs = os.read(read, 64).decode()
    os.close(read)
    ours = {store_files.temporary_token() for _ in range(3)}
    assert len(ours) == 3 and theirs not in ours
    assert all(len(token) == 32 for token in [*ours, theirs])
    assert len({token[:16] for token in ours}) == 1 and theirs[:16] not in {t[:16] for t in ours}


def test_a_version_number_already_stored_is_refused_and_the_stored_one_kept(
    seeds_copy: Path,
) -> None:
    invoke("ingest", "seeds")
    store = Store("snapshots")
    stored, raw = store.load(HF_LEARNING, 1), store.raw(HF_LEARNING, 1)
    with pytest.raises(StoreError, match=r"v0001\.json: version exists already"), store.locked():
        store.add_version(stored.meta, b"other bytes", stored.report, [])
    document = Path("snapshots/documents") / HF_LEARNING
    assert sorted(p.name for p in document.iterdir()) == ["v0001.json", "v0001.raw.txt"]
    assert Store("snapshots").raw(HF_LEARNING, 1) == raw


def test_store_of_another_format_is_refused_clearly(seeds_copy: Path) -> None:
    invoke("ingest", "seeds")
    Path("snapshots/store.json").write_text('{"format": 99}\n')
    status, _, err = invoke("ingest", "seeds")
    assert (status, err) == (
        2,
        f"error: snapshots: store format 99; this reportwatch reads format {current_format()}\n",
    )


def test_keys_that_could_escape_the_store_are_refused(tmp_path: Path) -> None:
    with pytest.raises(StoreError):
        Store(tmp_path).document_dir("../../etc/passwd")


def test_a_version_file_is_its_version_as_json_and_its_raw_bytes_beside_it(
    seeds_copy: Path,
) -> None:
    invoke("ingest", "seeds")
    invoke("ingest", str(edit_hf_learning(seeds_copy)))
    store = Store("snapshots")
    for key, numbers in store.version_numbers().items():
        for number in numbers:
            version = store.load(key, number)
            assert store.version_path(key, number).read_bytes() == to_json(version)
            assert store.raw_path(version.meta).name == f"v{number:04d}.{version.meta.raw_file}"
    assert [c.kind.value for c in store.load(HF_LEARNING, 2).changes] == ["finding_added"]


def test_reparse_rederives_history_without_alerting(seeds_copy: Path) -> None:
    """An older parser stored a stray 'Downloads' finding and a spurious change; reparse fixes
    both from the raw bytes, and the next ingest reports nothing."""
    invoke("ingest", "seeds")
    (seeds_copy / LEARNING_HF).write_text(
        (seeds_copy / LEARNING_HF).read_text().replace("had identified", "had recognised")
    )
    invoke("ingest", "seeds")
    v1 = Path("snapshots/documents") / HF_LEARNING / "v0001.json"
    stray = {"kind": "paragraph", "text": "Downloads"}
    edit_json(v1, lambda v: v["report"]["sections"][0]["findings"].insert(0, stray))
    edit_json(v1, lambda v: v["meta"].update(parser_version="0"))
    spurious = {
        "kind": "finding_removed",
        "severity": "medium",
        "document": HF_LEARNING,
        "where": "Key findings",
        "old": "Downloads",
    }
    edit_json(v1.with_name("v0002.json"), lambda v: v["changes"].append(spurious))
    raw_before = v1.with_name("v0001.raw.txt").read_bytes()

    status, out, _ = invoke("reparse")
    assert status == 0
    assert f"{HF_LEARNING}: 2 versions, re-derived v1, v2\n" in out
    assert out.endswith("reparsed 5 documents; 2 versions re-derived; no alerts\n")
    assert v1.with_name("v0001.raw.txt").read_bytes() == raw_before
    assert json.loads(v1.read_text())["meta"]["parser_version"] == PARSER_VERSION
    v2 = Store("snapshots").load(HF_LEARNING, 2)
    assert [c.kind.value for c in v2.changes] == ["finding_reworded"]
    assert invoke("ingest", "seeds")[1].endswith("no changes\n")
    assert invoke("reparse")[1].endswith("reparsed 5 documents; 0 versions re-derived; no alerts\n")


def test_a_group_commit_flushes_each_filesystem_once_or_else_each_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # syncfs(2) where there is one (Linux): once for each filesystem holding the files, here
    # the test's folder and a tmpfs; elsewhere every file and folder flushed on its own
    shm = Path("/dev/shm")
    if not shm.is_dir() or shm.stat().st_dev == tmp_path.stat().st_dev:
        pytest.skip("needs a second filesystem")
    folders = [tmp_path / "a", tmp_path / "b", Path(tempfile.mkdtemp(dir=shm))]
    files = [folder / name for folder in folders for name in ("x", "y")]
    for path in files:
        path.parent.mkdir(exist_ok=True)
        path.write_bytes(b"data")
    synced: list[int] = []
    monkeypatch.setattr(store_files, "sync_filesystem", lambda p: synced.append(p.stat().st_dev))
    store_files.flush_together(files)
    assert sorted(synced) == sorted({tmp_path.stat().st_dev, shm.stat().st_dev})
    flushed: list[Path] = []
    monkeypatch.setattr(store_files, "syncfs", lambda: None)
    monkeypatch.setattr(store_files, "fsync_path", flushed.append)
    store_files.flush_together(files)
    assert sorted(flushed) == sorted(files)
    shutil.rmtree(folders[-1])


def commits_of_two_the_second_failing(monkeypatch: pytest.MonkeyPatch) -> Any:
    """Make the store commit every 2 versions, and its second commit's flush fail (the third
    flush: a commit flushes the versions' files, then their folders); return the real flush."""
    monkeypatch.setattr(store_commit, "COMMIT_EVERY", 2)
    flushes: list[int] = []
    real_flush = store_commit.flush_together

    def failing_third_flush(paths: list[Path]) -> None:
        flushes.append(len(paths))
        if len(flushes) == 3:
            raise OSError(5, "Input/output error")
        real_flush(paths)

    monkeypatch.setattr(store_commit, "flush_together", failing_third_flush)
    return real_flush


def test_a_commit_failing_in_the_background_stops_the_run_and_keeps_what_was_committed(
    seeds_copy: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # a commit every 2 versions: the first two are committed in the background while the run
    # records the next two, whose commit fails flushing; the run stops with the store's error,
    # and the fifth, staged meanwhile, is dropped with them
    real_flush = commits_of_two_the_second_failing(monkeypatch)
    status, _, err = invoke("ingest", "seeds")
    assert status == 2
    assert err == "error: snapshots: could not store versions: [Errno 5] Input/output error\n"
    assert Store("snapshots").version_numbers() == {
        "cqc/hammersmith-and-fulham/governance-management-and-sustainability": [1],
        HF_LEARNING: [1],
    }
    monkeypatch.setattr(store_commit, "flush_together", real_flush)
    status, out, _ = invoke("ingest", "seeds")
    # the next run stores the other three, and the versions of both runs are notified
    assert status == 0 and "\n3 new, 0 changed, 2 unchanged, 0 failed\n" in out
    assert "notified outbox: 1 message, 5 events" in out


def test_nothing_staged_after_a_commit_that_failed_in_the_background_is_committed(
    seeds_copy: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # a caller that goes on after the error (the run does not) must not get the fifth version,
    # staged while the second commit was failing, committed after it
    commits_of_two_the_second_failing(monkeypatch)
    store = Store("snapshots")
    errors = []
    with store.locked():
        for path in sorted(Path("seeds").iterdir()):
            ingest_item(store, Item(str(path)), NOW)
        try:
            store.commit()
        except StoreError as exc:
            errors.append(str(exc))
        store.commit()
    assert errors == ["snapshots: could not store versions: [Errno 5] Input/output error"]
    assert Store("snapshots").version_numbers() == {
        "cqc/hammersmith-and-fulham/governance-management-and-sustainability": [1],
        HF_LEARNING: [1],
    }
