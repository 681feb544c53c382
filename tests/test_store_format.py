"""The store's format number and migrations, on a committed format-1 store
(tests/fixtures/store-format-1: one document, one version).

The mechanism is tested with migrations registered for the test (format 1 -> 2 -> 3), on the
fixture laid out as this code reads it but still marked format 1 (`old_store`);
`test_the_format_1_fixture_opens_with_the_real_table` runs the real table over the fixture as
committed, so each migration added later is tried on a real store.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from reportwatch import store_format
from reportwatch.cli import main
from reportwatch.model import Version
from reportwatch.store import Store
from reportwatch.store_format import Migration
from reportwatch.store_migrations import unfold_version_folders

FIXTURE = Path(__file__).parent / "fixtures" / "store-format-1"
DOC = "cqc/ealing/learning-improvement-and-innovation"
MIGRATE_HINT = (
    "error: snapshots: store format 1 is older than this reportwatch's 2; "
    "run `reportwatch ingest` or `reportwatch migrate` to migrate\n"
)


def run(*args: str) -> Result:
    """Return the result of `reportwatch ARGS` in the working directory."""
    return CliRunner().invoke(main, list(args))


def add_outbox(root: Path) -> None:
    """A test migration 1 -> 2: give the store an empty outbox folder (idempotent)."""
    (root / "outbox").mkdir(exist_ok=True)


def mark_documents(root: Path) -> None:
    """A test migration 2 -> 3: note the number of documents in a file (idempotent)."""
    count = len(Store(root).documents())
    (root / "outbox" / "count").write_text(f"{count}\n")


@pytest.fixture
def format_1_store(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A copy of the format-1 store as ./snapshots, in a scratch working directory."""
    shutil.copytree(FIXTURE, tmp_path / "snapshots")
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("REPORTWATCH_STORE", raising=False)
    return tmp_path / "snapshots"


@pytest.fixture
def old_store(format_1_store: Path) -> Path:
    """The format-1 store with its versions laid out as this code reads them, still marked
    format 1: what the test migrations start from."""
    unfold_version_folders(format_1_store)
    return format_1_store


@pytest.fixture
def register(monkeypatch: pytest.MonkeyPatch) -> Callable[..., None]:
    """Return a function replacing the migration table for this test."""

    def table(*steps: Migration) -> None:
        migrations = {store_format.FIRST_FORMAT + n: step for n, step in enumerate(steps)}
        monkeypatch.setattr(store_format, "MIGRATIONS", migrations)

    return table


def stored_format(store: Path) -> int:
    """Return the format number store.json holds."""
    return int(json.loads((store / "store.json").read_text())["format"])


def test_the_first_write_migrates_under_the_lock_and_says_so_once(
    old_store: Path, register: Callable[..., None], tmp_path: Path
) -> None:
    register(Migration("outbox for notifications", add_outbox))
    page = tmp_path / "page.txt"
    page.write_text(Store(old_store).raw(DOC, 1).decode().replace("Score: 3\n3 -", "Score: 2\n2 -"))

    first = run("ingest", "page.txt")

    assert first.exit_code == 0
    assert first.stderr == "snapshots: migrated store format 1 -> 2 (outbox for notifications)\n"
    assert "changed (v2)" in first.stdout
    assert stored_format(old_store) == 2
    assert (old_store / "outbox").is_dir()
    assert Store(old_store).versions(DOC) == [1, 2]
    second = run("ingest", "page.txt")
    assert (second.exit_code, second.stderr) == (0, "")


def test_migrations_run_one_step_at_a_time_in_order(
    old_store: Path, register: Callable[..., None]
) -> None:
    register(
        Migration("outbox for notifications", add_outbox),
        Migration("documents counted", mark_documents, readable=False),
    )
    result = run("migrate")
    assert (result.exit_code, result.stdout, result.stderr) == (
        0,
        "snapshots: store format 3, up to date\n",
        "snapshots: migrated store format 1 -> 2 (outbox for notifications)\n"
        "snapshots: migrated store format 2 -> 3 (documents counted)\n",
    )
    assert (old_store / "outbox" / "count").read_text() == "1\n"
    assert stored_format(old_store) == 3
    again = run("migrate")
    assert (again.stdout, again.stderr) == ("snapshots: store format 3, up to date\n", "")


READ_ONLY = [
    ["history"],
    ["history", "ealing"],
    ["show", "ealing"],
    ["diff", "ealing"],
    ["check"],
]


@pytest.mark.parametrize("command", READ_ONLY, ids=" ".join)
def test_read_only_commands_read_an_older_compatible_format_as_it_is(
    old_store: Path, register: Callable[..., None], command: list[str]
) -> None:
    register(Migration("outbox for notifications", add_outbox, readable=True))
    before = {p: p.read_bytes() for p in old_store.rglob("*") if p.is_file()}
    result = run(*command)
    assert (result.exit_code, result.stderr) == (0, "")
    assert {p: p.read_bytes() for p in old_store.rglob("*") if p.is_file()} == before


@pytest.mark.parametrize("command", READ_ONLY, ids=" ".join)
def test_read_only_commands_ask_for_a_migration_they_cannot_do_without(
    old_store: Path, register: Callable[..., None], command: list[str]
) -> None:
    register(Migration("report layout changed", add_outbox, readable=False))
    result = run(*command)
    assert (result.exit_code, result.stdout, result.stderr) == (2, "", MIGRATE_HINT)
    assert stored_format(old_store) == 1


@pytest.mark.parametrize(
    "command", [["ingest", "page.txt"], ["migrate"], ["reparse"], *READ_ONLY], ids=" ".join
)
def test_a_newer_format_is_refused_and_left_alone(old_store: Path, command: list[str]) -> None:
    (old_store / "store.json").write_text('{"format": 9}\n')
    Path("page.txt").write_text("anything")
    before = {p: p.read_bytes() for p in old_store.rglob("*") if p.is_file()}
    result = run(*command)
    error = f"error: snapshots: store format 9; this reportwatch reads format {store_format.current_format()}\n"
    assert (result.exit_code, result.stderr) == (2, error)
    assert {p: p.read_bytes() for p in old_store.rglob("*") if p.is_file()} == before


def test_migrate_needs_a_store(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    result = run("migrate", "--store", "nowhere")
    assert (result.exit_code, result.stderr) == (2, "error: nowhere: no store here\n")
    assert not Path("nowhere").exists()


def test_the_migration_table_is_contiguous_from_the_first_format() -> None:
    first = store_format.FIRST_FORMAT
    assert sorted(store_format.MIGRATIONS) == list(range(first, store_format.current_format()))


def test_the_format_1_fixture_opens_with_the_real_table(format_1_store: Path) -> None:
    old_store = format_1_store
    steps = range(1, store_format.current_format())
    said = "".join(
        f"snapshots: migrated store format {n} -> {n + 1} ({store_format.MIGRATIONS[n].reason})\n"
        for n in steps
    )
    result = run("migrate")
    assert (result.exit_code, result.stderr) == (0, said)
    assert stored_format(old_store) == store_format.current_format()
    assert run("check").stdout == "checked 1 document, 1 version: ok\n"
    assert Store(old_store).head(DOC) is not None


VERSION_FOLDER = f"documents/{DOC}/v0001"


def test_format_2_turns_each_version_folder_into_its_raw_bytes_and_one_json_file(
    format_1_store: Path,
) -> None:
    folder = FIXTURE / VERSION_FOLDER
    assert run("migrate").exit_code == 0
    document = format_1_store / VERSION_FOLDER
    assert sorted(p.name for p in document.parent.iterdir()) == ["v0001.json", "v0001.raw.txt"]
    assert (document.parent / "v0001.raw.txt").read_bytes() == (folder / "raw.txt").read_bytes()
    assert json.loads((document.parent / "v0001.json").read_text()) == {
        part: json.loads((folder / f"{part}.json").read_text())
        for part in ("meta", "report", "changes")
    }
    assert Store(format_1_store).load(DOC, 1) == Version(
        meta=json.loads((folder / "meta.json").read_text()),
        report=json.loads((folder / "report.json").read_text()),
        changes=json.loads((folder / "changes.json").read_text()),
    )


def test_migrating_again_after_a_kill_keeps_what_was_done_and_removes_the_folder(
    format_1_store: Path,
) -> None:
    unfold_version_folders(format_1_store)
    document = (format_1_store / VERSION_FOLDER).parent
    done = {p.name: p.read_bytes() for p in document.iterdir()}
    shutil.copytree(FIXTURE / VERSION_FOLDER, format_1_store / VERSION_FOLDER)  # killed there
    (format_1_store / VERSION_FOLDER / "report.json").write_text("{}")  # what must not be used

    unfold_version_folders(format_1_store)

    assert {p.name: p.read_bytes() for p in document.iterdir()} == done
