"""Reading a PDF's text line by line with PDFium (pypdfium2), for extract_pdf.

Only a PDF that pypdf has already accepted (pdf_gate: readable, not locked, within the page count
and the decompression limits of pdf_limits) is given to PDFium. Each page's text comes
with PDFium's line breaks; each line keeps the position (PDF user space, points, y up) and the
effective font size of its first visible glyph, which is all extract_pdf's paragraph rules need,
so only that one glyph of a line is asked about. Every PDFium failure becomes an InputError, and
every PDFium object is closed once read.
"""

from __future__ import annotations

import ctypes
import math
import re
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import NamedTuple

import pypdfium2 as pdfium
import pypdfium2.raw as pdfium_c

from reportwatch.errors import InputError

_ASTRAL = re.compile("[\U00010000-\U0010ffff]")  # outside the BMP: two UTF-16 units
_BREAK = re.compile(r"[\r\n\ufffe]")
# PDFium writes a hyphen that ends a line before a word's remainder as U+FFFE, with no line break
_END_HYPHEN = "\ufffe"
_PRIVATE_BULLET = re.compile(r"^(\s*)[\ue000-\uf8ff](?=\s)")
# '10.Young people…': a paragraph number whose gap to the text PDFium did not write as a space
_GLUED_NUMBER = re.compile(r"^\s*\d{1,3}[.)](?=[^\s\d])")
_NUMBER_GAP = 0.05  # a gap of this many ems after a paragraph number is a word space
_PDFIUM = threading.Lock()  # PDFium keeps global state (fonts, caches) and is not thread-safe


class Line(NamedTuple):
    """One line of page text: its text, and the position (points) and effective font size of
    its first glyph; position and size are None when the line shows no glyph. (A named tuple:
    a report has hundreds, and a tuple is made three times faster than a frozen dataclass.)"""

    text: str
    x: float | None = None
    y: float | None = None
    size: float | None = None


def pdfium_error(exc: BaseException) -> InputError:
    """Return the InputError for a PDF that PDFium cannot read, with PDFium's reason in short."""
    message = str(exc).strip()
    reason = message.splitlines()[0] if message else type(exc).__name__
    return InputError(f"damaged PDF: {reason[:120]}")


@contextmanager
def opened(raw: bytes, page_count: int) -> Iterator[pdfium.PdfDocument]:
    """Open a PDF (bytes) with PDFium for the duration of the block, and close it after;
    `page_count` is how many pages the gate (pypdf) found. PDFium is not thread-safe: one
    thread at a time holds a document.

    Raises InputError when PDFium cannot open the PDF or finds another number of pages."""
    with _PDFIUM:
        try:
            document = pdfium.PdfDocument(raw)
        except Exception as exc:
            raise pdfium_error(exc) from None
        try:
            if len(document) != page_count:
                raise InputError(
                    f"damaged PDF: {page_count} pages for pypdf, {len(document)} for PDFium"
                )
            yield document
        finally:
            document.close()


def document_info(document: pdfium.PdfDocument, key: str) -> str:
    """Return an entry of an open PDF's document information ('Title', 'CreationDate'), or ''
    when it is missing or unreadable."""
    try:
        return str(document.get_metadata_value(key))
    except Exception:
        return ""


def page_lines(document: pdfium.PdfDocument, index: int) -> list[Line]:
    """Return the lines of one page of an open PDFium document. Raises InputError when PDFium
    cannot read the page."""
    try:
        page = document[index]
    except Exception as exc:
        raise pdfium_error(exc) from None
    try:
        textpage = page.get_textpage()
        try:
            return text_lines(textpage)
        finally:
            textpage.close()
    except InputError:
        raise
    except Exception as exc:
        raise pdfium_error(exc) from None
    finally:
        page.close()


class Glyphs:
    """The glyphs of a text page, asked of PDFium one at a time by their place in the page's
    text (the buffers PDFium writes into are made once a page)."""

    def __init__(self, textpage: pdfium.PdfTextPage, text: str, count: int) -> None:
        self.handle = textpage.raw
        self.text = text
        self.x, self.y = ctypes.c_double(), ctypes.c_double()
        self.matrix = pdfium_c.FS_MATRIX()
        self.box = pdfium_c.FS_RECTF()
        # the text's indexes are PDFium's `count` character indexes unless it left characters
        # out of the text (controls) or wrote one as two UTF-16 units (outside the BMP)
        self.direct = len(text) == count and len(text.encode("utf-16-le")) == 2 * count

    def char_index(self, position: int) -> int:
        """Return PDFium's index of the character at `position` of the text (-1: none)."""
        if self.direct:
            return position
        units = position + len(_ASTRAL.findall(self.text, 0, position))
        return int(pdfium_c.FPDFText_GetCharIndexFromTextIndex(self.handle, units))

    def place(self, position: int) -> tuple[float, float, float] | None:
        """Return (x, y, effective font size) of the glyph at `position` of the text: its origin
        in PDF user space, and its font size scaled by the text and graphics matrices."""
        index = position if self.direct else self.char_index(position)
        handle, matrix = self.handle, self.matrix
        if index < 0 or not pdfium_c.FPDFText_GetCharOrigin(handle, index, self.x, self.y):
            return None
        pdfium_c.FPDFText_GetMatrix(handle, index, matrix)
        size = pdfium_c.FPDFText_GetFontSize(handle, index)
        return self.x.value, self.y.value, size * (math.hypot(matrix.c, matrix.d) or 1.0)

    def gap_before(self, position: int) -> float:
        """Return the gap (points) between the advance of the glyph before `position` of the
        text and the origin of the glyph at it; 0 when PDFium tells neither."""
        before, index = self.char_index(position - 1), self.char_index(position)
        if before < 0 or not pdfium_c.FPDFText_GetLooseCharBox(self.handle, before, self.box):
            return 0.0
        if index < 0 or not pdfium_c.FPDFText_GetCharOrigin(self.handle, index, self.x, self.y):
            return 0.0
        return float(self.x.value - self.box.right)


def line_texts(text: str) -> Iterator[tuple[int, str]]:
    """Yield (position, text) of each line of a page's text from PDFium: lines end with CR LF,
    or with U+FFFE, the hyphen PDFium takes out of a word broken across lines (kept here)."""
    start = 0
    for piece in text.split("\r\n"):
        if "\ufffe" in piece or "\r" in piece or "\n" in piece:
            yield from broken_lines(start, piece)
        else:
            yield start, piece
        start += len(piece) + 2


def broken_lines(start: int, piece: str) -> Iterator[tuple[int, str]]:
    """Yield (position, text) of the lines of a piece of page text at `start` that holds a
    hyphen PDFium joined across lines or a lone CR or LF."""
    position = 0
    for found in _BREAK.finditer(piece):
        hyphen = "-" if found.group() == _END_HYPHEN else ""
        yield start + position, piece[position : found.start()] + hyphen
        position = found.end()
    yield start + position, piece[position:]


def text_lines(textpage: pdfium.PdfTextPage) -> list[Line]:
    """Return the lines of a text page, each with the place of its first visible glyph."""
    count = textpage.count_chars()
    text = textpage.get_text_range() if count > 0 else ""
    glyphs = Glyphs(textpage, text, count)
    lines = [line_at(glyphs, start, line) for start, line in line_texts(text)]
    while lines and not lines[-1].text:
        lines.pop()
    return lines


def line_at(glyphs: Glyphs, start: int, text: str) -> Line:
    """Return the line whose text is at `start` of the page's text, right-stripped, with a
    private-use bullet glyph (Wingdings) at its start as '◼'."""
    text = text.rstrip()
    first = len(text) - len(text.lstrip())
    if first == len(text):
        return Line(text)
    if "\ue000" <= text[first] <= "\uf8ff":
        text = _PRIVATE_BULLET.sub(r"\1◼", text)
    place = glyphs.place(start + first)
    if place is None:
        return Line(text)
    x, y, size = place
    glued = _GLUED_NUMBER.match(text) if text[first].isdigit() else None
    if glued and glyphs.gap_before(start + glued.end()) >= _NUMBER_GAP * size:
        text = f"{text[: glued.end()]} {text[glued.end() :]}"
    return Line(text, x, y, size)
