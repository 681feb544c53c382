"""Property-based tests: whatever bytes or blocks come in, the extractors and the normalizer
either give a result or raise one of the project's own errors (reportwatch.errors), never
anything else. Inputs are real documents (the seeds, an HTML page, the Ofsted PDFs) mutated by
hypothesis: bytes flipped, cut, repeated or spliced in; and blocks made of the frameworks' own
words. Example counts are bounded so the file runs in seconds.
"""

from __future__ import annotations

import contextlib
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from reportwatch.errors import ReportwatchError
from reportwatch.extract import Block, Extracted, extract
from reportwatch.extract_pdf import extract_pdf
from reportwatch.fetch import Fetched
from reportwatch.model import SourceInfo
from reportwatch.normalize import Defaults, normalize
from reportwatch.pipeline import parse

from conftest import SEEDS

FIXTURES = Path(__file__).resolve().parent / "fixtures"
SEED_BYTES = [p.read_bytes() for p in sorted(SEEDS.iterdir())]
HTML_BYTES = (FIXTURES / "html" / "cqc_statement_page.html").read_bytes()
PDF_BYTES = [p.read_bytes() for p in sorted((FIXTURES / "ofsted").glob("*.pdf"))]
QUICK = settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow], database=None
)


@st.composite
def mutated(draw: st.DrawFn, originals: list[bytes]) -> bytes:
    """Return one of `originals` with a few mutations: a byte flipped, a range cut out, repeated
    or replaced by random bytes, or the whole cut short."""
    data = bytearray(draw(st.sampled_from(originals)))
    for _ in range(draw(st.integers(1, 4))):
        if not data:
            break
        at = draw(st.integers(0, len(data) - 1))
        size = draw(st.integers(1, 2000))
        kind = draw(st.sampled_from(["flip", "cut", "repeat", "splice", "truncate"]))
        if kind == "flip":
            data[at] ^= 1 << draw(st.integers(0, 7))
        elif kind == "cut":
            del data[at : at + size]
        elif kind == "repeat":
            data[at:at] = data[at : at + size] * draw(st.integers(1, 5))
        elif kind == "splice":
            data[at : at + size] = draw(st.binary(max_size=64))
        else:
            del data[at:]
    return bytes(data)


def only_own_errors(call: object, *args: object) -> None:
    """Call `call(*args)`; let the project's errors pass, and any other exception fail."""
    assert callable(call)
    with contextlib.suppress(ReportwatchError):
        call(*args)


@QUICK
@given(raw=mutated(SEED_BYTES), name=st.sampled_from(["page.txt", "page.md", "page"]))
def test_mutated_seed_text_through_the_whole_parse(raw: bytes, name: str) -> None:
    only_own_errors(parse, Fetched(name, raw), Defaults())


@QUICK
@given(raw=mutated([HTML_BYTES, *SEED_BYTES]), media=st.sampled_from([None, "text/html"]))
def test_mutated_html_through_extract(raw: bytes, media: str | None) -> None:
    only_own_errors(extract, raw, "page.html", media, None)


@settings(QUICK, max_examples=20)
@given(raw=mutated(PDF_BYTES))
def test_mutated_pdf_through_extract_pdf(raw: bytes) -> None:
    only_own_errors(extract_pdf, raw)


@settings(QUICK, max_examples=10)
@given(raw=mutated(PDF_BYTES))
def test_mutated_pdf_through_the_whole_parse(raw: bytes) -> None:
    only_own_errors(parse, Fetched("report.pdf", raw, "application/pdf"), Defaults())


WORDS = [
    "Hammersmith and Fulham: local authority assessment",
    "London Borough of Ealing",
    "Learning, improvement and innovation",
    "Governance, management and sustainability",
    "Assessing needs",
    "Score: 2",
    "Score:",
    "Score: 9",
    "2 - Evidence shows some shortfalls",
    "3 - Evidence shows a good standard",
    "The local authority commitment",
    "Key findings for this quality statement",
    "Overall summary",
    "Local authority rating and score",
    "Good",
    "Requires improvement to be good",
    "Inadequate",
    "Outstanding",
    "Overall effectiveness",
    "The impact of leaders on social work practice with children and families",
    "What needs to improve?",
    "Inspection of Havering local authority children's services",
    "Inspection dates: 5 to 16 February 2024",
    "Lead inspector: Jane Smith",
    "Judgement Grade",
    "Published: 12 March 2025",
    "Indicative rating: 56%",
    "Percentage score: 56%",
    "Downloads",
    "",
    " ",
    "%",
    ":",
]
TEXT = st.one_of(st.sampled_from(WORDS), st.text(max_size=40))
BLOCKS = st.lists(
    st.builds(
        Block,
        kind=st.sampled_from(["heading", "paragraph", "bullet"]),
        text=TEXT,
        level=st.integers(0, 6),
    ),
    max_size=40,
)
METADATA = st.dictionaries(
    st.sampled_from(["title", "published", "last_updated"]), TEXT, max_size=3
)


@settings(QUICK, max_examples=300)
@given(
    blocks=BLOCKS,
    media=st.sampled_from(["text/plain", "text/html", "application/pdf"]),
    metadata=METADATA,
    authority=st.sampled_from([None, "Barnet", "", "London Borough of Ealing", "!!"]),
    regulator=st.sampled_from([None, "CQC", "Ofsted"]),
)
def test_normalize_any_blocks(
    blocks: list[Block],
    media: str,
    metadata: dict[str, str],
    authority: str | None,
    regulator: str | None,
) -> None:
    extracted = Extracted(tuple(blocks), media, metadata)
    defaults = Defaults(authority=authority, regulator=regulator)
    only_own_errors(normalize, extracted, SourceInfo(location="page", media_type=media), defaults)


@settings(QUICK, max_examples=150)
@given(
    lines=st.lists(TEXT, max_size=60),
    name=st.sampled_from(["page.txt", "page.md"]),
)
def test_any_lines_of_report_words_through_the_whole_parse(lines: list[str], name: str) -> None:
    only_own_errors(parse, Fetched(name, "\n".join(lines).encode()), Defaults())


@pytest.mark.parametrize("raw", SEED_BYTES, ids=[p.name for p in sorted(SEEDS.iterdir())])
def test_the_unmutated_originals_parse(raw: bytes) -> None:
    """The mutations start from documents that read cleanly."""
    assert parse(Fetched("page.txt", raw), Defaults()).regulator in ("CQC", "Ofsted")
