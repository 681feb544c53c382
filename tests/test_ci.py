"""The CI script runs the README's test command, word for word."""

from __future__ import annotations

from conftest import ROOT


def test_ci_runs_the_readme_test_command() -> None:
    readme = (ROOT / "README.md").read_text("utf-8").splitlines()
    command = next(line.strip() for line in readme if "ruff check . &&" in line)
    ci = (ROOT / ".ci" / "run").read_text("utf-8").splitlines()
    assert command.endswith("&& mypy src flows benchmarks && pytest")
    assert command in [line.strip() for line in ci]
