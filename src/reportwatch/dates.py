"""Printed dates -> ISO dates (YYYY-MM-DD), whatever way a page, a PDF or a text prints them."""

from __future__ import annotations

import re
from datetime import datetime

from reportwatch.extract import collapse

# A printed date: '12 March 2025', '12th Mar. 2025', 'March 12, 2025', '2025-03-12', '12/03/2025'.
DATE = (
    r"\d{1,2}(?:st|nd|rd|th)?\s+[A-Za-z]{3,9}\.?,?\s+\d{4}"
    r"|[A-Za-z]{3,9}\s+\d{1,2}(?:st|nd|rd|th)?,?\s+\d{4}|\d{4}-\d{2}-\d{2}|\d{1,2}/\d{1,2}/\d{4}"
)
_DATE_FORMATS = ("%d %B %Y", "%d %b %Y", "%B %d %Y", "%b %d %Y", "%Y-%m-%d", "%d/%m/%Y")
_ISO_FIRST = ("%Y-%m-%d",)  # what a leading YYYY-MM-DD can only be
_ISO_HEAD = re.compile(r"\s*(\d{4}-\d{2}-\d{2})")
_ORDINALS_AND_STOPS = re.compile(r"(?<=\d)(st|nd|rd|th)\b|[.,]")


def iso_date(text: str) -> str | None:
    """Return a printed date ('12 March 2025', '12/03/2025', '2025-03-12T09:00Z') as YYYY-MM-DD,
    or None when it is not a date."""
    head = _ISO_HEAD.match(text)
    plain = _ORDINALS_AND_STOPS.sub("", head.group(1) if head else text)
    for form in _ISO_FIRST if head else _DATE_FORMATS:
        try:
            return datetime.strptime(collapse(plain), form).date().isoformat()
        except ValueError:
            continue
    return None


_ONE_DATE = re.compile(rf"\s*(?:{DATE}|\d{{4}}-\d{{2}}-\d{{2}}T[\d:.]+(?:Z|[+-][\d:]+)?)\s*")


def iso_or_printed(text: str) -> str:
    """Return text that is one date as YYYY-MM-DD; anything else (a date that does not exist,
    a range of dates, words) as printed."""
    if _ONE_DATE.fullmatch(text):
        return iso_date(text) or text
    return text
