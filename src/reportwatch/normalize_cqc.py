"""Parsers for CQC local authority assessment pages: quality statement pages, the summary page."""

from __future__ import annotations

import re
from typing import Any, Literal

from reportwatch.dates import DATE
from reportwatch.errors import IncompleteReport
from reportwatch.extract import Block, Extracted
from reportwatch.model import Publication, Report, Score, Section, SourceInfo
from reportwatch.normalize import SectionBuilder
from reportwatch.vocab import (
    CQC_HEADINGS,
    SCORE_LABELS,
    canonical_authority,
    canonical_statement,
    canonical_theme,
    fold,
    percent_for_scores,
    rating_for_percent,
    theme_of,
)

FRAMEWORK = "CQC local authority assessment"
_AUTHORITY = re.compile(r"^(?P<name>.+?):\s*local authority assessment\b", re.IGNORECASE)
_SCORE = re.compile(r"^score\s*:\s*(?P<value>[1-4])\s*$", re.IGNORECASE)
_SCORE_LABEL = re.compile(r"^(?P<value>[1-4])\s*-\s*(?P<label>evidence shows .+?)\.?$", re.I)
_PUBLISHED = re.compile(rf"published:?\s*(?P<date>{DATE})", re.IGNORECASE)
_UPDATED = re.compile(rf"last updated:?\s*(?P<date>{DATE})", re.IGNORECASE)
_RATINGS = ("outstanding", "good", "requires improvement", "inadequate")
# The overall percentage, in each wording the summary page has used; `who` is the authority.
_PERCENT = (
    re.compile(r"^(?P<who>.+?)\s+scored (?P<n>\d{1,3}) out of 100\b", re.IGNORECASE),
    re.compile(r"^score\s*:\s*(?P<n>\d{2,3})\s*%?\s*$", re.IGNORECASE),
    re.compile(r"^overall rating for (?P<who>.+?)\s*:\s*(?P<n>\d{1,3})\s*%", re.IGNORECASE),
)
SUMMARY_HEADINGS = ("quality statement scores", "local authority rating and score")
KEY_FINDINGS = "Key findings"


def heading_of(block: Block) -> str | None:
    """Return the canonical CQC page heading a block is, or None."""
    return CQC_HEADINGS.get(fold(block.text))


def authority_in(blocks: list[Block]) -> str | None:
    """Return the authority named by the '<Authority>: local authority assessment' title."""
    for block in blocks[:8]:
        if match := _AUTHORITY.match(block.text):
            return canonical_authority(match.group("name"))
    return None


def is_statement_page(blocks: list[Block]) -> bool:
    """Return True for a CQC quality statement page: a statement name or the assessment title,
    with a score or the page's own headings (so a page that lost its score is still one)."""
    head = blocks[:12]
    has_score = any(_SCORE.match(b.text) or _SCORE_LABEL.match(b.text) for b in head)
    has_headings = any(heading_of(b) for b in blocks)
    named = any(canonical_statement(b.text) for b in head if b.kind == "heading")
    return (has_score or has_headings) and (named or authority_in(blocks) is not None)


def is_summary_page(blocks: list[Block]) -> bool:
    """Return True for a CQC assessment summary page (it lists the quality statement scores)."""
    return any(fold(b.text) == SUMMARY_HEADINGS[0] for b in blocks)


def statement_score(blocks: list[Block]) -> tuple[Score, list[str]]:
    """Return the score a statement page states and notes on any mismatch in its wording.

    Raises IncompleteReport when the page states no score."""
    value = next((int(m["value"]) for b in blocks if (m := _SCORE.match(b.text))), None)
    labelled = next((m for b in blocks if (m := _SCORE_LABEL.match(b.text))), None)
    if value is None and labelled is None:
        raise IncompleteReport("CQC quality statement page with no score")
    value = value if value is not None else int(labelled["value"]) if labelled else 0
    label = labelled["label"] if labelled else SCORE_LABELS[value]
    notes = []
    if labelled and int(labelled["value"]) != value:
        notes.append(f"score {value} printed with the wording of score {labelled['value']}")
    if fold(label) != fold(SCORE_LABELS[value]):
        notes.append(f"score {value} worded '{label}', expected '{SCORE_LABELS[value]}'")
    return Score(value=value, label=label[:1].upper() + label[1:]), notes


def parse_statement_page(blocks: list[Block], extracted: Extracted, source: SourceInfo) -> Report:
    """Return the report of a CQC quality statement page (plain page text or Markdown export)."""
    score, notes = statement_score(blocks)
    statement = theme = commitment = None
    expectations: list[str] = []
    part = "preamble"
    sections = SectionBuilder()
    for block in blocks:
        heading = heading_of(block)
        if heading:
            part = KEY_FINDINGS if heading.startswith("Key findings") else heading
            if part == KEY_FINDINGS:
                sections.start(KEY_FINDINGS)
        elif part == "preamble":
            statement = statement or canonical_statement(block.text)
            theme = theme or canonical_theme(block.text)
            if block.kind != "heading" and block.text.startswith("I "):
                expectations.append(block.text)  # "I" statements printed with no heading
        elif part == "What people expect":
            expectations.append(block.text)
        elif part == "The local authority commitment":
            commitment = f"{commitment} {block.text}" if commitment else block.text
        elif block.kind == "heading":
            sections.start(block.text)
        else:
            sections.add(block)
    if statement is None:
        raise IncompleteReport("CQC page with a score but no quality statement name")
    authority = authority_in(blocks)
    return cqc_report(
        "statement",
        authority,
        blocks,
        extracted,
        statement=statement,
        theme=theme_of(statement) or theme,
        score=score,
        commitment=commitment,
        expectations=tuple(expectations),
        sections=sections.build(),
        source=source,
        notes=tuple(notes),
    )


def cqc_report(
    kind: Literal["statement", "summary"],
    authority: str | None,
    blocks: list[Block],
    extracted: Extracted,
    **fields: Any,
) -> Report:
    """Return a CQC report of this kind made from a page's blocks: by the authority the page
    names (None when it names none), with the page's publication details and the report's other
    `fields`."""
    return Report(
        regulator="CQC",
        framework=FRAMEWORK,
        kind=kind,
        authority=authority,
        authority_from="document" if authority else None,
        publication=publication(blocks, extracted),
        **fields,
    )


def publication(blocks: list[Block], extracted: Extracted) -> Publication:
    """Return the publication dates and title a page carries (as metadata, never findings)."""
    text = " ".join(b.text for b in blocks[:10])
    published = _PUBLISHED.search(text)
    updated = _UPDATED.search(text)
    return Publication(
        title=extracted.metadata.get("title"),
        published=extracted.metadata.get("published") or (published and published["date"]),
        last_updated=extracted.metadata.get("last_updated") or (updated and updated["date"]),
    )


def summary_scores(blocks: list[Block]) -> dict[str, int]:
    """Return the statement scores listed on a summary page (statement name, then Score)."""
    scores: dict[str, int] = {}
    pending: str | None = None
    for block in blocks:
        if match := _SCORE.match(block.text):
            if pending:
                scores[pending] = int(match["value"])
            pending = None
        else:
            pending = canonical_statement(block.text) if len(block.text) < 90 else None
    return scores


def rating_word(text: str) -> str | None:
    """Return the overall rating a line is ('Requires Improvement' -> 'Requires improvement')."""
    key = fold(text)
    return key[:1].upper() + key[1:] if key in _RATINGS else None


def summary_rating(blocks: list[Block]) -> tuple[str | None, int | None, str | None]:
    """Return the overall rating word and percentage a summary page states (in any of the
    percentage's wordings), and the authority the wording names. The rating is looked for
    under 'Local authority rating and score' first."""
    heading = next((i for i, b in enumerate(blocks) if fold(b.text) == SUMMARY_HEADINGS[1]), 0)
    words = (rating_word(b.text) for b in (*blocks[heading:], *blocks[:heading]))
    rating = next((word for word in words if word), None)
    found = next((m for b in blocks for p in _PERCENT if (m := p.search(b.text))), None)
    percent = int(found["n"]) if found else None
    who = found.groupdict().get("who") if found else None
    return rating, percent, canonical_authority(who) if who else None


def is_summary_line(block: Block) -> bool:
    """Return True for a line of a summary page that is never a finding: its title or date
    stamp, the rating word, a percentage wording, a statement name or a score."""
    text = block.text
    short = len(text) < 90
    return (
        rating_word(text) is not None
        or any(p.search(text) for p in _PERCENT)
        or bool(_SCORE.match(text) or _AUTHORITY.match(text))
        or (short and bool(_PUBLISHED.search(text) or _UPDATED.search(text)))
        or (short and canonical_statement(text) is not None)
    )


def summary_sections(blocks: list[Block]) -> tuple[Section, ...]:
    """Return the findings of a summary page under its own headings ("Summary of people's
    experiences", strengths, next steps): never its rating, percentage or statement scores."""
    sections = SectionBuilder()
    collecting = False  # under a heading of the summary's text
    for block in blocks:
        if fold(block.text) in SUMMARY_HEADINGS:
            collecting = False  # the rating and percentage, or the score list, follow
        elif is_summary_line(block):
            continue
        elif block.kind == "heading":
            sections.start(block.text)
            collecting = True
        elif collecting:
            sections.add(block)
    return sections.build()


def parse_summary_page(blocks: list[Block], extracted: Extracted, source: SourceInfo) -> Report:
    """Return the report of a CQC assessment summary page: the overall rating and percentage,
    the nine statement scores, the summary's sections, and `rating_mismatch` when they break
    the band rule.

    Raises IncompleteReport when the page states neither a rating nor statement scores."""
    scores = summary_scores(blocks)
    rating, percent, named = summary_rating(blocks)
    if not scores and rating is None:
        raise IncompleteReport("CQC summary page with no rating and no statement scores")
    authority = authority_in(blocks) or named
    notes = [] if len(scores) in (0, 9) else [f"lists {len(scores)} of the nine statement scores"]
    return cqc_report(
        "summary",
        authority,
        blocks,
        extracted,
        statement_scores=scores,
        overall_rating=rating,
        overall_percent=percent,
        rating_mismatch=band_mismatch(rating, percent, scores),
        sections=summary_sections(blocks),
        source=source,
        notes=tuple(notes),
    )


def band_mismatch(rating: str | None, percent: int | None, scores: dict[str, int]) -> str | None:
    """Return how a summary page breaks the CQC band rule, or None when it does not (or cannot
    be checked): the stated percentage against the nine scores' (summed, as a rounded
    percentage of 36), and the rating against the band of the percentage."""
    problems = []
    derived = percent_for_scores(list(scores.values())) if len(scores) == 9 else None
    if percent is not None and derived is not None and percent != derived:
        problems.append(f"the nine scores give {derived}%, not {percent}%")
    basis = percent if percent is not None else derived
    if rating and basis is not None and (band := rating_for_percent(basis)) != rating:
        problems.append(f"{basis}% is {band or 'below every band'}, not {rating}")
    return "; ".join(problems) or None
