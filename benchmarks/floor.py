"""The floor of an unchanged run: a whole `reportwatch ingest` of the unchanged corpus against
its fetch process alone, sent the same conditional requests with nothing recording the answers
("Fifteenth round" in benchmarks/HISTORY.md). What the ingest takes beyond the fetch process is
the rest of reportwatch (starting, reading the store, recording, notifying, printing); the fetch
process's CPU is urllib3's and http.client's.

    python -m benchmarks.floor --out bench-out               # 1,683 documents, 5 pairs
    python -m benchmarks.floor --authorities 20 --repeat 3   # a quick look

Each pair runs in its own process, as a run does: the corpus server is a thread of this one.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from benchmarks.corpus import PHASES, STATE_OF_PHASE
from benchmarks.run import corpus, settle
from benchmarks.server import CorpusServer
from benchmarks.tools import ROOT, Reportwatch, ended_well
from reportwatch.fetch_process import FetchProcess
from reportwatch.http import Fetcher
from reportwatch.prefetch import FETCH_WORKERS
from reportwatch.sources import http_settings, load_sources
from reportwatch.store import Store


def fetch_alone(folder: Path) -> dict[str, float]:
    """Return the wall and CPU seconds, and the 304s, of a fetch process (as a run starts it)
    sending every URL of the sources file in the benchmark folder `folder` with the validators
    its store holds, the answers not recorded."""
    config = folder / "reportwatch.toml"
    urls = [source.url for source in load_sources(config).source if source.url]
    store = Store(folder / "snapshots")
    requests = [(url, store.source_state(url).validators or None) for url in urls]
    fetcher = Fetcher(http_settings(config), named=urls)
    before, start = resource.getrusage(resource.RUSAGE_CHILDREN), time.perf_counter()
    with FetchProcess(fetcher, FETCH_WORKERS) as process:
        answers = [future.result() for future in process.submit_many(requests)]
        wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime
    return {"wall": wall, "cpu": cpu, "not_modified": sum(a.not_modified for a in answers)}


def measured_alone(folder: Path) -> dict[str, float]:
    """Return `fetch_alone` of `folder` measured in a process of its own (which finds
    `benchmarks` as `tools.measured`'s commands do)."""
    command = [sys.executable, "-m", "benchmarks.floor", "--fetch-alone", str(folder)]
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    done = subprocess.run(command, env=env, capture_output=True, text=True, check=True)
    result: dict[str, float] = json.loads(done.stdout)
    return result


def pairs(out: Path, authorities: int, repeat: int) -> list[dict[str, float]]:
    """Return `repeat` pairs of an unchanged ingest's wall and CPU and its fetch process alone's,
    alternating which goes first, over a store one cold run made."""
    truth = corpus(out, authorities)
    work = out / f"floor-{authorities}"
    settle([work])
    server = CorpusServer(Path(truth["folder"])).start()
    try:
        tool = Reportwatch(work, server.base, truth["paths"])
        server.switch(STATE_OF_PHASE[PHASES[0]])
        ended_well(tool.run("cold"), "cold", len(truth["paths"]), work)
        server.switch(STATE_OF_PHASE["unchanged"])
        found = []
        for number in range(repeat):
            if number % 2:  # the fetch process alone first
                alone = measured_alone(work)
                run = ended_well(tool.run("unchanged"), "unchanged", 0, work)
            else:
                run = ended_well(tool.run("unchanged"), "unchanged", 0, work)
                alone = measured_alone(work)
            found.append({"ingest": run.wall, "ingest_cpu": run.cpu, **alone})
    finally:
        server.stop()
    return found


def table(found: list[dict[str, float]]) -> str:
    """Return the pairs as a Markdown table, with each measure's median last."""
    lines = [
        "| pair | ingest wall s | ingest CPU s | fetch alone wall s | fetch alone CPU s | 304s |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    keys = ("ingest", "ingest_cpu", "wall", "cpu")
    rows: list[tuple[str, list[Any]]] = [
        (str(n), [pair[k] for k in keys] + [pair["not_modified"]])
        for n, pair in enumerate(found, 1)
    ]
    medians = [statistics.median(pair[k] for pair in found) for k in keys]
    rows.append(("median", [*medians, ""]))
    for name, values in rows:
        cells = [f"{v:.2f}" if isinstance(v, float) else str(v) for v in values]
        lines.append(f"| {name} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    """Run the pairs and print their table (or, with --fetch-alone, one `fetch_alone` as
    JSON)."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--authorities", type=int, default=153, help="11 documents each")
    parser.add_argument("--repeat", type=int, default=5, help="pairs to take medians of")
    parser.add_argument("--out", type=Path, default=Path("bench-out"))
    parser.add_argument("--fetch-alone", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.fetch_alone:
        print(json.dumps(fetch_alone(args.fetch_alone)))
        return
    print(table(pairs(args.out, args.authorities, args.repeat)))


if __name__ == "__main__":
    main()
