"""Parsers for Ofsted ILACS inspections: the report itself, and news items that report on one."""

from __future__ import annotations

import re
from typing import Any

from reportwatch.errors import IncompleteReport
from reportwatch.extract import Block, Extracted
from reportwatch.model import Publication, Report, Section, SourceInfo
from reportwatch.normalize import SectionBuilder
from reportwatch.vocab import (
    GRADE_PATTERN,
    JUDGEMENT_2018,
    JUDGEMENTS,
    OVERALL,
    canonical_authority,
    canonical_grade,
    fold,
    is_chrome,
    judgement_in,
)

FRAMEWORK = "Ofsted ILACS"
FRAMEWORK_2018 = "Ofsted ILACS (2018 judgements)"
IMPROVE = "What needs to improve"
OVERVIEW = "Overview"

_REPORT_TITLE = re.compile(
    r"^inspection of (?P<name>.+?) local authority children's services", re.IGNORECASE
)
_OLD_TITLE = re.compile(r"^inspection of children's (social care )?services", re.IGNORECASE)
_JUDGEMENT_HEADING = re.compile(
    rf"^(?P<name>.+?)(?P<sep>\s*:\s*|\s+is\s*:?\s*|\s+)(?P<grade>{GRADE_PATTERN})\s*\.?\s*$", re.I
)
_JUDGEMENT_NAMES = {fold(name) for name in (*JUDGEMENTS, JUDGEMENT_2018)}
_RUNNING_HEADER = re.compile(r"^inspection of .+ local authority children's services$", re.I)
_INSPECTOR_ROLE = re.compile(r",?\s*\b(?:(?:his|her) majesty's inspector|hmi)\s*$", re.I)
# The first block of the boilerplate that ends every Ofsted report: nothing after it is a finding.
_BOILERPLATE = re.compile(
    r"^(?:the office for standards in education, children's services and skills"
    r"|ofsted has published|if you are not happy|if you would like a copy of this document"
    r"|you may reuse this information|this (?:publication|report) is available at"
    r"|interested in our work|(?:©|\(c\))?\s*crown copyright|www\.|https?://)",
    re.IGNORECASE,
)
_DATES = re.compile(r"^inspection dates?\s*:\s*(?P<v>.+)$", re.IGNORECASE)
_LEAD = re.compile(r"^lead inspector\s*:\s*(?P<v>.+)$", re.IGNORECASE)
_IMPROVE = re.compile(r"^what needs to improve\b", re.IGNORECASE)
_NEWS_TITLE = re.compile(
    rf"^(?P<name>.+?) (?:is |has been )?(?:rated|judged) (?P<grade>{GRADE_PATTERN})\b.*ofsted",
    re.IGNORECASE,
)
_GRADE_STATEMENT = re.compile(
    rf"\b(?:is|are|was|were|remains?|rated|judged)(?: also)?(?: rated| judged)?(?: as)?"
    rf" (?P<grade>{GRADE_PATTERN})\b",
    re.IGNORECASE,
)
_LEAD_IN = re.compile(r"^[^.]{0,60}:$")


def judgement_heading(block: Block) -> tuple[str, str] | None:
    """Return (judgement, grade) when a block is a judgement section heading: '<judgement>:
    <grade>', '<judgement> is: <grade>', or (naming the judgement exactly) '<judgement> <grade>'
    and '<judgement> is <grade>.'."""
    # the length first: on a long paragraph the pattern's lazy name tries every position
    if len(block.text) > 160 or not (match := _JUDGEMENT_HEADING.match(block.text)):
        return None
    exact = fold(match["name"]) in _JUDGEMENT_NAMES
    if ":" not in match["sep"] and not exact:
        return None
    judgement, grade = judgement_in(match["name"]), canonical_grade(match["grade"])
    return (judgement, grade) if judgement and grade else None


def wrapped_heading(block: Block, following: Block | None) -> tuple[str, str] | None:
    """Return (judgement, grade) when a block is a judgement heading whose grade wrapped onto the
    next line on its own ('<judgement>:' then 'outstanding'), else None."""
    if following is None or not block.text.endswith(":"):
        return None
    if not re.fullmatch(rf"{GRADE_PATTERN}\s*\.?", following.text, re.IGNORECASE):
        return None
    return judgement_heading(Block(block.kind, f"{block.text} {following.text}", block.level))


def is_ilacs_report(blocks: list[Block]) -> bool:
    """Return True for an ILACS inspection report (its title, or its judgement/grade table)."""
    head = blocks[:15]
    titled = any(_REPORT_TITLE.match(b.text) or _OLD_TITLE.match(b.text) for b in head)
    table = any(fold(b.text) == "judgement grade" for b in head)
    return titled or table


def is_news_item(blocks: list[Block]) -> bool:
    """Return True for a news item reporting an Ofsted inspection's judgements in prose."""
    mentions_ofsted = any("ofsted" in b.text.lower() for b in blocks[:5])
    return mentions_ofsted and any(grade_statement(b.text) for b in blocks)


def grade_statement(text: str) -> tuple[str, str] | None:
    """Return (judgement, grade) when the first sentence of a paragraph states a judgement's
    grade in prose ('The experiences ... of children in care ... were also rated as good')."""
    sentence = re.split(r"(?<=[.!?])\s", text, maxsplit=1)[0]
    judgement = judgement_in(sentence)
    match = _GRADE_STATEMENT.search(sentence)
    grade = canonical_grade(match["grade"]) if match else None
    return (judgement, grade) if judgement and grade else None


def framework_for(grades: dict[str, str]) -> str:
    """Return the framework name the judgement set identifies (2018: three judgements)."""
    return FRAMEWORK_2018 if JUDGEMENT_2018 in grades else FRAMEWORK


def table_span(blocks: list[Block]) -> tuple[int, int] | None:
    """Return where the judgement/grade table is, as (heading index, index after its last row):
    it ends after the 'Overall effectiveness' row, or at the first block of prose."""
    start = next((i for i, b in enumerate(blocks) if fold(b.text) == "judgement grade"), None)
    if start is None:
        return None
    for index in range(start + 1, len(blocks)):
        text = blocks[index].text
        if len(text.split()) > 30:
            return start, index
        if fold(text).startswith(fold(OVERALL)):
            if canonical_grade(fold(text)[len(fold(OVERALL)) :]):
                return start, index + 1
            following = blocks[index + 1].text if index + 1 < len(blocks) else ""
            return start, index + (2 if canonical_grade(following) else 1)
    return start, len(blocks)


def table_grades(blocks: list[Block]) -> dict[str, str]:
    """Return the grades of the judgement/grade table, whose names wrap over lines and whose
    grades may stand in blocks of their own."""
    span = table_span(blocks)
    if span is None:
        return {}
    text = fold(" ".join(block.text for block in blocks[span[0] + 1 : span[1]]))
    grades = {}
    for name in (JUDGEMENT_2018, *JUDGEMENTS):
        pattern = re.escape(fold(name)) + rf" ({GRADE_PATTERN})\b"
        if match := re.search(pattern, text):
            grades[name] = canonical_grade(match.group(1)) or match.group(1)
    return grades


def report_authority(blocks: list[Block]) -> str | None:
    """Return the authority an ILACS report names in its title (or in the line above it)."""
    for index, block in enumerate(blocks[:15]):
        if match := _REPORT_TITLE.match(block.text):
            return canonical_authority(match["name"])
        if _OLD_TITLE.match(block.text) and index > 0:
            return canonical_authority(blocks[index - 1].text)
    return None


def report_title(blocks: list[Block]) -> str | None:
    """Return the report's title as printed ('Inspection of ... children's services')."""
    head = blocks[:15]
    return next(
        (b.text for b in head if _REPORT_TITLE.match(b.text) or _OLD_TITLE.match(b.text)), None
    )


def body_end(blocks: list[Block]) -> int:
    """Return the index of the first block of the closing boilerplate (Ofsted's description,
    licence, copyright, contact details), or the number of blocks when there is none."""
    span = table_span(blocks)
    start = span[1] if span else 0
    found = (i for i in range(start, len(blocks)) if _BOILERPLATE.match(blocks[i].text))
    return next(found, len(blocks))


def inspection_details(blocks: list[Block]) -> tuple[str | None, str | None]:
    """Return the inspection dates and the lead inspector's name (without 'HMI' or 'His/Her
    Majesty's Inspector') the report states."""
    dates = lead = None
    for block in blocks:
        if (match := _DATES.match(block.text)) and dates is None:
            dates = match["v"]
        elif (match := _LEAD.match(block.text)) and lead is None:
            lead = _INSPECTOR_ROLE.sub("", match["v"]).strip() or match["v"]
    return dates, lead


def is_noise(block: Block) -> bool:
    """Return True for a block that is never a finding: the inspection details, a running
    header left in the text, or a short line of contact details."""
    text = block.text
    if _DATES.match(text) or _LEAD.match(text) or _RUNNING_HEADER.match(text):
        return True
    return len(text.split()) <= 20 and is_chrome(text)


def report_sections(blocks: list[Block]) -> tuple[tuple[Section, ...], dict[str, str]]:
    """Return the sections of an ILACS report's body, and the grades its judgement headings
    state. Prose after the judgement table and before any heading is the Overview."""
    span = table_span(blocks)
    sections = SectionBuilder()
    stated: dict[str, str] = {}
    grade_line = -1  # the index of a wrapped heading's grade, read with its heading
    for index, block in enumerate(blocks):
        if is_noise(block) or (span and span[0] <= index < span[1]) or index == grade_line:
            continue
        following = blocks[index + 1] if index + 1 < len(blocks) else None
        if wrapped := wrapped_heading(block, following):
            grade_line = index + 1
        if heading := wrapped or judgement_heading(block):
            stated.setdefault(*heading)
            sections.start(heading[0])
        elif _IMPROVE.match(block.text):
            sections.start(IMPROVE)
        elif sections.title is not None:
            sections.add(block)
        elif span and index >= span[1]:
            sections.start(OVERVIEW)
            sections.add(block)
    return sections.build(), stated


def grade_notes(table: dict[str, str], stated: dict[str, str]) -> list[str]:
    """Return a note for each judgement whose heading states a grade other than the table's."""
    return [
        f"{name}: the judgement table says {table[name]}, its heading says {grade}"
        for name, grade in stated.items()
        if name in table and table[name] != grade
    ]


def parse_ilacs_report(blocks: list[Block], extracted: Extracted, source: SourceInfo) -> Report:
    """Return the report of an ILACS inspection: grades (from the judgement table, else the
    section headings), improvement items, the overview and one section per judgement.

    Raises IncompleteReport when no grade can be read."""
    body = blocks[: body_end(blocks)]
    grades = table_grades(body)
    sections, stated = report_sections(body)
    notes = grade_notes(grades, stated)
    grades = grades | {name: grade for name, grade in stated.items() if name not in grades}
    if not grades:
        raise IncompleteReport("Ofsted ILACS report with no judgement grades")
    dates, lead = inspection_details(body)
    return ilacs_report(
        grades,
        report_authority(blocks),
        notes,
        sections=sections,
        publication=Publication(
            title=extracted.metadata.get("title") or report_title(blocks),
            published=extracted.metadata.get("published"),
            inspection_dates=dates,
            lead_inspector=lead,
        ),
        source=source,
    )


def parse_news_item(blocks: list[Block], extracted: Extracted, source: SourceInfo) -> Report:
    """Return the report a news item gives of an inspection: grades stated in prose, the items
    under each, and what the authority should improve. Site chrome is already gone."""
    title = blocks[0].text
    headline = _NEWS_TITLE.match(title)
    grades: dict[str, str] = {}
    if headline:
        grades[OVERALL] = canonical_grade(headline["grade"]) or headline["grade"]
    sections = SectionBuilder()
    sections.start(OVERVIEW)
    for block in blocks[1:]:
        if stated := grade_statement(block.text):
            grades[stated[0]] = stated[1]
            sections.start(stated[0])
        elif block.text.lower().startswith("in order to improve"):
            sections.start(IMPROVE)
            sections.add(block)
        elif not _LEAD_IN.match(block.text):
            sections.add(block)
    return ilacs_report(
        grades,
        canonical_authority(headline["name"]) if headline else None,
        [],
        sections=sections.build(),
        publication=Publication(title=title, published=extracted.metadata.get("published")),
        source=source,
    )


def ilacs_report(
    grades: dict[str, str], authority: str | None, notes: list[str], **fields: Any
) -> Report:
    """Return the Ofsted ILACS report of these judgement grades (its rating the overall one), by
    the authority the document names (None, and a note saying so, when it names none), with
    `notes` and the report's other `fields`."""
    unnamed = [] if authority else ["the document does not name its authority"]
    return Report(
        regulator="Ofsted",
        framework=framework_for(grades),
        kind="ilacs",
        authority=authority,
        authority_from="document" if authority else None,
        grades=grades,
        overall_rating=grades.get(OVERALL),
        notes=tuple(notes + unnamed),
        **fields,
    )
