"""The watchers under test, each run as its user runs it, in a process of its own, measured:
wall time, CPU time (user + system, from wait4), peak memory (the largest process's ru_maxrss, and
the whole process tree's summed PSS: see `benchmarks.measure`), and what it
alerted on.

- reportwatch: `reportwatch ingest` in-process (`--no-prefect`), the sources file listing every URL;
  alerts are read from the versions the run stored (a version with a change of substance).
- reportwatch as a Prefect flow: the same command with `--prefect` against a running server.
- urlwatch 2.29: one job per URL, `css: main` then `html2text` for the HTML pages (as its users
  filter pages), no filter for the PDFs; alerts are the NEW / CHANGED / ERROR lines of its report.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

URLWATCH_LINE = re.compile(r"^\d+\. (?P<kind>NEW|CHANGED|ERROR): (?P<name>\S+)\s*$")
ROOT = Path(__file__).resolve().parent.parent
# "N republished, " is there only when some were
TALLY = re.compile(r"(\d+) new, (\d+) changed, (?:\d+ republished, )?(\d+) unchanged, (\d+) failed")


@dataclass
class Run:
    """One tool's run over one phase."""

    wall: float
    cpu: float
    peak_mb: float
    exit_code: int
    tree_peak_mb: float = 0.0
    steal: float = 0.0  # the share of the machine's CPU time the host gave others meanwhile
    alerts: dict[str, list[str]] = field(default_factory=dict)  # path -> change kinds
    new: int = 0
    low: int = 0  # versions stored for a republish only (low importance, not an alert)
    errors: int = 0


def ended_well(run: Run, phase: str, new: int, folder: Path) -> Run:
    """Return a reportwatch `run` of `phase` (its log in `folder`) when it ended well: exit 0,
    no input failed, `new` documents new and no alert. Raises RuntimeError naming its log
    otherwise: what follows it would measure something else (a cold run that stored nothing
    leaves no validators, and every later request is answered 200, not 304)."""
    if (run.exit_code, run.errors, run.new, run.alerts) != (0, 0, new, {}):
        raise RuntimeError(
            f"the {phase} run went wrong (exit {run.exit_code}, {run.errors} inputs failed, "
            f"{run.new} new of {new}, {len(run.alerts)} alerts); see {folder / phase}.log"
        )
    return run


def measured(args: list[str], env: dict[str, str], cwd: Path, log: Path) -> Run:
    """Run a command to completion, output to `log`, through `benchmarks.measure`; return its
    measures (wall s, CPU s, peak MB of the largest process and of the process tree, exit
    code, the host's steal), no alerts yet."""
    result = log.with_suffix(".measure.json")
    wrapper = [sys.executable, "-m", "benchmarks.measure", str(result), str(log), "--", *args]
    env = {**env, "PYTHONPATH": str(ROOT)}
    subprocess.run(wrapper, env=env, cwd=cwd, check=True)
    m = json.loads(result.read_text())
    return Run(m["wall"], m["cpu"], m["peak_mb"], m["exit_code"], m["tree_peak_mb"], m["steal"])


def failed_inputs(log: str) -> int:
    """Return how many inputs failed by a reportwatch run's tally line in its output `log`,
    -1 when it has none (the run did not end as it should)."""
    tally = TALLY.search(log)
    return int(tally.group(4)) if tally else -1


class Reportwatch:
    """reportwatch over a sources file of the corpus URLs, with its own store."""

    def __init__(
        self, folder: Path, base: str, paths: list[str], prefect_env: dict[str, str] | None = None
    ) -> None:
        self.folder, self.base, self.prefect_env = folder, base, prefect_env
        folder.mkdir(parents=True, exist_ok=True)
        # every URL is on one host, 127.0.0.1: without this the polite 1 s between requests to
        # a host would make a 1,683-document run take 28 minutes; urlwatch has no such wait
        sources = "[http]\nmin_interval = 0.0\n\n"
        sources += "".join(f'[[source]]\nurl = "{base}{p}"\n\n' for p in paths)
        (folder / "reportwatch.toml").write_text(sources)
        self.store = folder / "snapshots"
        self.seen: set[Path] = set()

    def run(self, phase: str) -> Run:
        """Run one ingest; return its measures and the alerts of the versions it stored."""
        args = [sys.executable, "-m", "reportwatch", "ingest", "--config", "reportwatch.toml"]
        args += ["--store", str(self.store)]
        args.append("--prefect" if self.prefect_env else "--no-prefect")
        env = {**os.environ, **(self.prefect_env or {})}
        if not self.prefect_env:
            env.pop("PREFECT_API_URL", None)
        log = self.folder / f"{phase}.log"
        run = measured(args, env, self.folder, log)
        self.read_versions(run)
        run.errors = failed_inputs(log.read_text(errors="replace"))
        return run

    def read_versions(self, run: Run) -> None:
        """Fill a run's alerts from the versions stored since the last run."""
        found = set(self.store.glob("documents/*/*/*/v*.json"))
        for version in sorted(found - self.seen):
            stored = json.loads(version.read_text())
            meta = stored["meta"]
            kinds = sorted({c["kind"] for c in stored["changes"]})
            path = meta["source"].removeprefix(self.base)
            if kinds == ["new_report"]:
                run.new += 1
            elif kinds == ["republished"]:
                run.low += 1
            else:
                run.alerts[path] = [k for k in kinds if k != "republished"]
        self.seen = found

    def store_mb(self) -> float:
        """Return the size of the snapshot store on disk, MB."""
        return folder_mb(self.store)


class Urlwatch:
    """urlwatch 2.29 over the same URLs, with its own config, jobs file and cache."""

    def __init__(self, folder: Path, base: str, paths: list[str]) -> None:
        self.folder, self.base = folder, base
        folder.mkdir(parents=True, exist_ok=True)
        jobs = []
        for path in paths:
            job = f"name: {path}\nurl: {base}{path}\n"
            if not path.startswith("/v1/file/"):
                job += "filter:\n  - css: main\n  - html2text\n"
            jobs.append(job)
        (folder / "urls.yaml").write_text("---\n".join(jobs))
        self.args = [
            str(Path(sys.executable).parent / "urlwatch"),
            "--urls",
            "urls.yaml",
            "--config",
            "urlwatch.yaml",
        ]
        self.args += ["--cache", "cache.db", "--hooks", "hooks.py"]
        # write the default config (stdout report) before anything is timed
        subprocess.run([*self.args, "--list"], cwd=folder, capture_output=True, check=True)

    def run(self, phase: str) -> Run:
        """Run urlwatch once; return its measures and the jobs its report names."""
        log = self.folder / f"{phase}.log"
        run = measured(self.args, dict(os.environ), self.folder, log)
        for line in log.read_text(errors="replace").splitlines():
            if match := URLWATCH_LINE.match(line):
                if match["kind"] == "NEW":
                    run.new += 1
                elif match["kind"] == "ERROR":
                    run.errors += 1
                else:
                    run.alerts[match["name"]] = ["changed"]
        return run

    def store_mb(self) -> float:
        """Return the size of urlwatch's cache on disk, MB."""
        return folder_mb(self.folder, "cache.db*")


def folder_mb(folder: Path, pattern: str = "**/*") -> float:
    """Return the size of the files under a folder matching a glob, MB."""
    return sum(p.stat().st_size for p in folder.glob(pattern) if p.is_file()) / 1e6
