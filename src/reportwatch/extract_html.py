"""Extract stage for HTML pages: raw bytes -> the blocks of the report's main content.

The bytes are decoded (`html_charset`), the page's title and dates kept as metadata
(`html_metadata`), site chrome dropped and the main content found (`html_chrome`); here the
content is walked into blocks and tidied. The tree is lxml's (`html_tree`): walked with explicit
stacks or lxml's iterators, never recursion, so deep nesting cannot exhaust the stack.
"""

from __future__ import annotations

import re
from functools import lru_cache

from lxml import etree

from reportwatch.errors import InputError, ReportwatchError
from reportwatch.extract import Block, BlockKind, Extracted, collapse, is_chrome_line
from reportwatch.html_charset import decode_html
from reportwatch.html_chrome import (
    HEADINGS,
    NEVER_TEXT,
    content_root,
    drop_link_lists,
    prune_chrome,
)
from reportwatch.html_events import restored
from reportwatch.html_metadata import (
    LONE_DATE,
    STAMP,
    STAMP_LABEL,
    may_hold_stamp,
    page_metadata,
)
from reportwatch.html_tree import (
    Element,
    has_descendant,
    is_comment,
    is_tag,
    parse_page,
    remove,
    spaced_text,
)

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


def is_block(tag: Element) -> bool:
    """Return True for an element that starts and ends a block: a block-level tag, or an inline
    one holding a score line ('Score: 2', '2 - Evidence shows ...') on its own."""
    if tag.tag in _BLOCK_TAGS:
        return True
    return tag.tag in _INLINE_SCORE and bool(_SCORE_LINE.match(collapse(shallow_text(tag))))


def shallow_text(tag: Element) -> str:
    """Return the text of an element at most two levels deep ('' for a deeper one), a comment's
    included, so that checking every inline element costs no more than reading the page once."""
    parts = [] if tag.text is None else [tag.text]
    for child in tag:
        if is_tag(child):
            if any(is_tag(grandchild) for grandchild in child):
                return ""
            parts.append(spaced_text(child))
        elif is_comment(child):
            parts.append(child.text or " ")  # an empty comment: ' ', as BeautifulSoup kept it
        if child.tail is not None:
            parts.append(child.tail)
    return " ".join(parts)


def walk(root: Element) -> list[Block]:
    """Return the blocks of an element: each block-level element closes the text run before it
    and its own; the innermost heading or list item gives a run its kind; <br> is a space.
    lxml's iterwalk walks the tree (no recursion): an element's text after its start, its tail
    after its end; a comment's tail, not its text."""
    blocks: list[Block] = []
    runs: list[str] = []
    kinds: list[tuple[BlockKind, int]] = [("paragraph", 0)]
    closes: list[bool] = []  # for each open element: whether its end closes a block

    def flush() -> None:
        """Close the open text run as a block of the current kind (nothing when blank)."""
        joined = "".join(runs)
        if joined and not joined.isspace() and (text := collapse(joined)):
            blocks.append(Block(kinds[-1][0], text, kinds[-1][1]))
        runs.clear()

    walker = etree.iterwalk(root, events=("start", "end", "comment", "pi"))
    for event, node in walker:
        if event == "start" and node.tag == "br":
            walker.skip_subtree()
            closes.append(False)
            runs.append(" ")
        elif event == "start":
            closes.append(block := is_block(node))
            if block:
                flush()
                kinds.append(_KINDS.get(node.tag, kinds[-1]))
            if node.text is not None:
                runs.append(node.text)
        else:
            if event == "end" and closes.pop():
                flush()
                kinds.pop()
            if node.tail is not None and node is not root:
                runs.append(node.tail)
    flush()
    return blocks


# --- Tidying -----------------------------------------------------------------------------------

_WORD_CHAR = re.compile(r"\w")
_CHROME_TEXT = re.compile(
    r"^(skip to\b.*|back to (the )?top|print( this page)?|share( this page)?( on \w+)?"
    r"|(accept|reject)( all| additional| optional)? cookies|cookie (settings|preferences)"
    r"|menu|search|close|(show|hide|open|close) all( sections)?)$",
    re.I,
)


def is_noise(text: str) -> bool:
    """Return True for block text that is never report text: chrome lines, date stamps, lone dates
    and stamp labels, or no letters or digits at all."""
    if not _WORD_CHAR.search(STAMP.sub("", text) if may_hold_stamp(text) else text):
        return True
    return len(text.split(None, 20)) <= 20 and is_short_noise(text)  # chrome lines are short


@lru_cache(maxsize=4096)
def is_short_noise(text: str) -> bool:
    """Return True for text of at most 20 words that is a chrome line, or of at most 8 words that
    is chrome, a stamp label or a lone date; remembered, as a site's pages share such lines."""
    if is_chrome_line(text):
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
    page = parse_page(decode_html(raw, declared_charset).replace("\x00", ""))
    document = page.document  # `page` is held until the page is read (see html_tree.Page)
    for never_text in list(document.iter(*NEVER_TEXT)):  # those inside others go with them
        remove(never_text)
    metadata = page_metadata(document)
    prune_chrome(document)
    root = content_root(document)
    drop_link_lists(root)
    heading = None if has_descendant(root, "h1") else next(document.iterdescendants("h1"), None)
    blocks = tidy((walk(heading) if heading is not None else []) + walk(root))
    if not blocks:
        raise InputError(NO_TEXT)
    if page.from_events:
        blocks = [Block(block.kind, restored(block.text), block.level) for block in blocks]
        metadata = {key: restored(value) for key, value in metadata.items()}
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
