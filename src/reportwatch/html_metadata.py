"""An HTML page's metadata: its title and its publication dates (ISO), from date stamps in its
text, <time> elements and <meta> tags. Metadata, never findings: a page whose only change is its
date stamp extracts to the same blocks."""

from __future__ import annotations

import re
from collections.abc import Iterator
from functools import lru_cache

from reportwatch.dates import DATE
from reportwatch.dates import iso_date as _iso_date
from reportwatch.extract import collapse
from reportwatch.html_tree import Element, attr, is_tag, spaced_text, text_of

_PUBLISHED = r"(?:first |date )?published(?: on)?"
_UPDATED = r"(?:page )?last (?:updated|modified|reviewed)(?: on)?|updated(?=\s*:)|updated on"
# (?=[dflpu]): the letters a label starts with, which lets the regex engine pass over the other
# positions of a page's text quickly (3x faster; the same matches)
STAMP = re.compile(
    rf"(?=[dflpu])\b(?P<label>{_PUBLISHED}|{_UPDATED})\s*:?\s*(?P<date>{DATE})\b", re.I
)
_LABEL_WORDS = ("published", "updated", "modified", "reviewed")  # one in every stamp's label
LONE_DATE = re.compile(DATE).fullmatch
STAMP_LABEL = re.compile(rf"^(?:{_PUBLISHED}|{_UPDATED})\s*:?$", re.I)
_LABEL_AT_END = re.compile(rf"\b(?:{_PUBLISHED}|{_UPDATED})\s*:?\s*$", re.I)
# a site's pages print the same dates, and strptime is slow: remembered
iso_date = lru_cache(maxsize=1024)(_iso_date)
_DATE_KEYS = (
    ("last_updated", re.compile(r"updated|modified|reviewed", re.I)),
    ("published", re.compile(r"published|issued|created|publication.?date", re.I)),
)


def date_key(label: str) -> str | None:
    """Return which publication date a label names ('last_updated', 'published'), or None."""
    return next((key for key, pattern in _DATE_KEYS if pattern.search(label)), None)


def folds_cleanly(text: str) -> bool:
    """Return True when text.lower() finds every word STAMP (re.I) would: text holds none of the
    letters re.I reads as i or s that lower() keeps ('ı', 'ſ'), nor 'İ', which it lengthens."""
    return text.isascii() or not ("İ" in text or "ı" in text or "ſ" in text)


def may_hold_stamp(text: str) -> bool:
    """Return False for text that holds no date stamp (quick: a stamp's label holds one of four
    words)."""
    if not folds_cleanly(text):
        return True
    folded = text.lower()
    return (
        "published" in folded or "updated" in folded or "modified" in folded or "reviewed" in folded
    )


def stamps(text: str) -> Iterator[re.Match[str]]:
    """Yield the date stamps in text, as STAMP.finditer does, found faster in a page's text: a
    stamp's label holds one of four words, at one of four distances from the stamp's start, so
    STAMP is tried only there (regex search tries every position)."""
    if not folds_cleanly(text):
        yield from STAMP.finditer(text)
        return
    folded = text.lower()  # as long as text, as it holds no 'İ'
    starts: set[int] = set()
    for word in _LABEL_WORDS:
        at = folded.find(word)
        while at >= 0:
            # 'published', 'date published', 'first published', 'last updated', 'page last updated'
            starts.update(at - back for back in (0, 5, 6, 10) if at >= back)
            at = folded.find(word, at + 1)
    end = 0
    for start in sorted(starts):
        if start >= end and (match := STAMP.match(text, start)):
            yield match
            end = match.end()


def stamp_dates(text: str) -> dict[str, str]:
    """Return the first 'published' and 'last updated' dates that date stamps in text state, as
    YYYY-MM-DD (as printed when the date does not exist: '31 February 2025')."""
    found: dict[str, str] = {}
    for match in stamps(text):
        if (key := date_key(match["label"])) and key not in found:
            found[key] = iso_date(match["date"]) or collapse(match["date"])
    return found


def text_before(element: Element) -> str:
    """Return the last 60 characters of the text before an element within its parent: the text of
    its earlier siblings and of the strings between them."""
    pieces: list[str] = []  # the nearest first
    size = 0
    for sibling in element.itersiblings(preceding=True):
        pieces.append((text_of(sibling) if is_tag(sibling) else "") + (sibling.tail or ""))
        size += len(pieces[-1])
        if size >= 60:
            break
    else:
        parent = element.getparent()
        pieces.append("" if parent is None else parent.text or "")
    return "".join(reversed(pieces))[-60:]


def markup_dates(document: Element) -> dict[str, str]:
    """Return publication dates stated in <meta> tags and in <time> elements labelled by their
    itemprop or a stamp label just before them; such a <time> is rewritten as its ISO date, so
    that its stamp line reads (and is dropped) as one."""
    found: dict[str, str] = {}
    for time in list(document.iterdescendants("time")):
        label = _LABEL_AT_END.search(text_before(time))
        key = date_key(f"{attr(time, 'itemprop')} {label.group(0) if label else ''}")
        if key and (date := iso_date(attr(time, "datetime") or text_of(time))):
            found.setdefault(key, date)
            del time[:]
            time.text = date
    for meta in document.iterdescendants("meta"):
        names = f"{attr(meta, 'property')} {attr(meta, 'name')} {attr(meta, 'itemprop')}"
        if (key := date_key(names)) and (date := iso_date(attr(meta, "content"))):
            found.setdefault(key, date)
    return found


def page_metadata(document: Element) -> dict[str, str]:
    """Return the page's title (og:title, else <title>) and ISO publication dates (visible date
    stamps first, then markup)."""
    metas = document.iterdescendants("meta")
    og = next((meta for meta in metas if meta.get("property") == "og:title"), None)
    title_tag = next(document.iterdescendants("title"), None)
    title = collapse(attr(og, "content") if og is not None else "") or collapse(
        spaced_text(title_tag) if title_tag is not None else ""
    )
    body = next(document.iterdescendants("body"), document)
    dates = markup_dates(document) | stamp_dates(spaced_text(body))
    return ({"title": title} if title else {}) | dates
