"""Framework vocabularies as data: CQC quality statements, themes, scores and rating bands; Ofsted
ILACS judgements and grades; the chrome that surrounds reports on the web. Facts from DOMAIN.md."""

from __future__ import annotations

import functools
import re
import unicodedata

# --- CQC local authority assessments -----------------------------------------------------------

THEMES: dict[str, tuple[str, ...]] = {
    "Working with people": (
        "Assessing needs",
        "Supporting people to live healthier lives",
        "Equity in experience and outcomes",
    ),
    "Providing support": (
        "Care provision, integration and continuity",
        "Partnerships and communities",
    ),
    "Ensuring safety": (
        "Safe systems, pathways and transitions",
        "Safeguarding",
    ),
    "Leadership": (
        "Governance, management and sustainability",
        "Learning, improvement and innovation",
    ),
}

STATEMENTS: tuple[str, ...] = tuple(s for group in THEMES.values() for s in group)

STATEMENT_ALIASES: dict[str, str] = {
    "Supporting people to lead healthier lives": "Supporting people to live healthier lives",
    "Safe pathways, systems and transitions": "Safe systems, pathways and transitions",
    "Assessing people's needs": "Assessing needs",
    "Partnership and communities": "Partnerships and communities",
    "Care provision, integration and continuity of care": (
        "Care provision, integration and continuity"
    ),
}

THEME_ALIASES: dict[str, str] = {
    "How local authorities work with people": "Working with people",
    "How local authorities provide support": "Providing support",
    "How local authorities ensure safety within the system": "Ensuring safety",
    "Leadership": "Leadership",
}

SCORE_LABELS: dict[int, str] = {
    1: "Evidence shows significant shortfalls",
    2: "Evidence shows some shortfalls",
    3: "Evidence shows a good standard",
    4: "Evidence shows an exceptional standard",
}

# (lowest percentage, rating), highest band first.
RATING_BANDS: tuple[tuple[int, str], ...] = (
    (88, "Outstanding"),
    (63, "Good"),
    (39, "Requires improvement"),
    (25, "Inadequate"),
)

# Headings of a CQC quality statement page, as printed (compared case- and colon-insensitively).
CQC_HEADINGS: dict[str, str] = {
    "what people expect": "What people expect",
    "the local authority commitment": "The local authority commitment",
    "key findings for this quality statement": "Key findings for this quality statement",
}

# --- Ofsted ILACS ------------------------------------------------------------------------------

OVERALL = "Overall effectiveness"
JUDGEMENTS: tuple[str, ...] = (
    "The impact of leaders on social work practice with children and families",
    "The experiences and progress of children who need help and protection",
    "The experiences and progress of children in care",
    "The experiences and progress of care leavers",
    OVERALL,
)
JUDGEMENT_2018 = "The experiences and progress of children in care and care leavers"

# Phrases that identify a judgement in prose; longest first so that "children in care and care
# leavers" is not read as "children in care".
JUDGEMENT_PHRASES: tuple[tuple[str, str], ...] = (
    ("children in care and care leavers", JUDGEMENT_2018),
    ("impact of leaders", JUDGEMENTS[0]),
    ("need help and protection", JUDGEMENTS[1]),
    ("children in care", JUDGEMENTS[2]),
    ("care leavers", JUDGEMENTS[3]),
    ("overall effectiveness", OVERALL),
)

GRADES: tuple[str, ...] = ("Inadequate", "Requires improvement to be good", "Good", "Outstanding")
GRADE_PATTERN = r"outstanding|good|requires improvement(?: to be good)?|inadequate"

# --- Site chrome -------------------------------------------------------------------------------

CHROME_LINES: tuple[str, ...] = (
    "downloads",
    "contact us",
    "share this page",
    "print this page",
    "back to top",
    "skip to main content",
    "cookies on this site",
    "accept cookies",
    "reject cookies",
)

CHROME_PATTERNS: tuple[re.Pattern[str], ...] = tuple(
    re.compile(p, re.IGNORECASE)
    for p in (
        r"^registered (office|address)\b",
        r"\b(tel|telephone|phone|fax)\s*[:.]?\s*\+?\d[\d ()-]{6,}",
        r"\b[A-Z]{1,2}\d[A-Z\d]?\s*\d[A-Z]{2}\b\s*$",  # a line that ends in a UK postcode
        r"contact us\s*$",
        r"\b(website design|web design|market research|powered) by\b",
        r"^(©|\(c\)|copyright)\s",
        r"\ball rights reserved\b",
        r"^(follow us|sign up to our newsletter|subscribe)\b",
    )
)


# --- Lookups -----------------------------------------------------------------------------------


_APOSTROPHES = re.compile(r"[’'`]")
_NOT_WORD = re.compile(r"[^a-z0-9]+")


@functools.lru_cache(maxsize=8192)
def fold(text: str) -> str:
    """Return text folded for comparison: lower case, '&' as 'and', no punctuation or apostrophes,
    single spaces."""
    # cached: a page's parsers fold the same block texts several times each
    if not text.isascii():  # NFKC leaves ASCII as it is
        text = unicodedata.normalize("NFKC", text)
    text = _APOSTROPHES.sub("", text.lower().replace("&", " and "))
    return _NOT_WORD.sub(" ", text).strip()


_STATEMENT_LOOKUP = {fold(s): s for s in STATEMENTS} | {
    fold(a): s for a, s in STATEMENT_ALIASES.items()
}
_THEME_LOOKUP = {fold(t): t for t in THEMES} | {fold(a): t for a, t in THEME_ALIASES.items()}


def canonical_statement(text: str) -> str | None:
    """Return the canonical quality statement a heading names, or None if it names none.

    Exact variants are looked up first; a short heading is then matched fuzzily (word order and
    small wording differences), so that a stray sentence never becomes a statement."""
    key = fold(text)
    if key in _STATEMENT_LOOKUP:
        return _STATEMENT_LOOKUP[key]
    if not key or len(key.split()) > 10:
        return None
    from rapidfuzz import fuzz, process  # here: a run of unchanged documents never needs it

    found = process.extractOne(key, list(_STATEMENT_LOOKUP), scorer=fuzz.token_sort_ratio)
    if found and found[1] >= 88:
        return _STATEMENT_LOOKUP[found[0]]
    return None


def theme_of(statement: str) -> str | None:
    """Return the theme a canonical quality statement belongs to."""
    return next((theme for theme, group in THEMES.items() if statement in group), None)


def canonical_theme(text: str) -> str | None:
    """Return the canonical theme name a heading names, or None."""
    return _THEME_LOOKUP.get(fold(text))


def rating_for_percent(percent: int) -> str | None:
    """Return the overall rating the CQC band rule gives a percentage (None below 25%)."""
    return next((rating for low, rating in RATING_BANDS if percent >= low), None)


def percent_for_scores(scores: list[int]) -> int:
    """Return the nine scores summed as a rounded percentage of 36."""
    return round(sum(scores) / 36 * 100)


def canonical_grade(text: str) -> str | None:
    """Return the canonical Ofsted grade for printed wording ('requires improvement' included)."""
    key = fold(text)
    if key.startswith("requires improvement"):
        return "Requires improvement to be good"
    return next((g for g in GRADES if fold(g) == key), None)


def grade_rank(grade: str) -> int:
    """Return a grade's rank, higher is better; -1 for an unknown grade."""
    return GRADES.index(grade) if grade in GRADES else -1


def judgement_in(text: str) -> str | None:
    """Return the canonical judgement a sentence or heading names, or None."""
    key = fold(text)
    return next((name for phrase, name in JUDGEMENT_PHRASES if phrase in key), None)


_AUTHORITY_PREFIXES = ("london borough of ", "royal borough of ", "the ")
_AUTHORITY_SUFFIXES = (
    " metropolitan borough council",
    " county borough council",
    " borough council",
    " county council",
    " city council",
    " district council",
    " council",
)


def canonical_authority(name: str) -> str:
    """Return one spelling for an authority named in any of the usual ways: 'London Borough of
    Ealing', 'Ealing Council' -> 'Ealing'; 'Hammersmith & Fulham' -> 'Hammersmith and Fulham'."""
    text = re.sub(r"\s+", " ", name.replace("&", " and ")).strip(" .,:;")
    lowered = text.lower()
    for prefix in _AUTHORITY_PREFIXES:
        if lowered.startswith(prefix):
            text, lowered = text[len(prefix) :], lowered[len(prefix) :]
    for suffix in _AUTHORITY_SUFFIXES:
        if lowered.endswith(suffix):
            text = text[: -len(suffix)]
            break
    return text.strip()


def slug(text: str) -> str:
    """Return a file-name-safe, lower-case slug of text."""
    return fold(text).replace(" ", "-") or "unnamed"


def is_chrome(line: str) -> bool:
    """Return True for a line of site chrome (navigation, contact details, credits)."""
    stripped = line.strip()
    if fold(stripped) in CHROME_LINES:
        return True
    return any(p.search(stripped) for p in CHROME_PATTERNS)
