"""The CQC assessment summary page (text and HTML, built from the layout in DOMAIN.md): the exact
normalized fields in each wording of the overall percentage, and the band rule check that flags a
rating that does not match its percentage."""

from __future__ import annotations

import html
import json
from pathlib import Path
from string import Template
from typing import Any, Literal

import pytest
from click.testing import CliRunner

from reportwatch.cli import main
from reportwatch.fetch import Fetched
from reportwatch.model import Report
from reportwatch.normalize import Defaults
from reportwatch.pipeline import document_key, parse
from reportwatch.vocab import STATEMENTS

from conftest import ROOT

Format = Literal["text", "html"]
FIXTURES = ROOT / "tests/fixtures/cqc"
TEMPLATES = {
    "text": Template((FIXTURES / "summary_page.txt").read_text("utf-8")),
    "html": Template((FIXTURES / "summary_page.html").read_text("utf-8")),
}
TITLE = "Hammersmith and Fulham: local authority assessment"
# The statement names as a summary page may print them (variants of the canonical names).
PRINTED = (
    "Assessing needs",
    "Supporting people to lead healthier lives",
    "Equity in experience and outcomes",
    "Care provision, integration and continuity of care",
    "Partnerships and communities",
    "Safe pathways, systems and transitions",
    "Safeguarding",
    "Governance, management and sustainability",
    "Learning, improvement and innovation",
)
WORDINGS = {
    "scored": "Hammersmith and Fulham scored {} out of 100 overall, indicating a good standard.",
    "score": "Score: {}",
    "rating-for": "Overall rating for Hammersmith and Fulham: {}%",
}
S67 = (3, 2, 3, 3, 3, 2, 3, 3, 2)  # 24 of 36: 67%
S64 = (3, 2, 3, 3, 2, 2, 3, 3, 2)  # 23: 64%, the lowest Good
S61 = (3, 2, 3, 2, 2, 2, 3, 3, 2)  # 22: 61%, Requires improvement
S89 = (4, 4, 4, 3, 4, 3, 3, 4, 3)  # 32: 89%, Outstanding
S36 = (2, 1, 2, 1, 1, 2, 1, 2, 1)  # 13: 36%, Inadequate
S25 = (1,) * 9  # 9: 25%, the lowest band


def summary_page(
    fmt: Format,
    scores: tuple[int, ...] = S67,
    rating: str = "Good",
    percent: int | None = 67,
    wording: str = "scored",
    titled: bool = True,
) -> bytes:
    """Return a summary page in text or HTML: the title (optional), the date stamp, the rating
    word, the percentage in one of its wordings (None: no percentage line), the statement scores
    (in the order of PRINTED) and the summary's own sections."""
    line = WORDINGS[wording].format(percent) if percent is not None else ""
    pairs = list(zip(PRINTED, scores, strict=False))
    if fmt == "text":
        title = f"{TITLE}\n" if titled else ""
        listed = "\n".join(f"{name}\nScore: {n}" for name, n in pairs)
    else:
        title = f"<h1>{TITLE}</h1>" if titled else ""
        listed = "\n".join(
            f"<li><p>{html.escape(name)}</p><p>Score: {n}</p></li>" for name, n in pairs
        )
    page = TEMPLATES[fmt].substitute(title=title, rating=rating, percent=line, scores=listed)
    return page.encode("utf-8")


def read(raw: bytes, fmt: Format) -> Report:
    """Return the report a summary page normalizes to."""
    media_type = "text/html" if fmt == "html" else None
    return parse(Fetched(f"summary.{fmt}", raw, media_type), Defaults())


SECTIONS = (
    {
        "title": "Summary of people's experiences",
        "findings": (
            {
                "kind": "paragraph",
                "text": "People told us they could get advice and information about care and "
                "support when they needed it, and that staff listened to them.",
            },
            {
                "kind": "paragraph",
                "text": "Unpaid carers told us the support they received was inconsistent, and "
                "some waited a long time for an assessment.",
            },
        ),
    },
    {
        "title": "Summary of strengths, areas for development and next steps",
        "findings": (
            {
                "kind": "paragraph",
                "text": "The local authority had a clear vision for adult social care, shared by "
                "staff and partners.",
            },
            {
                "kind": "paragraph",
                "text": "Waiting times for assessments and reviews had reduced but remained too "
                "long for some people.",
            },
        ),
    },
)


def expected_fields(fmt: Format, **changed: Any) -> dict[str, Any]:
    """Return the exact normalized fields of the default summary page, with `changed` applied."""
    fields = {
        "schema_version": 1,
        "regulator": "CQC",
        "framework": "CQC local authority assessment",
        "kind": "summary",
        "authority": "Hammersmith and Fulham",
        "authority_from": "document",
        "statement": None,
        "theme": None,
        "score": None,
        "statement_scores": dict(zip(STATEMENTS, S67, strict=True)),
        "overall_rating": "Good",
        "overall_percent": 67,
        "rating_mismatch": None,
        "grades": {},
        "commitment": None,
        "expectations": (),
        "sections": SECTIONS,
        "publication": {
            "title": TITLE if fmt == "html" else None,
            "published": "2025-03-12",
            "last_updated": "2025-04-03",
            "inspection_dates": None,
            "lead_inspector": None,
        },
        "notes": (),
    }
    return fields | changed


FORMATS: list[Format] = ["text", "html"]


@pytest.mark.parametrize("wording", list(WORDINGS))
@pytest.mark.parametrize("fmt", FORMATS)
def test_summary_page_normalizes_to_exact_fields(fmt: Format, wording: str) -> None:
    report = read(summary_page(fmt, wording=wording), fmt)
    assert report.model_dump(exclude={"source"}) == expected_fields(fmt)
    assert document_key(report, f"summary.{fmt}") == "cqc/hammersmith-and-fulham/summary"


@pytest.mark.parametrize(
    ("wording", "authority", "notes"),
    [
        ("scored", "Hammersmith and Fulham", ()),
        ("rating-for", "Hammersmith and Fulham", ()),
        (
            "score",
            None,
            ("the document does not name its authority: set `authority` for this source",),
        ),
    ],
)
@pytest.mark.parametrize("fmt", FORMATS)
def test_an_untitled_page_takes_its_authority_from_the_percentage_wording(
    fmt: Format, wording: str, authority: str | None, notes: tuple[str, ...]
) -> None:
    report = read(summary_page(fmt, wording=wording, titled=False), fmt)
    assert (report.authority, report.notes) == (authority, notes)
    assert (report.overall_rating, report.overall_percent) == ("Good", 67)
    assert report.sections == read(summary_page(fmt), fmt).sections


BAND_CASES = [
    # rating printed, percentage printed (None: no percentage line), nine scores, the flag
    ("Good", 67, S67, None),
    ("Requires improvement", 67, S67, "67% is Good, not Requires improvement"),
    ("Requires Improvement", 67, S67, "67% is Good, not Requires improvement"),
    ("Good", 64, S64, None),
    ("Good", 61, S61, "61% is Requires improvement, not Good"),
    ("Requires improvement", 61, S61, None),
    ("Outstanding", 89, S89, None),
    ("Good", 89, S89, "89% is Outstanding, not Good"),
    ("Inadequate", 36, S36, None),
    ("Requires improvement", 36, S36, "36% is Inadequate, not Requires improvement"),
    ("Inadequate", 25, S25, None),
    ("Good", 70, S67, "the nine scores give 67%, not 70%"),
    ("Requires improvement", 70, S67, "the nine scores give 67%, not 70%; 70% is Good, not Requires improvement"),
    ("Requires improvement", None, S67, "67% is Good, not Requires improvement"),
    ("Good", None, S67, None),
]  # fmt: skip


@pytest.mark.parametrize(("rating", "percent", "scores", "flag"), BAND_CASES)
@pytest.mark.parametrize("fmt", FORMATS)
def test_band_rule_flags_a_rating_that_does_not_match_its_percentage(
    fmt: Format, rating: str, percent: int | None, scores: tuple[int, ...], flag: str | None
) -> None:
    report = read(summary_page(fmt, scores, rating, percent), fmt)
    assert report.overall_rating == rating[:1] + rating[1:].lower()
    assert report.overall_percent == percent
    assert report.statement_scores == dict(zip(STATEMENTS, scores, strict=True))
    assert report.rating_mismatch == flag
    assert report.notes == ()


def test_a_page_listing_fewer_than_nine_scores_says_so_and_checks_what_it_can() -> None:
    report = read(summary_page("text", S67[:8], "Requires improvement", 67), "text")
    assert report.statement_scores == dict(zip(STATEMENTS[:8], S67[:8], strict=True))
    assert report.notes == ("lists 8 of the nine statement scores",)
    assert report.rating_mismatch == "67% is Good, not Requires improvement"


MISMATCH_RUN = """\
AUTHORITY               REGULATOR  STATEMENT / JUDGEMENT                       SCORE / GRADE                                                                           STATUS
Hammersmith and Fulham  CQC        Overall rating                              Requires improvement (67%) - band rule mismatch: 67% is Good, not Requires improvement  new (v1)
                                   Assessing needs                             3
                                   Supporting people to live healthier lives   2
                                   Equity in experience and outcomes           3
                                   Care provision, integration and continuity  3
                                   Partnerships and communities                3
                                   Safe systems, pathways and transitions      2
                                   Safeguarding                                3
                                   Governance, management and sustainability   3
                                   Learning, improvement and innovation        2

1 new, 0 changed, 0 unchanged, 0 failed

notified outbox: 1 message, 1 event → snapshots/outbox/
notified feed: 1 message, 1 event → snapshots/feed.atom
"""


def test_a_band_rule_mismatch_is_shown_by_ingest_show_and_json(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    Path("summary.html").write_bytes(summary_page("html", rating="Requires improvement"))
    runner = CliRunner()
    result = runner.invoke(main, ["ingest", "summary.html"])
    assert result.exit_code == 0
    assert result.stdout == MISMATCH_RUN
    shown = runner.invoke(main, ["show", "hammersmith-and-fulham/summary"]).stdout
    assert (
        "Overall rating: Requires improvement (67%) - band rule mismatch: "
        "67% is Good, not Requires improvement\n"
    ) in shown
    data = json.loads(runner.invoke(main, ["show", "summary", "--json"]).stdout)
    assert data["report"]["rating_mismatch"] == "67% is Good, not Requires improvement"
