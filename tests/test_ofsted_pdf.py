"""Ofsted ILACS inspection report PDFs: extraction, normalization, diffing, and unreadable PDFs.

The fixtures are real reports: Derbyshire and Havering, each inspected under the 2018 judgement
set (children in care and care leavers judged together) and again in 2023 (judged apart).
"""

from __future__ import annotations

import io
import random
import re
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import pytest
from pypdf import PdfReader, PdfWriter

from reportwatch import extract_pdf
from reportwatch.diff import diff_reports
from reportwatch.errors import InputError
from reportwatch.extract_pdf import join_lines
from reportwatch.fetch import Fetched
from reportwatch.model import ChangeKind, Report
from reportwatch.normalize import Defaults
from reportwatch.pipeline import parse

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "ofsted"

LEADERS = "The impact of leaders on social work practice with children and families"
HELP = "The experiences and progress of children who need help and protection"
IN_CARE = "The experiences and progress of children in care"
LEAVERS = "The experiences and progress of care leavers"
IN_CARE_2018 = "The experiences and progress of children in care and care leavers"
OVERALL = "Overall effectiveness"
OVERVIEW = "Overview"
IMPROVE = "What needs to improve"
RI = "Requires improvement to be good"
FRAMEWORK = "Ofsted ILACS"
FRAMEWORK_2018 = "Ofsted ILACS (2018 judgements)"


@dataclass(frozen=True)
class Case:
    """What one fixture PDF must normalize to."""

    name: str
    authority: str
    framework: str
    grades: dict[str, str]
    improvements: int
    first_improvement: str
    sections: tuple[tuple[str, int], ...]  # (title, number of findings), in document order
    last_paragraph: int  # the number the report prints on its last numbered paragraph
    inspection_dates: str
    lead_inspector: str
    published: str
    running_header: str | None  # the header lines as they would read leaked into a paragraph


CASES = (
    Case(
        name="derbyshire-2019-09-19",
        authority="Derbyshire",
        framework=FRAMEWORK_2018,
        grades={LEADERS: "Good", HELP: RI, IN_CARE_2018: RI, OVERALL: RI},
        improvements=5,
        first_improvement=(
            "The timeliness with which Starting Point progress decision-making on contacts when "
            "there are no child protection concerns."
        ),
        sections=((OVERVIEW, 5), (IMPROVE, 5), (HELP, 13), (IN_CARE_2018, 16), (LEADERS, 15)),
        last_paragraph=44,
        inspection_dates="8 July 2019 to 12 July 2019 and 7 August 2019 to 8 August 2019",
        lead_inspector="Julie Knight",
        published="2019-09-19",
        running_header=None,  # page numbers only
    ),
    Case(
        name="derbyshire-2024-01-12",
        authority="Derbyshire",
        framework=FRAMEWORK,
        grades={LEADERS: "Good", HELP: "Good", IN_CARE: "Good", LEAVERS: "Good", OVERALL: "Good"},
        improvements=4,
        first_improvement=(
            "The effectiveness of management oversight and supervision in driving practice "
            "improvement."
        ),
        sections=(
            (OVERVIEW, 2),
            (IMPROVE, 4),
            (HELP, 14),
            (IN_CARE, 20),
            (LEAVERS, 11),
            (LEADERS, 9),
        ),
        last_paragraph=54,
        inspection_dates="30 October to 10 November 2023",
        lead_inspector="John Roughton",
        published="2024-01-11",
        running_header=(
            "Inspection of Derbyshire local authority children's services "
            "30 October to 10 November 2023"
        ),
    ),
    Case(
        name="havering-2018-07-23",
        authority="Havering",
        framework=FRAMEWORK_2018,
        grades={LEADERS: "Good", HELP: RI, IN_CARE_2018: "Good", OVERALL: "Good"},
        improvements=5,
        first_improvement=(
            "The quality of management oversight of social work practice, including supervision "
            "and the use of qualitative auditing to give a better understanding of the impact of "
            "practice."
        ),
        sections=((OVERVIEW, 3), (IMPROVE, 5), (HELP, 14), (IN_CARE_2018, 15), (LEADERS, 10)),
        last_paragraph=39,
        inspection_dates="11 June 2018 to 22 June 2018",
        lead_inspector="Andy Whippey",
        published="2018-07-20",
        running_header=None,  # page numbers only
    ),
    Case(
        name="havering-2024-02-16",
        authority="Havering",
        framework=FRAMEWORK,
        grades={
            LEADERS: "Inadequate",
            HELP: "Inadequate",
            IN_CARE: "Inadequate",
            LEAVERS: RI,
            OVERALL: "Inadequate",
        },
        improvements=6,
        first_improvement=(
            "Further corporate and political investment in children's services, alongside "
            "increased social work capacity and consistency."
        ),
        sections=(
            (OVERVIEW, 2),
            (IMPROVE, 6),
            (HELP, 16),
            (IN_CARE, 14),
            (LEAVERS, 11),
            (LEADERS, 9),
        ),
        last_paragraph=50,
        inspection_dates="11 to 22 December 2023",
        lead_inspector="Claire Beckingham",
        published="2024-02-15",
        running_header=(
            "Inspection of Havering local authority children's services 11 to 22 December 2023"
        ),
    ),
)
IDS = [case.name for case in CASES]

# Text of the closing pages (Ofsted's description, licence, contact details) and of the page
# furniture: none of it may ever be part of a finding.
BOILERPLATE = (
    "Office for Standards in Education",
    "Ofsted has published",
    "If you are not happy",
    "If you would like a copy",
    "You may reuse this information",
    "Open Government Licence",
    "Crown copyright",
    "Piccadilly Gate",
    "0300 123 1231",
    "Textphone",
    "enquiries@ofsted.gov.uk",
    "www.",
    "http",
    "eepurl",
    "Judgement Grade",
    "Inspection dates",
    "Lead inspector",
)


def pdf_bytes(name: str) -> bytes:
    """Return a fixture PDF's bytes."""
    return (FIXTURES / f"{name}.pdf").read_bytes()


def parse_pdf(raw: bytes, location: str = "report.pdf") -> Report:
    """Return the report PDF bytes normalize to, through the pipeline's entry point."""
    return parse(Fetched(location, raw), Defaults())


@cache
def report(name: str) -> Report:
    """Return a fixture's report (parsed once per test session)."""
    return parse_pdf(pdf_bytes(name), f"tests/fixtures/ofsted/{name}.pdf")


def findings(rep: Report) -> list[str]:
    """Return the text of every finding of a report."""
    return [f.text for section in rep.sections for f in section.findings]


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_report_names_authority_framework_and_grades(case: Case) -> None:
    rep = report(case.name)
    assert (rep.regulator, rep.kind) == ("Ofsted", "ilacs")
    assert (rep.authority, rep.authority_from) == (case.authority, "document")
    assert rep.framework == case.framework
    assert rep.grades == case.grades
    assert rep.overall_rating == case.grades[OVERALL]
    assert rep.notes == ()


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_report_sections_come_in_document_order(case: Case) -> None:
    rep = report(case.name)
    assert [(s.title, len(s.findings)) for s in rep.sections] == list(case.sections)


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_what_needs_to_improve_holds_the_bullet_items(case: Case) -> None:
    section = next(s for s in report(case.name).sections if s.title == IMPROVE)
    assert len(section.findings) == case.improvements
    assert section.findings[0].text == case.first_improvement
    assert {f.kind for f in section.findings} == {"bullet"}


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_judgement_sections_hold_numbered_paragraphs_without_numbers(case: Case) -> None:
    rep = report(case.name)
    judged = [s for s in rep.sections if s.title not in (OVERVIEW, IMPROVE)]
    paragraphs = [f for s in judged for f in s.findings]
    assert len(paragraphs) == case.last_paragraph
    assert {f.kind for f in paragraphs} == {"paragraph"}
    assert not [f.text for f in paragraphs if re.match(r"^\d{1,3}[.)]?(\s|$)", f.text)]


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_publication_details_are_read(case: Case) -> None:
    publication = report(case.name).publication
    assert publication.inspection_dates == case.inspection_dates
    assert publication.lead_inspector == case.lead_inspector
    assert publication.published == case.published


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_no_finding_holds_running_header_or_boilerplate(case: Case) -> None:
    texts = findings(report(case.name))
    if case.running_header:
        assert not [t for t in texts if case.running_header in t]
    assert not [t for t in texts if t.startswith("Inspection of ")]
    assert not [t for t in texts if re.search(r"^\d{1,2} [a-z]|[a-z] \d{1,2}$", t)]
    assert not [(b, t) for t in texts for b in BOILERPLATE if b.lower() in t.lower()]


@pytest.mark.parametrize(
    ("name", "phrase"),
    [
        # kept: the joined word is not used anywhere in the report
        ("derbyshire-2019-09-19", "Most children in need plans are too adult-focused and"),
        ("derbyshire-2019-09-19", "Unaccompanied asylum-seeking children benefit from"),
        ("havering-2024-02-16", "weak practice is prevalent in longer-term work."),
        # kept: the report writes the hyphenated form within a line too
        ("derbyshire-2019-09-19", "understanding of front-line practice."),
        # joined: 're-' + 'investment' where the report writes 'reinvestment' elsewhere
        ("derbyshire-2019-09-19", "ensuring significant reinvestment in the service."),
        # a paragraph carried over a page break is one finding
        ("derbyshire-2019-09-19", "Starting Point (the children's front door) provides a timely"),
        ("havering-2024-02-16", "drift and delay and social work practice deficits"),
    ],
)
def test_lines_join_into_whole_paragraphs(name: str, phrase: str) -> None:
    assert [t for t in findings(report(name)) if phrase in t]


@pytest.mark.parametrize(
    ("left", "right", "used", "joined"),
    [
        ("significant re-", "investment in", [], "significant re-investment in"),
        ("significant re-", "investment in", ["reinvestment"], "significant reinvestment in"),
        ("the front-", "line staff", ["frontline", "front-line"], "the front-line staff"),
        ("of front-", "line.", ["frontline"], "of frontline."),
        ("ends a sentence.", "Next one", [], "ends a sentence. Next one"),
        ("a dash -", "then more", [], "a dash - then more"),
    ],
)
def test_hyphen_at_a_line_break_is_kept_unless_the_joined_word_is_used(
    left: str, right: str, used: list[str], joined: str
) -> None:
    words = Counter(w for word in used for w in (word, *word.split("-")))
    assert join_lines(left, right, words) == joined


def test_diff_between_frameworks_records_each_judgement_that_changed() -> None:
    changes = diff_reports(
        report("derbyshire-2019-09-19"), report("derbyshire-2024-01-12"), "ofsted/derbyshire/ilacs"
    )
    grades = [
        (c.where, c.old, c.new, c.direction) for c in changes if c.kind == ChangeKind.GRADE_CHANGED
    ]
    assert sorted(grades, key=lambda g: g[0]) == [
        (OVERALL, RI, "Good", "up"),
        (LEAVERS, None, "Good", None),
        (IN_CARE, None, "Good", None),
        (IN_CARE_2018, RI, None, None),
        (HELP, RI, "Good", "up"),
    ]
    ratings = [(c.old, c.new) for c in changes if c.kind == ChangeKind.RATING_CHANGED]
    assert ratings == [(RI, "Good")]


def encrypted(user_password: str) -> bytes:
    """Return a real report re-written encrypted with the given user password."""
    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(pdf_bytes("havering-2024-02-16"))))
    writer.encrypt(user_password=user_password, owner_password="owner-secret")
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def blank_pages(count: int) -> bytes:
    """Return a PDF of `count` blank pages."""
    writer = PdfWriter()
    for _ in range(count):
        writer.add_blank_page(width=595, height=842)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def truncated() -> bytes:
    """Return the first half of a real report."""
    raw = pdf_bytes("derbyshire-2024-01-12")
    return raw[: len(raw) // 2]


def random_pdf() -> bytes:
    """Return random bytes behind a PDF signature."""
    return b"%PDF-1.7\n" + random.Random(20240216).randbytes(20_000)


@pytest.mark.parametrize(
    ("make", "reason"),
    [
        (lambda: encrypted("secret"), r"encrypted PDF"),
        (truncated, r"damaged PDF: .+"),
        (random_pdf, r"damaged PDF: .+"),
        (lambda: b"%PDF-1.4\n", r"damaged PDF: .+"),
        (lambda: blank_pages(1), r"PDF with no text"),
        (lambda: blank_pages(501), r"PDF too large: 501 pages, more than 500"),
    ],
    ids=["encrypted", "truncated", "random", "signature-only", "no-text", "too-many-pages"],
)
def test_unreadable_pdf_is_an_input_error_naming_the_reason(
    make: Callable[[], bytes], reason: str
) -> None:
    with pytest.raises(InputError) as raised:
        parse_pdf(make())
    assert re.fullmatch(reason, str(raised.value))


def test_pdf_locked_only_by_an_owner_password_is_read() -> None:
    rep = parse_pdf(encrypted(""))
    assert (rep.authority, rep.overall_rating) == ("Havering", "Inadequate")


def test_pdf_with_more_text_than_the_limit_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(extract_pdf, "MAX_TEXT_BYTES", 2 * 2**10)
    with pytest.raises(InputError, match=r"^PDF too large: more than 0.00195312 MB of text$"):
        parse_pdf(pdf_bytes("havering-2024-02-16"))


NEED_HELP = "The experiences and progress of children who need help and protection"


def test_a_judgement_heading_whose_grade_wrapped_onto_its_own_line_is_still_a_heading() -> None:
    # the benchmark's PDF writer wraps this long heading, leaving 'outstanding' on a line alone
    from benchmarks.corpus import ilacs_doc
    from benchmarks.pages import ilacs_pdf

    doc = ilacs_doc(random.Random(11), "Buckinghamshire", 1)
    assert doc["grades"][NEED_HELP] == "Outstanding"
    report = parse(
        Fetched("report.pdf", ilacs_pdf(doc, "Buckinghamshire"), "application/pdf"), Defaults()
    )
    sections = {s.title: len(s.findings) for s in report.sections}
    assert list(sections) == [
        "Overall effectiveness",
        "What needs to improve",
        NEED_HELP,
        "The experiences and progress of children in care",
        "The experiences and progress of care leavers",
        "The impact of leaders on social work practice with children and families",
    ]
    assert sections["What needs to improve"] == len(doc["improve"])
    assert sections[NEED_HELP] == len(doc["sections"][NEED_HELP])
