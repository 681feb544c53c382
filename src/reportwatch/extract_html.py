"""Extract stage for HTML pages: raw bytes -> the blocks of the report's main content.

The bytes are decoded (`html_charset`), the page's title and dates kept as metadata
(`html_metadata`), site chrome dropped and the main content found (`html_chrome`); here the
content is walked into blocks and tidied. Trees are walked with explicit stacks, never recursion,
so deep nesting cannot exhaust the stack.
"""

from __future__ import annotations

import re
import warnings

from bs4 import BeautifulSoup
from bs4.element import NavigableString, PageElement, Tag

from reportwatch.errors import InputError, ReportwatchError
from reportwatch.extract import Block, BlockKind, Extracted, collapse, is_chrome_line
from reportwatch.html_charset import decode_html
from reportwatch.html_chrome import (
    HEAD,
    HEADINGS,
    NEVER_TEXT,
    content_root,
    drop_link_lists,
    holds_content,
    is_chrome_tag,
    prune,
)
from reportwatch.html_metadata import LONE_DATE, STAMP, STAMP_LABEL, page_metadata

MEDIA_TYPE = "text/html"
MAX_HTML_BYTES = 20 * 1024 * 1024
NO_TEXT = "no report text on the page"

_BLOCK_TAGS = {
    *("address", "article", "aside", "blockquote", "body", "caption", "center", "dd", "details"),
    *("dialog", "div", "dl", "dt", "fieldset", "figcaption", "figure", "footer", "form"),
    *("header", "hgroup", "hr", "legend", "li", "main", "nav", "ol", "p", "pre", "section"),
    *("summary", "table", "tbody", "td", "tfoot", "th", "thead", "tr", "ul", *HEADINGS),
}
_INLINE_SCORE = {"span", "strong", "b", "em", "small", "label", "a"}
_SCORE_LINE = re.compile(r"^score\s*:\s*\d{1,3}%?$|^[1-4]\s*\W\s*evidence shows\b", re.I)
_SCORE_PAIR = re.compile(r"^(score\s*:\s*[1-4])\s+([1-4]\s*\W\s*evidence shows\b.*)$", re.I)
_KINDS: dict[str, tuple[BlockKind, int]] = {h: ("heading", int(h[1])) for h in HEADINGS} | {
    "li": ("bullet", 0)
}


def is_block(tag: Tag) -> bool:
    """Return True for an element that starts and ends a block: a block-level tag, or an inline
    one holding a score line ('Score: 2', '2 - Evidence shows ...') on its own."""
    if tag.name in _BLOCK_TAGS:
        return True
    return tag.name in _INLINE_SCORE and bool(_SCORE_LINE.match(collapse(shallow_text(tag))))


def shallow_text(tag: Tag) -> str:
    """Return the text of an element at most two levels deep ('' for a deeper one), so that
    checking every inline element costs no more than reading the page once."""
    parts: list[str] = []
    for child in tag.contents:
        if isinstance(child, Tag) and any(isinstance(c, Tag) for c in child.contents):
            return ""
        parts.append(child.get_text(" ") if isinstance(child, Tag) else str(child))
    return " ".join(parts)


def walk(root: Tag) -> list[Block]:
    """Return the blocks of an element: each block-level element closes the text run before it
    and its own; the innermost heading or list item gives a run its kind; <br> is a space. The
    tree is walked with an explicit stack (no recursion)."""
    blocks: list[Block] = []
    runs: list[str] = []
    kinds: list[tuple[BlockKind, int]] = [("paragraph", 0)]
    stack: list[tuple[PageElement, bool]] = [(root, False)]

    def flush() -> None:
        """Close the open text run as a block of the current kind (nothing when blank)."""
        if text := collapse("".join(runs)):
            blocks.append(Block(kinds[-1][0], text, kinds[-1][1]))
        runs.clear()

    while stack:
        node, leaving = stack.pop()
        if type(node) is NavigableString:  # not a comment, CDATA, script or style string
            runs.append(str(node))
        elif not isinstance(node, Tag):
            continue
        elif leaving:
            flush()
            kinds.pop()
        elif node.name == "br":
            runs.append(" ")
        else:
            if is_block(node):
                flush()
                kinds.append(_KINDS.get(node.name, kinds[-1]))
                stack.append((node, True))
            stack.extend((child, False) for child in reversed(node.contents))
    flush()
    return blocks


# --- Tidying -----------------------------------------------------------------------------------

_CHROME_TEXT = re.compile(
    r"^(skip to\b.*|back to (the )?top|print( this page)?|share( this page)?( on \w+)?"
    r"|(accept|reject)( all| additional| optional)? cookies|cookie (settings|preferences)"
    r"|menu|search|close|(show|hide|open|close) all( sections)?)$",
    re.I,
)


def is_noise(text: str) -> bool:
    """Return True for block text that is never report text: chrome lines, date stamps, lone dates
    and stamp labels, or no letters or digits at all."""
    if not re.search(r"\w", STAMP.sub("", text)) or is_chrome_line(text):
        return True
    short = len(text.split()) <= 8
    return short and bool(_CHROME_TEXT.match(text) or STAMP_LABEL.match(text) or LONE_DATE(text))


def tidy(blocks: list[Block]) -> list[Block]:
    """Return blocks with noise dropped, and a 'Score: N' line run together with its wording split
    in two, as pages print them on separate lines."""
    out: list[Block] = []
    for block in blocks:
        if pair := _SCORE_PAIR.match(block.text):
            out += [Block("paragraph", pair.group(1)), Block("paragraph", pair.group(2))]
        elif not is_noise(block.text):
            out.append(block)
    return out


def parse_html(raw: bytes, declared_charset: str | None) -> Extracted:
    """Return the blocks and metadata of an HTML page (see `extract_html`): chrome dropped, the
    main content walked, led by the page's <h1> when that stands outside it."""
    if not raw.strip():
        raise InputError(NO_TEXT)
    if len(raw) > MAX_HTML_BYTES:
        raise InputError(f"HTML page larger than {MAX_HTML_BYTES // (1024 * 1024)} MB")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        soup = BeautifulSoup(decode_html(raw, declared_charset).replace("\x00", ""), "lxml")
    prune(soup, lambda tag: tag.name in NEVER_TEXT)
    metadata = page_metadata(soup)
    prune(soup, lambda t: t.name in HEAD or (is_chrome_tag(t) and not holds_content(t)))
    root = content_root(soup)
    drop_link_lists(root)
    heading = soup.find("h1") if root.find("h1") is None else None
    blocks = tidy((walk(heading) if heading else []) + walk(root))
    if not blocks:
        raise InputError(NO_TEXT)
    return Extracted(tuple(blocks), MEDIA_TYPE, metadata)


def extract_html(raw: bytes, declared_charset: str | None = None) -> Extracted:
    """Return the blocks of an HTML page's report text and its metadata (title, ISO dates).

    `declared_charset` is the charset an HTTP Content-Type named. Raises InputError for an empty
    page, one with no report text, one too large or too deeply nested to read: no other
    exception escapes, whatever the bytes."""
    try:
        return parse_html(raw, declared_charset)
    except ReportwatchError:
        raise
    except RecursionError:
        raise InputError("HTML page nested too deeply to read") from None
    except MemoryError:
        raise InputError("HTML page too large to read") from None
    except Exception as exc:  # the parser met bytes it cannot handle: an input problem
        raise InputError(f"HTML page could not be read ({type(exc).__name__})") from exc
