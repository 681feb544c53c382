"""The benchmark's measuring process: the share of CPU time the host stole during a run, read from
/proc/stat (what tells a reader which runs' wall times say more about the host than the tool)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from benchmarks.measure import cpu_times, steal_share
from benchmarks.run import most_stolen

ROOT = Path(__file__).resolve().parent.parent

# user nice system idle iowait irq softirq steal guest guest_nice
BEFORE = [100, 0, 50, 800, 10, 0, 5, 35, 7, 0]

STEAL_CASES = [
    pytest.param(BEFORE, [150, 0, 75, 900, 10, 0, 5, 95, 9, 0], 60 / 235, id="busy-host"),
    pytest.param(BEFORE, [200, 0, 100, 900, 10, 0, 5, 35, 7, 0], 0.0, id="no-steal"),
    pytest.param(BEFORE, BEFORE, 0.0, id="no-time-passed"),
    pytest.param([], BEFORE, 0.0, id="unknown-before"),
    pytest.param(BEFORE, [1, 2, 3], 0.0, id="short-line"),
]


@pytest.mark.parametrize(("before", "after", "share"), STEAL_CASES)
def test_steal_share(before: list[int], after: list[int], share: float) -> None:
    assert steal_share(before, after) == pytest.approx(share)


STAT_CASES = [
    pytest.param(
        "cpu  1 2 3 4 5 6 7 8 9 10\ncpu0 1 1 1 1\n", [1, 2, 3, 4, 5, 6, 7, 8, 9, 10], id="linux"
    ),
    pytest.param("intr 1 2 3\n", [], id="no-cpu-line"),
    pytest.param("", [], id="empty"),
]


@pytest.mark.parametrize(("text", "counters"), STAT_CASES)
def test_cpu_times(tmp_path: Path, text: str, counters: list[int]) -> None:
    stat = tmp_path / "stat"
    stat.write_text(text)
    assert cpu_times(stat) == counters


def test_cpu_times_of_a_missing_file(tmp_path: Path) -> None:
    assert cpu_times(tmp_path / "none") == []


def test_a_measured_run_records_the_steal(tmp_path: Path) -> None:
    result, log = tmp_path / "result.json", tmp_path / "log"
    command = [sys.executable, "-c", "print('measured')"]
    subprocess.run(
        [sys.executable, "-m", "benchmarks.measure", str(result), str(log), "--", *command],
        cwd=ROOT,
        check=True,
    )
    measures = json.loads(result.read_text())
    assert set(measures) == {"wall", "cpu", "peak_mb", "tree_peak_mb", "exit_code", "steal"}
    assert measures["exit_code"] == 0
    assert 0.0 <= measures["steal"] <= 1.0
    assert log.read_text() == "measured\n"


def test_most_stolen_is_the_largest_share_of_any_tools_run() -> None:
    compared = {
        "phases": {
            "cold": {"urlwatch": {"steal": 0.05}, "reportwatch": {"steal": 0.31}},
            "unchanged": {"urlwatch": {"steal": 0.12}, "reportwatch": {}},
        }
    }
    assert most_stolen(compared) == 0.31
    assert most_stolen({"phases": {}}) == 0.0
