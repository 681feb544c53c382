"""The typed model: every stage speaks in these types.

A `Report` is one normalized document (a CQC quality statement page, a CQC summary page, an Ofsted
ILACS report or a news item about one). A `Change` is one typed difference between two versions of
the same document; every output (terminal, Markdown, JSON, notifications) renders `Change` records.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Literal

from pydantic import AliasChoices, BaseModel, ConfigDict, Field

REPORT_SCHEMA = 1


class Frozen(BaseModel):
    """Base for immutable model types."""

    model_config = ConfigDict(frozen=True, extra="forbid")


class Finding(Frozen):
    """One paragraph or bullet item of a report."""

    kind: Literal["paragraph", "bullet"] = "paragraph"
    text: str


class Section(Frozen):
    """A titled group of findings (an evidence area, a judgement, 'What needs to improve')."""

    title: str
    findings: tuple[Finding, ...] = ()


class Score(Frozen):
    """A CQC quality statement score with its printed wording."""

    value: int
    label: str


class Publication(Frozen):
    """Publication metadata: kept, shown, but never a finding."""

    title: str | None = None
    published: str | None = None
    last_updated: str | None = None
    inspection_dates: str | None = None
    lead_inspector: str | None = None


class SourceInfo(Frozen):
    """Where a document came from and how it was read."""

    location: str
    media_type: str = "text/plain"


class Report(Frozen):
    """One normalized inspection document."""

    schema_version: int = REPORT_SCHEMA
    regulator: Literal["CQC", "Ofsted"]
    framework: str
    kind: Literal["statement", "summary", "ilacs"]
    authority: str | None = None
    authority_from: Literal["document", "config"] | None = None
    statement: str | None = None
    theme: str | None = None
    score: Score | None = None
    statement_scores: dict[str, int] = Field(default_factory=dict)
    overall_rating: str | None = None
    overall_percent: int | None = None
    # How a CQC summary page breaks the band rule (rating, percentage, nine scores); None if not.
    rating_mismatch: str | None = None
    grades: dict[str, str] = Field(default_factory=dict)
    commitment: str | None = None
    expectations: tuple[str, ...] = ()
    sections: tuple[Section, ...] = ()
    publication: Publication = Publication()
    source: SourceInfo
    notes: tuple[str, ...] = ()

    def subject(self) -> str:
        """Return what the document is about: the statement, or the judgement set."""
        if self.kind == "statement" and self.statement:
            return self.statement
        if self.kind == "summary":
            return "Summary"
        return "Children's services inspection (ILACS)"


class Severity(StrEnum):
    """How much a change matters to a reader; ordered high to low."""

    HIGH = "high"
    MEDIUM = "medium"
    LOW = "low"


class ChangeKind(StrEnum):
    """What kind of change a record describes, in the order summaries present them."""

    NEW_REPORT = "new_report"
    RATING_CHANGED = "rating_changed"
    SCORE_CHANGED = "score_changed"
    GRADE_CHANGED = "grade_changed"
    IMPROVEMENT_ADDED = "improvement_added"
    IMPROVEMENT_REMOVED = "improvement_removed"
    FINDING_ADDED = "finding_added"
    FINDING_REMOVED = "finding_removed"
    FINDING_REWORDED = "finding_reworded"
    FIELD_CHANGED = "field_changed"
    SECTION_ADDED = "section_added"
    SECTION_REMOVED = "section_removed"
    FINDING_MOVED = "finding_moved"
    REPUBLISHED = "republished"


class WordOp(Frozen):
    """One piece of a word-level diff: kept, deleted or inserted text."""

    op: Literal["=", "-", "+"]
    text: str


class Change(Frozen):
    """One typed difference between two versions of a document."""

    kind: ChangeKind
    severity: Severity
    document: str
    where: str
    old: str | int | None = None
    new: str | int | None = None
    direction: Literal["up", "down"] | None = None
    words: tuple[WordOp, ...] = ()


SEVERITY_ORDER = {Severity.HIGH: 0, Severity.MEDIUM: 1, Severity.LOW: 2}
KIND_ORDER = {kind: index for index, kind in enumerate(ChangeKind)}


def change_sort_key(change: Change) -> tuple[int, int]:
    """Return the sort key that puts what matters first: severity, then kind."""
    return SEVERITY_ORDER[change.severity], KIND_ORDER[change.kind]


class Event(Frozen):
    """One thing to tell people: a stored version and its change records, or a source that has
    failed several runs in a row, or recovered. `id` names it for good: a channel is sent each
    id once."""

    id: str
    kind: Literal["changes", "failing", "recovered"]
    at: str
    title: str
    source: str
    document: str | None = None
    version: int | None = None
    authority: str | None = None
    regulator: str | None = None
    tags: tuple[str, ...] = ()
    changes: tuple[Change, ...] = ()
    error: str | None = None
    failures: int = 0
    resent: bool = False


class VersionMeta(Frozen):
    """What a stored version records about itself besides the raw bytes and the report."""

    document: str
    version: int
    source: str
    media_type: str
    ingested_at: str
    raw_file: str
    raw_sha256: str
    report_sha256: str
    parser_version: str
    authority_from_config: str | None = None
    http: dict[str, str] = Field(default_factory=dict)


class Version(Frozen):
    """One stored version of a document: its metadata, normalized report and change records."""

    meta: VersionMeta
    report: Report
    changes: tuple[Change, ...] = ()


class SourceState(Frozen):
    """What the store remembers about one input between runs: its last document, the HTTP
    validators for conditional requests, and its run of consecutive failures (`failure_runs`
    counts such runs, so that each has a number of its own)."""

    location: str
    document: str | None = None
    validators: dict[str, str] = Field(default_factory=dict)
    consecutive_failures: int = 0
    failure_runs: int = 0
    last_error: str | None = None
    last_failure_at: str | None = None
    # when its current run of successes began: the moment a "recovered" alert gives. Not
    # rewritten while it keeps succeeding, so an unchanged input's state is not written at all.
    # (Stores before this change call it last_success_at.)
    succeeding_since: str | None = Field(
        default=None, validation_alias=AliasChoices("succeeding_since", "last_success_at")
    )
