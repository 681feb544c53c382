"""Parsers for Ofsted ILACS inspections: the report itself, and news items that report on one."""

from __future__ import annotations

import re

from reportwatch.errors import IncompleteReport
from reportwatch.extract import Block, Extracted
from reportwatch.model import Publication, Report, SourceInfo
from reportwatch.normalize import SectionBuilder
from reportwatch.vocab import (
    GRADE_PATTERN,
    JUDGEMENT_2018,
    JUDGEMENTS,
    OVERALL,
    canonical_authority,
    canonical_grade,
    fold,
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
_JUDGEMENT_HEADING = re.compile(rf"^(?P<name>.+?)\s*:\s*(?P<grade>{GRADE_PATTERN})\s*$", re.I)
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
    """Return (judgement, grade) when a block is a '<judgement>: <grade>' section heading."""
    match = _JUDGEMENT_HEADING.match(block.text)
    if not match or len(block.text) > 160:
        return None
    judgement, grade = judgement_in(match["name"]), canonical_grade(match["grade"])
    return (judgement, grade) if judgement and grade else None


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


def table_grades(blocks: list[Block]) -> dict[str, str]:
    """Return the grades of the judgement/grade table, whose names wrap over lines."""
    start = next((i for i, b in enumerate(blocks) if fold(b.text) == "judgement grade"), None)
    if start is None:
        return {}
    region: list[str] = []
    for block in blocks[start + 1 :]:
        if len(block.text.split()) > 30:
            break
        region.append(block.text)
    text = fold(" ".join(region))
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


def parse_ilacs_report(blocks: list[Block], extracted: Extracted, source: SourceInfo) -> Report:
    """Return the report of an ILACS inspection: grades, improvement items, judgement sections.

    Raises IncompleteReport when no grade can be read."""
    grades = table_grades(blocks)
    sections = SectionBuilder()
    dates = lead = None
    in_table = False
    for block in blocks:
        if match := _DATES.match(block.text):
            dates = match["v"]
        elif match := _LEAD.match(block.text):
            lead = match["v"]
        elif fold(block.text) == "judgement grade":
            in_table = True
        elif in_table and len(block.text.split()) <= 30:
            continue
        elif heading := judgement_heading(block):
            in_table = False
            grades.setdefault(*heading)
            sections.start(heading[0])
        elif _IMPROVE.match(block.text):
            sections.start(IMPROVE)
        elif in_table or sections.title:
            in_table = False
            if sections.title is None:
                sections.start(OVERVIEW)
            sections.add(block)
    if not grades:
        raise IncompleteReport("Ofsted ILACS report with no judgement grades")
    authority = report_authority(blocks)
    return Report(
        regulator="Ofsted",
        framework=framework_for(grades),
        kind="ilacs",
        authority=authority,
        authority_from="document" if authority else None,
        grades=grades,
        overall_rating=grades.get(OVERALL),
        sections=sections.build(),
        publication=Publication(
            title=extracted.metadata.get("title"),
            published=extracted.metadata.get("published"),
            inspection_dates=dates,
            lead_inspector=lead,
        ),
        source=source,
        notes=() if authority else ("the document does not name its authority",),
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
    authority = canonical_authority(headline["name"]) if headline else None
    return Report(
        regulator="Ofsted",
        framework=framework_for(grades),
        kind="ilacs",
        authority=authority,
        authority_from="document" if authority else None,
        grades=grades,
        overall_rating=grades.get(OVERALL),
        sections=sections.build(),
        publication=Publication(title=title, published=extracted.metadata.get("published")),
        source=source,
        notes=() if authority else ("the document does not name its authority",),
    )
