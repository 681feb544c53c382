"""The sources file: what it names, the metadata it fills in, and errors naming line and key."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest
from click.testing import CliRunner

from reportwatch.cli import main
from reportwatch.errors import ConfigError
from reportwatch.http_settings import DEFAULT_SETTINGS, HttpSettings
from reportwatch.sources import http_settings, items_from_config, line_of, load_sources


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
    assert Path(
        "snapshots/documents/cqc/barnet/learning-improvement-and-innovation/v0001.json"
    ).is_file()


def test_sources_command_lists_and_validates(seeds_copy: Path) -> None:
    write_config('[[source]]\npath = "seeds"\ntags = ["london"]\n')
    result = CliRunner().invoke(main, ["sources"])
    assert result.stdout == (
        "SOURCE  AUTHORITY  REGULATOR  TAGS    INPUTS\n"
        "seeds                         london  5\n"
        "reportwatch.toml: 1 source, ok\n"
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
        "reportwatch.toml:1: source.0: Value error, give exactly one of `path`, `url` or `urls`",
    ),
    ('[[source]\npath = "seeds"\n', "reportwatch.toml: "),
    (
        '[[source]]\npath = "seeds"\n\n[http]\ntimeout = 10\nper_host = 0\n',
        "reportwatch.toml:6: http.per_host: Input should be greater than or equal to 1",
    ),
    (
        "[http]   # politeness\n\nmin_interval = -0.5\n",
        "reportwatch.toml:3: http.min_interval: Input should be greater than or equal to 0",
    ),
    (
        '[http]\ntimeout = "30"\n',
        "reportwatch.toml:2: http.timeout: Input should be a valid number",
    ),
    (
        "[http]\nretries = 1.5\n",
        "reportwatch.toml:2: http.retries: Input should be a valid integer",
    ),
    (
        "[http]\nmin_intervall = 2\n",
        "reportwatch.toml:2: http.min_intervall: Extra inputs are not permitted",
    ),
    (
        'http = { max_body_mb = 0 }\n\n[[source]]\npath = "seeds"\n',
        "reportwatch.toml:1: http.max_body_mb: Input should be greater than 0",
    ),
    (
        '[http]\nretries = 1\n\n[[source]]\npath = "seeds"\n\n[[source]]\npath = "x"\nregulater = "CQC"\n',
        "reportwatch.toml:9: source.1.regulater: Extra inputs are not permitted",
    ),
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


LINE_CASES = [
    # location of a validation error, the line it points at in LAYOUT
    (["http", "timeout"], 3),
    (["http", "user_agent"], 2),  # not set: the table's header
    (["source", "0", "path"], 6),
    (["source", "1", "tags", "0"], 10),
    (["source", "1"], 8),
    (["notify", "digest"], 13),
    (["channel", "1", "url"], 19),
    (["channel", "0"], 15),
    (["schedule"], 1),  # top-level key
    (["nowhere", "key"], 1),
    ([], 1),
]
LAYOUT = """\
schedule = "daily"
[http]
timeout = 5.0

[[source]]
path = "seeds"

[[source]]   # the second
url = "https://example.org/a"
tags = ["x"]

[notify]
digest = true

[[channel]]
url = "mailto://a@example.org"

[[channel]]
url = "slack://token"
"""


@pytest.mark.parametrize(("location", "line"), LINE_CASES)
def test_line_of_finds_a_key_under_any_table(location: list[str], line: int) -> None:
    assert line_of(LAYOUT, location) == line


def test_http_table_sets_what_the_fetcher_uses(tmp_path: Path) -> None:
    path = tmp_path / "reportwatch.toml"
    path.write_text(
        "[http]\nper_host = 1\nmin_interval = 2.5\ntimeout = 10\nretries = 0\n"
        'max_body_mb = 0.5\nuser_agent = "reportwatch (ops@example.org)"\n'
    )
    assert http_settings(path) == replace(
        DEFAULT_SETTINGS,
        per_host=1,
        min_interval=2.5,
        timeout=10.0,
        retries=0,
        max_bytes=512 * 1024,
        user_agent="reportwatch (ops@example.org)",
    )
    path.write_text('[[source]]\npath = "seeds"\n')
    assert http_settings(path) == DEFAULT_SETTINGS == HttpSettings()
    assert http_settings(None) == DEFAULT_SETTINGS


def test_a_url_list_file_names_one_url_a_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    Path("lists").mkdir()
    Path("lists/london.txt").write_text(
        "# CQC pages of London boroughs\n\n"
        "https://www.cqc.org.uk/la/ealing/learning\n"
        "  https://www.cqc.org.uk/la/barnet/learning#top  \n"
    )
    config = write_config('[[source]]\nurls = "lists/london.txt"\ntags = ["london"]\n')
    items = items_from_config(load_sources(config), Path())
    assert [(i.location, i.defaults.tags, i.source) for i in items] == [
        ("https://www.cqc.org.uk/la/ealing/learning", ("london",), "lists/london.txt"),
        ("https://www.cqc.org.uk/la/barnet/learning#top", ("london",), "lists/london.txt"),
    ]


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (
            "https://a.example/x\nftp://b.example/y\n",
            "lists/bad.txt:2: not an http(s) URL: ftp://b.example/y",
        ),
        (
            "https://a.example/x\nsee the wiki\n",
            "lists/bad.txt:2: not an http(s) URL: see the wiki",
        ),
        (None, "lists/bad.txt: cannot read URL list (No such file or directory)"),
    ],
)
def test_a_bad_url_list_is_a_config_error_naming_file_and_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, content: str | None, message: str
) -> None:
    monkeypatch.chdir(tmp_path)
    Path("lists").mkdir()
    if content is not None:
        Path("lists/bad.txt").write_text(content)
    write_config('[[source]]\nurls = "lists/bad.txt"\n')
    result = CliRunner().invoke(main, ["ingest"])
    assert (result.exit_code, result.stderr) == (2, f"error: {message}\n")
