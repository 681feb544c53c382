"""The words the benchmark corpus is made of: the CQC commitments and "I" statements, evidence
areas, and pools of real report sentences taken from seeds/ and the Ofsted PDFs in tests/fixtures
(with the authority's name replaced), so that generated pages read like the real ones."""

from __future__ import annotations

import re
from functools import cache
from pathlib import Path

from reportwatch.fetch import Fetched
from reportwatch.normalize import Defaults
from reportwatch.pipeline import parse
from reportwatch.vocab import THEMES, theme_of

ROOT = Path(__file__).resolve().parent.parent
SEEDS = ROOT / "seeds"
OFSTED_FIXTURES = ROOT / "tests" / "fixtures" / "ofsted"
AUTHORITY_MARK = "{authority}"

COMMITMENTS = {
    "Assessing needs": "We maximise the effectiveness of people's care and treatment by assessing and reviewing their health, care, wellbeing and communication needs with them.",
    "Supporting people to live healthier lives": "We support people to manage their health and wellbeing so they can maximise their independence, choice and control. We support them to live healthier lives and where possible, reduce future needs for care and support.",
    "Equity in experience and outcomes": "We actively seek out and listen to information about people who are most likely to experience inequality in experience or outcomes. We tailor the care, support and treatment in response to this.",
    "Care provision, integration and continuity": "We understand the diverse health and care needs of people and our local communities, so care is joined-up, flexible and supports choice and continuity.",
    "Partnerships and communities": "We understand our duty to collaborate and work in partnership, so our services work seamlessly for people. We share information and learning with partners and collaborate for improvement.",
    "Safe systems, pathways and transitions": "We work with people and our partners to establish and maintain safe systems of care, in which safety is managed, monitored and assured. We ensure continuity of care, including when people move between different services.",
    "Safeguarding": "We work with people to understand what being safe means to them as well as with our partners on the best way to achieve this. We concentrate on improving people's lives while protecting their right to live in safety, free from bullying, harassment, abuse, discrimination, avoidable harm and neglect.",
    "Governance, management and sustainability": "We have clear responsibilities, roles, systems of accountability and good governance to manage and deliver good quality, sustainable care, treatment and support. We act on the best information about risk, performance and outcomes, and we share this securely with others when appropriate.",
    "Learning, improvement and innovation": "We focus on continuous learning, innovation and improvement across our organisation and the local system. We encourage creative ways of delivering equality of experience, outcome and quality of life for people. We actively contribute to safe, effective practice and research.",
}  # fmt: skip

I_STATEMENTS = {
    "Working with people": (
        "I have care and support that is coordinated, and everyone works well together and with me.",
        "I have care and support that enables me to live as I want to, seeing me as a unique person with skills, strengths and goals.",
    ),
    "Providing support": (
        "I can get information and advice about my health, care and support and how I can be as well as possible – physically, mentally and emotionally.",
        "I have care and support that is coordinated, and everyone works well together and with me.",
    ),
    "Ensuring safety": (
        "I feel safe and am supported to understand and manage any risks.",
        "When I move between services, settings or areas, there is a plan for what happens next and who will do what, and all the practical arrangements are in place.",
    ),
}  # fmt: skip

EVIDENCE_AREAS = {
    "Working with people": (
        "Assessment, care planning and review", "Timeliness of assessments", "Support for unpaid carers",
        "Eligibility decisions for care and support", "Financial assessment and charging",
        "Provision of accessible information and advice", "Direct payments",
    ),
    "Providing support": (
        "Understanding local needs for care and support", "Market shaping and commissioning",
        "Ensuring sufficiency of care", "Partnership working to deliver shared local and national objectives",
        "Working with voluntary and charity sector groups",
    ),
    "Ensuring safety": (
        "Safety management", "Safety during transitions", "Contingency planning",
        "Safeguarding systems, processes and practices", "Responding to concerns and undertaking Section 42 enquiries",
    ),
    "Leadership": (
        "Governance, accountability and risk management", "Strategic planning", "Information security",
        "Continuous learning, improvement and professional development", "Learning from feedback",
    ),
}  # fmt: skip

NAMES = ("Hammersmith and Fulham", "Hammersmith & Fulham", "London Borough of Ealing", "Ealing")
_SENTENCE_END = re.compile(r"(?<=[a-z0-9)’'])\. (?=[A-Z])")


def sentences(text: str) -> list[str]:
    """Return the sentences of a paragraph, each ending with its full stop."""
    parts = [p.strip() for p in _SENTENCE_END.split(text) if p.strip()]
    return [p if p.endswith((".", "?", "!")) else p + "." for p in parts]


def with_mark(text: str) -> str:
    """Return text with the seed authorities' names replaced by the authority mark."""
    for name in NAMES:
        text = text.replace(name, AUTHORITY_MARK)
    return text


def usable(sentence: str) -> bool:
    """Return True for a sentence that reads on its own (no list lead-in, no orphan fragment)."""
    return 60 <= len(sentence) <= 400 and not sentence.endswith(":") and sentence[0].isupper()


@cache
def cqc_sentences() -> tuple[str, ...]:
    """Return the finding sentences of the CQC statement seeds, names marked, each once."""
    found: dict[str, None] = {}
    for path in sorted(SEEDS.glob("*.txt")):
        report = parse(Fetched(str(path), path.read_bytes()), Defaults())
        if report.regulator != "CQC":
            continue
        for section in report.sections:
            for finding in section.findings:
                found.update(dict.fromkeys(with_mark(s) for s in sentences(finding.text)))
    return tuple(s for s in found if usable(s))


@cache
def ofsted_sentences() -> tuple[str, ...]:
    """Return the sentences of the Ofsted reports in tests/fixtures, names marked, each once."""
    found: dict[str, None] = {}
    for path in sorted(OFSTED_FIXTURES.glob("*.pdf")):
        report = parse(Fetched(str(path), path.read_bytes()), Defaults())
        mark = report.authority or ""
        for section in report.sections:
            for finding in section.findings:
                text = finding.text.replace(mark, AUTHORITY_MARK) if mark else finding.text
                found.update(dict.fromkeys(sentences(text)))
    return tuple(s for s in found if usable(s) and "’" not in s[:1])


def theme_for(statement: str) -> str:
    """Return the theme of a canonical statement name."""
    theme = theme_of(statement)
    assert theme in THEMES, statement
    return theme
