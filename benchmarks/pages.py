"""Rendering the benchmark's documents: CQC statement and summary pages as HTML inside the site
chrome of tests/fixtures/html/cqc_statement_page.html (navigation, cookie banner, promo, "Page
last updated" stamp, cache-busting tokens), and Ofsted ILACS reports as PDFs (fpdf2) laid out as
the real ones are: title, dates, lead inspector, the judgement/grade table, "What needs to
improve?" bullets, one numbered section per judgement and a running header on every page."""

from __future__ import annotations

import hashlib
import html
from datetime import UTC, datetime
from string import Template
from typing import Any

from fpdf import FPDF

from benchmarks.texts import ROOT
from reportwatch.vocab import JUDGEMENTS, OVERALL, SCORE_LABELS, STATEMENTS

PAGE = Template((ROOT / "tests/fixtures/html/cqc_statement_page.html").read_text("utf-8"))
NAV = (
    ("Home", "Care services", "Guidance and regulation", "About us", "Contact us"),
    ("Home", "Find a care service", "Care services", "News", "Publications", "Contact us"),
    ("Home", "Our work", "Local authority assessments", "Give feedback on care", "Jobs"),
)
COOKIES = (
    "We use cookies to make this site work and to collect analytics.",
    "We'd like to set additional cookies to understand how you use our site.",
    "Cookies help us improve this site. Choose which ones you accept.",
)
PROMOS = (
    "Tell us about your care: your experience helps us decide when, where and what to inspect.",
    "Our new strategy: read how we will regulate health and social care over the next five years.",
    "Join our online events for people who use services, their families and carers.",
)
FOOTERS = (
    "Citygate, Gallowgate, Newcastle upon Tyne, NE1 4PA",
    "Care Quality Commission, 2 Redman Place, London E20 1JQ",
    "National Customer Service Centre, Citygate, Gallowgate, Newcastle upon Tyne, NE1 4PA",
)


def token(*parts: object) -> str:
    """Return a short cache-busting token that changes with any of its parts."""
    return hashlib.sha1("|".join(map(str, parts)).encode()).hexdigest()[:10]


def chrome(doc: str, variant: int, updated: str) -> dict[str, str]:
    """Return the chrome of a page in one of the site's variants (one per deploy of the site)."""
    nav = NAV[variant % len(NAV)]
    promo = PROMOS[variant % len(PROMOS)]
    return {
        "cookie_text": COOKIES[variant % len(COOKIES)],
        "footer_text": FOOTERS[variant % len(FOOTERS)],
        "updated": updated,
        "asset_version": token(doc, variant),
        "promo_text": html.escape(PROMOS[(variant + 1) % len(PROMOS)]),
        "nav_items": "".join(
            f'<li><a href="/{token(n, variant)}?from=nav">{html.escape(n)}</a></li>' for n in nav
        ),
        "promo": (
            f'<aside class="promo-banner" data-campaign="{token(variant)}">'
            f"<p>{html.escape(promo)}</p>"
            f'<a href="/feedback?utm={token(doc, variant)}">Find out more</a></aside>'
        ),
    }


def page(
    title: str, authority: str, heading: str, score: str, label: str, body: str, ch: dict[str, str]
) -> bytes:
    """Return a CQC page: the report content inside the site's chrome."""
    main = ch.pop("promo") + "\n" + body
    return PAGE.substitute(
        ch,
        title=html.escape(title),
        authority=html.escape(authority),
        statement=html.escape(heading),
        score=html.escape(score),
        score_label=html.escape(label),
        body=main,
    ).encode("utf-8")


def statement_page(doc: dict[str, Any], authority: str, variant: int) -> bytes:
    """Return the HTML of a CQC quality statement page (`doc`: corpus.statement_doc)."""
    parts = []
    if doc["expectations"]:
        parts.append("<h3>What people expect</h3>")
        parts += [f"<p>{html.escape(e)}</p>" for e in doc["expectations"]]
    parts += ["<h3>The local authority commitment</h3>", f"<p>{html.escape(doc['commitment'])}</p>"]
    parts.append("<h3>Key findings for this quality statement</h3>")
    for area, paragraphs in doc["areas"]:
        parts.append(f"<h3>{html.escape(area)}</h3>")
        parts += [f"<p>{html.escape(text)}</p>" for text in paragraphs]
    score = doc["score"]
    return page(
        f"{authority}: local authority assessment",
        authority,
        doc["statement"],
        f"Score: {score}",
        f"{score} - {SCORE_LABELS[score]}",
        "\n".join(parts),
        chrome(doc["id"], variant, doc["updated"]),
    )


def summary_page(doc: dict[str, Any], authority: str, variant: int) -> bytes:
    """Return the HTML of a CQC assessment summary page (`doc`: corpus.summary_doc)."""
    parts = [
        "<h3>Local authority rating and score</h3>",
        f"<p>{html.escape(doc['rating'])}</p>",
        f"<p>{html.escape(authority)} scored {doc['percent']} out of 100 overall</p>",
        "<h3>Quality statement scores</h3>",
    ]
    for statement in STATEMENTS:
        parts += [f"<h4>{html.escape(statement)}</h4>", f"<p>Score: {doc['scores'][statement]}</p>"]
    parts.append("<h3>Summary of people's experiences</h3>")
    parts += [f"<p>{html.escape(text)}</p>" for text in doc["experiences"]]
    return page(
        f"{authority}: local authority assessment",
        authority,
        "Overall summary",
        "",
        "",
        "\n".join(parts),
        chrome(doc["id"], variant, doc["updated"]),
    )


class IlacsPdf(FPDF):
    """An Ofsted ILACS report page layout: the running header on every page but the first."""

    def __init__(self, authority: str, dates: str) -> None:
        super().__init__(format="A4")
        self.core_fonts_encoding = "windows-1252"
        self.authority, self.dates = authority, dates
        self.set_auto_page_break(auto=True, margin=20)
        self.set_margins(22, 20, 22)

    def header(self) -> None:
        """Print the running header and page number (pages after the first)."""
        if self.page_no() == 1:
            return
        self.set_font("Helvetica", size=9)
        title = f"Inspection of {self.authority} local authority children’s services"
        self.cell(0, 5, title, new_x="LMARGIN", new_y="NEXT")
        self.cell(0, 5, f"{self.dates} {self.page_no()}", new_x="LMARGIN", new_y="NEXT")
        self.ln(6)


def ilacs_pdf(doc: dict[str, Any], authority: str) -> bytes:
    """Return the PDF of an Ofsted ILACS report (`doc`: corpus.ilacs_doc)."""
    pdf = IlacsPdf(authority, doc["dates"])
    pdf.set_creation_date(datetime.fromisoformat(doc["created"]).replace(tzinfo=UTC))
    pdf.set_title(f"Inspection of {authority} local authority children’s services")
    pdf.add_page()
    pdf.set_font("Helvetica", "B", 20)
    pdf.multi_cell(0, 9, f"Inspection of {authority} local authority children’s services")
    pdf.ln(4)
    pdf.set_font("Helvetica", size=11)
    pdf.cell(0, 6, f"Inspection dates: {doc['dates']}", new_x="LMARGIN", new_y="NEXT")
    pdf.ln(3)
    pdf.cell(0, 6, f"Lead inspector: {doc['inspector']}, His Majesty’s Inspector")
    pdf.ln(10)
    grades_table(pdf, doc["grades"])
    pdf.ln(4)
    paragraphs(pdf, doc["overview"])
    pdf.set_font("Helvetica", "B", 13)
    pdf.cell(0, 8, "What needs to improve?", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("Helvetica", size=11)
    for item in doc["improve"]:
        pdf.multi_cell(0, 5.5, f"• {item}", new_x="LMARGIN", new_y="NEXT")
    pdf.ln(3)
    number = 1
    for judgement in (*JUDGEMENTS[1:4], JUDGEMENTS[0]):
        pdf.set_font("Helvetica", "B", 13)
        grade = doc["grades"][judgement].lower()
        pdf.multi_cell(0, 7, f"{judgement}: {grade}", new_x="LMARGIN", new_y="NEXT")
        pdf.ln(1)
        texts = doc["sections"][judgement]
        paragraphs(pdf, [f"{number + i}. {t}" for i, t in enumerate(texts)])
        number += len(texts)
    return bytes(pdf.output())


def grades_table(pdf: FPDF, grades: dict[str, str]) -> None:
    """Print the Judgement / Grade table, judgement names wrapped in their column."""
    pdf.set_font("Helvetica", "B", 11)
    pdf.cell(110, 7, "Judgement")
    pdf.cell(0, 7, "Grade", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("Helvetica", size=11)
    for judgement in (*JUDGEMENTS[:4], OVERALL):
        y = pdf.get_y()
        pdf.multi_cell(100, 5.5, judgement, new_x="LMARGIN", new_y="NEXT")
        end = pdf.get_y()
        pdf.set_xy(pdf.l_margin + 110, y)
        pdf.multi_cell(0, 5.5, grades[judgement], new_x="LMARGIN", new_y="NEXT")
        pdf.set_y(max(end, pdf.get_y()) + 2)


def paragraphs(pdf: FPDF, texts: list[str]) -> None:
    """Print paragraphs of body text, a blank line between them."""
    pdf.set_font("Helvetica", size=11)
    for text in texts:
        pdf.multi_cell(0, 5.5, text, new_x="LMARGIN", new_y="NEXT")
        pdf.ln(3)
