"""Extract stage for PDFs (Ofsted reports): page text -> the same blocks as plain text.

Every PDF passes pdf_gate first: pypdf opens it, refuses one that is locked, damaged, empty or too
long, and decompresses what PDFium will read for text within the limits of pdf_limits
(decompression bombs are refused there). Only then does PDFium read it (pdf_lines, several times
faster than pypdf's text extraction): each page's text line by line, with the position and size
of each line, and the document information (title, creation date). The running header every
page repeats and lone page numbers are removed; lines are joined into paragraphs by their
spacing (a paragraph's lines sit one line-height apart, paragraphs further) and across page
breaks by their text; words hyphenated across a line break are repaired. The paragraphs are
then split into blocks by `text_blocks`. Every pypdf or PDFium failure becomes an InputError
naming the reason.
"""

from __future__ import annotations

import re
import statistics
from collections import Counter
from collections.abc import Iterable, Iterator, Mapping
from contextlib import suppress
from datetime import date
from itertools import islice, pairwise

from pypdf import DocumentInformation
from pypdf.generic import NameObject, TextStringObject
from pypdfium2 import PdfDocument

from reportwatch import pdf_gate, pdf_lines
from reportwatch.errors import InputError
from reportwatch.extract import BULLET, NUMBERED, TERMINAL, Extracted, text_blocks
from reportwatch.pdf_lines import Line

MAX_TEXT_BYTES = 5 * 1024 * 1024
MEDIA_TYPE = "application/pdf"

# 'D:', the time to the second, then nothing, Z, or an offset (+01'00', Z00'00')
_PDF_DATE = re.compile(r"D:(\d{4})(\d\d)(\d\d)(\d\d)(\d\d)(\d\d)(?:Z|[Z+-](\d\d)'?(\d\d)'?)?")
_PAGE_NUMBER = re.compile(r"^\s*\d{1,4}\s*$")
_WORDS = re.compile(r"[^\W\d_][\w'’]*(?:-[^\W\d_][\w'’]*)*")
_BROKEN_WORD = re.compile(r"(\w+)-$")
_FIRST_WORD = re.compile(r"^([^\W\d_][\w'’]*)(.*)$", re.DOTALL)
_HEADER_DEPTH = 3  # how many lines at the top of a page's text may be running header
_SAME_PARAGRAPH = 1.3  # a gap up to this many times the usual line gap continues a paragraph


def extract_pdf(raw: bytes) -> Extracted:
    """Return the blocks and metadata of a PDF report.

    Raises InputError ('encrypted PDF', 'damaged PDF: ...', 'PDF with no text', or 'PDF too
    large: ...') when the PDF cannot be read as text."""
    page_count = pdf_gate.accept(raw)
    with pdf_lines.opened(raw, page_count) as document:
        pages = read_pages(document, page_count)
        metadata = pdf_metadata(document)
    if not any(line.text.strip() for page in pages for line in page):
        raise InputError("PDF with no text")
    blocks = text_blocks("\n\n".join(paragraphs(body_pages(pages))))
    if not blocks:
        raise InputError("PDF with no text")
    return Extracted(tuple(blocks), MEDIA_TYPE, metadata)


# --- reading --------------------------------------------------------------------------------


def read_pages(document: PdfDocument, page_count: int) -> list[list[Line]]:
    """Return the lines of each page of a PDF open in PDFium, in order. Raises InputError when
    PDFium cannot read a page or the text passes MAX_TEXT_BYTES."""
    pages: list[list[Line]] = []
    size = 0
    for index in range(page_count):
        lines = pdf_lines.page_lines(document, index)
        size += len("\n".join(line.text for line in lines).encode("utf-8", errors="replace")) + 1
        if size > MAX_TEXT_BYTES:
            raise InputError(f"PDF too large: more than {MAX_TEXT_BYTES / 2**20:g} MB of text")
        pages.append(lines)
    return pages


# --- running header and page numbers --------------------------------------------------------


def header_key(text: str, number: int) -> str:
    """Return a line as compared for the running header: stripped, without the page number
    that ends it ('<dates> 3' on page 3)."""
    stripped = text.strip()
    if not stripped.endswith(str(number)):
        return stripped
    return re.sub(rf"(?<=\S)\s+{number}$", "", stripped)


def edge_lines(lines: list[Line], number: int) -> set[str]:
    """Return the first and last few lines of content of page `number`, as header keys."""
    first = islice(content_keys(lines, number), _HEADER_DEPTH)
    last = islice(content_keys(reversed(lines), number), _HEADER_DEPTH)
    return {*first, *last}


def content_keys(lines: Iterable[Line], number: int) -> Iterator[str]:
    """Yield the header keys of the lines of page `number` that are neither blank nor a lone
    page number, in the order given (only as many as are asked for are made)."""
    for line in lines:
        if line.text.strip():
            key = header_key(line.text, number)
            if not _PAGE_NUMBER.match(key):
                yield key


def running_header(pages: list[list[Line]]) -> set[str]:
    """Return the lines at the top or bottom of at least half of the pages after the first (at
    least two): the running header ('Inspection of X local authority children's services', the
    dates), as header keys."""
    rest = list(enumerate(pages, start=1))[1:]
    counts = Counter(key for number, lines in rest for key in edge_lines(lines, number))
    needed = max(2, (len(rest) + 1) // 2)
    return {key for key, count in counts.items() if count >= needed}


def is_furniture(text: str, number: int, header: set[str]) -> bool:
    """Return True for a line of page furniture: blank, a lone page number, or a line of the
    running header."""
    stripped = text.strip()
    return not stripped or bool(_PAGE_NUMBER.match(stripped)) or header_key(text, number) in header


def strip_furniture(lines: list[Line], number: int, header: set[str]) -> list[Line]:
    """Return the lines of page `number` without the page furniture at its top and bottom."""
    start, end = 0, len(lines)
    while start < end and is_furniture(lines[start].text, number, header):
        start += 1
    while end > start and is_furniture(lines[end - 1].text, number, header):
        end -= 1
    return lines[start:end]


def body_pages(pages: list[list[Line]]) -> list[list[Line]]:
    """Return each page's lines without the running header and page numbers (the first page
    keeps its top lines: its title is not a running header)."""
    header = running_header(pages)
    return [
        strip_furniture(lines, number, header if number > 1 else set())
        for number, lines in enumerate(pages, start=1)
    ]


# --- paragraphs -----------------------------------------------------------------------------


def line_gap_ratio(pairs: list[tuple[Line, Line]]) -> float:
    """Return the usual distance between consecutive lines (pairs of them) as a multiple of the
    font size."""
    ratios: Counter[float] = Counter()
    for a, b in pairs:
        gap = line_gap(a, b)
        if gap is not None and b.size and 0 < gap < 3 * b.size:
            ratios[round(gap / b.size, 1)] += 1
    return ratios.most_common(1)[0][0] if ratios else 1.2


def line_gap(previous: Line, line: Line) -> float | None:
    """Return how far a line sits below the previous one, when both have a place and the same
    font size (None otherwise)."""
    if previous.y is None or line.y is None or not previous.size or not line.size:
        return None
    if abs(previous.size - line.size) >= 0.5:
        return None
    return previous.y - line.y


def consecutive(pages: list[list[Line]]) -> Iterator[tuple[Line, Line]]:
    """Yield the pairs of consecutive non-blank lines within each page."""
    for lines in pages:
        shown = [line for line in lines if line.text.strip()]
        yield from pairwise(shown)


def starts_item(line: Line, previous: Line) -> bool:
    """Return True when a line opens a bullet item, or a numbered paragraph whose number hangs
    left of the previous line."""
    if BULLET.match(line.text):
        return True
    outdented = line.x is not None and previous.x is not None and line.x < previous.x - 1
    return bool(NUMBERED.match(line.text)) and outdented


def same_paragraph(previous: Line, line: Line, ratio: float) -> bool:
    """Return True when a line on the same page continues the previous line's paragraph: the
    same font size, one line-height below, and not a new item."""
    gap = line_gap(previous, line)
    if gap is None or not line.size or not 0 < gap <= ratio * _SAME_PARAGRAPH * line.size:
        return False
    return not starts_item(line, previous)


def continues_over_page(previous: Line, line: Line, full: float) -> bool:
    """Return True when a page's first line continues the paragraph the last page ended: the
    same font size, not a new item, and the last line either unfinished or too full for the
    next word to have fitted."""
    if BULLET.match(line.text) or NUMBERED.match(line.text):
        return False
    if previous.size and line.size and abs(previous.size - line.size) >= 0.5:
        return False
    last = previous.text.rstrip()
    if not last.endswith(TERMINAL):
        return True
    next_word = line.text.split()[0] if line.text.split() else ""
    return len(last) + 1 + len(next_word) > full


def full_line_length(wrapped: list[tuple[Line, Line]]) -> float:
    """Return the median length of lines that wrap onto the next (pairs of a line and the next,
    in one paragraph): what a full line holds."""
    lengths = [len(a.text.rstrip()) for a, _ in wrapped]
    return statistics.median(lengths) if lengths else 80.0


def paragraphs(pages: list[list[Line]]) -> list[str]:
    """Return the paragraphs of the pages' lines, each as one line of text."""
    pairs = list(consecutive(pages))
    ratio = line_gap_ratio(pairs)
    wrapped = [(a, b) for a, b in pairs if same_paragraph(a, b, ratio)]
    full = full_line_length(wrapped)
    # a line continues the line before it on its page: decided once, for wrapped too
    continuing = {id(b) for _, b in wrapped}
    words = LazyWordCounts(pages)
    out: list[str] = []
    text = ""
    previous: Line | None = None
    for index, lines in enumerate(pages):
        for position, line in enumerate(lines):
            if not line.text.strip():
                previous = None
                continue
            new_page = position == 0 and index > 0
            if previous is not None and (
                continues_over_page(previous, line, full) if new_page else id(line) in continuing
            ):
                text = join_lines(text, line.text.strip(), words)
            else:
                out.append(text)
                text = line.text.strip()
            previous = line
    out.append(text)
    return [p for p in out if p.strip()]


# --- hyphenation ----------------------------------------------------------------------------


def word_counts(pages: list[list[Line]]) -> Counter[str]:
    """Return how often each word (hyphenated compounds whole and in parts) occurs in the
    lines, lower-cased."""
    counts: Counter[str] = Counter()
    for lines in pages:
        for line in lines:
            for word in _WORDS.findall(line.text.lower()):
                counts[word] += 1
                if "-" in word:
                    counts.update(word.split("-"))
    return counts


class LazyWordCounts(Mapping[str, int]):
    """The word_counts of pages, counted at the first look-up: only a word hyphenated across
    a line break needs them, and most reports have few."""

    def __init__(self, pages: list[list[Line]]) -> None:
        self.pages = pages
        self.counted: Counter[str] | None = None

    def counts(self) -> Counter[str]:
        """Return the counts, counting them the first time."""
        if self.counted is None:
            self.counted = word_counts(self.pages)
        return self.counted

    def __getitem__(self, word: str) -> int:
        return self.counts()[word]

    def __iter__(self) -> Iterator[str]:
        return iter(self.counts())

    def __len__(self) -> int:
        return len(self.counts())


def join_lines(left: str, right: str, words: Mapping[str, int]) -> str:
    """Return two lines of a paragraph as one, repairing a word hyphenated across the break.

    Dictionary-free: the hyphen is kept when the document also uses the hyphenated form within
    a line; else dropped when it uses the joined word ('front-' + 'line' where 'frontline' is
    used); else kept as a real hyphen ('re-investment')."""
    if not left.endswith("-"):
        return f"{left} {right}"
    broken = _BROKEN_WORD.search(left)
    rest = _FIRST_WORD.match(right)
    if not broken or not rest:
        return f"{left} {right}"
    head, tail = broken.group(1), rest.group(1)
    joined = head + tail
    hyphenated = f"{head}-{tail}".lower()
    keep = words[hyphenated] > 0 or words[joined.lower()] == 0
    return (left if keep else left[:-1]) + right


def pdf_metadata(document: PdfDocument) -> dict[str, str]:
    """Return what an open PDF's document information says: its title and creation date (as
    'published', YYYY-MM-DD, read as pypdf reads PDF dates). Entries that are missing or
    unreadable are left out."""
    metadata: dict[str, str] = {}
    title = re.sub(r"\s+", " ", pdf_lines.document_info(document, "Title")).strip()
    if title:
        metadata["title"] = title
    created = pdf_date(pdf_lines.document_info(document, "CreationDate"))
    if created is not None:
        metadata["published"] = created.isoformat()
    return metadata


def pdf_date(text: str) -> date | None:
    """Return the day of a PDF date ('D:20240111093012Z', "D:20240111093012+01'00'"), as pypdf
    reads it (the date as written, whatever its time zone), or None when it reads none."""
    if found := _PDF_DATE.fullmatch(text):
        # the usual form, read directly: pypdf tries seven formats with strptime for it
        year, month, day, hour, minute, second, zone_hours, zone_minutes = (
            int(group or 0) for group in found.groups()
        )
        if hour < 24 and minute < 60 and second < 60 and zone_hours < 24 and zone_minutes < 60:
            with suppress(ValueError):
                return date(year, month, day)
    info = DocumentInformation()
    info[NameObject("/CreationDate")] = TextStringObject(text)
    try:
        created = info.creation_date
    except Exception:
        return None
    return created.date() if created is not None else None
