"""The command line as a user runs it: exact output, exit status, what ends up in the store."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from collections.abc import Callable
from functools import partial
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from reportwatch.cli import main
from reportwatch.notify import Delivery
from reportwatch.pipeline import Outcome, RunResult
from reportwatch.store import Store

from conftest import LEARNING_EALING, LEARNING_HF, MARKDOWN_EXPORT, dated, parse_text, seed_text

HF_LEARNING = "cqc/hammersmith-and-fulham/learning-improvement-and-innovation"

FIRST_RUN = """\
AUTHORITY               REGULATOR  STATEMENT / JUDGEMENT                                                     SCORE / GRADE                       STATUS
Hammersmith and Fulham  CQC        Learning, improvement and innovation                                      2 - Evidence shows some shortfalls  new (v1)
Hammersmith and Fulham  CQC        Governance, management and sustainability                                 2 - Evidence shows some shortfalls  new (v1)
Hammersmith and Fulham  Ofsted     Overall effectiveness                                                     Good                                new (v1)
                                   The experiences and progress of children who need help and protection     Good
                                   The experiences and progress of children in care and care leavers         Good
                                   The impact of leaders on social work practice with children and families  Good
Ealing                  CQC        Learning, improvement and innovation                                      3 - Evidence shows a good standard  new (v1)
(not named)             CQC        Learning, improvement and innovation                                      3 - Evidence shows a good standard  new (v1)

note: seeds/004_be58087aa61b4f94.txt: the document does not name its authority: set `authority` for this source

5 new, 0 changed, 0 unchanged, 0 failed

notified outbox: 1 message, 5 events → snapshots/outbox/
notified feed: 1 message, 5 events → snapshots/feed.atom
"""

CHANGED_RUN = """\
AUTHORITY               REGULATOR  STATEMENT / JUDGEMENT                 SCORE / GRADE                       STATUS
Hammersmith and Fulham  CQC        Learning, improvement and innovation  3 - Evidence shows a good standard  changed (v2)

Hammersmith and Fulham · Learning, improvement and innovation (v2)
  score 2 → 3 (some shortfalls → good standard)
  finding reworded in Key findings
      The local authority had [-identified-] {+recognised+} the dual pressures of being a …

0 new, 1 changed, 0 unchanged, 0 failed

notified outbox: 1 message, 1 event → snapshots/outbox/
notified feed: 1 message, 1 event → snapshots/feed.atom
"""


def run(*args: str, env: dict[str, str] | None = None) -> Result:
    """Return the result of running `reportwatch ARGS`."""
    return CliRunner().invoke(main, list(args), env=env, catch_exceptions=False)


def edit_score_and_wording(text: str) -> str:
    """Return seed 000 re-assessed: score 2 -> 3 and one finding reworded."""
    text = text.replace(
        "Score: 2\n2 - Evidence shows some shortfalls",
        "Score: 3\n3 - Evidence shows a good standard",
    )
    return text.replace("had identified the dual", "had recognised the dual")


def test_first_ingest_prints_the_table_and_stores_a_version_each(seeds_copy: Path) -> None:
    result = run("ingest", "seeds")
    assert (result.exit_code, result.stdout, result.stderr) == (0, FIRST_RUN, "")
    versions = sorted(
        p.relative_to("snapshots") for p in Path("snapshots").glob("documents/*/*/*/v*")
    )
    assert [str(p) for p in versions] == [
        f"documents/{key}/{name}"
        for key in (
            "cqc/ealing/learning-improvement-and-innovation",
            "cqc/hammersmith-and-fulham/governance-management-and-sustainability",
            "cqc/hammersmith-and-fulham/learning-improvement-and-innovation",
            "cqc/unnamed-004-be58087aa61b4f94/learning-improvement-and-innovation",
            "ofsted/hammersmith-and-fulham/ilacs",
        )
        for name in ("v0001.json", "v0001.raw.txt")
    ]
    document = Path("snapshots/documents") / HF_LEARNING
    assert (document / "v0001.raw.txt").read_bytes() == (seeds_copy / LEARNING_HF).read_bytes()
    version = json.loads((document / "v0001.json").read_text())
    assert list(version) == ["meta", "report", "changes"]
    assert [c["kind"] for c in version["changes"]] == ["new_report"]
    meta = version["meta"]
    assert (meta["source"], meta["version"], meta["parser_version"]) == (
        f"seeds/{LEARNING_HF}",
        1,
        "3",
    )


def test_second_ingest_of_the_same_input_says_no_changes(seeds_copy: Path) -> None:
    run("ingest", "seeds")
    result = run("ingest", "seeds")
    assert result.exit_code == 0
    assert result.stdout.endswith("0 new, 0 changed, 5 unchanged, 0 failed\nno changes\n")
    assert len(list(Path("snapshots").glob("documents/*/*/*/v*.json"))) == 5


def test_changed_report_creates_a_version_and_prints_its_summary(
    seeds_copy: Path, edited: Callable[[str, Callable[[str], str]], Path]
) -> None:
    run("ingest", "seeds")
    path = edited(LEARNING_HF, edit_score_and_wording)
    result = run("ingest", str(path))
    assert (result.exit_code, result.stdout) == (0, CHANGED_RUN)
    history = run("history", "hammersmith-and-fulham/learning")
    key, *lines = history.stdout.splitlines()
    columns = [re.split(r"\s{2,}", line.strip()) for line in lines]
    assert key == HF_LEARNING
    assert [row[:1] + row[2:] for row in columns] == [
        ["VERSION", "SOURCE", "CHANGES"],
        ["v1", f"seeds/{LEARNING_HF}", "new report: 2 - Evidence shows some shortfalls"],
        ["v2", str(path), "score 2 → 3 (some shortfalls → good standard) (+1 more)"],
    ]
    assert len({line.index(row[-1]) for line, row in zip(lines, columns, strict=True)}) == 1


REPUBLISHED_RUN = """\
AUTHORITY  REGULATOR  STATEMENT / JUDGEMENT                 SCORE / GRADE                       STATUS
Ealing     CQC        Learning, improvement and innovation  3 - Evidence shows a good standard  republished (v2)

0 new, 0 changed, 1 republished, 0 unchanged, 0 failed
no changes
"""


def test_a_republish_is_counted_not_summarised(
    seeds_copy: Path, edited: Callable[[str, Callable[[str], str]], Path]
) -> None:
    run("ingest", str(edited(LEARNING_EALING, partial(dated, updated="3 April 2025"))))
    result = run("ingest", str(edited(LEARNING_EALING, partial(dated, updated="9 May 2025"))))
    assert (result.exit_code, result.stdout) == (0, REPUBLISHED_RUN)
    assert Store("snapshots").versions("cqc/ealing/learning-improvement-and-innovation") == [1, 2]


def test_diff_and_show_read_any_version(
    seeds_copy: Path, edited: Callable[[str, Callable[[str], str]], Path]
) -> None:
    run("ingest", "seeds")
    run("ingest", str(edited(LEARNING_HF, edit_score_and_wording)))
    diff = run("diff", "hammersmith-and-fulham/learning", "1", "2", "--json")
    records = json.loads(diff.stdout)["changes"]
    assert [(r["kind"], r["old"], r["new"]) for r in records][:1] == [("score_changed", 2, 3)]
    assert run("diff", HF_LEARNING, "2", "2").stdout == f"{HF_LEARNING}: v2 → v2: no changes\n"
    shown = run("show", "hammersmith-and-fulham/learning", "--version", "1").stdout
    assert "Learning, improvement and innovation: 2 - Evidence shows some shortfalls" in shown
    latest = json.loads(run("show", HF_LEARNING, "--json").stdout)
    assert (latest["meta"]["version"], latest["report"]["score"]["value"]) == (2, 3)


def test_ingest_json_gives_fields_and_change_records(seeds_copy: Path) -> None:
    data = json.loads(run("ingest", "seeds", "--json").stdout)
    assert data["summary"] == {
        "new": 5,
        "changed": 0,
        "republished": 0,
        "unchanged": 0,
        "failed": 0,
    }
    first = data["documents"][0]
    assert (first["document"], first["status"], first["version"]) == (HF_LEARNING, "new", 1)
    assert first["report"]["score"] == {"value": 2, "label": "Evidence shows some shortfalls"}
    assert first["changes"][0]["kind"] == "new_report"


@pytest.mark.parametrize("how", ["option", "environment"])
def test_store_location_is_a_setting(seeds_copy: Path, tmp_path: Path, how: str) -> None:
    store = tmp_path / "elsewhere"
    if how == "option":
        run("ingest", "seeds", "--store", str(store))
    else:
        run("ingest", "seeds", env={"REPORTWATCH_STORE": str(store)})
    assert len(list(store.glob("documents/*/*/*/v0001.json"))) == 5
    assert not Path("snapshots").exists()


BAD_INPUTS = [
    ("empty.txt", b"", "empty file"),
    ("blank.txt", b"\n  \n", "empty file"),
    (
        "image.txt",
        b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)),
        "binary file, not text",
    ),
    (
        "letter.txt",
        b"Dear resident,\nThe bins are collected on Tuesdays.\n",
        "not a report reportwatch can read (no CQC score or Ofsted judgement found)",
    ),
    (
        "noscore.txt",
        b"Ealing: local authority assessment\nLearning, improvement and innovation\nScore: \n",
        "not a report reportwatch can read (no CQC score or Ofsted judgement found)",
    ),
]


@pytest.mark.parametrize(("name", "content", "reason"), BAD_INPUTS, ids=[b[0] for b in BAD_INPUTS])
def test_bad_input_is_one_line_and_the_rest_still_ingests(
    seeds_copy: Path, name: str, content: bytes, reason: str
) -> None:
    run("ingest", "seeds")
    before = {p: p.read_bytes() for p in Path("snapshots").rglob("*") if p.is_file()}
    (seeds_copy / name).write_bytes(content)
    (seeds_copy / MARKDOWN_EXPORT).write_text(
        (seeds_copy / MARKDOWN_EXPORT).read_text() + "\nA finding added later.\n"
    )
    # --no-notify: the good input's change is sent to the channels (tests/test_notify.py)
    result = run("ingest", "seeds", "--no-notify")
    assert result.exit_code == 1
    assert result.stderr == f"error: seeds/{name}: {reason}\n"
    assert "0 new, 1 changed, 4 unchanged, 1 failed" in result.stdout
    after = {p: p.read_bytes() for p in before}
    assert after == before


def test_missing_input_is_reported_and_exit_status_says_so(seeds_copy: Path) -> None:
    result = run("ingest", "seeds", "nowhere.txt")
    assert result.exit_code == 1
    assert result.stderr == "error: nowhere.txt: no such file\n"


def test_unknown_document_reference_is_a_clear_error(seeds_copy: Path) -> None:
    run("ingest", "seeds")
    result = CliRunner().invoke(main, ["show", "learning"])
    assert result.exit_code == 2
    assert result.stderr.startswith("error: 'learning' matches 3 documents: ")


def test_report_missing_its_score_is_quarantined_not_diffed(seeds_copy: Path) -> None:
    run("ingest", "seeds")
    page = seeds_copy / "000_c2e9ab2eba705b57.txt"
    page.write_text(page.read_text().replace("Score: 2\n2 - Evidence shows some shortfalls\n", ""))
    result = run("ingest", "seeds")
    assert result.exit_code == 1
    first, second = result.stderr.splitlines()[0].split("; quarantined in ")
    assert first == f"error: seeds/{LEARNING_HF}: CQC quality statement page with no score"
    assert Path(second, "raw").read_bytes() == page.read_bytes()
    assert len(list(Path("snapshots/documents").glob(f"{HF_LEARNING.split('/', 1)[1]}*"))) == 0
    assert Store("snapshots").versions(HF_LEARNING) == [1]


def test_consecutive_failures_are_counted_per_input_and_reset(seeds_copy: Path) -> None:
    broken = seeds_copy / "broken.txt"
    broken.write_bytes(b"")
    run("ingest", "seeds")
    run("ingest", "seeds")
    state = Store("snapshots").source_state("seeds/broken.txt")
    assert (state.consecutive_failures, state.last_error) == (2, "empty file")
    broken.write_text((seeds_copy / LEARNING_HF).read_text())
    run("ingest", "seeds")
    state = Store("snapshots").source_state("seeds/broken.txt")
    assert (state.consecutive_failures, state.last_error) == (0, None)


HTTP_STACK_PROBE = """\
import atexit, sys
atexit.register(lambda: print(sorted(m for m in ("requests", "urllib3", "reportwatch.http") if m in sys.modules), file=sys.stderr))
from reportwatch.cli import main
main(["ingest", "seeds/broken.txt"])
"""


def test_a_local_file_run_never_loads_the_http_stack(seeds_copy: Path) -> None:
    broken = seeds_copy / "broken.txt"
    broken.write_bytes(b"")
    for expected_status in (1, 0):  # a failure, then a success: both write the input's state
        done = subprocess.run(
            [sys.executable, "-c", HTTP_STACK_PROBE], capture_output=True, text=True, timeout=60
        )
        assert done.returncode == expected_status, done.stderr
        assert done.stderr.splitlines()[-1] == "[]"
        broken.write_text((seeds_copy / LEARNING_HF).read_text())


def test_a_run_result_reads_as_its_tally_not_its_reports() -> None:
    report = parse_text(seed_text(LEARNING_HF))
    result = RunResult(
        [Outcome("a.txt", "new", "cqc/x/y", 1, report), Outcome("b.txt", "failed", error="gone")],
        [Delivery("outbox", messages=1), Delivery("feed", error="disk full")],
    )
    assert repr(result) == (
        "<RunResult 1 new, 0 changed, 0 unchanged, 1 failed; outbox ok; feed failed>"
    )
    assert repr(RunResult([])) == "<RunResult 0 new, 0 changed, 0 unchanged, 0 failed>"
