"""The sources file: what it names, the metadata it fills in, and errors naming line and key."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from reportwatch.cli import main
from reportwatch.errors import ConfigError
from reportwatch.sources import load_sources


def write_config(text: str) -> Path:
    """Write a sources file in the working directory and return its path."""
    path = Path("reportwatch.toml")
    path.write_text(text)
    return path


def test_sources_file_names_the_authority_a_document_does_not(seeds_copy: Path) -> None:
    write_config(
        '[[source]]\npath = "seeds"\n\n[[source]]\npath = "seeds/004_*.txt"\n'
        'authority = "London Borough of Barnet"\nregulator = "CQC"\n'
    )
    result = CliRunner().invoke(main, ["ingest"])
    assert result.exit_code == 0
    assert (
        "Barnet                  CQC        Learning, improvement and innovation" in result.stdout
    )
    assert "does not name its authority" not in result.stdout
    assert Path("snapshots/documents/cqc/barnet/learning-improvement-and-innovation/v0001").is_dir()


def test_sources_command_lists_and_validates(seeds_copy: Path) -> None:
    write_config('[[source]]\npath = "seeds"\ntags = ["london"]\n')
    result = CliRunner().invoke(main, ["sources"])
    assert result.stdout == (
        "SOURCE  AUTHORITY  REGULATOR  TAGS    INPUTS\n"
        "seeds                         london  5\n"
        "reportwatch.toml: 1 sources, ok\n"
    )


CONFIG_ERRORS = [
    (
        '[[source]]\npath = "seeds"\n\n[[source]]\npath = "x"\nregulater = "CQC"\n',
        "reportwatch.toml:6: source.1.regulater: Extra inputs are not permitted",
    ),
    (
        '[[source]]\npath = "seeds"\nregulator = "NHS"\n',
        "reportwatch.toml:3: source.0.regulator: Input should be 'CQC' or 'Ofsted'",
    ),
    (
        '[[source]]\nurl = "ftp://example.org/report.pdf"\n',
        "reportwatch.toml:1: source.0: Value error, `url` must start with http:// or https://",
    ),
    (
        '[[source]]\nauthority = "Ealing"\n',
        "reportwatch.toml:1: source.0: Value error, give exactly one of `path` or `url`",
    ),
    ('[[source]\npath = "seeds"\n', "reportwatch.toml: "),
]


@pytest.mark.parametrize(("text", "message"), CONFIG_ERRORS)
def test_config_mistakes_name_the_line_and_key(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, text: str, message: str
) -> None:
    monkeypatch.chdir(tmp_path)
    with pytest.raises(ConfigError) as error:
        load_sources(write_config(text))
    assert str(error.value).startswith(message)
    result = CliRunner().invoke(main, ["ingest"])
    assert result.exit_code == 2
    assert result.stderr.startswith(f"error: {message}")
