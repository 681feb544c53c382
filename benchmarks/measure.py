"""Run a command and write its wall time, CPU time and peak memory as JSON: a small process that
starts the measured one, so that the peak memory is the command's own. (A process started straight
from the benchmark would be charged the benchmark's own memory: Linux counts the memory a process
had before exec in its ru_maxrss.) Only the standard library, to stay small.

Two peaks: `peak_mb`, the largest single process (wait4's ru_maxrss, covering the command and
every process it waited for), and `tree_peak_mb`, the most the whole process tree held at once
(the command, its parse workers, Prefect's subprocesses), sampled every SAMPLE_SECONDS as the sum
of each process's proportional set size (PSS: a page shared by N processes counts 1/N to each,
so shared libraries are not counted twice).

`steal`: the share of the machine's CPU time that its hypervisor gave to other guests while the
command ran (/proc/stat's steal). On a busy host it reached 30-70%, and a run's wall time then
says more about the host than about the tool.

    python -m benchmarks.measure RESULT.json LOG -- command ...
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

SAMPLE_SECONDS = 0.1


def proc_stats() -> Iterator[tuple[int, list[str]]]:
    """Yield each running process's pid and the fields of its /proc/<pid>/stat after the
    command name (state, ppid, pgrp, ...); a process gone meanwhile is skipped."""
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            yield int(stat.parent.name), stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue


def children(pid: int) -> list[int]:
    """Return a process's descendants (pids), read from /proc."""
    parents: dict[int, list[int]] = {}
    for child, fields in proc_stats():
        parents.setdefault(int(fields[1]), []).append(child)
    found, todo = [], [pid]
    while todo:
        kids = parents.get(todo.pop(), [])
        found += kids
        todo += kids
    return found


def pss_mb(pid: int) -> float:
    """Return a process's proportional set size, MB (0 once it is gone)."""
    try:
        for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
            if line.startswith("Pss:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


def cpu_times(stat: Path = Path("/proc/stat")) -> list[int]:
    """Return the machine's CPU time counters, in clock ticks, from its 'cpu' line (user, nice,
    system, idle, iowait, irq, softirq, steal, ...); [] where there is none."""
    try:
        first = stat.read_text().splitlines()[0].split()
    except (OSError, IndexError):
        return []
    return [int(n) for n in first[1:]] if first[:1] == ["cpu"] else []


def steal_share(before: list[int], after: list[int]) -> float:
    """Return the share of CPU time stolen (given to other guests) between two `cpu_times`, of
    all the time counted (guest time, already in user, left out): 0.0 when unknown."""
    if len(before) < 8 or len(after) < 8:
        return 0.0
    spent = [later - earlier for earlier, later in zip(before[:8], after[:8], strict=True)]
    return spent[7] / sum(spent) if sum(spent) > 0 else 0.0


class TreeSampler(threading.Thread):
    """Samples the summed PSS of a process and its descendants until stopped; keeps the peak."""

    def __init__(self, pid: int) -> None:
        super().__init__(daemon=True)
        self.pid, self.peak = pid, 0.0
        self.done = threading.Event()

    def run(self) -> None:
        """Sample until `done` is set."""
        while not self.done.wait(SAMPLE_SECONDS):
            pids = [self.pid, *children(self.pid)]
            self.peak = max(self.peak, sum(pss_mb(pid) for pid in pids))


def main() -> None:
    """Run argv[4:] with output to argv[2]; write {wall, cpu, peak_mb, tree_peak_mb,
    exit_code, steal} to argv[1]."""
    result, log, command = sys.argv[1], sys.argv[2], sys.argv[4:]
    start, ticks = time.perf_counter(), cpu_times()
    with open(log, "wb") as out:
        process = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT)
        sampler = TreeSampler(process.pid)
        sampler.start()
        _, status, usage = os.wait4(process.pid, 0)
        sampler.done.set()
    measures = {
        "wall": time.perf_counter() - start,
        "cpu": usage.ru_utime + usage.ru_stime,
        "peak_mb": usage.ru_maxrss / 1024,
        "tree_peak_mb": sampler.peak,
        "exit_code": os.waitstatus_to_exitcode(status),
        "steal": steal_share(ticks, cpu_times()),
    }
    with open(result, "w") as out:
        json.dump(measures, out)


if __name__ == "__main__":
    main()
