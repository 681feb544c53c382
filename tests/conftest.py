"""Shared fixtures: the seed documents, a CQC statement page built around a seed (with chrome
that tests vary), a scratch store, and edited copies of seeds."""

from __future__ import annotations

import html
import io
import json
import os
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from string import Template
from typing import Any

import pytest

from reportwatch.fetch import Fetched
from reportwatch.model import Report
from reportwatch.normalize import Defaults
from reportwatch.pipeline import parse

from notify_receivers import mailbox, webhook  # noqa: F401  (fixtures for every test module)

ROOT = Path(__file__).resolve().parent.parent
SEEDS = ROOT / "seeds"
LEARNING_HF = "000_c2e9ab2eba705b57.txt"
GOVERNANCE_HF = "001_ac718487f3257af1.txt"
OFSTED_NEWS = "002_99d4bd7e1da25187.txt"
LEARNING_EALING = "003_3dab753b02dd6640.txt"
MARKDOWN_EXPORT = "004_be58087aa61b4f94.txt"

# A CQC statement page as cqc.org.uk serves it, with chrome that tests vary.
STATEMENT_PAGE = Template((ROOT / "tests/fixtures/html/cqc_statement_page.html").read_text("utf-8"))
SUBHEADINGS = {"The local authority commitment", "Key findings for this quality statement"}
NAV = ("Home", "Care services", "Contact us")
CHROME = {
    "cookie_text": "We use cookies to make this site work and to collect analytics.",
    "footer_text": "Citygate, Gallowgate, Newcastle upon Tyne, NE1 4PA",
    "updated": "3 April 2025",
    "asset_version": "a1b2c3",
    "promo_text": "Tell us about your care: your feedback helps us decide when and where to inspect.",
}


def seed_text(name: str) -> str:
    """Return a seed document's text."""
    return (SEEDS / name).read_text(encoding="utf-8")


def dated(text: str, updated: str) -> str:
    """Return a seed's text with a publication date and a 'Page last updated' stamp where its
    'Downloads' line was."""
    return text.replace("Downloads\n", f"Published: 12 March 2025 Page last updated: {updated}\n")


def parse_text(text: str, location: str = "doc.txt", authority: str | None = None) -> Report:
    """Return the report a text normalizes to."""
    return parse(Fetched(location, text.encode()), Defaults(authority=authority))


def cqc_page(seed: str, nav: tuple[str, ...] = NAV, **chrome: str) -> bytes:
    """Return an HTML page wrapping a plain-text seed as cqc.org.uk would: the authority title as
    <h1>, the statement as <h2>, the score and its wording in <div>s, subheadings as <h3>, findings
    as <p>, inside chrome (tests/fixtures/html/cqc_statement_page.html) that can be varied."""
    lines = [line for line in (SEEDS / seed).read_text("utf-8").splitlines() if line.strip()]
    title, rest = lines[0], [line for line in lines[1:] if line != "Downloads"]
    body = "\n".join(
        f"<h3>{html.escape(line)}</h3>" if line in SUBHEADINGS else f"<p>{html.escape(line)}</p>"
        for line in rest[3:]
    )
    nav_items = "".join(f'<li><a href="/{n}">{n}</a></li>' for n in nav)
    return STATEMENT_PAGE.substitute(
        CHROME | chrome,
        title=html.escape(title),
        authority=html.escape(title.split(":")[0]),
        statement=html.escape(rest[0]),
        score=html.escape(rest[1]),
        score_label=html.escape(rest[2]),
        body=body,
        nav_items=nav_items,
    ).encode("utf-8")


@pytest.fixture
def seeds_copy(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Copy seeds/ into a scratch folder and make that folder the working directory."""
    shutil.copytree(SEEDS, tmp_path / "seeds")
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("REPORTWATCH_STORE", raising=False)
    monkeypatch.delenv("PREFECT_API_URL", raising=False)
    return tmp_path / "seeds"


@pytest.fixture
def edited(tmp_path: Path) -> Callable[[str, Callable[[str], str]], Path]:
    """Return a function writing an edited copy of a seed (same file name) into edited/."""
    folder = tmp_path / "edited"
    folder.mkdir()

    def write(name: str, change: Callable[[str], str]) -> Path:
        path = folder / name
        path.write_text(change(seed_text(name)), encoding="utf-8")
        return path

    return write


# --- real `reportwatch` processes -------------------------------------------------------------

COMMAND = [sys.executable, "-m", "reportwatch"]
SETTINGS_ENV = (
    "PREFECT_API_URL",
    "REPORTWATCH_STORE",
    "REPORTWATCH_CONFIG",
    "REPORTWATCH_CRASH_AT",
    "REPORTWATCH_LOCK_TIMEOUT",
)


def pdf_file(objects: dict[int, bytes]) -> bytes:
    """Return a PDF of the numbered objects' bodies (object 1 the catalog), with its xref."""
    out = io.BytesIO(b"%PDF-1.4\n")
    out.seek(0, io.SEEK_END)
    offsets = {}
    for number in sorted(objects):
        offsets[number] = out.tell()
        out.write(b"%d 0 obj\n%s\nendobj\n" % (number, objects[number]))
    xref, size = out.tell(), len(objects) + 1
    out.write(b"xref\n0 %d\n0000000000 65535 f \n" % size)
    out.write(b"".join(b"%010d 00000 n \n" % offsets[n] for n in range(1, size)))
    out.write(b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (size, xref))
    return out.getvalue()


def process_env(**extra: str) -> dict[str, str]:
    """Return the environment for a `reportwatch` subprocess: this one's, without reportwatch's
    and Prefect's settings (so no test inherits a store, a crash point or a Prefect API), with
    telemetry off, plus `extra`."""
    env = {k: v for k, v in os.environ.items() if k not in SETTINGS_ENV}
    return {**env, "DO_NOT_TRACK": "1", "PREFECT_SERVER_ANALYTICS_ENABLED": "false", **extra}


def start_reportwatch(*args: str, cwd: Path, **env: str) -> subprocess.Popen[str]:
    """Start `reportwatch ARGS` as a real process in `cwd`; its output is piped."""
    return subprocess.Popen(
        [*COMMAND, *args],
        cwd=cwd,
        env=process_env(**env),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def store_files(root: Path) -> dict[str, bytes]:
    """Return every file of a store (the lock file aside) by its path below the root."""
    return {
        str(p.relative_to(root)): p.read_bytes()
        for p in sorted(root.rglob("*"))
        if p.is_file() and p.name != ".lock"
    }


def edit_json(path: Path, edit: Callable[[Any], object]) -> None:
    """Rewrite a JSON file (a version's, v0001.json) after `edit` changed what it holds in
    place, indented as the store writes it."""
    value = json.loads(path.read_bytes())
    edit(value)
    path.write_text(json.dumps(value, indent=2, ensure_ascii=False) + "\n")
