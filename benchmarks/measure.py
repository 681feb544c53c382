"""Run a command and write its wall time, CPU time and peak memory as JSON: a small process that
starts the measured one, so that the peak memory is the command's own. (A process started straight
from the benchmark would be charged the benchmark's own memory: Linux counts the memory a process
had before exec in its ru_maxrss.) Only the standard library, to stay small.

    python -m benchmarks.measure RESULT.json LOG -- command ...
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time


def main() -> None:
    """Run argv[4:] with output to argv[2]; write {wall, cpu, peak_mb, exit_code} to argv[1]."""
    result, log, command = sys.argv[1], sys.argv[2], sys.argv[4:]
    start = time.perf_counter()
    with open(log, "wb") as out:
        process = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT)
        _, status, usage = os.wait4(process.pid, 0)
    measures = {
        "wall": time.perf_counter() - start,
        "cpu": usage.ru_utime + usage.ru_stime,
        "peak_mb": usage.ru_maxrss / 1024,
        "exit_code": os.waitstatus_to_exitcode(status),
    }
    with open(result, "w") as out:
        json.dump(measures, out)


if __name__ == "__main__":
    main()
