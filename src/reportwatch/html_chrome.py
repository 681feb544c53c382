"""Telling an HTML page's report content from its site chrome: the elements that are chrome (by
tag, role, visibility, id or class), labelled link lists, and the element that holds the report.
Trees (`html_tree`) are walked with explicit stacks or lxml's iterators, never recursion."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from functools import lru_cache
from itertools import chain
from typing import cast

from lxml import etree

from reportwatch.extract import collapse
from reportwatch.html_tree import (
    Element,
    has_descendant,
    held_strings,
    holder_of,
    next_tag,
    remove,
    spaced_text,
    text_of,
)
from reportwatch.vocab import fold

HEAD = {"head", "title", "meta"}
NEVER_TEXT = ("script", "style", "noscript", "template", "iframe", "svg", "canvas", "object")
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
# (?=[s1-4]) as in html_metadata.STAMP: the same matches, found faster
_SCORE_TEXT = re.compile(r"(?=[s1-4])(\bscore\s*:\s*[1-4]\b|\b[1-4]\s*\W\s*evidence shows\b)", re.I)
_SCORE_WORDS = re.compile(r"(?=[se])(score|evidence)", re.I)
HEADINGS = ("h1", "h2", "h3", "h4", "h5", "h6")
_CONTENT = ("h1", "main", "article")
_NEVER_CHROME = {"html", "body", "main", "article", *HEADINGS}
_LIST_LABEL = re.compile(
    r"^(downloads?( this report)?|related( content| pages| links| information| guidance)?"
    r"|on this page|contents|(more )?in this section|(share|print)( this page)?)$"
)
_VISIBLE = re.compile(r"[^\s\u200b\u200c\u200d\u2060\ufeff]")  # what `collapse` keeps
# strings short enough to be a list label: the others are never looked at
_LABEL_SIZED = etree.XPath("descendant::text()[normalize-space()][string-length() <= 60]")


def main_roles(top: Element) -> list[Element]:
    """Return the elements below top with role="main", in document order."""
    return [
        element for element in top.iterdescendants(etree.Element) if element.get("role") == "main"
    ]


def is_chrome_tag(tag: Element) -> bool:
    """Return True for an element that is site chrome by its tag, role, visibility, id or class
    (class and id words: 'cookieBanner', 'related-content', 'govuk-breadcrumbs', ...)."""
    name = tag.tag
    if name in _NEVER_CHROME:
        return False
    if name == "header":  # an article's own header is content
        return next(tag.iterancestors("main", "article"), None) is None
    if name == "button":
        return next(tag.iterancestors(*HEADINGS), None) is None and not has_descendant(
            tag, *HEADINGS
        )
    if name in _SEMANTIC_CHROME:
        return True
    if not tag.keys():
        return False
    get = tag.get
    return (
        (get("role") or "").lower() in _CHROME_ROLES
        or get("hidden") is not None
        or (get("aria-hidden") or "").lower() == "true"
        or bool(_HIDDEN_STYLE.search(get("style") or ""))
        or (name == "a" and is_share_link(get("href") or ""))
        or chrome_names(get("id") or "", get("class") or "")
    )


@lru_cache(maxsize=4096)
def is_share_link(href: str) -> bool:
    """Return True for a link that shares or prints the page; remembered, as a site's pages
    share their links."""
    return bool(_SHARE_HREF.search(href))


@lru_cache(maxsize=4096)
def chrome_names(id_: str, class_: str) -> bool:
    """Return True when an element's id and class name chrome ('cookieBanner', 'nav-menu');
    remembered, as a site's pages share their class names."""
    class_ = " ".join(class_.split())  # as BeautifulSoup gave a class: its words
    names = re.sub(r"([a-z])([A-Z])", r"\1 \2", f"{id_} {class_}").lower()
    return bool(
        _CHROME_WORDS.search(names) or _CHROME_TOKEN.search(re.sub(r"[^a-z0-9]+", " ", names))
    )


def content_holders(document: Element) -> set[Element]:
    """Return the elements that hold the page heading or its main content: the ancestors of its
    <h1>, <main>, <article> and role="main" elements."""
    holders: set[Element] = set()
    for element in document.iterdescendants(etree.Element):
        if element.tag in _CONTENT or element.get("role") == "main":
            for above in element.iterancestors():
                if above in holders:
                    break  # and so are those above it
                holders.add(above)
    return holders


def holds_content(tag: Element, holders: set[Element]) -> bool:
    """Return True for an element that must stay whatever its class says: it holds the page
    heading or the main content (it is one of the page's `content_holders`), a CQC score, or
    three long paragraphs of report text."""
    if tag in holders:
        return True
    long_paragraphs = sum(1 for p in tag.iterdescendants("p") if len(text_of(p)) >= 200)
    return long_paragraphs >= 3 or has_score(tag)


def has_score(tag: Element) -> bool:
    """Return True for an element whose text holds a CQC score ('Score: 2', '2 - Evidence
    shows')."""
    # a score's words sit within one string, so text without them (quick to get) has no score
    return bool(_SCORE_WORDS.search(text_of(tag)) and _SCORE_TEXT.search(spaced_text(tag)))


def prune(top: Element, doomed: Callable[[Element], bool]) -> None:
    """Remove, with their content, the elements below top for which `doomed` is true; nothing
    inside such an element is looked at (lxml's iterwalk skips it; no recursion). `doomed` sees
    each element as the page has it: removing afterwards changes nothing of what it sees."""
    removed = []
    walker = etree.iterwalk(top, events=("start",))
    for _, element in walker:
        if element is not top and doomed(element):
            removed.append(element)
            walker.skip_subtree()
    for element in removed:
        remove(element)


def prune_chrome(document: Element) -> None:
    """Remove the page's <head>, <title> and <meta> elements, and its chrome elements that hold no
    report content."""
    holders = content_holders(document)

    def doomed(tag: Element) -> bool:
        """Return True for an element to remove."""
        return tag.tag in HEAD or (is_chrome_tag(tag) and not holds_content(tag, holders))

    prune(document, doomed)


def link_share(tag: Element, minus: str = "") -> float:
    """Return the share of a tag's text (less a label's) that is link text: 0 for an element with
    no links or holding report content, 1.0 for links only."""
    if not has_descendant(tag, "a") or has_descendant(tag, *_CONTENT):
        return 0.0
    total = len(collapse(spaced_text(tag))) - len(minus)
    links = sum(len(collapse(spaced_text(a))) for a in tag.iterdescendants("a"))
    return 1.0 if total <= 0 else links / total


def label_element(parent: Element, text: str, root: Element) -> Element | None:
    """Return the outermost element below root whose whole text is a string's (a list label);
    parent is the element holding the string."""
    element: Element | None = parent
    for _ in range(8):
        above = None if element is None else element.getparent()
        if above is None or above is root or collapse(spaced_text(above)) != text:
            break
        element = above
    return element if element is not root else None


@lru_cache(maxsize=4096)
def is_list_label(text: str) -> bool:
    """Return True for the text of a link list's label ('Downloads', 'On this page', ...);
    remembered, as a site's pages share their short strings."""
    return len(text) <= 60 and bool(_LIST_LABEL.match(fold(text)))


def list_labels(root: Element) -> list[tuple[str, Element]]:
    """Return each string below root that labels a link list, with the element holding it."""
    strings = cast("list[etree._ElementUnicodeResult]", _LABEL_SIZED(root))
    labels = [string for string in strings if is_list_label(string)]
    return [(str(label), holder) for label in labels if (holder := holder_of(label)) is not None]


def is_inside(element: Element, root: Element) -> bool:
    """Return True when an element is root or still below it (not removed)."""
    return element is root or any(above is root for above in element.iterancestors())


def drop_link_lists(root: Element) -> None:
    """Remove labelled link lists ('Downloads', 'Related content', 'On this page'): the wrapper
    when it holds nothing but the label and links, else the label and the link list after it.
    Only text labels: a comment naming one ('<!-- Contents -->') is no label."""
    for string, holder in list_labels(root):
        if not is_inside(holder, root):
            continue  # removed with an earlier list
        if (label := label_element(holder, collapse(string), root)) is None:
            continue
        wrapper = label.getparent()
        if wrapper not in (None, root) and link_share(wrapper, collapse(string)) >= 0.6:
            label = wrapper  # a wrapper of the label and links only: a link list
        elif (following := next_tag(label)) is not None and link_share(following) >= 0.6:
            remove(following)
        if label.getparent() is None:
            # the document element (the page's whole text is the label's): BeautifulSoup's
            # decompose() of its soup emptied the soup alone, leaving root and its content
            del label[:]
            continue
        root_goes = is_inside(root, label)  # root's whole text was the label's
        remove(label)
        if root_goes:  # decompose() emptied all below the label, root included
            del root[:]
            root.text = None
            return


def content_root(document: Element) -> Element:
    """Return the element holding the report: <main>, [role=main], the <article> with the most
    text, else the tightest element holding most of the page's paragraph text."""
    for candidate in report_candidates(document):
        if _VISIBLE.search(text_of(candidate)):  # as collapse(text) != ''
            return candidate
    return densest(next(document.iterdescendants("body"), document))


def report_candidates(document: Element) -> Iterator[Element]:
    """Yield the elements that may hold the report, in turn: <main>, [role=main], <article>
    (those with the most text first)."""
    yield from document.iterdescendants("main")
    yield from main_roles(document)
    yield from sorted(document.iterdescendants("article"), key=lambda a: -len(text_of(a)))


def paragraph_weights(top: Element) -> dict[Element, int]:
    """Return, for top and each element below it holding paragraph text, the length of that text:
    the stripped text of its <p> elements, or of all its strings when top has no <p>."""
    pieces: dict[Element, int] = {}
    paragraphs = list(top.iterdescendants("p"))
    if paragraphs:
        for p in paragraphs:
            parent = p.getparent()
            if parent is not None:
                pieces[parent] = pieces.get(parent, 0) + len(text_of(p).strip())
    else:
        for text, holder in held_strings(top):
            pieces[holder] = pieces.get(holder, 0) + len(text.strip())
    weights: dict[Element, int] = {}
    for holder, weight in pieces.items():
        for element in chain((holder,), holder.iterancestors()):
            weights[element] = weights.get(element, 0) + weight
            if element is top:
                break
    return weights


def densest(top: Element) -> Element:
    """Return the tightest element below top holding at least 85% of its paragraph text (of all
    its text when it has no <p>)."""
    weights = paragraph_weights(top)
    node = top
    while weights.get(node, 0) > 0:
        children = node.iterchildren(etree.Element)
        best: Element | None = max(children, key=lambda c: weights.get(c, 0), default=None)
        if best is None or weights.get(best, 0) < 0.85 * weights[node]:
            break
        node = best
    return node
