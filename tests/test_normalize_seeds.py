"""The exact normalized fields of each seed document (three formats: CQC page text, the Markdown
export, a news item with site chrome)."""

from __future__ import annotations

import pytest

from reportwatch.fetch import Fetched
from reportwatch.normalize import Defaults
from reportwatch.pipeline import document_key, parse

from conftest import (
    GOVERNANCE_HF,
    LEARNING_EALING,
    LEARNING_HF,
    MARKDOWN_EXPORT,
    OFSTED_NEWS,
    ROOT,
    parse_text,
    seed_text,
)

LEADERS = "The impact of leaders on social work practice with children and families"
HELP = "The experiences and progress of children who need help and protection"
IN_CARE_2018 = "The experiences and progress of children in care and care leavers"
COMMITMENT_LEARNING = (
    "We focus on continuous learning, innovation and improvement across our organisation and the "
    "local system. We encourage creative ways of delivering equality of experience, outcome and "
    "quality of life for people. We actively contribute to safe, effective practice and research."
)

CQC_CASES = [
    # seed, authority, statement, score, label, key, sections (title, findings), first finding start
    (
        LEARNING_HF,
        "Hammersmith and Fulham",
        "Learning, improvement and innovation",
        2,
        "Evidence shows some shortfalls",
        "cqc/hammersmith-and-fulham/learning-improvement-and-innovation",
        [("Key findings", 14)],
        "The local authority had a workforce strategy",
    ),
    (
        GOVERNANCE_HF,
        "Hammersmith and Fulham",
        "Governance, management and sustainability",
        2,
        "Evidence shows some shortfalls",
        "cqc/hammersmith-and-fulham/governance-management-and-sustainability",
        [("Key findings", 19)],
        "Hammersmith and Fulham were reviewing their governance",
    ),
    (
        LEARNING_EALING,
        "Ealing",
        "Learning, improvement and innovation",
        3,
        "Evidence shows a good standard",
        "cqc/ealing/learning-improvement-and-innovation",
        [("Key findings", 19)],
        "There was an inclusive and positive culture",
    ),
    (
        MARKDOWN_EXPORT,
        None,
        "Learning, improvement and innovation",
        3,
        "Evidence shows a good standard",
        "cqc/unnamed-004-be58087aa61b4f94/learning-improvement-and-innovation",
        [
            ("Continuous learning, improvement and professional development", 16),
            ("Learning from feedback", 6),
        ],
        "There was an inclusive and positive culture",
    ),
]


@pytest.mark.parametrize(
    ("seed", "authority", "statement", "score", "label", "key", "sections", "first"), CQC_CASES
)
def test_cqc_statement_pages_normalize_to_exact_fields(
    seed: str,
    authority: str | None,
    statement: str,
    score: int,
    label: str,
    key: str,
    sections: list[tuple[str, int]],
    first: str,
) -> None:
    report = parse_text(seed_text(seed), location=f"seeds/{seed}")
    assert (report.regulator, report.framework, report.kind) == (
        "CQC",
        "CQC local authority assessment",
        "statement",
    )
    assert report.authority == authority
    assert report.statement == statement
    assert report.theme == "Leadership"
    assert (report.score.value, report.score.label) == (score, label) if report.score else False
    assert [(s.title, len(s.findings)) for s in report.sections] == sections
    assert report.sections[0].findings[0].text.startswith(first)
    assert document_key(report, f"seeds/{seed}") == key
    if statement.startswith("Learning"):
        assert report.commitment == COMMITMENT_LEARNING


def test_unnamed_authority_is_said_and_never_guessed() -> None:
    report = parse_text(seed_text(MARKDOWN_EXPORT))
    assert report.authority is None
    assert report.notes == (
        "the document does not name its authority: set `authority` for this source",
    )


def test_config_names_the_authority_a_document_does_not() -> None:
    report = parse_text(seed_text(MARKDOWN_EXPORT), authority="London Borough of Barnet")
    assert (report.authority, report.authority_from) == ("Barnet", "config")
    assert document_key(report, "x.txt") == "cqc/barnet/learning-improvement-and-innovation"


def test_ofsted_news_item_normalizes_grades_and_drops_site_chrome() -> None:
    report = parse_text(seed_text(OFSTED_NEWS))
    assert (report.regulator, report.kind, report.authority) == (
        "Ofsted",
        "ilacs",
        "Hammersmith and Fulham",
    )
    assert report.framework == "Ofsted ILACS (2018 judgements)"
    assert report.grades == {
        "Overall effectiveness": "Good",
        HELP: "Good",
        IN_CARE_2018: "Good",
        LEADERS: "Good",
    }
    assert report.overall_rating == "Good"
    assert [(s.title, len(s.findings)) for s in report.sections] == [
        ("Overview", 4),
        (HELP, 13),
        (IN_CARE_2018, 10),
        (LEADERS, 8),
        ("What needs to improve", 3),
    ]
    assert {f.kind for f in report.sections[1].findings} == {"bullet"}
    texts = [f.text for s in report.sections for f in s.findings]
    assert texts[-1] == (
        "Case recording, including supervision records and robust recording of the management of "
        "allegations needs improvement and Hammersmith and Fulham should address the availability "
        "of robust performance data."
    )
    chrome = ("Registered Address", "Tel:", "Contact Us", "Mackman", "PR7 7NA", "Delivering a")
    assert not [t for t in texts for c in chrome if c in t]


def test_downloads_and_chrome_lines_never_become_findings() -> None:
    report = parse_text(seed_text(LEARNING_EALING))
    texts = [f.text for s in report.sections for f in s.findings]
    assert "Downloads" not in texts
    assert all(len(t.split()) > 5 for t in texts)


@pytest.mark.parametrize(
    ("variant", "canonical"),
    [
        ("Supporting people to lead healthier lives", "Supporting people to live healthier lives"),
        ("Safe pathways, systems and transitions", "Safe systems, pathways and transitions"),
        ("Assessing people’s needs", "Assessing needs"),
        ("Partnership and communities", "Partnerships and communities"),
        (
            "Care provision, integration and continuity of care",
            "Care provision, integration and continuity",
        ),
        ("Learning, Improvement & Innovation", "Learning, improvement and innovation"),
    ],
)
def test_statement_name_variants_map_to_one_canonical_name(variant: str, canonical: str) -> None:
    text = seed_text(LEARNING_HF).replace("Learning, improvement and innovation", variant, 1)
    assert parse_text(text).statement == canonical


@pytest.mark.parametrize(
    ("title", "authority"),
    [
        ("London Borough of Ealing: local authority assessment", "Ealing"),
        ("Ealing Council: local authority assessment", "Ealing"),
        ("Hammersmith & Fulham: local authority assessment", "Hammersmith and Fulham"),
    ],
)
def test_authority_spellings_map_to_one_name(title: str, authority: str) -> None:
    text = seed_text(LEARNING_EALING).replace(
        "London Borough of Ealing: local authority assessment", title
    )
    assert parse_text(text).authority == authority


def html_page(stamp: str) -> bytes:
    """Return seed 003 as a minimal HTML page with a date stamp line under its title."""
    lines = [line for line in seed_text(LEARNING_EALING).splitlines() if line.strip()]
    body = "".join(f"<p>{line}</p>" for line in lines[1:])
    return (
        f"<html><body><main><h1>{lines[0]}</h1><p>{stamp}</p>{body}</main></body></html>".encode()
    )


def text_page(stamp: str) -> bytes:
    """Return seed 003 as page text with a date stamp line under its title."""
    return seed_text(LEARNING_EALING).replace("Downloads\n", f"{stamp}\n").encode()


OFSTED_PDF = ROOT / "tests/fixtures/ofsted/derbyshire-2024-01-12.pdf"
DATE_CASES = [
    # input, published, last updated, inspection dates: ISO whenever the value is one date
    (text_page("Published: 12 March 2025 Page last updated: 3 April 2025"), "2025-03-12", "2025-04-03", None),
    (text_page("Published: March 12, 2025 Page last updated: April 3, 2025"), "2025-03-12", "2025-04-03", None),
    (text_page("Published: 12/03/2025 Page last updated: 3/4/2025"), "2025-03-12", "2025-04-03", None),
    (text_page("Published: 12th Mar. 2025 Page last updated: 2025-04-03"), "2025-03-12", "2025-04-03", None),
    (text_page("Published: 31 February 2025 Page last updated: 3 April 2025"), "31 February 2025", "2025-04-03", None),
    (html_page("Published: 12 March 2025 | Page last updated: 3 April 2025"), "2025-03-12", "2025-04-03", None),
    (html_page("Published: March 12, 2025 | Last updated: 03/04/2025"), "2025-03-12", "2025-04-03", None),
    (html_page("Published: 31 February 2025 | Page last updated: 3 April 2025"), "31 February 2025", "2025-04-03", None),
    (OFSTED_PDF.read_bytes(), "2024-01-11", None, "30 October to 10 November 2023"),
]  # fmt: skip


@pytest.mark.parametrize(
    ("raw", "published", "last_updated", "inspected"),
    DATE_CASES,
    ids=[
        *("text", "text-us", "text-numeric", "text-mixed", "text-no-such-day"),
        *("html", "html-mixed", "html-no-such-day", "pdf"),
    ],
)
def test_publication_dates_are_iso_whatever_the_format(
    raw: bytes, published: str, last_updated: str | None, inspected: str | None
) -> None:
    report = parse(Fetched("https://example.org/report", raw), Defaults())
    dates = report.publication
    assert (dates.published, dates.last_updated, dates.inspection_dates) == (
        published,
        last_updated,
        inspected,
    )
