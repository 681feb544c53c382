"""Extract stage for PDFs (Ofsted reports): page text -> the same blocks as plain text.

Each page's text is read with pypdf, line by line with the position and size of each line. The
running header every page repeats and lone page numbers are removed; lines are joined into
paragraphs by their spacing (a paragraph's lines sit one line-height apart, paragraphs further)
and across page breaks by their text; words hyphenated across a line break are repaired. The
paragraphs are then split into blocks by `text_blocks`. Every pypdf failure becomes an InputError
naming the reason, and inputs that would expand without bound are refused.
"""

from __future__ import annotations

import logging
import math
import re
import statistics
import warnings
from collections import Counter
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from io import BytesIO
from itertools import pairwise
from typing import Any

from pypdf import PdfReader

from reportwatch.errors import InputError
from reportwatch.extract import BULLET, NUMBERED, TERMINAL, Extracted, text_blocks
from reportwatch.pdf_limits import ContentBudget, limit_error, pdf_limits

MAX_PAGES = 500
MAX_TEXT_BYTES = 5 * 1024 * 1024
MEDIA_TYPE = "application/pdf"

_PAGE_NUMBER = re.compile(r"^\s*\d{1,4}\s*$")
_PRIVATE_BULLET = re.compile(r"^(\s*)[\ue000-\uf8ff](?=\s)")
_WORDS = re.compile(r"[^\W\d_][\w'’]*(?:-[^\W\d_][\w'’]*)*")
_BROKEN_WORD = re.compile(r"(\w+)-$")
_FIRST_WORD = re.compile(r"^([^\W\d_][\w'’]*)(.*)$", re.DOTALL)
_HEADER_DEPTH = 3  # how many lines at the top of a page's text may be running header
_SAME_PARAGRAPH = 1.3  # a gap up to this many times the usual line gap continues a paragraph


@dataclass(frozen=True)
class Line:
    """One line of page text: its text, and the position (points) and effective font size of
    its first glyph; position and size are None when pypdf gave none."""

    text: str
    x: float | None = None
    y: float | None = None
    size: float | None = None


def extract_pdf(raw: bytes) -> Extracted:
    """Return the blocks and metadata of a PDF report.

    Raises InputError ('encrypted PDF', 'damaged PDF: ...', 'PDF with no text', or 'PDF too
    large: ...') when the PDF cannot be read as text."""
    with quiet_pypdf(), pdf_limits():
        reader = open_reader(raw)
        pages = read_pages(reader)
        metadata = pdf_metadata(reader)
    if not any(line.text.strip() for page in pages for line in page):
        raise InputError("PDF with no text")
    blocks = text_blocks("\n\n".join(paragraphs(body_pages(pages))))
    if not blocks:
        raise InputError("PDF with no text")
    return Extracted(tuple(blocks), MEDIA_TYPE, metadata)


# --- reading --------------------------------------------------------------------------------


@contextmanager
def quiet_pypdf() -> Iterator[None]:
    """Silence pypdf's log messages and warnings about a damaged file while reading it: what
    matters is reported once, as the InputError."""
    logger = logging.getLogger("pypdf")
    level = logger.level
    logger.setLevel(logging.CRITICAL)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            yield
    finally:
        logger.setLevel(level)


def damaged(exc: BaseException) -> InputError:
    """Return the InputError for a PDF pypdf cannot read, with pypdf's reason in short (a limit
    it reached: the PDF is too large)."""
    message = str(exc).strip()
    reason = message.splitlines()[0] if message else type(exc).__name__
    return limit_error(exc) or InputError(f"damaged PDF: {reason[:120]}")


def open_reader(raw: bytes) -> PdfReader:
    """Return a pypdf reader for the bytes, unlocked when only an empty password protects them.

    Raises InputError for an encrypted, damaged, empty or over-long PDF."""
    try:
        reader = PdfReader(BytesIO(raw))
        encrypted = reader.is_encrypted
    except Exception as exc:
        raise damaged(exc) from None
    if encrypted and not unlocked(reader):
        raise InputError("encrypted PDF")
    try:
        count = len(reader.pages)
    except Exception as exc:
        raise damaged(exc) from None
    if count == 0:
        raise InputError("damaged PDF: no pages")
    if count > MAX_PAGES:
        raise InputError(f"PDF too large: {count} pages, more than {MAX_PAGES}")
    return reader


def unlocked(reader: PdfReader) -> bool:
    """Return True when an encrypted PDF opens with the empty user password (owner-only locks)."""
    try:
        return bool(reader.decrypt(""))
    except Exception:
        return False


class LineCollector:
    """A pypdf text visitor: splits the text it is shown into lines, keeping the position and
    effective font size of each line's first visible glyph."""

    def __init__(self) -> None:
        self.texts: list[str] = [""]
        self.places: list[tuple[float, float, float] | None] = [None]

    def __call__(self, text: str, cm: Sequence[float], tm: Sequence[float], *args: Any) -> None:
        """Record a piece of text drawn with the given matrices (font and size in args)."""
        size = float(args[1]) if len(args) > 1 and args[1] else 0.0
        for index, part in enumerate(text.split("\n")):
            if index:
                self.texts.append("")
                self.places.append(None)
            if part.strip() and self.places[-1] is None:
                self.places[-1] = place(cm, tm, size)
            self.texts[-1] += part

    def lines(self) -> list[Line]:
        """Return the lines collected, right-stripped."""
        out = []
        for text, where in zip(self.texts, self.places, strict=True):
            x, y, size = where if where else (None, None, None)
            out.append(Line(text.rstrip(), x, y, size))
        return out


def place(cm: Sequence[float], tm: Sequence[float], size: float) -> tuple[float, float, float]:
    """Return (x, y, effective font size) of text drawn with text matrix tm under matrix cm."""
    c = tm[2] * cm[0] + tm[3] * cm[2]
    d = tm[2] * cm[1] + tm[3] * cm[3]
    x = tm[4] * cm[0] + tm[5] * cm[2] + cm[4]
    y = tm[4] * cm[1] + tm[5] * cm[3] + cm[5]
    return x, y, size * (math.hypot(c, d) or 1.0)


def read_pages(reader: PdfReader) -> list[list[Line]]:
    """Return the lines of each page, in order. Raises InputError for a page pypdf cannot read
    or when the text passes MAX_TEXT_BYTES."""
    pages: list[list[Line]] = []
    size = 0
    budget = ContentBudget()
    for page in reader.pages:
        collector = LineCollector()
        try:
            budget.spend(page)
            text = page.extract_text(visitor_text=collector) or ""
        except InputError:
            raise
        except Exception as exc:
            raise damaged(exc) from None
        size += len(text.encode("utf-8", errors="replace"))
        if size > MAX_TEXT_BYTES:
            raise InputError(f"PDF too large: more than {MAX_TEXT_BYTES / 2**20:g} MB of text")
        pages.append([tidy(line) for line in collector.lines()])
    return pages


def tidy(line: Line) -> Line:
    """Return a line with a private-use bullet glyph (Wingdings) at its start as '◼'."""
    return Line(_PRIVATE_BULLET.sub(r"\1◼", line.text), line.x, line.y, line.size)


# --- running header and page numbers --------------------------------------------------------


def header_key(text: str, number: int) -> str:
    """Return a line as compared for the running header: stripped, without the page number
    that ends it ('<dates> 3' on page 3)."""
    return re.sub(rf"(?<=\S)\s+{number}$", "", text.strip())


def edge_lines(lines: list[Line], number: int) -> set[str]:
    """Return the first and last few lines of content of page `number`, as header keys."""
    keys = [header_key(x.text, number) for x in lines if x.text.strip()]
    keys = [key for key in keys if not _PAGE_NUMBER.match(key)]
    return set(keys[:_HEADER_DEPTH] + keys[-_HEADER_DEPTH:])


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


def line_gap_ratio(pages: list[list[Line]]) -> float:
    """Return the usual distance between consecutive lines as a multiple of the font size."""
    ratios: Counter[float] = Counter()
    for a, b in consecutive(pages):
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
    if gap is None or not line.size or starts_item(line, previous):
        return False
    return 0 < gap <= ratio * _SAME_PARAGRAPH * line.size


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


def full_line_length(pages: list[list[Line]], ratio: float) -> float:
    """Return the median length of lines that wrap onto the next: what a full line holds."""
    wrapped = [len(a.text.rstrip()) for a, b in consecutive(pages) if same_paragraph(a, b, ratio)]
    return statistics.median(wrapped) if wrapped else 80.0


def paragraphs(pages: list[list[Line]]) -> list[str]:
    """Return the paragraphs of the pages' lines, each as one line of text."""
    ratio = line_gap_ratio(pages)
    full = full_line_length(pages, ratio)
    words = word_counts(pages)
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
                continues_over_page(previous, line, full)
                if new_page
                else same_paragraph(previous, line, ratio)
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


def join_lines(left: str, right: str, words: Counter[str]) -> str:
    """Return two lines of a paragraph as one, repairing a word hyphenated across the break.

    Dictionary-free: the hyphen is kept when the document also uses the hyphenated form within
    a line; else dropped when it uses the joined word ('front-' + 'line' where 'frontline' is
    used); else kept as a real hyphen ('re-investment')."""
    broken = _BROKEN_WORD.search(left)
    rest = _FIRST_WORD.match(right)
    if not broken or not rest:
        return f"{left} {right}"
    head, tail = broken.group(1), rest.group(1)
    joined = head + tail
    hyphenated = f"{head}-{tail}".lower()
    keep = words[hyphenated] > 0 or words[joined.lower()] == 0
    return (left if keep else left[:-1]) + right


def pdf_metadata(reader: PdfReader) -> dict[str, str]:
    """Return what the PDF's document information says: its title and creation date (as
    'published', YYYY-MM-DD). Entries that are missing or unreadable are left out."""
    metadata: dict[str, str] = {}
    try:
        info = reader.metadata
        title = re.sub(r"\s+", " ", str(info.title or "")).strip() if info else ""
    except Exception:
        return metadata
    if title:
        metadata["title"] = title
    try:
        created = info.creation_date if info else None
    except Exception:
        created = None
    if created is not None:
        metadata["published"] = created.date().isoformat()
    return metadata
