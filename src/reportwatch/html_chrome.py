"""Telling an HTML page's report content from its site chrome: the elements that are chrome (by
tag, role, visibility, id or class), labelled link lists, and the element that holds the report.
Trees are walked with explicit stacks, never recursion."""

from __future__ import annotations

import re
from collections.abc import Callable

from bs4 import BeautifulSoup
from bs4.element import NavigableString, Tag

from reportwatch.extract import collapse
from reportwatch.vocab import fold

HEAD = {"head", "title", "meta"}
NEVER_TEXT = ["script", "style", "noscript", "template", "iframe", "svg", "canvas", "object"]
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
HEADINGS = ["h1", "h2", "h3", "h4", "h5", "h6"]
_CONTENT = ["h1", "main", "article"]
_LIST_LABEL = re.compile(
    r"^(downloads?( this report)?|related( content| pages| links| information| guidance)?"
    r"|on this page|contents|(more )?in this section|(share|print)( this page)?)$"
)


def attr(tag: Tag, name: str) -> str:
    """Return a tag's attribute as one string ('' when it has none)."""
    value = tag.get(name)
    return " ".join(value) if isinstance(value, list) else str(value or "")


def is_chrome_tag(tag: Tag) -> bool:
    """Return True for an element that is site chrome by its tag, role, visibility, id or class
    (class and id words: 'cookieBanner', 'related-content', 'govuk-breadcrumbs', ...)."""
    if tag.name in ("html", "body", "main", "article", *HEADINGS):
        return False
    if tag.name == "header":
        return tag.find_parent(["main", "article"]) is None  # an article's own header is content
    if tag.name == "button":
        return tag.find_parent(HEADINGS) is None and tag.find(HEADINGS) is None
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
