"""An HTML page as an lxml tree, and its strings read the way the HTML extract stage reads them.

libxml2 (lxml's HTML parser) parses the page, fed as BeautifulSoup's lxml builder fed it before, and
the page's strings are kept as that builder kept them, so that lengths and joins come out the same:
a string of ASCII whitespace only is one space (one newline when it holds one) outside <pre> and
<textarea>, and a removed element leaves a marker (a processing instruction, which the HTML parser
never makes) so that the text either side of it stays two strings. One document element holds the
page's top-level nodes (its <html> element; a comment, or a second <html> for text after
</html>). A page nested deeper than libxml2 builds trees (2,048 elements), or with a doctype
after its start, is built from the parser's events instead (`html_events`). Nothing here
recurses, whatever the depth.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import cast

from lxml import etree

from reportwatch.html_events import DOCUMENT, MARKER, parse_events

Element = etree._Element
_REMOVED = "reportwatch-removed"
_TOO_DEEP = etree.ErrorTypes.ERR_RESOURCE_LIMIT
_BLANKS = ("\n", " ")
_ASCII_SPACES = " \t\n\r\f"
_STRINGS = etree.XPath("descendant::text()")
_DOCTYPE = re.compile("<!doctype", re.I)


@dataclass(frozen=True)
class Page:
    """A page's tree: its document element; whether it was built from parser events (its text
    then holds stand-ins for control characters: see `html_events.restored`); and, when it was,
    every node of it, held while the page is read: lxml frees an element's Python proxy by
    walking up to the nearest ancestor that has one, so without them all held each pass over a
    page nested 40,000 deep would take quadratic time."""

    document: Element
    from_events: bool
    held: list[Element]


def parse_page(text: str) -> Page:
    """Return a page's tree (see the module's docstring)."""
    text = text.removeprefix("\ufeff")
    document, from_events = parse_tree(text)
    page = Page(document, from_events, list(document.iter()) if from_events else [])
    one_blank_each(document)
    return page


def parse_tree(text: str) -> tuple[Element, bool]:
    """Return the document element holding the tree libxml2 builds of text, and False; or, for a
    page with a doctype after its start or nested too deep for libxml2's trees, the one
    `parse_events` builds, and True."""
    document = etree.Element(DOCUMENT)
    if not text:
        return document, False
    if has_late_doctype(text):
        return parse_events(text), True
    parser = etree.HTMLParser(recover=True, huge_tree=True)
    parser.feed(text)
    root: Element | None = parser.close()
    if any(is_too_deep(error) for error in parser.feed_error_log):
        return parse_events(text), True
    if root is not None:
        before = list(root.itersiblings(preceding=True))
        document.extend([*reversed(before), root, *root.itersiblings()])
    return document, False


def has_late_doctype(text: str) -> bool:
    """Return True for a page with a doctype after its start (parsed from events: libxml2's tree
    joins the text either side of it, where the events, as BeautifulSoup, keep two strings)."""
    first = _DOCTYPE.search(text)
    if first is None:
        return False
    return bool(text[: first.start()].strip()) or _DOCTYPE.search(text, first.end()) is not None


def is_too_deep(error: etree._LogEntry) -> bool:
    """Return True for libxml2's error on a page nested deeper than it builds trees."""
    return error.type == _TOO_DEEP or "excessive depth" in error.message.lower()


def one_blank_each(document: Element) -> None:
    """Replace each string of ASCII whitespace only, outside <pre> and <textarea>, by one newline
    when it holds one, else one space."""
    keep_text: set[Element] = set()  # inside <pre> or <textarea>: text kept as it is
    keep_tail: set[Element] = set()
    for keeper in document.iter("pre", "textarea"):
        keep_text.update(keeper.iter())
        keep_tail.update(keeper.iterdescendants())
    for node in document.iter():
        # inline: this runs for every node of every page
        text = node.text
        if (
            text is not None
            and text.isspace()  # quick, and true of every blank
            and text not in _BLANKS
            and not text.strip(_ASCII_SPACES)
            and is_tag(node)
            and node not in keep_text
        ):
            node.text = "\n" if "\n" in text else " "
        tail = node.tail
        if (
            tail is not None
            and tail.isspace()
            and tail not in _BLANKS
            and not tail.strip(_ASCII_SPACES)
            and node not in keep_tail
        ):
            node.tail = "\n" if "\n" in tail else " "


def attr(tag: Element, name: str) -> str:
    """Return a tag's attribute as one string ('' when it has none); a class's words are joined
    by single spaces, as BeautifulSoup gave them."""
    value = tag.get(name)
    if value is None:
        return ""
    return " ".join(value.split()) if name == "class" else value


def is_tag(node: Element) -> bool:
    """Return True for an element (not a comment, nor a removed element's marker)."""
    return isinstance(node.tag, str)


def is_comment(node: Element) -> bool:
    """Return True for a comment."""
    return isinstance(node, etree._Comment)


def text_of(element: Element) -> str:
    """Return the text below an element (not a comment's), as one string."""
    return etree.tostring(element, method="text", encoding=str, with_tail=False)


def spaced_text(element: Element) -> str:
    """Return the text below an element (not a comment's), its strings joined by spaces."""
    return " ".join(cast("Iterator[str]", element.itertext()))


def held_strings(element: Element) -> list[tuple[str, Element]]:
    """Return the strings below an element, each with the element holding it."""
    strings = cast("list[etree._ElementUnicodeResult]", _STRINGS(element))
    return [
        (str(string), holder) for string in strings if (holder := holder_of(string)) is not None
    ]


def holder_of(string: etree._ElementUnicodeResult) -> Element | None:
    """Return the element holding a string XPath found (a tail's is its element's parent)."""
    owner = string.getparent()
    return owner.getparent() if string.is_tail and owner is not None else owner


def next_tag(element: Element) -> Element | None:
    """Return the element after this one among its siblings, or None."""
    return next(element.itersiblings(etree.Element), None)


def has_descendant(element: Element, *names: str) -> bool:
    """Return True when an element holds an element of one of these names."""
    return next(element.iterdescendants(*names), None) is not None


def remove(element: Element) -> None:
    """Remove an element with its content; its tail stays where it was, behind a marker, as a
    string of its own."""
    parent = element.getparent()
    if parent is None:
        return
    if element.tail is None:
        parent.remove(element)
        return
    marker = etree.ProcessingInstruction(MARKER)
    try:
        marker.tail = element.tail
    except ValueError:  # characters lxml cannot store (libxml2 stores them): leave the text node
        element.addprevious(marker)
        element.tag = _REMOVED
        etree.strip_elements(parent, _REMOVED, with_tail=False)
        return
    parent.replace(element, marker)
