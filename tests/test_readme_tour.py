"""The README's short tour, run as a user on a fresh clone runs it: each command's output is the
output the README shows, word for word (the times a version was ingested aside)."""

from __future__ import annotations

import re
import shlex
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from reportwatch.cli import main

from conftest import ROOT

TOUR_HEADING = "## A short tour"
INGESTED_AT = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+00:00")


def tour_blocks() -> tuple[str, str]:
    """Return the tour's transcript (its ```console block) and the list of further commands (the
    plain ``` block after it)."""
    readme = (ROOT / "README.md").read_text("utf-8")
    tour = readme[readme.index(TOUR_HEADING) :]
    blocks = re.findall(r"^```(console)?\n(.*?)^```$", tour, flags=re.M | re.S)
    (kind, transcript), (plain, further) = blocks[0], blocks[1]
    assert (kind, plain) == ("console", "")
    return transcript, further


def transcript_steps(transcript: str) -> list[tuple[str, str]]:
    """Return each `$ reportwatch …` line of a transcript with the output printed under it."""
    steps: list[tuple[str, list[str]]] = []
    for line in transcript.splitlines():
        if line.startswith("$ "):
            steps.append((line[2:], []))
        else:
            steps[-1][1].append(line)
    return [(command, "\n".join(lines).strip("\n")) for command, lines in steps]


def run(command: str) -> tuple[int, str]:
    """Return the exit status and output (times ingested masked) of a `reportwatch …` line."""
    words = shlex.split(command, comments=True)
    assert words[0] == "reportwatch", command
    result = CliRunner().invoke(main, words[1:], catch_exceptions=False)
    return result.exit_code, masked(result.output.strip("\n"))


def masked(text: str) -> str:
    """Return text with every time a version was ingested replaced by the same placeholder."""
    return INGESTED_AT.sub("<ingested at>", text)


@pytest.fixture
def fresh_clone(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Make a scratch folder holding what the tour reads (seeds/, examples/, reportwatch.toml)
    the working directory, with no store, sources file or Prefect API named in the environment."""
    for folder in ("seeds", "examples"):
        shutil.copytree(ROOT / folder, tmp_path / folder)
    shutil.copy(ROOT / "reportwatch.toml", tmp_path)
    monkeypatch.chdir(tmp_path)
    for name in ("REPORTWATCH_STORE", "REPORTWATCH_CONFIG", "PREFECT_API_URL"):
        monkeypatch.delenv(name, raising=False)
    return tmp_path


def test_the_tour_prints_what_the_readme_shows(fresh_clone: Path) -> None:
    transcript, further = tour_blocks()
    steps = transcript_steps(transcript)
    assert [command.split("#")[0].split()[1] for command, _ in steps] == [
        "ingest",
        "ingest",
        "ingest",
        "history",
        "diff",
        "check",
    ]
    shown = [(command, 0, masked(output)) for command, output in steps]
    assert [(command, *run(command)) for command, _ in steps] == shown
    # then the further commands the README lists all work on the store the tour left
    further_commands = [line for line in further.splitlines() if line.strip()]
    assert len(further_commands) == 6
    assert [(command, run(command)[0]) for command in further_commands] == [
        (command, 0) for command in further_commands
    ]
