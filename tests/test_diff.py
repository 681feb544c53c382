"""Version pairs built from the seeds, and the exact change records each must yield."""

from __future__ import annotations

import re
import textwrap
from collections.abc import Callable

import pytest

from reportwatch.diff import diff_reports
from reportwatch.model import Change, ChangeKind, Severity, WordOp

from conftest import LEARNING_EALING, LEARNING_HF, OFSTED_NEWS, dated, parse_text, seed_text

K = ChangeKind
DOC = "doc"
IDENTIFIED = "The local authority had identified the dual pressures"
RELIANCE = "There was a reliance on temporary contracts"
LAST_YEAR = "In the last year, 3 complaints were referred to the LGSCO"
HELP = "The experiences and progress of children who need help and protection"
IN_CARE_2018 = "The experiences and progress of children in care and care leavers"
NEW_FINDING = "The local authority had published a new workforce plan in 2025."


def line_starting(text: str, start: str) -> str:
    """Return the line of text that starts with `start`."""
    return next(line for line in text.split("\n") if line.startswith(start))


def swap_lines(text: str, first: str, second: str) -> str:
    """Return text with the lines starting `first` and `second` swapped."""
    a, b = line_starting(text, first), line_starting(text, second)
    return text.replace(a, "\0").replace(b, a).replace("\0", b)


def reflow(text: str) -> str:
    """Return text hard-wrapped at 72 columns with doubled spaces and typographic quotes/dashes."""
    lines = [textwrap.fill(line, 72) for line in text.split("\n")]
    wrapped = "\n".join(lines).replace(". ", ".  ")
    return wrapped.replace("'", "’").replace(" - ", " – ")


def split_paragraph(text: str) -> str:
    """Return text with one paragraph split after its first sentence (a reflow, not a rewrite)."""
    line = line_starting(text, RELIANCE)
    head, tail = line.split(". ", 1)
    return text.replace(line, f"{head}.\n{tail}")


def with_footer_changes(text: str) -> str:
    """Return the news item with only its site chrome changed."""
    text = text.replace("Tel: 01206 878178", "Tel: 01206 999999")
    text = text.replace("PR7 7NA", "PR7 7NB").replace(
        "website design by Mackman", "web design by Acme"
    )
    return text


def with_page_chrome(text: str) -> str:
    """Return a CQC page with chrome lines added (Downloads, Share this page)."""
    return text.replace(
        "Learning, improvement and innovation\n",
        "Downloads\nLearning, improvement and innovation\nShare this page\n",
        1,
    )


def record(kind: ChangeKind, where: str, **fields: object) -> Change:
    """Return the change record a case expects (severity from the kind)."""
    severity = {
        K.SCORE_CHANGED: Severity.HIGH,
        K.GRADE_CHANGED: Severity.HIGH,
        K.FINDING_MOVED: Severity.LOW,
        K.REPUBLISHED: Severity.LOW,
    }
    return Change(
        kind=kind, severity=severity.get(kind, Severity.MEDIUM), document=DOC, where=where, **fields
    )  # type: ignore[arg-type]


last_year_text = line_starting(seed_text(LEARNING_HF), LAST_YEAR)
reliance_text = line_starting(seed_text(LEARNING_HF), RELIANCE)

CASES: list[tuple[str, str, Callable[[str], str], list[Change]]] = [
    (
        "score change",
        LEARNING_HF,
        lambda t: t.replace(
            "Score: 2\n2 - Evidence shows some shortfalls",
            "Score: 3\n3 - Evidence shows a good standard",
        ),
        [record(K.SCORE_CHANGED, "score", old=2, new=3, direction="up")],
    ),
    (
        "added finding",
        LEARNING_HF,
        lambda t: t + "\n" + NEW_FINDING,
        [record(K.FINDING_ADDED, "Key findings", new=NEW_FINDING)],
    ),
    (
        "removed finding",
        LEARNING_HF,
        lambda t: t.replace(last_year_text + "\n", ""),
        [record(K.FINDING_REMOVED, "Key findings", old=last_year_text)],
    ),
    (
        "moved paragraph",
        LEARNING_HF,
        lambda t: swap_lines(t, RELIANCE, "The Principal Social Worker was developing"),
        [record(K.FINDING_MOVED, "Key findings", old="Key findings", new=reliance_text)],
    ),
    ("whitespace, wrapping, quote and dash style", LEARNING_HF, reflow, []),
    ("paragraph split in two", LEARNING_HF, split_paragraph, []),
    ("chrome-only: news footer", OFSTED_NEWS, with_footer_changes, []),
    ("chrome-only: page links", LEARNING_EALING, with_page_chrome, []),
    (
        "grade change",
        OFSTED_NEWS,
        lambda t: t.replace(
            "care leavers were also rated as good",
            "care leavers were also rated as requires improvement to be good",
        ),
        [
            record(
                K.GRADE_CHANGED,
                IN_CARE_2018,
                old="Good",
                new="Requires improvement to be good",
                direction="down",
            )
        ],
    ),
    (
        "improvement item added",
        OFSTED_NEWS,
        lambda t: t.replace(
            "the report adds.\n", "the report adds.\n\nPlacement sufficiency should be increased.\n"
        ),
        [
            record(
                K.IMPROVEMENT_ADDED,
                "What needs to improve",
                new="Placement sufficiency should be increased.",
            )
        ],
    ),
]


@pytest.mark.parametrize(("name", "seed", "edit", "expected"), CASES, ids=[c[0] for c in CASES])
def test_version_pair_yields_exact_change_records(
    name: str, seed: str, edit: Callable[[str], str], expected: list[Change]
) -> None:
    old = parse_text(seed_text(seed))
    new = parse_text(edit(seed_text(seed)))
    assert diff_reports(old, new, DOC) == expected


def test_reworded_finding_is_one_record_with_the_changed_words() -> None:
    text = seed_text(LEARNING_HF)
    changes = diff_reports(
        parse_text(text),
        parse_text(
            text.replace(IDENTIFIED, IDENTIFIED.replace("had identified", "had clearly recognised"))
        ),
        DOC,
    )
    assert [(c.kind, c.where) for c in changes] == [(K.FINDING_REWORDED, "Key findings")]
    edits = [w for w in changes[0].words if w.op != "="]
    assert edits == [WordOp(op="-", text="identified"), WordOp(op="+", text="clearly recognised")]
    assert str(changes[0].old).startswith(IDENTIFIED)
    assert str(changes[0].new).startswith("The local authority had clearly recognised the dual")


def test_score_change_leads_the_records_before_findings() -> None:
    text = seed_text(LEARNING_HF)
    edited = text.replace(
        "Score: 2\n2 - Evidence shows some shortfalls",
        "Score: 3\n3 - Evidence shows a good standard",
    )
    edited = (
        edited.replace(last_year_text + "\n", "").replace(
            IDENTIFIED, IDENTIFIED.replace("identified", "recognised")
        )
        + "\n"
        + NEW_FINDING
    )
    kinds = [c.kind for c in diff_reports(parse_text(text), parse_text(edited), DOC)]
    assert kinds == [K.SCORE_CHANGED, K.FINDING_ADDED, K.FINDING_REMOVED, K.FINDING_REWORDED]


def test_republished_with_only_new_dates_is_low_importance() -> None:
    text = seed_text(LEARNING_EALING)
    first, second = dated(text, "3 April 2025"), dated(text, "9 May 2025")
    changes = diff_reports(parse_text(first), parse_text(second), DOC)
    assert changes == [record(K.REPUBLISHED, "last_updated", old="2025-04-03", new="2025-05-09")]


def test_new_section_is_reported_with_its_findings() -> None:
    text = seed_text(LEARNING_HF)
    edited = text + "\nLearning from feedback\n" + NEW_FINDING
    changes = diff_reports(parse_text(text), parse_text(edited), DOC)
    assert [(c.kind, c.where) for c in changes] == [
        (K.FINDING_ADDED, "Learning from feedback"),
        (K.SECTION_ADDED, "Learning from feedback"),
    ]


def test_reflowed_markdown_paragraphs_are_not_a_change() -> None:
    from conftest import MARKDOWN_EXPORT

    text = seed_text(MARKDOWN_EXPORT)
    wrapped = re.sub(r"(?m)^(?!#)(.{80,})$", lambda m: textwrap.fill(m.group(1), 60), text)
    assert wrapped != text
    assert diff_reports(parse_text(text), parse_text(wrapped), DOC) == []


def test_reflow_together_with_a_real_edit_reports_only_the_edit() -> None:
    text = seed_text(LEARNING_HF)
    edited = split_paragraph(text) + "\n" + NEW_FINDING
    changes = diff_reports(parse_text(text), parse_text(edited), DOC)
    assert changes == [record(K.FINDING_ADDED, "Key findings", new=NEW_FINDING)]
