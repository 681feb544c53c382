"""Normalize stage: extracted blocks -> a typed `Report`.

Recognizes which kind of document the blocks are (CQC quality statement page, CQC summary page,
Ofsted ILACS report or news item about one) and hands them to that kind's parser. Text is cleaned
here once (quote and dash style, whitespace), so that style-only edits are never changes.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from reportwatch.dates import iso_or_printed
from reportwatch.errors import InputError
from reportwatch.extract import Block, Extracted
from reportwatch.model import Finding, Report, Section, SourceInfo
from reportwatch.vocab import canonical_authority

# Bump when a parser change alters normalized output; `reportwatch reparse` re-derives history.
PARSER_VERSION = "3"

_QUOTES = str.maketrans({"‘": "'", "’": "'", "‚": "'", "‛": "'", "“": '"', "”": '"', "„": '"'})
_DASHES = re.compile(r"[\u2010\u2011\u2012\u2013\u2014\u2015\u2212]")


def clean_text(text: str) -> str:
    """Return text in one canonical style: NFKC, straight quotes, ASCII dashes, single spaces."""
    if text.isascii():  # nothing for NFKC, the quotes or the dashes to change
        return " ".join(text.split())  # str.split() splits where \s+ matches, 3x faster
    text = unicodedata.normalize("NFKC", text).translate(_QUOTES)
    text = _DASHES.sub("-", text).replace("\u00ad", "")
    return " ".join(text.split())


def cleaned(blocks: Sequence[Block]) -> list[Block]:
    """Return blocks with their text cleaned and empty blocks dropped."""
    out = [Block(b.kind, clean_text(b.text), b.level) for b in blocks]
    return [b for b in out if b.text]


@dataclass(frozen=True)
class Defaults:
    """What a source's configuration says about its documents, filling what they do not say."""

    authority: str | None = None
    regulator: str | None = None
    tags: tuple[str, ...] = field(default_factory=tuple)


class SectionBuilder:
    """Collects findings into titled sections, in document order."""

    def __init__(self) -> None:
        self.sections: list[Section] = []
        self.title: str | None = None
        self.findings: list[Finding] = []

    def start(self, title: str) -> None:
        """Close the open section and open one titled `title`."""
        self.close()
        self.title = title

    def add(self, block: Block) -> None:
        """Add a paragraph or bullet block as a finding of the open section."""
        kind = "bullet" if block.kind == "bullet" else "paragraph"
        self.findings.append(Finding(kind=kind, text=block.text))

    def close(self) -> None:
        """Close the open section (an untitled or empty one is dropped or titled 'Findings')."""
        if self.findings:
            self.sections.append(
                Section(title=self.title or "Findings", findings=tuple(self.findings))
            )
        self.findings = []

    def build(self) -> tuple[Section, ...]:
        """Return the sections collected so far, closing the open one."""
        self.close()
        return tuple(self.sections)


Parser = Callable[[list[Block], Extracted, SourceInfo], Report]
Detector = Callable[[list[Block]], bool]


def parsers() -> list[tuple[Detector, Parser]]:
    """Return the document kinds known, as (detector, parser) pairs, most specific first."""
    from reportwatch import normalize_cqc, normalize_ofsted

    return [
        (normalize_cqc.is_summary_page, normalize_cqc.parse_summary_page),
        (normalize_cqc.is_statement_page, normalize_cqc.parse_statement_page),
        (normalize_ofsted.is_ilacs_report, normalize_ofsted.parse_ilacs_report),
        (normalize_ofsted.is_news_item, normalize_ofsted.parse_news_item),
    ]


def normalize(extracted: Extracted, source: SourceInfo, defaults: Defaults | None = None) -> Report:
    """Return the typed report that extracted blocks hold, with config defaults filled in.

    Raises InputError when the blocks are not a report of a kind reportwatch reads, and
    IncompleteReport when they are one but lack what that kind must have."""
    blocks = cleaned(extracted.blocks)
    for detect, parse in parsers():
        if detect(blocks):
            report = iso_dates(parse(blocks, extracted, source))
            return apply_defaults(report, defaults or Defaults())
    raise InputError("not a report reportwatch can read (no CQC score or Ofsted judgement found)")


DATE_FIELDS = ("published", "last_updated", "inspection_dates")


def iso_dates(report: Report) -> Report:
    """Return the report with each publication date field that holds one date as YYYY-MM-DD,
    whether the input was text, HTML or PDF; a value that is not one date is kept as printed."""
    publication = report.publication
    dates = {
        name: iso_or_printed(value)
        for name in DATE_FIELDS
        if (value := getattr(publication, name)) is not None
    }
    return report.model_copy(update={"publication": publication.model_copy(update=dates)})


UNNAMED = "the document does not name its authority: set `authority` for this source"


def apply_defaults(report: Report, defaults: Defaults) -> Report:
    """Return the report with the authority filled from config where the document names none
    (and a note saying so when config does not either); a document that names one keeps it,
    with a note when config disagrees."""
    notes = tuple(n for n in report.notes if "does not name its authority" not in n)
    if report.authority is None and not defaults.authority:
        return report.model_copy(update={"notes": (*notes, UNNAMED)})
    if not defaults.authority:
        return report
    configured = canonical_authority(defaults.authority)
    if report.authority is None:
        return report.model_copy(
            update={"authority": configured, "authority_from": "config", "notes": notes}
        )
    if report.authority != configured:
        note = f"the document names {report.authority}; the source config says {configured}"
        return report.model_copy(update={"notes": (*report.notes, note)})
    return report
