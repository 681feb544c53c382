"""PDF text as PDFium reads it behind pypdf's gate, on small PDFs written here: what the gate
refuses before PDFium sees it (a bomb in a form or a font program, not only in a page's
content), how lines become blocks whatever matrices size the text, paragraph numbers set at a
tab stop, Wingdings bullets, and reading from several threads at once.
"""

from __future__ import annotations

import re
import zlib
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from reportwatch.errors import InputError
from reportwatch.extract import Block
from reportwatch.extract_pdf import extract_pdf

from conftest import pdf_file

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "ofsted"
MB = 1024 * 1024
HELVETICA = b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>"
BOMB = re.escape("PDF too large: a stream inflates past 4 MB (a decompression bomb?)")


def stream(data: bytes, extra: bytes = b"", compress: bool = False) -> bytes:
    """Return a PDF stream object's body holding `data` (Flate-compressed if asked)."""
    if compress:
        data, extra = zlib.compress(data, 9), extra + b" /Filter /FlateDecode"
    return b"<< /Length %d%s >>\nstream\n%s\nendstream" % (len(data), extra, data)


def one_page_pdf(content: bytes, resources: bytes, objects: dict[int, bytes]) -> bytes:
    """Return a one-page PDF drawing `content` with `resources`; `objects` are numbered from 4."""
    body = {
        1: b"<< /Type /Catalog /Pages 2 0 R >>",
        2: b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        3: b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Resources %s /Contents %d 0 R >>"
        % (resources, 4 + len(objects)),
        **objects,
        4 + len(objects): stream(content),
    }
    return pdf_file(body)


def text_pdf(content: bytes) -> bytes:
    """Return a one-page PDF drawing `content` with font /F1 (Helvetica)."""
    return one_page_pdf(content, b"<< /Font << /F1 4 0 R >> >>", {4: HELVETICA})


def form_bomb() -> bytes:
    """Return a PDF whose page draws a form XObject inflating to 8 MB."""
    form = stream(b" " * (8 * MB), b" /Type /XObject /Subtype /Form /BBox [0 0 595 842]", True)
    return one_page_pdf(b"/Fm1 Do", b"<< /XObject << /Fm1 4 0 R >> >>", {4: form})


def font_bomb() -> bytes:
    """Return a PDF whose text is set in an embedded font program inflating to 8 MB."""
    font = (
        b"<< /Type /Font /Subtype /TrueType /BaseFont /Bomb /FirstChar 32 /LastChar 126 "
        b"/Widths [%s] /FontDescriptor 5 0 R >>" % b" ".join([b"500"] * 95)
    )
    descriptor = (
        b"<< /Type /FontDescriptor /FontName /Bomb /Flags 32 /FontBBox [0 0 1000 1000] "
        b"/ItalicAngle 0 /Ascent 800 /Descent -200 /CapHeight 700 /StemV 80 /FontFile2 6 0 R >>"
    )
    program = stream(b"\0" * (8 * MB), b" /Length1 %d" % (8 * MB), True)
    content = b"BT /F1 12 Tf 72 700 Td (What needs to improve) Tj ET"
    return one_page_pdf(
        content, b"<< /Font << /F1 4 0 R >> >>", {4: font, 5: descriptor, 6: program}
    )


@pytest.mark.parametrize("make", [form_bomb, font_bomb], ids=["form", "font-program"])
def test_a_bomb_pdfium_would_inflate_is_refused_before_it_reads_the_pdf(
    make: Callable[[], bytes],
) -> None:
    with pytest.raises(InputError) as raised:
        extract_pdf(make())
    assert re.fullmatch(BOMB, str(raised.value))


PARAGRAPH = (
    b"(The local authority has strengthened its arrangements for) Tj 0 -{gap} Td "
    b"(children who go missing from home or care.) Tj 0 -{gap} Td "
    b"(Return home interviews are timely and) Tj 0 -{gap} Td "
    b"(help to reduce risk.) Tj"
)
BLOCKS = [
    Block(
        "paragraph",
        "The local authority has strengthened its arrangements for children who go missing "
        "from home or care. Return home interviews are timely and help to reduce risk.",
    )
]


@pytest.mark.parametrize(
    "content",
    [
        b"BT /F1 12 Tf 72 700 Td " + PARAGRAPH.replace(b"{gap}", b"14.4") + b" ET",
        # the size set by the text matrix: 1-point text scaled by 12
        b"BT /F1 1 Tf 12 0 0 12 72 700 Tm " + PARAGRAPH.replace(b"{gap}", b"1.2") + b" ET",
        # the size set by the graphics matrix: 6-point text drawn twice as large
        b"2 0 0 2 0 0 cm BT /F1 6 Tf 36 350 Td " + PARAGRAPH.replace(b"{gap}", b"7.2") + b" ET",
    ],
    ids=["font-size", "text-matrix", "graphics-matrix"],
)
def test_lines_one_line_height_apart_are_one_paragraph_however_the_size_is_set(
    content: bytes,
) -> None:
    assert list(extract_pdf(text_pdf(content)).blocks) == BLOCKS


def test_a_paragraph_number_at_a_tab_stop_is_dropped_like_one_followed_by_a_space() -> None:
    # numbered paragraphs with hanging lines; the first number and its text are drawn apart
    # with no space between them, as Word sets a tab stop
    content = (
        b"BT /F1 12 Tf 72 700 Td (10.) Tj 18 0 Td (Leaders know their services well and) Tj "
        b"0 -14.4 Td (act on what they learn.) Tj ET "
        b"BT /F1 12 Tf 72 656 Td (11. Staff are supported by managers who) Tj "
        b"18 -14.4 Td (know them well.) Tj ET"
    )
    blocks = extract_pdf(text_pdf(content)).blocks
    assert [b.text for b in blocks] == [
        "Leaders know their services well and act on what they learn.",
        "Staff are supported by managers who know them well.",
    ]


def test_a_wingdings_bullet_opens_a_bullet_item() -> None:
    # a symbol font whose bullet glyph maps to a private-use character, as in Word's PDFs
    symbols = b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /ToUnicode 6 0 R >>"
    to_unicode = stream(
        b"/CIDInit /ProcSet findresource begin 12 dict begin begincmap "
        b"1 begincodespacerange <00> <FF> endcodespacerange "
        b"1 beginbfchar <6E> <F06E> endbfchar endcmap "
        b"CMapName currentdict /CMap defineresource pop end end"
    )
    content = (
        b"BT /F2 12 Tf 72 700 Td (n) Tj /F1 12 Tf 14 0 Td ( Planned support for children.) Tj ET"
    )
    raw = one_page_pdf(
        content,
        b"<< /Font << /F1 4 0 R /F2 5 0 R >> >>",
        {4: HELVETICA, 5: symbols, 6: to_unicode},
    )
    assert list(extract_pdf(raw).blocks) == [Block("bullet", "Planned support for children.")]


def test_reports_read_from_several_threads_at_once_read_as_one_at_a_time() -> None:
    raws = [p.read_bytes() for p in sorted(FIXTURES.glob("*.pdf"))] * 2
    alone = [extract_pdf(raw) for raw in raws]
    with ThreadPoolExecutor(4) as pool:
        assert list(pool.map(extract_pdf, raws)) == alone
