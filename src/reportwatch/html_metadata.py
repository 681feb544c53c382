"""An HTML page's metadata: its title and its publication dates (ISO), from date stamps in its
text, <time> elements and <meta> tags. Metadata, never findings: a page whose only change is its
date stamp extracts to the same blocks."""

from __future__ import annotations

import re

from bs4 import BeautifulSoup

from reportwatch.dates import DATE, iso_date
from reportwatch.extract import collapse
from reportwatch.html_chrome import attr

_PUBLISHED = r"(?:first |date )?published(?: on)?"
_UPDATED = r"(?:page )?last (?:updated|modified|reviewed)(?: on)?|updated(?=\s*:)|updated on"
STAMP = re.compile(rf"\b(?P<label>{_PUBLISHED}|{_UPDATED})\s*:?\s*(?P<date>{DATE})\b", re.I)
LONE_DATE = re.compile(DATE).fullmatch
STAMP_LABEL = re.compile(rf"^(?:{_PUBLISHED}|{_UPDATED})\s*:?$", re.I)
_LABEL_AT_END = re.compile(rf"\b(?:{_PUBLISHED}|{_UPDATED})\s*:?\s*$", re.I)
_DATE_KEYS = (
    ("last_updated", re.compile(r"updated|modified|reviewed", re.I)),
    ("published", re.compile(r"published|issued|created|publication.?date", re.I)),
)


def date_key(label: str) -> str | None:
    """Return which publication date a label names ('last_updated', 'published'), or None."""
    return next((key for key, pattern in _DATE_KEYS if pattern.search(label)), None)


def stamp_dates(text: str) -> dict[str, str]:
    """Return the first 'published' and 'last updated' dates that date stamps in text state, as
    YYYY-MM-DD (as printed when the date does not exist: '31 February 2025')."""
    found: dict[str, str] = {}
    for match in STAMP.finditer(text):
        if key := date_key(match["label"]):
            found.setdefault(key, iso_date(match["date"]) or collapse(match["date"]))
    return found


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
