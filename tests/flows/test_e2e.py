"""End to end against a real Prefect server: deploy with deploy/prefect.yaml and run on a process
worker, and serve with `reportwatch_flows.serve`; each run writes the snapshots and artifacts.

Slow (about a minute and a half): `pytest -m e2e`. Every process runs in its own process group
and is stopped with SIGTERM, then SIGKILL.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from reportwatch import pipeline
from reportwatch.sources import items_from_config, load_sources
from reportwatch.store import Store
from reportwatch_flows import telemetry_off

from .conftest import ROOT, SEEDS, stored

pytestmark = pytest.mark.e2e

PREFECT = str(Path(sys.executable).parent / "prefect")
RUN_TIMEOUT = 180.0
DOCUMENTS = [
    "cqc/ealing/learning-improvement-and-innovation",
    "cqc/hammersmith-and-fulham/governance-management-and-sustainability",
    "cqc/hammersmith-and-fulham/learning-improvement-and-innovation",
    "cqc/unnamed-004-be58087aa61b4f94/learning-improvement-and-innovation",
    "ofsted/hammersmith-and-fulham/ilacs",
]


@dataclass
class Server:
    """A running Prefect server and the environment that talks to it."""

    api: str
    env: dict[str, str]


# --- processes ---


def free_port() -> int:
    """Return a TCP port nothing listens on now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def start(args: list[str], env: dict[str, str], cwd: Path, log: Path) -> subprocess.Popen[bytes]:
    """Start a process in its own process group, its output going to `log`."""
    with log.open("wb") as out:
        return subprocess.Popen(
            args, env=env, cwd=cwd, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
        )


def stop(process: subprocess.Popen[bytes]) -> None:
    """Stop a process group: SIGTERM, then SIGKILL after 10 s."""
    if process.poll() is not None:
        return
    for sig, wait in ((signal.SIGTERM, 10.0), (signal.SIGKILL, 10.0)):
        try:
            os.killpg(process.pid, sig)
            process.wait(wait)
            return
        except ProcessLookupError:
            return
        except subprocess.TimeoutExpired:
            continue


def prefect(args: list[str], env: dict[str, str], cwd: Path) -> str:
    """Run a `prefect` command to completion; return its output."""
    done = subprocess.run(
        [PREFECT, *args], env=env, cwd=cwd, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, f"prefect {' '.join(args)}:\n{done.stdout}\n{done.stderr}"
    return done.stdout


def tail(log: Path) -> str:
    """Return the end of a process's log, for a failure message."""
    return log.read_text(errors="replace")[-4000:] if log.exists() else ""


def wait_until(ready: Any, timeout: float, what: str, log: Path) -> Any:
    """Poll `ready()` every half second until it returns something true; return that."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = ready()
        if value:
            return value
        time.sleep(0.5)
    raise AssertionError(f"{what}: not within {timeout:g}s\n{tail(log)}")


# --- the server ---


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """Start `prefect server start` on a free port with SQLite in its own PREFECT_HOME."""
    home = tmp_path_factory.mktemp("prefect-server-home")
    port = free_port()
    env = dict(telemetry_off(dict(os.environ)))
    env.pop("PREFECT_API_URL", None)
    env.pop("PREFECT_PROFILES_PATH", None)
    env.update(PREFECT_HOME=str(home), PREFECT_WORKER_QUERY_SECONDS="2")
    env.update(PREFECT_RUNNER_POLL_FREQUENCY="2", PREFECT_LOGGING_LEVEL="INFO")
    args = [PREFECT, "server", "start", "--host", "127.0.0.1", "--port", str(port), "--no-ui"]
    log = home / "server.log"
    process = start(args, env, home, log)
    api = f"http://127.0.0.1:{port}/api"
    try:
        wait_until(lambda: healthy(api, process), 90, "server health", log)
        yield Server(api, {**env, "PREFECT_API_URL": api})
    finally:
        stop(process)


def healthy(api: str, process: subprocess.Popen[bytes]) -> bool:
    """Return True once the server answers /api/health; fail if it exited."""
    assert process.poll() is None, "prefect server exited"
    try:
        return httpx.get(f"{api}/health", timeout=2).status_code == 200
    except httpx.HTTPError:
        return False


# --- a project to run in, and what its run must leave ---


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """Return a folder with a copy of seeds/ and a sources file naming it."""
    folder = tmp_path / "project"
    shutil.copytree(SEEDS, folder / "seeds")
    (folder / "reportwatch.toml").write_text('[[source]]\npath = "seeds"\n')
    return folder


def trigger(server: Server, deployment: str, cwd: Path) -> str:
    """Run `prefect deployment run`; return the new flow run's id."""
    out = prefect(["deployment", "run", deployment], server.env, cwd)
    found = re.search(r"UUID: ([0-9a-f-]{36})", out)
    assert found, out
    return found.group(1)


def final_state(server: Server, flow_run_id: str, log: Path) -> str:
    """Wait (bounded) for a flow run to finish; return its state type."""

    def finished() -> str | None:
        state = httpx.get(f"{server.api}/flow_runs/{flow_run_id}").json()["state"]
        done = {"COMPLETED", "FAILED", "CRASHED", "CANCELLED"}
        return state["type"] if state and state["type"] in done else None

    state: str = wait_until(finished, RUN_TIMEOUT, f"flow run {flow_run_id}", log)
    return state


def check_run(server: Server, flow_run_id: str, project: Path, monkeypatch: Any) -> None:
    """Assert on what a completed run left: the snapshots (as `pipeline.ingest` writes them) and
    its two artifacts."""
    snapshots = project / "snapshots"
    assert Store(snapshots).documents() == DOCUMENTS
    monkeypatch.chdir(project)
    items = items_from_config(load_sources(Path("reportwatch.toml")), Path("."))
    pipeline.ingest(items, Store(project / "plain"))
    assert stored(snapshots) == stored(project / "plain")

    query = {"flow_runs": {"id": {"any_": [flow_run_id]}}}
    found = httpx.post(f"{server.api}/artifacts/filter", json=query).json()
    by_key = {a["key"]: a for a in found}
    assert set(by_key) == {"reportwatch-changes", "reportwatch-scores"}
    markdown = by_key["reportwatch-changes"]["data"]
    assert "**Ealing · Learning, improvement and innovation** (v1)" in markdown
    assert markdown.endswith("5 new, 0 changed, 0 unchanged, 0 failed")
    rows = json.loads(by_key["reportwatch-scores"]["data"])
    assert sorted(row["document"] for row in rows) == DOCUMENTS
    assert {(row["status"], row["version"]) for row in rows} == {("new", 1)}


# --- the two ways to run it ---


def test_deployment_from_prefect_yaml_runs_on_a_process_worker(
    server: Server, project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    prefect(["work-pool", "create", "reportwatch", "--type", "process"], server.env, project)
    spec = str(ROOT / "deploy" / "prefect.yaml")
    env = {**server.env, "PWD": str(project)}  # the runs' working directory
    prefect(["--no-prompt", "deploy", "--all", "--prefect-file", spec], env, project)
    deployment = httpx.get(f"{server.api}/deployments/name/ingest/reportwatch-ingest").json()
    [schedule] = deployment["schedules"]
    assert schedule["schedule"]["cron"] == "0 7 * * *"
    assert schedule["schedule"]["timezone"] == "Europe/London"
    assert deployment["concurrency_options"]["collision_strategy"] == "CANCEL_NEW"

    log = project.parent / "worker.log"
    worker = start([PREFECT, "worker", "start", "--pool", "reportwatch"], server.env, project, log)
    try:
        flow_run_id = trigger(server, "ingest/reportwatch-ingest", project)
        assert final_state(server, flow_run_id, log) == "COMPLETED", tail(log)
    finally:
        stop(worker)
    check_run(server, flow_run_id, project, monkeypatch)


def test_served_deployment_runs_in_the_serving_process(
    server: Server, project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    code = (
        "from reportwatch_flows.serve import serve\n"
        "serve(config='reportwatch.toml', store='snapshots', name='reportwatch-serve')\n"
    )
    log = project.parent / "serve.log"
    served = start([sys.executable, "-c", code], server.env, project, log)
    try:
        url = f"{server.api}/deployments/name/ingest/reportwatch-serve"
        wait_until(lambda: httpx.get(url).status_code == 200, 60, "served deployment", log)
        flow_run_id = trigger(server, "ingest/reportwatch-serve", project)
        assert final_state(server, flow_run_id, log) == "COMPLETED", tail(log)
    finally:
        stop(served)
    check_run(server, flow_run_id, project, monkeypatch)
