"""Prefect flow tests: their own PREFECT_HOME, telemetry off, one test harness per session.

Everything here is marked `flows` (the end-to-end tests also `e2e`): `pytest -m "not e2e"` runs
the fast flow tests, `pytest -m "not flows"` skips this whole directory, and without Prefect
installed the directory skips itself.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

# Before Prefect is imported: it reads its settings (home, telemetry) when imported.
PREFECT_HOME = Path(tempfile.mkdtemp(prefix="reportwatch-prefect-home-"))
os.environ["PREFECT_HOME"] = str(PREFECT_HOME)
os.environ.pop("PREFECT_API_URL", None)  # the harness's server, never a real one
os.environ.pop("PREFECT_PROFILES_PATH", None)

pytest.importorskip("prefect")
import reportwatch_flows  # noqa: E402  (switches telemetry off before Prefect is imported)

ROOT = Path(__file__).resolve().parents[2]
SEEDS = ROOT / "seeds"
HERE = Path(__file__).resolve().parent


def pytest_configure(config: pytest.Config) -> None:
    """Register the `flows` marker."""
    config.addinivalue_line("markers", "flows: tests of the Prefect layer (tests/flows)")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark every test under tests/flows with `flows`."""
    for item in items:
        if HERE in Path(str(item.path)).resolve().parents:
            item.add_marker(pytest.mark.flows)


def pytest_unconfigure(config: pytest.Config) -> None:
    """Remove the session's PREFECT_HOME."""
    shutil.rmtree(PREFECT_HOME, ignore_errors=True)


@pytest.fixture(scope="session")
def prefect_harness() -> Iterator[None]:
    """Run the session's flows against a throwaway Prefect server and database."""
    from prefect.testing.utilities import prefect_test_harness

    assert os.environ["PREFECT_SERVER_ANALYTICS_ENABLED"] == "false"
    with prefect_test_harness(server_startup_timeout=60):
        yield


def stored(root: Path) -> dict[str, Any]:
    """Return every version a snapshot store holds, by path: its report, changes and meta (less
    the ingest time), so two stores written by different runs compare equal."""
    found: dict[str, Any] = {}
    for path in sorted((root / "documents").rglob("v*.json")):
        data = json.loads(path.read_text())
        data["meta"].pop("ingested_at")
        found[str(path.relative_to(root))] = data
    return found


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Return a scratch project folder (the working directory) holding a copy of seeds/, with no
    REPORTWATCH_* settings in the environment."""
    shutil.copytree(SEEDS, tmp_path / "seeds")
    monkeypatch.chdir(tmp_path)
    for name in ("REPORTWATCH_STORE", "REPORTWATCH_CONFIG"):
        monkeypatch.delenv(name, raising=False)
    return tmp_path


__all__ = ["ROOT", "SEEDS", "reportwatch_flows", "stored"]
