"""`reportwatch check`: each kind of damage to a store is one line naming the file and the
reason, the exit status says whether anything is wrong, and the store is left byte for byte as
it was."""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

from reportwatch.cli import main
from reportwatch.store_format import current_format

from conftest import edit_json, store_files

DOC = "snapshots/documents/cqc/hammersmith-and-fulham/learning-improvement-and-innovation"
V1 = f"{DOC}/v0001.json"
RAW1 = f"{DOC}/v0001.raw.txt"
LEFTOVER = "leftover of an interrupted run (harmless: readers skip it; the next run removes it)"


def run(*args: str) -> Result:
    """Return the result of `reportwatch ARGS` in the working directory."""
    return CliRunner().invoke(main, list(args))


def rewrite(path: str, change: Callable[[bytes], bytes]) -> None:
    """Replace a file's bytes with `change` of them."""
    Path(path).write_bytes(change(Path(path).read_bytes()))


def edit_part(part: str, change: Callable[[Any], object]) -> None:
    """Edit one part (meta, report, changes) of version V1's JSON in place."""
    edit_json(Path(V1), lambda version: change(version[part]))


def renumber() -> None:
    """Move the document's only version to v0002, leaving a gap."""
    Path(V1).rename(f"{DOC}/v0002.json")
    Path(RAW1).rename(f"{DOC}/v0002.raw.txt")


DAMAGE: list[tuple[str, Callable[[], None], list[str]]] = [
    (
        "raw-bytes-changed",
        lambda: rewrite(RAW1, lambda b: b.replace(b"Score: 2", b"Score: 4")),
        [f"{RAW1}: SHA-256 does not match raw_sha256 in meta"],
    ),
    (
        "raw-missing",
        lambda: Path(RAW1).unlink(),
        [f"{RAW1}: missing (named by meta raw_file)"],
    ),
    (
        "report-edited",
        lambda: edit_part("report", lambda r: r.update(overall_percent=99)),
        [f"{V1}: report: SHA-256 does not match report_sha256 in meta"],
    ),
    (
        "version-not-json",
        lambda: rewrite(V1, lambda b: b[: len(b) // 2]),
        [f"{V1}: not valid JSON"],
    ),
    (
        "report-off-schema",
        lambda: edit_part("report", lambda r: r.pop("regulator")),
        [f"{V1}: report: not valid for its schema (regulator: Field required)"],
    ),
    (
        "meta-deleted",
        lambda: edit_json(Path(V1), lambda v: v.pop("meta")),
        [f"{V1}: meta: missing"],
    ),
    (
        "meta-names-another-version",
        lambda: edit_part("meta", lambda m: m.update(version=3)),
        [
            f"{V1}: meta: says cqc/hammersmith-and-fulham/learning-improvement-and-innovation"
            " v3, stored as cqc/hammersmith-and-fulham/learning-improvement-and-innovation v1"
        ],
    ),
    (
        "raw-file-not-a-name",
        lambda: edit_part("meta", lambda m: m.update(raw_file="../raw.txt")),
        [f"{V1}: meta: raw_file '../raw.txt' is not a file name"],
    ),
    (
        "changes-not-a-list",
        lambda: edit_json(Path(V1), lambda v: v.update(changes={"kind": "new_report"})),
        [f"{V1}: changes: not a list of change records"],
    ),
    (
        "changes-bad-record",
        lambda: edit_json(Path(V1), lambda v: v.update(changes=[{"kind": "new_report"}])),
        [f"{V1}: changes: record 0 not a change record (severity: Field required)"],
    ),
    (
        "not-a-version",
        lambda: Path(V1).write_text("[]\n"),
        [f"{V1}: not a version (an object of meta, report and changes)"],
    ),
    (
        "version-gap",
        renumber,
        [
            f"{DOC}: version numbers not contiguous: v0001 missing",
            f"{DOC}/v0002.json: meta: says cqc/hammersmith-and-fulham/learning-improvement-and-"
            "innovation v1, stored as cqc/hammersmith-and-fulham/learning-improvement-and-"
            "innovation v2",
        ],
    ),
    (
        "store-json-missing",
        lambda: Path("snapshots/store.json").unlink(),
        ["snapshots/store.json: missing (a store written by reportwatch always has one)"],
    ),
    (
        "store-json-garbage",
        lambda: Path("snapshots/store.json").write_text("format one\n"),
        ["snapshots/store.json: no format number in it (not a store format file)"],
    ),
    (
        "source-state-garbage",
        lambda: Path("snapshots/sources/0123.json").write_text("{"),
        ["snapshots/sources/0123.json: not valid JSON"],
    ),
]


@pytest.fixture
def store(seeds_copy: Path) -> Path:
    """The store of the seeds (five documents, one version each), with a sources folder."""
    assert run("ingest", "seeds").exit_code == 0
    Path("snapshots/sources").mkdir()
    return Path("snapshots")


def test_a_sound_store_is_ok(store: Path) -> None:
    result = run("check")
    assert (result.exit_code, result.stdout) == (0, "checked 5 documents, 5 versions: ok\n")


@pytest.mark.parametrize(("damage", "lines"), [d[1:] for d in DAMAGE], ids=[d[0] for d in DAMAGE])
def test_damage_is_one_line_naming_the_file_and_nothing_is_repaired(
    store: Path, damage: Callable[[], None], lines: list[str]
) -> None:
    damage()
    before = store_files(store)
    result = run("check")
    count = f"{len(lines)} problem{'s' if len(lines) > 1 else ''}"
    assert (result.exit_code, result.stdout) == (
        1,
        "\n".join([*lines, f"checked 5 documents, 5 versions: {count}"]) + "\n",
    )
    assert store_files(store) == before


def test_leftovers_of_an_interrupted_run_are_listed_as_harmless(store: Path) -> None:
    Path("snapshots/.clean").unlink()  # a run was killed: it leaves no clean mark
    (Path(DOC) / ".tmp-deadbeefdeadbeefdeadbeefdeadbeef").mkdir()  # format 1's
    (Path(DOC) / ".tmp-deadbeefdeadbeefdeadbeefdeadbeef" / "raw.txt").write_text("half")
    (Path(DOC) / ".v0002.json.deadbeefdeadbeefdeadbeefdeadbeef.tmp").write_text("{")
    (Path(DOC) / "v0002.raw.txt").write_text("renamed, its version file not yet")
    Path("snapshots/sources/.0123.json.cafecafecafecafecafecafecafecafe.tmp").write_text("{")
    result = run("check")
    assert (result.exit_code, result.stdout) == (
        0,
        f"{DOC}/.tmp-deadbeefdeadbeefdeadbeefdeadbeef: {LEFTOVER}\n"
        f"{DOC}/.v0002.json.deadbeefdeadbeefdeadbeefdeadbeef.tmp: {LEFTOVER}\n"
        f"{DOC}/v0002.raw.txt: {LEFTOVER}\n"
        f"snapshots/sources/.0123.json.cafecafecafecafecafecafecafecafe.tmp: {LEFTOVER}\n"
        "checked 5 documents, 5 versions: ok\n",
    )
    assert run("ingest", "seeds").exit_code == 0  # the next run takes the lock and clears them
    assert run("check").stdout == "checked 5 documents, 5 versions: ok\n"


def test_json_output_lists_problems_and_leftovers(store: Path) -> None:
    edit_json(Path(V1), lambda v: v.pop("meta"))
    (Path(DOC) / ".tmp-deadbeefdeadbeefdeadbeefdeadbeef").mkdir()
    result = run("check", "--json")
    assert result.exit_code == 1
    assert json.loads(result.stdout) == {
        "ok": False,
        "documents": 5,
        "versions": 5,
        "problems": [{"path": V1, "reason": "meta: missing"}],
        "leftovers": [{"path": f"{DOC}/.tmp-deadbeefdeadbeefdeadbeefdeadbeef", "reason": LEFTOVER}],
    }


@pytest.mark.parametrize(
    ("prepare", "error"),
    [
        (lambda: shutil.rmtree("snapshots"), "error: snapshots: no store here\n"),
        (
            lambda: Path("snapshots/store.json").write_text('{"format": 7}\n'),
            f"error: snapshots: store format 7; this reportwatch reads format {current_format()}\n",
        ),
    ],
    ids=["no-store", "newer-format"],
)
def test_a_store_check_cannot_read_is_exit_status_2(
    store: Path, prepare: Callable[[], None], error: str
) -> None:
    prepare()
    result = run("check")
    assert (result.exit_code, result.stdout, result.stderr) == (2, "", error)


def test_files_that_only_look_temporary_are_neither_listed_nor_removed(store: Path) -> None:
    Path("snapshots/notes.tmp").write_text("mine")
    Path("snapshots/.draft.tmp").write_text("mine too")
    result = run("check")
    assert result.exit_code == 0
    assert "notes.tmp" not in result.stdout and ".draft.tmp" not in result.stdout
    assert run("ingest", "seeds").exit_code == 0  # a run removes real leftovers only
    assert Path("snapshots/notes.tmp").read_text() == "mine"
    assert Path("snapshots/.draft.tmp").read_text() == "mine too"
