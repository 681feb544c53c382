"""`benchmarks.run` scores each run's alerts against the corpus's truth, document by document,
and writes the tables the README quotes: cases as data, exact tables. No timing here."""

from __future__ import annotations

from typing import Any

import pytest

from benchmarks.run import (
    PHASES,
    failed_text,
    markdown,
    medians,
    ratio_lines,
    scored,
    turn_order,
)
from benchmarks.tools import Run, failed_inputs

SCORE = "score_changed"
REWORDED = "finding_reworded"

SCORED = [
    pytest.param(
        {},
        {},
        {"alerts": 0, "precision": 1.0, "recall": 1.0, "right_kind": 0, "missed": 0},
        id="nothing changed, nothing alerted",
    ),
    pytest.param(
        {"/a": [SCORE, REWORDED], "/b": [REWORDED]},
        {"/a": [SCORE], "/b": [REWORDED]},
        {"alerts": 2, "precision": 1.0, "recall": 1.0, "right_kind": 2, "wrong_kind": []},
        id="every change alerted with its kinds (and more)",
    ),
    pytest.param(
        {"/a": [REWORDED]},
        {"/a": [SCORE, REWORDED]},
        {"true_positives": 1, "right_kind": 0, "wrong_kind": ["/a"], "precision": 1.0},
        id="a score change alerted as a rewording only",
    ),
    pytest.param(
        {"/a": [SCORE], "/b": ["changed"]},
        {"/a": [SCORE]},
        {"precision": 0.5, "recall": 1.0, "false_positives": 1, "false_examples": ["/b"]},
        id="a false alarm beside a right one",
    ),
    pytest.param(
        {"/a": [SCORE]},
        {"/a": [SCORE], "/c": [REWORDED]},
        {"precision": 1.0, "recall": 0.5, "missed": 1, "missed_examples": ["/c"]},
        id="a change missed",
    ),
    pytest.param(
        {"/b": ["changed"]},
        {},
        {"precision": 0.0, "recall": 1.0, "false_positives": 1},
        id="an alarm when nothing changed",
    ),
    pytest.param(
        {},
        {"/a": [SCORE]},
        {"precision": 0.0, "recall": 0.0, "missed": 1},
        id="silence when something changed",
    ),
]


@pytest.mark.parametrize(("alerts", "truth", "expected"), SCORED)
def test_scored_counts_alerts_against_the_truth_per_document(
    alerts: dict[str, list[str]], truth: dict[str, list[str]], expected: dict[str, Any]
) -> None:
    entry = scored(Run(1.0, 2.0, 50.0, 0, alerts=alerts), truth)

    assert {key: entry[key] for key in expected} == expected


@pytest.mark.parametrize(
    ("errors", "exit_code", "shown"),
    [(0, 0, "0"), (3, 1, "3 (exit 1)"), (-1, 2, "? (exit 2)"), (0, -9, "0 (exit -9)")],
)
def test_failed_text_shows_failed_inputs_and_a_bad_exit(
    errors: int, exit_code: int, shown: str
) -> None:
    assert failed_text({"errors": errors, "exit_code": exit_code}) == shown


@pytest.mark.parametrize(
    ("log", "failed"),
    [
        ("5 new, 0 changed, 0 unchanged, 2 failed\n", 2),
        ("table\n\n0 new, 3 changed, 1530 republished, 150 unchanged, 0 failed\nno changes\n", 0),
        ("Traceback (most recent call last):\n", -1),
    ],
)
def test_failed_inputs_are_read_from_the_tally_with_or_without_republished(
    log: str, failed: int
) -> None:
    assert failed_inputs(log) == failed


def compared(wall: float, errors: int = 0, exit_code: int = 0) -> dict[str, Any]:
    """Return a one-phase, two-tool comparison as `compare` returns it."""
    quiet = {"/a": [SCORE]}
    tools = {
        "urlwatch": scored(Run(wall * 5, wall * 5, 100.0, 0, alerts=quiet), quiet),
        "reportwatch": scored(
            Run(wall, wall * 2, 80.0, exit_code, 90.0, alerts=quiet, errors=errors), quiet
        ),
    }
    return {"documents": 10, "phases": {"changed": tools}, "store_mb": {"urlwatch": 1.0}}


def test_medians_take_each_measure_median_and_show_a_failure_of_any_run() -> None:
    runs = [compared(1.0), compared(3.0, errors=2, exit_code=1), compared(2.0)]

    entry = medians(runs)["phases"]["changed"]["reportwatch"]

    assert (entry["wall"], entry["cpu"], entry["errors"], entry["exit_code"]) == (2.0, 4.0, 2, 1)


def test_markdown_writes_the_phase_table_with_failures() -> None:
    results = {"machine": "test machine", "compare": compared(2.0, errors=1, exit_code=1)}

    assert markdown(results).splitlines() == [
        "Machine: test machine",
        "",
        "10 documents, per phase:",
        "",
        "| phase | tool | wall s | CPU s | peak MB | tree MB | docs/s | alerts | precision | recall "
        "| right kind | failed |",
        "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
        "| changed | urlwatch | 10.0 | 10.0 | 100 | 0 | 1 | 1 | 1.00 | 1.00 | – | 0 |",
        "| changed | reportwatch | 2.0 | 4.0 | 80 | 90 | 5 | 1 | 1.00 | 1.00 | 1/1 | 1 (exit 1) |",
        "",
        "Store on disk after the four phases (MB): urlwatch 1.0",
    ]


TOOLS = ["urlwatch", "reportwatch", "reportwatch (Prefect flow)"]


def walls_run(walls: dict[str, tuple[float, float, float]], steal: float = 0.0) -> dict[str, Any]:
    """Return a comparison run whose phases took urlwatch, reportwatch and the flow these
    walls (seconds), reportwatch's cold run on a host stealing `steal` of the CPU time."""
    phases = {
        phase: {
            name: {"wall": wall, "steal": steal if (phase, name) == ("cold", "reportwatch") else 0}
            for name, wall in zip(TOOLS, times, strict=True)
        }
        for phase, times in walls.items()
    }
    return {"phases": phases}


def test_ratio_table_gives_each_run_its_ratios_the_flows_extra_seconds_and_the_medians() -> None:
    first = {
        "cold": (6.0, 5.0, 6.5),
        "unchanged": (8.0, 1.6, 3.4),
        "chrome": (10.0, 5.0, 7.0),
        "changed": (12.0, 4.0, 6.0),
    }
    second = {phase: (u * 2, r, f + 1) for phase, (u, r, f) in first.items()}
    third = {"cold": (5.0, 4.0, 5.0)}  # --no-prefect aside, a phase can lack a tool's run

    lines = ratio_lines([walls_run(first), walls_run(second, steal=0.25), walls_run(third)])

    assert lines == [
        "| run | cold vs urlwatch | unchanged vs urlwatch | chrome vs urlwatch "
        "| changed vs urlwatch | Prefect flow vs plain, cold | Prefect flow − plain, unchanged s "
        "| host steal, most of a run |",
        "|---|---:|---:|---:|---:|---:|---:|---:|",
        "| 1 | 0.83 | 0.20 | 0.50 | 0.33 | 1.30 | 1.80 | 0.00 |",
        "| 2 | 0.42 | 0.10 | 0.25 | 0.17 | 1.50 | 2.80 | 0.25 |",
        "| 3 | 0.80 | – | – | – | 1.25 | – | 0.00 |",
        "| median | 0.80 | – | – | – | 1.30 | – | 0.00 |",
    ]


def test_tools_take_turns_going_first_phase_by_phase_and_run_by_run() -> None:
    orders = [turn_order(TOOLS, phase + run - 1) for run in (1, 2, 3) for phase in range(4)]
    assert orders[:4] == [
        ["urlwatch", "reportwatch", "reportwatch (Prefect flow)"],
        ["reportwatch", "reportwatch (Prefect flow)", "urlwatch"],
        ["reportwatch (Prefect flow)", "urlwatch", "reportwatch"],
        ["urlwatch", "reportwatch", "reportwatch (Prefect flow)"],
    ]
    assert len(PHASES) == 4
    # over three runs, each tool runs first, in the middle and last, in each phase
    for phase in range(4):
        by_run = [orders[4 * run + phase] for run in range(3)]
        assert {tuple(order.index(tool) for order in by_run) for tool in TOOLS} == {
            (0, 2, 1),
            (1, 0, 2),
            (2, 1, 0),
        }
    assert turn_order(TOOLS[:2], 1) == ["reportwatch", "urlwatch"]
