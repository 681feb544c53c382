"""A page's tree built from libxml2's parser events, as BeautifulSoup built its own, for the pages
whose libxml2 tree would differ: those nested past 2,048 elements (libxml2 stops building) and
those with a doctype after their start (libxml2's tree joins the text either side, which the
events, as BeautifulSoup, keep as two strings). See `html_tree`.

lxml refuses to store ASCII control characters, which libxml2 passes on: each is stored as a
stand-in that every regex, split and fold of the extract stage reads as it reads the character
(a space for a form feed, U+0085 for other whitespace, a private-use character for the others),
and `restored` turns text back.
"""

from __future__ import annotations

import re
from typing import cast

from lxml import etree

Element = etree._Element
DOCUMENT = "reportwatch-document"  # the element holding a page's top-level nodes
MARKER = "removed"  # target of the processing instruction keeping two strings apart
_RENAMED = "invalid-name"  # a tag name lxml cannot store (it never names an element we look for)
_HYPHEN_PAIR = re.compile(r"-(?=-|$)")  # a comment may hold no '--' and not end with '-'
_CONTROLS = [*range(0x20), 0xFFFE, 0xFFFF]
_WHITESPACE = {0x0B: "\x85", 0x0C: " ", **dict.fromkeys(range(0x1C, 0x20), "\x85")}
_STAND_INS = {
    code: _WHITESPACE.get(code, chr(0x10FF00 + (code & 0xFF)))
    for code in _CONTROLS
    if code not in (0x09, 0x0A, 0x0D)
}
_STORABLE = str.maketrans(_STAND_INS)
_RESTORED = str.maketrans(
    {ord(stand_in): code for code, stand_in in _STAND_INS.items() if code not in _WHITESPACE}
)


def storable(text: str) -> str:
    """Return text with each character lxml refuses to store as its stand-in."""
    return text.translate(_STORABLE)


def restored(text: str) -> str:
    """Return text with the stand-ins of control characters turned back (whitespace ones need
    not be: the stage's output collapses whitespace)."""
    return text.translate(_RESTORED)


def parse_events(text: str) -> Element:
    """Return the document element of a page's tree built from its parser events, as
    BeautifulSoup built its own (see the module's docstring)."""
    target = cast("etree.ParserTarget", EventTree())
    parser = etree.HTMLParser(target=target, recover=True, huge_tree=True)
    parser.feed(text)
    return parser.close()


class EventTree:
    """Parser target building a page's tree as BeautifulSoup did from the same events: an end tag
    closes the innermost open element of its name (none: ignored), and any event between two runs
    of text keeps them two strings."""

    def __init__(self) -> None:
        self.document = etree.Element(DOCUMENT)
        self.open = [self.document]
        self.names = [""]  # the open elements' names as the page wrote them
        self.last: Element | None = None  # the node whose tail the next text is (None: the text)
        self.pending: list[str] = []

    def start(self, tag: str, attrib: dict[str, str]) -> None:
        """Open an element inside the innermost open one."""
        self.flush()
        try:
            element = etree.SubElement(self.open[-1], tag)
        except ValueError:
            element = etree.SubElement(self.open[-1], _RENAMED)
        for name, value in attrib.items():
            try:
                element.set(name, storable(value))
            except ValueError:
                continue
        self.open.append(element)
        self.names.append(tag)
        self.last = None

    def end(self, tag: str) -> None:
        """Close the innermost open element named tag, and those inside it."""
        self.flush()
        for depth in range(len(self.open) - 1, 0, -1):
            if self.names[depth] == tag:
                self.last = self.open[depth]
                del self.open[depth:], self.names[depth:]
                return

    def data(self, text: str) -> None:
        """Keep text until the next event."""
        self.pending.append(text)

    def comment(self, text: str) -> None:
        """Add a comment (its text made storable: no '--', no '-' at its end)."""
        self.flush()
        node = etree.Comment(_HYPHEN_PAIR.sub("- ", storable(text)))
        self.open[-1].append(node)
        self.last = node

    def doctype(self, *_: object) -> None:
        """Close the text before a doctype (the doctype itself is never text)."""
        self.flush()
        self.boundary()

    def pi(self, *_: object) -> None:
        """Close the text before a processing instruction (never text)."""
        self.doctype()

    def boundary(self) -> None:
        """Add a marker, so that the next text is a string of its own."""
        marker = etree.ProcessingInstruction(MARKER)
        self.open[-1].append(marker)
        self.last = marker

    def flush(self) -> None:
        """Store the text kept since the last event, as a string of its own."""
        if not self.pending:
            return
        text = storable("".join(self.pending))
        self.pending.clear()
        if self.last is None and self.open[-1].text is None:
            self.open[-1].text = text
            return
        if self.last is None or self.last.tail is not None:
            self.boundary()
        assert self.last is not None
        self.last.tail = text

    def close(self) -> Element:
        """Return the document element."""
        self.flush()
        return self.document
