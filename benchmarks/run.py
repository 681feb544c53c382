"""The benchmark: reportwatch against urlwatch, and reportwatch as a Prefect flow, over a corpus of
real-shaped CQC pages and Ofsted PDFs served from loopback, phase by phase; then how reportwatch's
cost grows with the number of documents.

    python -m benchmarks.run                      # 153 authorities: 1,683 documents, with Prefect
    python -m benchmarks.run --growth 150,1500,15000
    python -m benchmarks.run --authorities 20 --no-prefect   # a quick look
    python -m benchmarks.run --repeat 3           # the whole comparison 3 times: medians

Writes `results.json` and `results.md` (the tables the README quotes) under --out.
"""

from __future__ import annotations

import argparse
import compileall
import importlib.util
import json
import math
import os
import platform
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict
from pathlib import Path
from typing import Any

import httpx

from benchmarks.corpus import DOCS_PER_AUTHORITY, PHASES, STATE_OF_PHASE, write_corpus
from benchmarks.measure import proc_stats
from benchmarks.server import CorpusServer
from benchmarks.tools import Reportwatch, Run, Urlwatch, ended_well

PREFECT = str(Path(sys.executable).parent / "prefect")
TELEMETRY_OFF = {"DO_NOT_TRACK": "1", "PREFECT_SERVER_ANALYTICS_ENABLED": "false"}


# --- the file system ------------------------------------------------------------------------

# This machine's file system (ext4 without a journal) does not reuse an inode deleted less than
# 60 s ago (360 s while its inode table block is not yet written back): making a file, it
# checks the deleted inodes in turn and passes them by. A cold run of reportwatch (6,700 new
# files and folders) took 0.9-1.0 s of kernel time on a settled file system, 1.2-2.2 s just
# after another store that size was deleted, 2.5-4.7 s with one deleted before each run of a
# series; urlwatch keeps one SQLite file. A scheduled run comes minutes or hours after the
# last, so each comparison starts on a file system flushed and left alone this long.
SETTLE_SECONDS = 61


def settle(delete: list[Path]) -> None:
    """Delete the folders in `delete` (an earlier benchmark's), flush the file system and wait
    SETTLE_SECONDS, so that the runs measured next make their files among no recently deleted
    inodes: neither these nor those the last runs deleted (reportwatch replaces an input's
    state file when its validators change)."""
    for folder in delete:
        shutil.rmtree(folder, ignore_errors=True)
    os.sync()
    print(f"waiting {SETTLE_SECONDS} s for the file system to settle", flush=True)
    time.sleep(SETTLE_SECONDS)


# --- the corpus and its truth --------------------------------------------------------------


def corpus(out: Path, authorities: int) -> dict[str, Any]:
    """Return the truth of the corpus of `authorities` authorities under `out`, written first
    unless an earlier run left it there."""
    folder = out / f"corpus-{authorities}"
    truth_file = folder / "truth.json"
    if truth_file.exists():
        return dict(json.loads(truth_file.read_text()), folder=str(folder))
    started = time.perf_counter()
    truth = write_corpus(folder, authorities)
    print(f"corpus: {truth['documents']} documents in {time.perf_counter() - started:.0f}s")
    return dict(truth, folder=str(folder))


def scored(run: Run, truth: dict[str, list[str]]) -> dict[str, Any]:
    """Return a run's measures with its alerts scored against the truth, per document."""
    alerted, changed = set(run.alerts), set(truth)
    hits = alerted & changed
    right = [p for p in hits if set(truth[p]) <= set(run.alerts[p])]
    result = asdict(run)
    result.pop("alerts")
    result.update(
        alerts=len(alerted),
        true_positives=len(hits),
        false_positives=len(alerted - changed),
        missed=len(changed - alerted),
        precision=len(hits) / len(alerted) if alerted else (1.0 if not changed else 0.0),
        recall=len(hits) / len(changed) if changed else 1.0,
        right_kind=len(right),
        wrong_kind=sorted(p for p in hits if p not in right)[:5],
        false_examples=sorted(alerted - changed)[:3],
        missed_examples=sorted(changed - alerted)[:3],
    )
    return result


# --- a Prefect server ----------------------------------------------------------------------


def free_port() -> int:
    """Return a TCP port nothing listens on now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def group_cpu(pgid: int) -> float:
    """Return the CPU seconds (user + system) used so far by the processes of a process group."""
    total, tick = 0, os.sysconf("SC_CLK_TCK")
    for _, fields in proc_stats():
        if int(fields[2]) == pgid:
            total += int(fields[11]) + int(fields[12])
    return total / tick


@contextmanager
def prefect_server(home: Path) -> Iterator[tuple[dict[str, str], int]]:
    """Run `prefect server start` on loopback with SQLite in its own PREFECT_HOME; yield the
    environment that talks to it and its process group. Stopped with SIGTERM, then SIGKILL."""
    home.mkdir(parents=True, exist_ok=True)
    env = {**os.environ, **TELEMETRY_OFF, "PREFECT_HOME": str(home)}
    env.pop("PREFECT_API_URL", None)
    port = free_port()
    args = [PREFECT, "server", "start", "--host", "127.0.0.1", "--port", str(port), "--no-ui"]
    with (home / "server.log").open("wb") as log:
        process = subprocess.Popen(
            args, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
        )
    api = f"http://127.0.0.1:{port}/api"
    try:
        deadline = time.monotonic() + 120
        while not healthy(api):
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"prefect server did not start; see {home / 'server.log'}")
            time.sleep(0.5)
        yield {**TELEMETRY_OFF, "PREFECT_HOME": str(home), "PREFECT_API_URL": api}, process.pid
    finally:
        for sig in (signal.SIGTERM, signal.SIGKILL):
            try:
                os.killpg(process.pid, sig)
                process.wait(10)
                break
            except ProcessLookupError:
                break
            except subprocess.TimeoutExpired:
                continue


def healthy(api: str) -> bool:
    """Return True once a Prefect API answers /health."""
    try:
        return httpx.get(f"{api}/health", timeout=2).status_code == 200
    except httpx.HTTPError:
        return False


# --- the comparison ------------------------------------------------------------------------


def compare(out: Path, authorities: int, with_prefect: bool, run: int = 1) -> dict[str, Any]:
    """Run urlwatch, reportwatch and (optionally) reportwatch as Prefect flow runs over the same
    URLs, phase by phase, taking turns to go first (`turn_order`); return every run scored.
    Each `run` of a repeated comparison works in a folder of its own, so that no files are
    deleted between runs, and starts on a settled file system (`settle`); each tool's run
    starts with what the one before it wrote flushed (`os.sync`)."""
    truth = corpus(out, authorities)
    work = out / f"compare-{authorities}" / f"run-{run}"
    settle([work])
    server = CorpusServer(Path(truth["folder"])).start()
    results: dict[str, Any] = {"documents": truth["documents"], "phases": {}}
    try:
        with contextmanager_or_none(with_prefect, work / "prefect-home") as prefect:
            tools: dict[str, Any] = {
                "urlwatch": Urlwatch(work / "urlwatch", server.base, truth["paths"]),
                "reportwatch": Reportwatch(work / "reportwatch", server.base, truth["paths"]),
            }
            if prefect is not None:
                env, pgid = prefect
                tools["reportwatch (Prefect flow)"] = Reportwatch(
                    work / "prefect", server.base, truth["paths"], prefect_env=env
                )
                warm_up(work / "prefect-warm-up", server, truth["paths"], env)
            for number, phase in enumerate(PHASES):
                server.switch(STATE_OF_PHASE[phase])
                names = turn_order(list(tools), number + run - 1)
                results["phases"][phase] = {}
                for name in names:
                    os.sync()  # the last tool's writes flushed now, not on this one's time
                    before = group_cpu(pgid) if prefect and "Prefect" in name else 0.0
                    done = tools[name].run(phase)
                    entry = scored(done, truth["phases"][phase])
                    if prefect and "Prefect" in name:
                        entry["server_cpu"] = group_cpu(pgid) - before
                    results["phases"][phase][name] = entry
                    print(
                        f"{phase:9} {name:27} {done.wall:7.1f}s wall {done.cpu:7.1f}s CPU "
                        f"{done.peak_mb:5.0f} MB (tree {done.tree_peak_mb:4.0f}) "
                        f"alerts {entry['alerts']} "
                        f"(p {entry['precision']:.2f} r {entry['recall']:.2f}) new {done.new} "
                        f"low {done.low} errors {done.errors}",
                        flush=True,
                    )
            results["store_mb"] = {name: tool.store_mb() for name, tool in tools.items()}
    finally:
        server.stop()
    return results


def turn_order(names: list[str], turn: int) -> list[str]:
    """Return the tools in the order they run at a phase's `turn` (its number, plus the run's
    less one): rotated by one a turn, so that over as many turns as tools each runs first,
    in the middle and last, and after each of the others."""
    shift = turn % len(names)
    return names[shift:] + names[:shift]


def warm_up(folder: Path, server: CorpusServer, paths: list[str], env: dict[str, str]) -> None:
    """Run one small flow run (an authority's documents, into a store of its own) against a
    server that has just started, before any measured run: a scheduled run meets a server that
    has run flows before, and the first flow run a fresh server sees took 2-3 s longer than the
    next (the flow created, the server's services used for the first time)."""
    server.switch(STATE_OF_PHASE[PHASES[0]])
    run = Reportwatch(folder, server.base, paths[:DOCS_PER_AUTHORITY], prefect_env=env).run(
        "warm-up"
    )
    ended_well(run, "warm-up", DOCS_PER_AUTHORITY, folder)


@contextmanager
def contextmanager_or_none(
    enabled: bool, home: Path
) -> Iterator[tuple[dict[str, str], int] | None]:
    """Yield a running Prefect server's (env, process group) when enabled, else None."""
    if not enabled:
        yield None
        return
    with prefect_server(home) as running:
        yield running


# --- growth --------------------------------------------------------------------------------


def growth(out: Path, sizes: list[int]) -> list[dict[str, Any]]:
    """Run reportwatch (in-process) through the four phases at each corpus size; return per size
    the time of each phase, the peak memory and the store's size."""
    rows = []
    truths = [corpus(out, math.ceil(size / DOCS_PER_AUTHORITY)) for size in sizes]
    works = [out / f"growth-{truth['documents']}" for truth in truths]
    settle(works)  # every deletion before the first run, none between runs
    for truth, work in zip(truths, works, strict=True):
        server = CorpusServer(Path(truth["folder"])).start()
        try:
            tool = Reportwatch(work, server.base, truth["paths"])
            row: dict[str, Any] = {"documents": truth["documents"], "phases": {}}
            for phase in PHASES:
                server.switch(STATE_OF_PHASE[phase])
                run = tool.run(phase)
                row["phases"][phase] = scored(run, truth["phases"][phase])
                print(
                    f"growth {truth['documents']:6} {phase:9} {run.wall:7.1f}s "
                    f"{run.peak_mb:5.0f} MB",
                    flush=True,
                )
            row["store_mb"] = tool.store_mb()
            rows.append(row)
        finally:
            server.stop()
    for work in works:
        shutil.rmtree(work / "snapshots", ignore_errors=True)
    return rows


# --- repeated comparisons ------------------------------------------------------------------

MEASURES = ("wall", "cpu", "peak_mb", "tree_peak_mb")
VERSUS_URLWATCH = ("reportwatch", "urlwatch")
PREFECT_SHARE = ("reportwatch (Prefect flow)", "reportwatch")


def medians(runs: list[dict[str, Any]]) -> dict[str, Any]:
    """Return the comparison whose measures (wall, CPU, memory) are each the median of the
    same tool's in the same phase over `runs`; its failed inputs and exit status the first
    run's that were not 0 (a failure in any run shows); alerts and the rest the first run's
    (the corpus and the tools are the same each time)."""
    merged: dict[str, Any] = json.loads(json.dumps(runs[0]))
    for phase, tools in merged["phases"].items():
        for name, entry in tools.items():
            same = [r["phases"][phase][name] for r in runs]
            for measure in MEASURES:
                entry[measure] = statistics.median(run[measure] for run in same)
            for failure in ("errors", "exit_code"):
                entry[failure] = next((run[failure] for run in same if run[failure]), 0)
    return merged


def walls(compared: dict[str, Any], pair: tuple[str, str]) -> dict[str, tuple[float, float]]:
    """Return, per phase where both ran, the wall times of the two tools of `pair`."""
    return {
        phase: (tools[pair[0]]["wall"], tools[pair[1]]["wall"])
        for phase, tools in compared["phases"].items()
        if pair[0] in tools and pair[1] in tools
    }


def ratios(compared: dict[str, Any], pair: tuple[str, str]) -> dict[str, float]:
    """Return, per phase, the wall time of one tool over another's (`pair`), when both ran."""
    return {phase: first / second for phase, (first, second) in walls(compared, pair).items()}


def extra_seconds(compared: dict[str, Any], pair: tuple[str, str]) -> dict[str, float]:
    """Return, per phase, the seconds one tool took beyond another (`pair`), when both ran."""
    return {phase: first - second for phase, (first, second) in walls(compared, pair).items()}


def ratio_lines(runs: list[dict[str, Any]]) -> list[str]:
    """Return the Markdown table of each run's ratios (reportwatch / urlwatch per phase, and
    the Prefect flow over the plain pipeline), the seconds the flow added to the unchanged
    phase (where the pipeline has least to do: Prefect's fixed cost a run, near enough), the
    most CPU time the host stole, and their medians."""
    header = [f"{phase} vs urlwatch" for phase in PHASES] + ["Prefect flow vs plain, cold"]
    header += ["Prefect flow − plain, unchanged s", "host steal, most of a run"]
    lines = ["| run | " + " | ".join(header) + " |", "|---|" + "---:|" * len(header)]
    rows = [
        [
            *(ratios(r, VERSUS_URLWATCH).get(p) for p in PHASES),
            ratios(r, PREFECT_SHARE).get("cold"),
            extra_seconds(r, PREFECT_SHARE).get("unchanged"),
            most_stolen(r),
        ]
        for r in runs
    ]
    for number, row in enumerate(rows, 1):
        lines.append(f"| {number} | " + " | ".join(ratio_text(v) for v in row) + " |")
    columns = [list(column) for column in zip(*rows, strict=True)]
    middle = [None if None in column else statistics.median(column) for column in columns]
    lines.append("| median | " + " | ".join(ratio_text(v) for v in middle) + " |")
    return lines


def most_stolen(compared: dict[str, Any]) -> float:
    """Return the largest share of CPU time the host stole during one tool's run of a
    comparison (0.30: a run that waited for a busy host, whose wall time is not the tool's)."""
    runs = [entry for tools in compared["phases"].values() for entry in tools.values()]
    return max((entry.get("steal", 0.0) for entry in runs), default=0.0)


def ratio_text(value: float | None) -> str:
    """Return a ratio or a number of seconds as Markdown: 0.29, or "–" when not measured."""
    return "–" if value is None else f"{value:.2f}"


# --- reporting -----------------------------------------------------------------------------


def compile_bytecode() -> None:
    """Compile reportwatch's modules (and its Prefect layer's) to bytecode before any measured
    run, as its first run does wherever Python may write bytecode. Where it may not (the
    machine measured sets PYTHONDONTWRITEBYTECODE), every run of an editable install compiled
    them again (0.04-0.08 s of CPU), where urlwatch, installed by pip, has its bytecode."""
    for package in ("reportwatch", "reportwatch_flows"):
        spec = importlib.util.find_spec(package)
        for folder in (spec.submodule_search_locations or []) if spec else []:
            compileall.compile_dir(folder, quiet=1)


def machine() -> str:
    """Return a line naming the machine: CPU model, cores, Python."""
    model = next(
        (
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if line.startswith("model name")
        ),
        platform.processor(),
    )
    return f"{model}, {os.cpu_count()} cores, Python {platform.python_version()}"


def failed_text(entry: dict[str, Any]) -> str:
    """Return a run's inputs that failed as Markdown: '0', '?' when its tally line was not
    found, with the exit status after it when that was not 0 ('3 (exit 1)')."""
    failed = "?" if entry["errors"] < 0 else str(entry["errors"])
    return failed if entry["exit_code"] == 0 else f"{failed} (exit {entry['exit_code']})"


def markdown(results: dict[str, Any]) -> str:
    """Return the results as the Markdown tables the README quotes."""
    lines = [f"Machine: {results['machine']}", ""]
    if "compare" in results:
        compared = results["compare"]
        lines += [f"{compared['documents']} documents, per phase:", ""]
        columns = "wall s | CPU s | peak MB | tree MB | docs/s | alerts | precision | recall"
        lines.append(f"| phase | tool | {columns} | right kind | failed |")
        lines.append("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
        for phase, runs in compared["phases"].items():
            for name, r in runs.items():
                alerts = f"{r['new']} new" if phase == "cold" else str(r["alerts"])
                quality = (
                    ("–", "–", "–")
                    if phase == "cold"
                    else (
                        f"{r['precision']:.2f}",
                        f"{r['recall']:.2f}",
                        f"{r['right_kind']}/{r['true_positives']}" if name != "urlwatch" else "–",
                    )
                )
                rate = compared["documents"] / r["wall"]
                lines.append(
                    f"| {phase} | {name} | {r['wall']:.1f} | {r['cpu']:.1f} | {r['peak_mb']:.0f} "
                    f"| {r['tree_peak_mb']:.0f} | {rate:.0f} | {alerts} | {' | '.join(quality)} "
                    f"| {failed_text(r)} |"
                )
        lines += [
            "",
            "Store on disk after the four phases (MB): "
            + ", ".join(f"{name} {mb:.1f}" for name, mb in compared["store_mb"].items()),
        ]
        if len(runs := results.get("compare_runs", [])) > 1:
            lines += ["", f"Medians of {len(runs)} runs above. Wall time ratios, run by run:", ""]
            lines += ratio_lines(runs)
    if results.get("growth"):
        lines += [
            "",
            "| documents | cold s | unchanged s | chrome s | changed s | peak MB | tree MB "
            "| store MB |",
        ]
        lines.append("|---:|---:|---:|---:|---:|---:|---:|---:|")
        for row in results["growth"]:
            p = row["phases"]
            peak = max(r["peak_mb"] for r in p.values())
            tree = max(r["tree_peak_mb"] for r in p.values())
            times = " | ".join(f"{p[phase]['wall']:.1f}" for phase in PHASES)
            sizes = f"{peak:.0f} | {tree:.0f} | {row['store_mb']:.1f}"
            lines.append(f"| {row['documents']} | {times} | {sizes} |")
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> None:
    """Run the benchmark as the command line asks; write results.json and results.md."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--authorities", type=int, default=153, help="11 documents each")
    parser.add_argument("--no-prefect", action="store_true", help="skip the Prefect flow runs")
    parser.add_argument("--no-compare", action="store_true", help="only the growth runs")
    parser.add_argument("--growth", default="", help="document counts, e.g. 150,1500,15000")
    parser.add_argument("--repeat", type=int, default=1, help="comparisons to take medians of")
    parser.add_argument("--out", type=Path, default=Path("bench-out"))
    args = parser.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    results: dict[str, Any] = {"machine": machine()}
    compile_bytecode()
    if not args.no_compare:
        shutil.rmtree(args.out / f"compare-{args.authorities}", ignore_errors=True)
        runs = [
            compare(args.out.resolve(), args.authorities, not args.no_prefect, run)
            for run in range(1, max(1, args.repeat) + 1)
        ]
        results["compare_runs"] = runs
        results["compare"] = medians(runs)
    if args.growth:
        sizes = [int(s) for s in args.growth.split(",")]
        results["growth"] = growth(args.out.resolve(), sizes)
    (args.out / "results.json").write_text(json.dumps(results, indent=1))
    (args.out / "results.md").write_text(markdown(results))
    print(markdown(results))


if __name__ == "__main__":
    main()
