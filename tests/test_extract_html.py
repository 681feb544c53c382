"""Tests for the HTML extract stage: charset handling, chrome removal, structure, metadata, errors,
and the key property that an HTML copy of a CQC page normalizes to the same report as the plain-text
copy in seeds/."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from reportwatch import extract_html as module
from reportwatch.errors import InputError
from reportwatch.extract import Block, extract
from reportwatch.extract_html import MAX_HTML_BYTES, NO_TEXT, extract_html
from reportwatch.fetch import Fetched
from reportwatch.model import Report
from reportwatch.normalize import Defaults
from reportwatch.pipeline import parse

from conftest import NAV, cqc_page

ROOT = Path(__file__).resolve().parent.parent
SEEDS = ROOT / "seeds"
SEED_FILES = ["000_c2e9ab2eba705b57.txt", "003_3dab753b02dd6640.txt"]
FINDING = "The local authority had a workforce strategy with an implementation plan in place."


def page(main: str, head: str = "", outside: str = "") -> bytes:
    """Return a minimal page: `head` in <head>, `outside` before <main>, `main` inside it."""
    return (
        f"<!DOCTYPE html><html><head>{head}</head><body>{outside}<main>{main}</main></body></html>"
    ).encode()


def texts(extracted_blocks: tuple[Block, ...]) -> list[tuple[str, str, int]]:
    """Return blocks as (kind, text, level) tuples for comparison."""
    return [(b.kind, b.text, b.level) for b in extracted_blocks]


def joined(raw: bytes) -> str:
    """Return the text of every block of an HTML page, one per line."""
    return "\n".join(b.text for b in extract_html(raw).blocks)


# --- The key property: HTML and plain-text copies of a page give the same report ---------------


def without_origin(report: Report) -> dict[str, object]:
    """Return a report's fields except where it came from and its publication metadata."""
    return report.model_dump(exclude={"source", "publication"})


@pytest.mark.parametrize("seed", SEED_FILES)
def test_html_page_normalizes_like_plain_text_seed(seed: str) -> None:
    text_report = parse(Fetched(str(SEEDS / seed), (SEEDS / seed).read_bytes()), Defaults())
    url = f"https://www.cqc.org.uk/care-services/local-authority-assessment/{seed[:3]}"
    html_report = parse(Fetched(url, cqc_page(seed), "text/html"), Defaults())
    assert without_origin(html_report) == without_origin(text_report)
    assert html_report.score is not None and html_report.sections
    assert html_report.source.media_type == "text/html"
    assert html_report.publication.published == "2025-03-12"
    assert html_report.publication.last_updated == "2025-04-03"
    title = (SEEDS / seed).read_text("utf-8").splitlines()[0]
    assert html_report.publication.title == title


@pytest.mark.parametrize("seed", SEED_FILES)
def test_html_page_is_sniffed_from_its_bytes(seed: str) -> None:
    extracted = extract(cqc_page(seed), "page-without-extension")
    assert extracted.media_type == "text/html"
    assert extracted.metadata["title"].endswith("local authority assessment")


@pytest.mark.parametrize(
    ("nav", "change"),
    [
        (("Home", "Our work", "News", "Jobs"), {}),
        (NAV, {"cookie_text": "Cookies help us improve this site. Choose which ones you accept."}),
        (NAV, {"footer_text": "Care Quality Commission, 2 Redman Place, London E20 1JQ"}),
        (NAV, {"updated": "28 May 2025"}),
        (NAV, {"asset_version": "zz99-cache-bust"}),
        (NAV, {"promo_text": "Join our online community and help shape how we regulate care."}),
        (
            (),
            {
                "cookie_text": "",
                "footer_text": "New",
                "updated": "1 June 2025",
                "asset_version": "7",
                "promo_text": "",
            },
        ),
    ],
    ids=[
        "nav",
        "cookie-banner",
        "footer",
        "last-updated-date",
        "script-urls",
        "promo",
        "all-at-once",
    ],
)
@pytest.mark.parametrize("seed", SEED_FILES)
def test_chrome_only_changes_give_identical_blocks(
    seed: str, nav: tuple[str, ...], change: dict[str, str]
) -> None:
    before, after = extract_html(cqc_page(seed)), extract_html(cqc_page(seed, nav, **change))
    assert texts(after.blocks) == texts(before.blocks)
    assert after.metadata["title"] == before.metadata["title"]


def test_a_new_date_stamp_changes_only_the_metadata() -> None:
    before = extract_html(cqc_page(SEED_FILES[0]))
    after = extract_html(cqc_page(SEED_FILES[0], updated="28 May 2025"))
    assert texts(after.blocks) == texts(before.blocks)
    assert (before.metadata["last_updated"], after.metadata["last_updated"]) == (
        "2025-04-03",
        "2025-05-28",
    )


def test_chrome_of_the_seed_page_is_gone() -> None:
    text = joined(cqc_page(SEED_FILES[1]))
    for chrome in ("cookie", "Skip to", "Downloads", "PDF", "Share", "Print", "Related content"):
        assert chrome not in text
    for chrome in ("Care services", "Local authority assessments", "Citygate", "©", "Published"):
        assert chrome not in text
    for chrome in ("Tell us about your care", "Give feedback on care"):
        assert chrome not in text


# --- Charset -----------------------------------------------------------------------------------

SAMPLE = "The local authority’s café service was reviewed; people’s feedback was positive."


def sample_page(head: str = "") -> str:
    """Return a small page holding SAMPLE, with `head` markup (charset declarations)."""
    return (
        f"<html><head>{head}<title>Ealing</title></head><body><main>"
        f"<h1>Ealing: local authority assessment</h1><p>{SAMPLE}</p></main></body></html>"
    )


def stray_byte_page() -> bytes:
    """Return a UTF-8 page with one windows-1252 apostrophe pasted into it."""
    good = sample_page().encode("utf-8")
    return good.replace("people’s".encode(), b"people\x92s")


@pytest.mark.parametrize(
    "label", ["rot13", "base64", "utf-7", "unicode_escape", "undefined", "utf-8\x00", "", " "]
)
def test_a_nonsense_charset_label_is_ignored(label: str) -> None:
    meta = f'<meta charset="{label}">' if label.isprintable() else ""
    for declared in (label, None):
        assert SAMPLE in joined_with(sample_page(meta).encode("cp1252"), declared)


def joined_with(raw: bytes, declared: str | None) -> str:
    """Return the text of every block of an HTML page read with a declared charset."""
    return "\n".join(b.text for b in extract_html(raw, declared).blocks)


@pytest.mark.parametrize(
    ("raw", "declared"),
    [
        (sample_page().encode("cp1252"), "utf-8"),
        (sample_page('<meta charset="utf-8">').encode("cp1252"), None),
        (
            sample_page(
                '<meta http-equiv="Content-Type" content="text/html; charset=UTF-8">'
            ).encode("cp1252"),
            None,
        ),
        (sample_page().encode("cp1252"), None),
        (sample_page().encode("cp1252"), "windows-1252"),
        (sample_page('<meta charset="utf-8">').encode("cp1252"), "windows-1252"),
        (sample_page().encode("cp1252"), "x-no-such-charset"),
        (sample_page('<meta charset="iso-8859-1">').encode("cp1252"), None),
        (sample_page().encode("utf-8"), None),
        (sample_page('<meta charset="iso-8859-1">').encode("utf-8"), None),
        (sample_page().encode("utf-8"), "latin-1"),
        (b"\xef\xbb\xbf" + sample_page('<meta charset="windows-1252">').encode("utf-8"), None),
        (sample_page().encode("utf-16"), None),
        (sample_page('<meta charset="utf-16">').encode("utf-8"), None),
        (stray_byte_page(), "utf-8"),
    ],
    ids=[
        "cp1252-declared-utf8-by-http",
        "cp1252-declared-utf8-by-meta-charset",
        "cp1252-declared-utf8-by-http-equiv",
        "cp1252-undeclared",
        "cp1252-declared-rightly",
        "http-charset-wins-over-meta",
        "unknown-charset-label",
        "latin1-label-read-as-windows-1252",
        "utf8-undeclared",
        "utf8-mislabelled-latin1-by-meta",
        "utf8-mislabelled-latin1-by-http",
        "utf8-bom-wins",
        "utf16-bom",
        "meta-utf16-on-a-utf8-page",
        "utf8-with-one-stray-cp1252-byte",
    ],
)
def test_charset_gives_right_characters(raw: bytes, declared: str | None) -> None:
    text = joined_with(raw, declared)
    assert SAMPLE in text
    assert "\ufffd" not in text and "â€" not in text and "Ã©" not in text


# --- Structure ---------------------------------------------------------------------------------

P, H, B = "paragraph", "heading", "bullet"


@pytest.mark.parametrize(
    ("markup", "expected"),
    [
        (
            "<h1>Top</h1><h2>Second</h2><h4>Fourth</h4>",
            [(H, "Top", 1), (H, "Second", 2), (H, "Fourth", 4)],
        ),
        ("<p>First line<br>second   line<br/>third</p>", [(P, "First line second line third", 0)]),
        ("<p>  lots\n\n of\t  space  </p>", [(P, "lots of space", 0)]),
        (
            "<p>Evid<em>ence</em> shows <a href='#'>a link</a>.</p>",
            [(P, "Evidence shows a link.", 0)],
        ),
        ("<ul><li>One</li><li>Two <b>bold</b></li></ul>", [(B, "One", 0), (B, "Two bold", 0)]),
        ("<ul><li>Outer<ul><li>Inner</li></ul></li></ul>", [(B, "Outer", 0), (B, "Inner", 0)]),
        ("<ol><li><p>Paragraph in an item</p></li></ol>", [(B, "Paragraph in an item", 0)]),
        (
            "<div>Loose text <span>in a div</span></div><div>Another</div>",
            [(P, "Loose text in a div", 0), (P, "Another", 0)],
        ),
        (
            "<div>Before<p>Inside</p>After</div>",
            [(P, "Before", 0), (P, "Inside", 0), (P, "After", 0)],
        ),
        ("<section><div><div>Deep text</div></div></section>", [(P, "Deep text", 0)]),
        ("<h2>Heading <span>with span</span></h2>", [(H, "Heading with span", 2)]),
        (
            "<p><span>Score: 2</span> <span>2 - Evidence shows some shortfalls</span></p>",
            [(P, "Score: 2", 0), (P, "2 - Evidence shows some shortfalls", 0)],
        ),
        (
            "<div>Score: 3<br>3 – Evidence shows a good standard</div>",
            [(P, "Score: 3", 0), (P, "3 – Evidence shows a good standard", 0)],
        ),
        ("<div class='score'><span>Score:</span> <span>4</span></div>", [(P, "Score: 4", 0)]),
        ("<dl><dt>Rating</dt><dd>Score: 1</dd></dl>", [(P, "Rating", 0), (P, "Score: 1", 0)]),
        ("<p><strong>Score: 2</strong></p><p>Text</p>", [(P, "Score: 2", 0), (P, "Text", 0)]),
        (
            "<table><tr><th>Name</th><td>Value here</td></tr></table>",
            [(P, "Name", 0), (P, "Value here", 0)],
        ),
        ("<p>Kept<!-- a comment --> text</p>", [(P, "Kept text", 0)]),
        ("<p>A\u00a0b\u200bc</p>", [(P, "A bc", 0)]),
        ("<blockquote><p>Quoted words</p></blockquote>", [(P, "Quoted words", 0)]),
    ],
    ids=[
        "heading-levels",
        "br-is-a-space",
        "whitespace-collapsed",
        "inline-tags-join",
        "list-items",
        "nested-lists",
        "paragraph-in-item",
        "text-in-divs",
        "text-around-a-paragraph",
        "nested-divs",
        "heading-with-inline",
        "score-spans-in-a-paragraph",
        "score-and-wording-split-by-br",
        "score-split-over-spans",
        "score-in-dd",
        "score-in-strong",
        "table-cells",
        "comment-dropped",
        "nbsp-and-zero-width",
        "blockquote",
    ],
)
def test_structure(markup: str, expected: list[tuple[str, str, int]]) -> None:
    assert texts(extract_html(page(markup)).blocks) == expected


# --- Chrome ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("chrome", "word"),
    [
        ('<div id="cookieBanner"><p>We use cookies here.</p></div>', "cookies"),
        ('<div class="govuk-cookie-banner"><p>Essential cookies only</p></div>', "Essential"),
        ('<section class="consent-manager"><p>Manage preferences</p></section>', "preferences"),
        ('<div class="site-banner"><p>Beta service notice</p></div>', "Beta"),
        ('<div class="promo-box"><p>Sign up for updates</p></div>', "Sign up"),
        ("<aside><p>Sidebar words</p></aside>", "Sidebar"),
        ('<nav aria-label="Breadcrumb"><ol><li><a href="/">Home</a></li></ol></nav>', "Home"),
        ('<ol class="govuk-breadcrumbs__list"><li>Home crumb</li></ol>', "crumb"),
        ('<div class="relatedLinks"><h2>See more</h2><p>Other pages</p></div>', "Other pages"),
        ('<h2>Related content</h2><ul><li><a href="/x">Other report</a></li></ul>', "Other report"),
        ('<h2>Downloads</h2><ul><li><a href="/r.pdf">Full report (PDF)</a></li></ul>', "PDF"),
        ('<p><strong>Downloads</strong></p><div><a href="/r.pdf">Report file</a></div>', "file"),
        (
            "<details><summary>Downloads</summary><ul><li><a href='/r'>Report file</a></li></ul></details>",
            "file",
        ),
        ('<h2>On this page</h2><ul><li><a href="#k">Key points</a></li></ul>', "Key points"),
        (
            '<p><a href="https://www.facebook.com/sharer/sharer.php?u=x">Facebook</a></p>',
            "Facebook",
        ),
        ('<p><a href="javascript:window.print()">Print</a></p>', "Print"),
        ('<div class="social-share"><a href="/s">Tweet it</a></div>', "Tweet"),
        ('<a class="govuk-skip-link" href="#main">Skip to main content</a>', "Skip"),
        ('<a href="#main">Skip to content</a>', "Skip"),
        ('<form action="/search"><label>Search this site</label><input></form>', "Search"),
        ("<div hidden>Hidden words</div>", "Hidden"),
        ('<div style="display: none">Invisible words</div>', "Invisible"),
        ('<div aria-hidden="true">Decorative words</div>', "Decorative"),
        ("<script>var tracking = 'script words';</script>", "script words"),
        ("<style>.x::after { content: 'style words' }</style>", "style words"),
        ("<noscript>Please enable JavaScript</noscript>", "JavaScript"),
        ("<svg><text>Icon words</text></svg>", "Icon"),
        ('<iframe src="/x">Frame words</iframe>', "Frame"),
        ("<footer><p>Footer words</p></footer>", "Footer"),
        ('<button type="button">Show all sections</button>', "Show all"),
        ("<p>Back to top</p>", "Back to top"),
    ],
)
def test_chrome_is_dropped(chrome: str, word: str) -> None:
    text = joined(page(f"<h1>Ealing: local authority assessment</h1>{chrome}<p>{FINDING}</p>"))
    assert word not in text
    assert FINDING in text


@pytest.mark.parametrize(
    ("markup", "kept"),
    [
        ('<div class="page-banner"><h1>Ealing: local authority assessment</h1></div>', "Ealing"),
        ('<div class="score-banner">Score: 2</div>', "Score: 2"),
        ("<article><header><h2>Assessing needs</h2></header><p>Body</p></article>", "Assessing"),
        ('<h2><button type="button">Learning from feedback</button></h2>', "Learning from"),
        ('<section id="learning-from-feedback"><p>Feedback was used well.</p></section>', "used"),
        ("<p>The related services were shared with partners.</p>", "related services"),
    ],
)
def test_content_that_looks_like_chrome_is_kept(markup: str, kept: str) -> None:
    assert kept in joined(page(markup + f"<p>{FINDING}</p>"))


def test_a_page_wrapped_in_one_form_keeps_its_content() -> None:
    raw = f"<html><body><form id='aspnetForm'><div><h1>Title</h1><p>{FINDING}</p></div></form>"
    assert FINDING in joined(raw.encode())


# --- Main content ------------------------------------------------------------------------------

OTHER = "<div class='x'><p>Words outside the report element.</p></div>"


@pytest.mark.parametrize(
    "raw",
    [
        f"<body>{OTHER}<main><p>{FINDING}</p></main></body>",
        f"<body>{OTHER}<div role='main'><p>{FINDING}</p></div></body>",
        f"<body>{OTHER}<article><p>{FINDING}</p></article></body>",
        f"<body><div>{OTHER}</div><div class='c'>{f'<p>{FINDING}</p>' * 4}</div></body>",
        f"<body><main></main>{OTHER}<div role='main'><p>{FINDING}</p></div></body>",
    ],
    ids=["main", "role-main", "article", "densest-element", "empty-main-skipped"],
)
def test_main_content_is_found(raw: str) -> None:
    text = joined(raw.encode())
    assert FINDING in text and "outside" not in text


def test_page_heading_outside_main_leads_the_blocks() -> None:
    raw = page(
        f"<p>{FINDING}</p>", outside="<div><h1>Ealing: local authority assessment</h1></div>"
    )
    blocks = texts(extract_html(raw).blocks)
    assert blocks[0] == (H, "Ealing: local authority assessment", 1)


# --- Metadata ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("head", "main", "expected"),
    [
        (
            "<title>Page title</title>",
            "<p>Published: 12 March 2025 Page last updated: 3 April 2025</p>",
            {"title": "Page title", "published": "2025-03-12", "last_updated": "2025-04-03"},
        ),
        ("<title>A | CQC</title><meta property='og:title' content='A'>", "", {"title": "A"}),
        (
            "",
            "<p>Published 5 June 2024</p><p>Last updated 7 June 2024</p>",
            {"published": "2024-06-05", "last_updated": "2024-06-07"},
        ),
        (
            "",
            "<div><span>Published:</span> <span>1st February 2024</span></div>",
            {"published": "2024-02-01"},
        ),
        (
            "",
            "<p>Date published: 12/03/2025</p><p>Updated: 2025-04-03</p>",
            {"published": "2025-03-12", "last_updated": "2025-04-03"},
        ),
        (
            "",
            "<dl><dt>Published</dt><dd>12 March 2025</dd><dt>Last updated</dt><dd>3 Apr 2025</dd></dl>",
            {"published": "2025-03-12", "last_updated": "2025-04-03"},
        ),
        (
            "<meta property='article:published_time' content='2024-06-05T09:00:00+01:00'><meta property='article:modified_time' content='2024-07-01T10:00:00Z'>",
            "",
            {"published": "2024-06-05", "last_updated": "2024-07-01"},
        ),
        ("<meta name='DCTERMS.issued' content='2023-11-30'>", "", {"published": "2023-11-30"}),
        (
            "",
            "<p>Published: <time datetime='2025-03-12'>12 March</time> Updated: <time datetime='2025-04-03T08:00'>3 April</time></p>",
            {"published": "2025-03-12", "last_updated": "2025-04-03"},
        ),
        (
            "",
            "<time itemprop='dateModified' datetime='2025-04-03'>3 April</time>",
            {"last_updated": "2025-04-03"},
        ),
        (
            "<meta property='article:published_time' content='2020-01-01'>",
            "<p>Published: 12 March 2025</p>",
            {"published": "2025-03-12"},
        ),
        (
            "",
            "<footer><p>Page last updated: 9 May 2025</p></footer>",
            {"last_updated": "2025-05-09"},
        ),
    ],
    ids=[
        "visible-stamp-line",
        "og-title-wins",
        "govuk-style",
        "ordinal-in-spans",
        "numeric-dates",
        "definition-list",
        "meta-article-times",
        "meta-dublin-core",
        "labelled-time-elements",
        "itemprop-time",
        "visible-stamp-wins-over-meta",
        "stamp-in-footer",
    ],
)
def test_metadata(head: str, main: str, expected: dict[str, str]) -> None:
    extracted = extract_html(page(f"{main}<p>{FINDING}</p>", head=head))
    assert {k: extracted.metadata.get(k) for k in expected} == expected
    assert texts(extracted.blocks) == [(P, FINDING, 0)]
    assert extracted.media_type == "text/html"


# --- Errors ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "raw",
    [
        b"",
        b"   \n\t  ",
        b"<html></html>",
        b"<html><head><title>Only a title</title></head><body></body></html>",
        b"<html><body><nav><a href='/'>Home</a></nav><footer>Footer</footer></body></html>",
        b"<html><body><script>var x = 1;</script><!-- comment --></body></html>",
        b"<html><body><main><p>Published: 12 March 2025</p></main></body></html>",
        b"<html><body><div id='cookie-banner'><p>We use cookies.</p></div></body></html>",
    ],
    ids=[
        "empty",
        "blank",
        "no-body",
        "title-only",
        "chrome-only",
        "script-only",
        "date-only",
        "banner",
    ],
)
def test_no_report_text_is_an_input_error(raw: bytes) -> None:
    with pytest.raises(InputError, match=NO_TEXT):
        extract_html(raw)


@pytest.mark.parametrize(
    "raw",
    [
        b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 4,
        b"%PDF-1.7\n\x00\x01\x02\x03" * 50,
        b"\x00" * 1000,
        b"x" * (MAX_HTML_BYTES + 1),
    ],
    ids=["png", "pdf-bytes", "nuls", "too-large"],
)
def test_unreadable_input_is_an_input_error(raw: bytes) -> None:
    with pytest.raises(InputError):
        extract_html(raw)


@pytest.mark.parametrize(
    "raw",
    [
        "<div>" * 5000 + f"<p>{FINDING}</p>" + "</div>" * 5000,
        "<div>" * 5000 + f"<p>{FINDING}</p>",
        "<span>" * 5000 + FINDING,
        "<ul><li>" * 3000 + FINDING,
        "<section><div><b>" * 3000 + FINDING,
        "<table><tr><td>" * 2000 + FINDING,
    ],
    ids=["closed-divs", "unclosed-divs", "spans", "lists", "mixed", "tables"],
)
def test_deep_nesting_is_read_without_recursion(raw: str) -> None:
    assert FINDING in joined(f"<html><body>{raw}</body></html>".encode())


def test_a_page_of_several_megabytes_is_read() -> None:
    paragraphs = "".join(
        f"<p>Paragraph {i} of the report with some words.</p>\n" for i in range(60000)
    )
    raw = page(f"<h1>Big</h1>{paragraphs}")
    assert len(raw) > 3_000_000
    blocks = extract_html(raw).blocks
    assert len(blocks) == 60001
    assert blocks[-1].text == "Paragraph 59999 of the report with some words."


@pytest.mark.parametrize(
    "error", [RecursionError, MemoryError, ValueError, KeyError, AttributeError]
)
def test_a_parser_failure_becomes_an_input_error(
    monkeypatch: pytest.MonkeyPatch, error: type[Exception]
) -> None:
    def fail(raw: bytes, declared_charset: str | None) -> None:
        raise error("boom")

    monkeypatch.setattr(module, "parse_html", fail)
    with pytest.raises(InputError):
        extract_html(page(f"<p>{FINDING}</p>"))


HTML_PIECES = st.sampled_from(
    [
        "<div>",
        "</div>",
        "<p>",
        "</p>",
        "<ul><li>",
        "</li>",
        "<h2>",
        "</h2>",
        "<br>",
        "<main>",
        "<table><tr><td>",
        "<!--",
        "-->",
        "<script>",
        "</script>",
        "<meta charset='utf-16'>",
        "<nav>",
        "<span class='cookie'>",
        "Score: 2",
        "2 - Evidence shows some shortfalls",
        "Published: 12 March 2025",
        "Downloads",
        "café ’",
        "&amp;",
        "&#0;",
        "&#xD800;",
        "<![CDATA[",
        "<svg><text>",
        "<dt>",
        "<dd>",
        "<time datetime='2025-13-45'>",
        "\x00",
        "\ufeff",
        "<",
    ]
)


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=2000))
def test_any_bytes_give_blocks_or_an_input_error(raw: bytes) -> None:
    try:
        extracted = extract_html(raw)
    except InputError:
        return
    assert extracted.blocks and all(b.text.strip() for b in extracted.blocks)


@settings(max_examples=300, deadline=None)
@given(
    st.lists(st.one_of(HTML_PIECES, st.text(max_size=20)), max_size=60),
    st.sampled_from(["utf-8", "cp1252", "utf-16"]),
)
def test_any_html_soup_gives_blocks_or_an_input_error(pieces: list[str], codec: str) -> None:
    raw = "".join(pieces).encode(codec, errors="replace")
    try:
        extracted = extract_html(raw, codec)
    except InputError:
        return
    assert all(b.text == b.text.strip() and b.text for b in extracted.blocks)
