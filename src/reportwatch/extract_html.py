"""Extract stage for HTML pages: raw bytes -> the blocks of the report's main content.

Site chrome is dropped; page metadata (title, publication dates) goes to `Extracted.metadata`,
never into blocks, so a page whose only change is its date stamp extracts to the same blocks.
Trees are walked with explicit stacks, never recursion, so deep nesting cannot exhaust the stack.
"""

from __future__ import annotations

import codecs
import re
import warnings
from collections.abc import Callable
from datetime import datetime

from bs4 import BeautifulSoup
from bs4.element import NavigableString, PageElement, Tag
from charset_normalizer import from_bytes

from reportwatch.errors import InputError, ReportwatchError
from reportwatch.extract import Block, BlockKind, Extracted, is_chrome_line, looks_binary
from reportwatch.vocab import fold

MEDIA_TYPE = "text/html"
MAX_HTML_BYTES = 20 * 1024 * 1024
NO_TEXT = "no report text on the page"

# --- Decoding ----------------------------------------------------------------------------------

_META_CHARSET = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?\s*([A-Za-z0-9_:.-]+)""", re.I)
_AS_BROWSERS_READ = dict.fromkeys(("latin_1", "iso8859_1", "ascii"), "cp1252")
_NOT_WEB = {"utf_7", "unicode_escape", "raw_unicode_escape", "idna", "punycode", "undefined"}
_SINGLE_BYTE = ("cp12", "cp8", "cp4", "latin", "iso8859", "mac_", "koi8", "kz1048")
_LENIENT = "reportwatch-utf8-cp1252"


def _cp1252_for_bad_bytes(error: UnicodeError) -> tuple[str, int]:
    """Codec error handler: decode bytes that are not UTF-8 as windows-1252 (stray legacy bytes)."""
    assert isinstance(error, UnicodeDecodeError)
    return bytes(error.object[error.start : error.end]).decode("cp1252", "replace"), error.end


codecs.register_error(_LENIENT, _cp1252_for_bad_bytes)


def codec_for(label: str | None) -> str | None:
    """Return the Python codec a declared charset label names (Latin-1 and ASCII as windows-1252),
    or None for a missing, unknown or non-web label, or UTF-16/32 (never right without a BOM)."""
    try:
        name = codecs.lookup((label or "").strip("\"' ")).name.replace("-", "_")
    except (LookupError, ValueError):
        return None
    if name.startswith(("utf_16", "utf_32")) or name in _NOT_WEB:
        return None
    return _AS_BROWSERS_READ.get(name, name)


def is_single_byte(codec: str) -> bool:
    """Return True for a single-byte legacy codec (any bytes decode in one, rightly or not)."""
    return codec.replace("-", "_").startswith(_SINGLE_BYTE)


def decode_declared(raw: bytes, codec: str) -> str | None:
    """Return raw decoded in a declared codec, or None when that fails or gives replacement
    characters. Bytes that are valid UTF-8 are UTF-8, whatever a legacy label says."""
    for candidate in ("utf_8", codec) if is_single_byte(codec) else (codec,):
        try:
            text = raw.decode(candidate)
        except (UnicodeError, LookupError):  # LookupError: a bytes-to-bytes codec ('base64')
            continue
        return None if "\ufffd" in text else text
    return None


def detect_text(raw: bytes) -> str:
    """Return raw decoded in the charset detected: UTF-8 (stray legacy bytes read as windows-1252)
    when most of its non-ASCII text is UTF-8, else charset_normalizer's guess, read as
    windows-1252 when the guess is any single-byte code page (English pages: the likely one)."""
    lenient = raw.decode("utf-8", errors="replace")
    bad = lenient.count("\ufffd")
    if bad == 0 or sum(1 for ch in lenient if ord(ch) > 127) - bad >= bad:
        return raw.decode("utf-8", errors=_LENIENT)
    best = from_bytes(raw[: 2 * 1024 * 1024]).best()
    if best is not None and not is_single_byte(best.encoding):
        return raw.decode(best.encoding, errors="replace")
    return raw.decode("cp1252", errors="replace")


def decode_html(raw: bytes, declared_charset: str | None) -> str:
    """Return the page's text: a BOM wins, then the declared charset (argument, then <meta>) when it
    decodes cleanly, then detection. Raises InputError for binary input."""
    if raw.startswith(codecs.BOM_UTF8):
        return raw.decode("utf-8-sig", errors="replace")
    if raw.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return raw.decode("utf-16", errors="replace")
    if looks_binary(raw):
        raise InputError("binary file, not an HTML page")
    meta = _META_CHARSET.search(raw[:8192])
    for label in (declared_charset, meta.group(1).decode("ascii") if meta else None):
        codec = codec_for(label)
        if codec and (text := decode_declared(raw, codec)) is not None:
            return text
    return detect_text(raw)


# --- Metadata ----------------------------------------------------------------------------------

_DATE = (
    r"\d{1,2}(?:st|nd|rd|th)?\s+[A-Za-z]{3,9}\.?,?\s+\d{4}"
    r"|[A-Za-z]{3,9}\s+\d{1,2}(?:st|nd|rd|th)?,?\s+\d{4}|\d{4}-\d{2}-\d{2}|\d{1,2}/\d{1,2}/\d{4}"
)
_PUBLISHED = r"(?:first |date )?published(?: on)?"
_UPDATED = r"(?:page )?last (?:updated|modified|reviewed)(?: on)?|updated(?=\s*:)|updated on"
_STAMP = re.compile(rf"\b(?P<label>{_PUBLISHED}|{_UPDATED})\s*:?\s*(?P<date>{_DATE})\b", re.I)
_LONE_DATE = re.compile(_DATE).fullmatch
_STAMP_LABEL = re.compile(rf"^(?:{_PUBLISHED}|{_UPDATED})\s*:?$", re.I)
_LABEL_AT_END = re.compile(rf"\b(?:{_PUBLISHED}|{_UPDATED})\s*:?\s*$", re.I)
_DATE_FORMATS = ("%d %B %Y", "%d %b %Y", "%B %d %Y", "%b %d %Y", "%Y-%m-%d", "%d/%m/%Y")
_DATE_KEYS = (
    ("last_updated", re.compile(r"updated|modified|reviewed", re.I)),
    ("published", re.compile(r"published|issued|created|publication.?date", re.I)),
)


def iso_date(text: str) -> str | None:
    """Return a printed date ('12 March 2025', '12/03/2025', '2025-03-12T09:00Z') as YYYY-MM-DD,
    or None when it is not a date."""
    head = re.match(r"\s*(\d{4}-\d{2}-\d{2})", text)
    plain = re.sub(r"(?<=\d)(st|nd|rd|th)\b|[.,]", "", head.group(1) if head else text)
    for form in _DATE_FORMATS:
        try:
            return datetime.strptime(collapse(plain), form).date().isoformat()
        except ValueError:
            continue
    return None


def date_key(label: str) -> str | None:
    """Return which publication date a label names ('last_updated', 'published'), or None."""
    return next((key for key, pattern in _DATE_KEYS if pattern.search(label)), None)


def stamp_dates(text: str) -> dict[str, str]:
    """Return the first 'published' and 'last updated' dates that date stamps in text state."""
    found: dict[str, str] = {}
    for match in _STAMP.finditer(text):
        if (key := date_key(match["label"])) and (date := iso_date(match["date"])):
            found.setdefault(key, date)
    return found


def attr(tag: Tag, name: str) -> str:
    """Return a tag's attribute as one string ('' when it has none)."""
    value = tag.get(name)
    return " ".join(value) if isinstance(value, list) else str(value or "")


def markup_dates(soup: BeautifulSoup) -> dict[str, str]:
    """Return publication dates stated in <meta> tags and in <time> elements labelled by their
    itemprop or a stamp label just before them; such a <time> is rewritten as its ISO date, so
    that its stamp line reads (and is dropped) as one."""
    found: dict[str, str] = {}
    for time in soup.find_all("time"):
        before = "".join(reversed([s.get_text() for s in time.previous_siblings]))[-60:]
        label = _LABEL_AT_END.search(before)
        key = date_key(f"{attr(time, 'itemprop')} {label.group(0) if label else ''}")
        if key and (date := iso_date(attr(time, "datetime") or time.get_text())):
            found.setdefault(key, date)
            time.string = date
    for meta in soup.find_all("meta"):
        names = f"{attr(meta, 'property')} {attr(meta, 'name')} {attr(meta, 'itemprop')}"
        if (key := date_key(names)) and (date := iso_date(attr(meta, "content"))):
            found.setdefault(key, date)
    return found


def page_metadata(soup: BeautifulSoup) -> dict[str, str]:
    """Return the page's title (og:title, else <title>) and ISO publication dates (visible date
    stamps first, then markup)."""
    og = soup.find("meta", attrs={"property": "og:title"})
    title = collapse(attr(og, "content") if og else "") or collapse(
        soup.title.get_text(" ") if soup.title else ""
    )
    dates = markup_dates(soup) | stamp_dates((soup.body or soup).get_text(" "))
    return ({"title": title} if title else {}) | dates


# --- Chrome ------------------------------------------------------------------------------------

_HEAD = {"head", "title", "meta"}
_NEVER_TEXT = ["script", "style", "noscript", "template", "iframe", "svg", "canvas", "object"]
_SEMANTIC_CHROME = {"nav", "aside", "footer", "form", "header", "button", "select", "textarea"}
_CHROME_ROLES = {"navigation", "banner", "contentinfo", "complementary", "search", "dialog"}
_CHROME_WORDS = re.compile(r"cookie|consent|breadcrumb|skiplink|sharethis|addthis|addtoany|gdpr")
_CHROME_TOKEN = re.compile(
    r"\b(banner|promos?|promotion(al)?|adverts?|advertisement|related|share|sharing|print|skip"
    r"|newsletter|subscribe|signup|sidebar|toolbar|menu|pagination|nav)\b"
)
_HIDDEN_STYLE = re.compile(r"display\s*:\s*none|visibility\s*:\s*hidden", re.I)
_SHARE_HREF = re.compile(
    r"twitter\.com/(intent|share)|x\.com/intent|facebook\.com/shar|linkedin\.com/(share|cws)"
    r"|mailto:\?|^whatsapp:|^javascript:.*print|addtoany|sharethis",
    re.I,
)
_SCORE_TEXT = re.compile(r"\bscore\s*:\s*[1-4]\b|\b[1-4]\s*\W\s*evidence shows\b", re.I)
_HEADINGS = ["h1", "h2", "h3", "h4", "h5", "h6"]
_CONTENT = ["h1", "main", "article"]
_LIST_LABEL = re.compile(
    r"^(downloads?( this report)?|related( content| pages| links| information| guidance)?"
    r"|on this page|contents|(more )?in this section|(share|print)( this page)?)$"
)


def is_chrome_tag(tag: Tag) -> bool:
    """Return True for an element that is site chrome by its tag, role, visibility, id or class
    (class and id words: 'cookieBanner', 'related-content', 'govuk-breadcrumbs', ...)."""
    if tag.name in ("html", "body", "main", "article", *_HEADINGS):
        return False
    if tag.name == "header":
        return tag.find_parent(["main", "article"]) is None  # an article's own header is content
    if tag.name == "button":
        return tag.find_parent(_HEADINGS) is None and tag.find(_HEADINGS) is None
    names = re.sub(r"([a-z])([A-Z])", r"\1 \2", f"{attr(tag, 'id')} {attr(tag, 'class')}").lower()
    return (
        tag.name in _SEMANTIC_CHROME
        or attr(tag, "role").lower() in _CHROME_ROLES
        or tag.has_attr("hidden")
        or attr(tag, "aria-hidden").lower() == "true"
        or bool(_HIDDEN_STYLE.search(attr(tag, "style")))
        or (tag.name == "a" and bool(_SHARE_HREF.search(attr(tag, "href"))))
        or bool(_CHROME_WORDS.search(names))
        or bool(_CHROME_TOKEN.search(re.sub(r"[^a-z0-9]+", " ", names)))
    )


def holds_content(tag: Tag) -> bool:
    """Return True for an element that must stay whatever its class says: it holds the page
    heading, the main content, a CQC score, or three long paragraphs of report text."""
    if tag.find(_CONTENT) is not None or tag.find(role="main") is not None:
        return True
    long_paragraphs = sum(1 for p in tag.find_all("p") if len(p.get_text()) >= 200)
    return long_paragraphs >= 3 or bool(_SCORE_TEXT.search(tag.get_text(" ")))


def prune(top: Tag, doomed: Callable[[Tag], bool]) -> None:
    """Remove, with their content, the elements below top for which `doomed` is true (walked
    with an explicit stack; nothing inside a removed element is looked at)."""
    stack = [child for child in top.contents if isinstance(child, Tag)]
    while stack:
        tag = stack.pop()
        if doomed(tag):
            tag.decompose()
        else:
            stack.extend(child for child in tag.contents if isinstance(child, Tag))


def link_share(tag: Tag, minus: str = "") -> float:
    """Return the share of a tag's text (less a label's) that is link text: 0 for an element with
    no links or holding report content, 1.0 for links only."""
    if not tag.find("a") or tag.find(_CONTENT):
        return 0.0
    total = len(collapse(tag.get_text(" "))) - len(minus)
    links = sum(len(collapse(a.get_text(" "))) for a in tag.find_all("a"))
    return 1.0 if total <= 0 else links / total


def label_element(string: NavigableString, root: Tag) -> Tag | None:
    """Return the outermost element below root whose whole text is this string (a list label)."""
    element, text = string.parent, collapse(string)
    for _ in range(8):
        parent = None if element is None else element.parent
        if parent is None or parent is root or collapse(parent.get_text(" ")) != text:
            break
        element = parent
    return element if element is not root else None


def drop_link_lists(root: Tag) -> None:
    """Remove labelled link lists ('Downloads', 'Related content', 'On this page'): the wrapper
    when it holds nothing but the label and links, else the label and the link list after it."""
    for string in root.find_all(string=True):
        if string.decomposed or len(string) > 60 or not _LIST_LABEL.match(fold(string)):
            continue
        if (label := label_element(string, root)) is None:
            continue
        wrapper = label.parent
        if wrapper and wrapper is not root and link_share(wrapper, collapse(string)) >= 0.6:
            label = wrapper  # a wrapper of the label and links only: a link list
        elif (following := label.find_next_sibling()) and link_share(following) >= 0.6:
            following.decompose()
        label.decompose()


# --- Main content ------------------------------------------------------------------------------


def content_root(soup: BeautifulSoup) -> Tag:
    """Return the element holding the report: <main>, [role=main], the <article> with the most
    text, else the tightest element holding most of the page's paragraph text."""
    articles = sorted(soup.find_all("article"), key=lambda a: -len(a.get_text()))
    for candidate in (*soup.find_all("main"), *soup.find_all(role="main"), *articles):
        if collapse(candidate.get_text(" ")):
            return candidate
    return densest(soup.body or soup)


def densest(top: Tag) -> Tag:
    """Return the tightest element below top holding at least 85% of its paragraph text (of all
    its text when it has no <p>)."""
    weights: dict[int, int] = {}
    for piece in top.find_all("p") or top.find_all(string=True):
        for ancestor in piece.parents:
            weights[id(ancestor)] = weights.get(id(ancestor), 0) + len(piece.get_text().strip())
            if ancestor is top:
                break
    node = top
    while weights.get(id(node), 0) > 0:
        children = node.find_all(True, recursive=False)
        best: Tag | None = max(children, key=lambda c: weights.get(id(c), 0), default=None)
        if best is None or weights.get(id(best), 0) < 0.85 * weights[id(node)]:
            break
        node = best
    return node


# --- Blocks ------------------------------------------------------------------------------------

_BLOCK_TAGS = {
    *("address", "article", "aside", "blockquote", "body", "caption", "center", "dd", "details"),
    *("dialog", "div", "dl", "dt", "fieldset", "figcaption", "figure", "footer", "form"),
    *("header", "hgroup", "hr", "legend", "li", "main", "nav", "ol", "p", "pre", "section"),
    *("summary", "table", "tbody", "td", "tfoot", "th", "thead", "tr", "ul", *_HEADINGS),
}
_INLINE_SCORE = {"span", "strong", "b", "em", "small", "label", "a"}
_SCORE_LINE = re.compile(r"^score\s*:\s*\d{1,3}%?$|^[1-4]\s*\W\s*evidence shows\b", re.I)
_SCORE_PAIR = re.compile(r"^(score\s*:\s*[1-4])\s+([1-4]\s*\W\s*evidence shows\b.*)$", re.I)
_KINDS: dict[str, tuple[BlockKind, int]] = {h: ("heading", int(h[1])) for h in _HEADINGS} | {
    "li": ("bullet", 0)
}
_SPACES = re.compile(r"\s+")
_INVISIBLE = re.compile(r"[\u200b\u200c\u200d\u2060\ufeff]")


def collapse(text: str) -> str:
    """Return text with invisible characters dropped and whitespace runs as single spaces."""
    return _SPACES.sub(" ", _INVISIBLE.sub("", text)).strip()


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
    if not re.search(r"\w", _STAMP.sub("", text)) or is_chrome_line(text):
        return True
    short = len(text.split()) <= 8
    return short and bool(_CHROME_TEXT.match(text) or _STAMP_LABEL.match(text) or _LONE_DATE(text))


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
    prune(soup, lambda tag: tag.name in _NEVER_TEXT)
    metadata = page_metadata(soup)
    prune(soup, lambda t: t.name in _HEAD or (is_chrome_tag(t) and not holds_content(t)))
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
