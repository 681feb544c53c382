"""Extract stage: raw bytes -> text blocks (headings, paragraphs, bullet items) with chrome dropped.

Plain text and Markdown are handled here. Hard-wrapped lines are joined back into paragraphs so
that a reflowed copy of a report extracts to the same blocks.
"""

from __future__ import annotations

import codecs
import re
from dataclasses import dataclass, field
from typing import Literal

from reportwatch.charset import detect_text
from reportwatch.errors import InputError
from reportwatch.vocab import is_chrome

BlockKind = Literal["heading", "paragraph", "bullet"]


@dataclass(frozen=True)
class Block:
    """One unit of document text. `level` is the Markdown heading level (0: inferred heading)."""

    kind: BlockKind
    text: str
    level: int = 0


@dataclass(frozen=True)
class Extracted:
    """What the extract stage gives the normalizer: blocks plus page metadata."""

    blocks: tuple[Block, ...]
    media_type: str
    metadata: dict[str, str] = field(default_factory=dict)


TERMINAL = (".", "!", "?", ":", ";", '"', "”", "’", "'", ")", "…")
# A line opening a bullet item or a numbered paragraph (extract_pdf reads its lines by these too).
BULLET = re.compile(r"^\s*([-*•◼▪●■◦])\s+(.*)$")
NUMBERED = re.compile(r"^\s*\d{1,3}[.)]\s+(.*)$")
_MD_HEADING = re.compile(r"^(#{1,6})\s+(.*?)\s*#*\s*$")
_RULE = re.compile(r"^\s*([-*_=])(\s*\1){2,}\s*$")
_HYPHEN_END = re.compile(r"[A-Za-z]-$")
_INVISIBLE = re.compile(r"[\u200b\u200c\u200d\u2060\ufeff]")


def collapse(text: str) -> str:
    """Return text with invisible characters dropped and whitespace runs as single spaces."""
    if _INVISIBLE.search(text):
        text = _INVISIBLE.sub("", text)
    return " ".join(text.split())  # str.split() splits at what \s matches; 3x faster than re.sub


def decode_text(raw: bytes) -> str:
    """Return raw bytes decoded as text: a BOM or strict UTF-8 first, then UTF-8 with stray
    legacy bytes read as windows-1252, then the charset detected (`charset.detect_text`).

    Raises InputError for an empty or binary input."""
    if not raw.strip():
        raise InputError("empty file")
    for bom, codec in ((codecs.BOM_UTF8, "utf-8-sig"), (codecs.BOM_UTF16_LE, "utf-16")):
        if raw.startswith(bom) or (codec == "utf-16" and raw.startswith(codecs.BOM_UTF16_BE)):
            return raw.decode(codec, errors="replace")
    if looks_binary(raw):
        raise InputError("binary file, not text")
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        # as for pages: mostly UTF-8 with stray legacy bytes (a pasted curly quote) stays UTF-8
        return detect_text(raw)


_CONTROLS = bytes(b for b in range(32) if b not in (9, 10, 12, 13))


def looks_binary(raw: bytes) -> bool:
    """Return True when the bytes hold NULs or many control characters: not text."""
    sample = raw[:8192]
    if b"\x00" in sample:
        return True
    controls = len(sample) - len(sample.translate(None, _CONTROLS))  # counted in C, not per byte
    return controls > len(sample) // 20


def wrap_width(lines: list[str]) -> int | None:
    """Return the width a text was hard-wrapped at, or None when lines are whole paragraphs."""
    lengths = [len(line) for line in lines if line.strip()]
    if len(lengths) < 8:
        return None
    longest = max(lengths)
    if longest > 120:
        return None
    near = sum(1 for n in lengths if n >= longest - 20)
    return longest if near >= len(lengths) // 3 else None


def is_continuation(previous: str, line: str, width: int | None) -> bool:
    """Return True when `line` continues the paragraph that `previous` ends (a wrapped line)."""
    prev = previous.rstrip()
    if not prev or prev.endswith(TERMINAL):
        return False
    first = line.lstrip()[:1]
    if first.islower() or first in ",;)":
        return True
    return width is not None and len(prev) >= width - 20


def strip_footer(lines: list[str]) -> list[str]:
    """Return lines without the site footer: from the first chrome line near the end, back over the
    short unpunctuated lines (taglines, repeated names) that lead into it."""
    tail_start = max(0, len(lines) - 15)
    first = next((i for i in range(tail_start, len(lines)) if is_chrome_line(lines[i])), None)
    if first is None:
        return lines
    start = first
    for i in range(first - 1, tail_start - 1, -1):
        text = lines[i].strip()
        if not text:
            continue
        if text.endswith(TERMINAL) or len(text) > 120:
            break
        start = i
    return lines[:start]


def is_chrome_line(line: str) -> bool:
    """Return True for a short line of chrome; a long line of prose is never chrome."""
    text = line.strip()
    return bool(text) and word_count(text, 20) <= 20 and is_chrome(text)


def text_blocks(text: str) -> list[Block]:
    """Return the blocks of a plain-text or Markdown document."""
    lines = strip_footer(text.replace("\r\n", "\n").replace("\r", "\n").split("\n"))
    width = wrap_width(lines)
    blocks: list[Block] = []
    open_block: list[str] = []
    open_kind: BlockKind = "paragraph"

    def close() -> None:
        nonlocal open_block
        if open_block:
            blocks.append(make_block(open_kind, join_lines(open_block)))
        open_block = []

    for raw_line in lines:
        line = raw_line.rstrip()
        if not line.strip() or _RULE.match(line) or is_chrome_line(line):
            close()
            continue
        if heading := _MD_HEADING.match(line):
            close()
            blocks.append(Block("heading", heading.group(2).strip(), len(heading.group(1))))
            continue
        if open_block and is_continuation(open_block[-1], line, width):
            open_block.append(line.strip())
            continue
        close()
        open_kind, first = block_start(line)
        open_block = [first]
    close()
    return blocks


def join_lines(lines: list[str]) -> str:
    """Return wrapped lines joined into one paragraph; a line broken after the hyphen of a
    compound word ('problem-' + 'solving') joins without a space."""
    text = lines[0]
    for line in lines[1:]:
        text += line if text.endswith("-") and _HYPHEN_END.search(text) else f" {line}"
    return text


def block_start(line: str) -> tuple[BlockKind, str]:
    """Return the kind of block a line opens and its text without the bullet or paragraph number
    (numbers are dropped so that inserting a paragraph does not renumber every later one)."""
    if bullet := BULLET.match(line):
        return "bullet", bullet.group(2)
    if numbered := NUMBERED.match(line):
        return "paragraph", numbered.group(1)
    return "paragraph", line.strip()


def make_block(kind: BlockKind, text: str) -> Block:
    """Return a block for joined text; a short unpunctuated line standing alone is a heading."""
    text = " ".join(text.split())
    if kind == "paragraph" and looks_like_heading(text):
        return Block("heading", text, 0)
    return Block(kind, text)


def looks_like_heading(text: str) -> bool:
    """Return True for a line that reads as a heading: short, capitalised, unpunctuated."""
    return (
        len(text) <= 90
        and text[:1].isupper()
        and not text.endswith(TERMINAL)
        and 0 < word_count(text, 12) <= 12
    )


def word_count(text: str, most: int) -> int:
    """Return how many words (runs of non-space) a text holds, counting no further than most + 1:
    enough to tell whether it holds more than `most`, without splitting a long paragraph whole."""
    return len(text.split(None, most))


def extract_text(raw: bytes, media_type: str = "text/plain") -> Extracted:
    """Return the blocks of a text or Markdown input. Raises InputError for unreadable input."""
    text = decode_text(raw)
    blocks = text_blocks(text)
    if not blocks:
        raise InputError("no text after removing page chrome")
    return Extracted(tuple(blocks), media_type)


def sniff_media_type(raw: bytes, location: str) -> str:
    """Return the media type of an input from its first bytes, then its name."""
    head = raw[:1024].lstrip().lower()
    if head.startswith(b"%pdf"):
        return "application/pdf"
    if head.startswith((b"<!doctype html", b"<html")) or b"<body" in head:
        return "text/html"
    if location.lower().endswith((".md", ".markdown")):
        return "text/markdown"
    return "text/plain"


def extract(
    raw: bytes, location: str, media_type: str | None = None, charset: str | None = None
) -> Extracted:
    """Return the blocks of any supported input, dispatching on its media type (as sniffed when
    the transport did not say; `charset` is what the transport declared).

    Raises InputError naming the reason when the input cannot be read."""
    sniffed = sniff_media_type(raw, location)
    # the bytes' own signature beats a server's label (PDFs are often sent as octet-stream)
    kind = sniffed if sniffed in ("application/pdf", "text/html") else media_type or sniffed
    if kind == "application/pdf":
        from reportwatch.extract_pdf import extract_pdf

        return extract_pdf(raw)
    if kind == "text/html":
        from reportwatch.extract_html import extract_html

        return extract_html(raw, charset)
    return extract_text(raw, kind)
