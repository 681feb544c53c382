"""Renderers: change records and reports -> terminal text, Markdown and JSON.

Every output reportwatch produces is rendered here from the same `Change` records, so the terminal,
a notification and the JSON a script reads always say the same thing.
"""

from __future__ import annotations

import json
import textwrap
from collections.abc import Callable, Sequence, Sized
from typing import Any

from reportwatch.model import Change, ChangeKind, Report, WordOp
from reportwatch.vocab import SCORE_LABELS

K = ChangeKind
WIDTH = 100
CONTEXT_WORDS = 6


def short_wording(value: int | str | None) -> str | None:
    """Return a score's wording without 'Evidence shows' ('some shortfalls', 'good standard')."""
    label = SCORE_LABELS.get(value) if isinstance(value, int) else None
    if label is None:
        return None
    words = label.removeprefix("Evidence shows ").split()
    return " ".join(words[1:] if words[0] in ("a", "an") else words)


def document_title(report: Report | None, document: str) -> str:
    """Return who and what a document is about ('Ealing · Learning, improvement and innovation')."""
    if report is None:
        return document
    who = report.authority or "(authority not named)"
    return f"{who} · {report.subject()}"


def arrow(change: Change) -> str:
    """Return 'old → new' for a change's values."""
    old = "none" if change.old is None else change.old
    new = "none" if change.new is None else change.new
    return f"{old} → {new}"


def headline(change: Change) -> str:
    """Return the one-line statement of a change, as the first line of a message would put it."""
    if change.kind is K.SCORE_CHANGED and change.where == "score":
        wording = f"{short_wording(change.old)} → {short_wording(change.new)}"
        return f"score {arrow(change)} ({wording})"
    if change.kind in (K.SCORE_CHANGED, K.GRADE_CHANGED, K.RATING_CHANGED):
        return f"{change.where}: {arrow(change)}"
    if change.kind is K.NEW_REPORT:
        return f"new report: {change.new}"
    if change.kind is K.REPUBLISHED:
        return f"republished with no change of substance ({change.where}: {arrow(change)})"
    labels = {
        K.FINDING_ADDED: "finding added",
        K.FINDING_REMOVED: "finding removed",
        K.FINDING_REWORDED: "finding reworded",
        K.FINDING_MOVED: "finding moved",
        K.IMPROVEMENT_ADDED: "improvement item added",
        K.IMPROVEMENT_REMOVED: "improvement item removed",
        K.SECTION_ADDED: "section added",
        K.SECTION_REMOVED: "section removed",
        K.FIELD_CHANGED: f"{change.where} changed",
    }
    where = "" if change.kind is K.FIELD_CHANGED else f" in {change.where}"
    if change.kind in (K.SECTION_ADDED, K.SECTION_REMOVED):
        where = f": {change.where}"
    return labels[change.kind] + where


def inline_words(words: Sequence[WordOp], deleted: str, inserted: str) -> str:
    """Return a word diff as one line: deletions and insertions wrapped in the given templates,
    long unchanged runs shortened to a few words of context with '…'."""
    parts = []
    for position, op in enumerate(words):
        if op.op == "-":
            parts.append(deleted.format(op.text))
        elif op.op == "+":
            parts.append(inserted.format(op.text))
        else:
            parts.append(context(op.text, first=position == 0, last=position == len(words) - 1))
    return " ".join(p for p in parts if p)


def context(text: str, first: bool, last: bool) -> str:
    """Return an unchanged run cut to the words next to the changes around it."""
    words = text.split()
    if len(words) <= 2 * CONTEXT_WORDS:
        return text
    head = [] if first else words[:CONTEXT_WORDS]
    tail = [] if last else words[-CONTEXT_WORDS:]
    return " ".join([*head, "…", *tail])


def detail(change: Change, deleted: str, inserted: str) -> str | None:
    """Return the body of a change beyond its headline: the words that changed, or the text."""
    if change.words:
        return inline_words(change.words, deleted, inserted)
    if change.kind in (K.FINDING_ADDED, K.IMPROVEMENT_ADDED, K.FINDING_MOVED):
        return str(change.new)
    if change.kind in (K.FINDING_REMOVED, K.IMPROVEMENT_REMOVED):
        return str(change.old)
    return None


def text_summary(title: str, changes: Sequence[Change], versions: str = "") -> str:
    """Return a document's change summary as terminal text, most important change first."""
    lines = [f"{title}{versions}"]
    for item in changes:
        lines.append(f"  {headline(item)}")
        body = detail(item, "[-{}-]", "{{+{}+}}")
        if body:
            lines.extend(
                textwrap.wrap(body, WIDTH, initial_indent="      ", subsequent_indent="      ")
            )
    return "\n".join(lines)


def markdown_summary(title: str, changes: Sequence[Change], versions: str = "") -> str:
    """Return a document's change summary as Markdown (chat messages, Prefect artifacts)."""
    lines = [f"**{title}**{versions}", ""]
    for item in changes:
        lines.append(f"- {headline(item)}")
        body = detail(item, "~~{}~~", "**{}**")
        if body:
            lines.append(f"  > {body}")
    return "\n".join(lines)


def report_rows(report: Report) -> list[tuple[str, str]]:
    """Return the (statement or judgement, score or grade) rows that summarise a report."""
    if report.score:
        return [(report.statement or "", f"{report.score.value} - {report.score.label}")]
    if report.kind == "summary":
        rows = [("Overall rating", rating_verdict(report))]
        return rows + [(k, str(v)) for k, v in report.statement_scores.items()]
    return [(k, v) for k, v in report.grades.items()]


def rating_verdict(report: Report) -> str:
    """Return a summary's overall rating and percentage, flagged when they break the band rule:
    'Requires improvement (67%) - band rule mismatch: 67% is Good, not Requires improvement'."""
    percent = f" ({report.overall_percent}%)" if report.overall_percent is not None else ""
    verdict = f"{report.overall_rating or 'no rating'}{percent}"
    if report.rating_mismatch:
        return f"{verdict} - band rule mismatch: {report.rating_mismatch}"
    return verdict


def table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    """Return rows as a plain text table with aligned columns."""
    widths = [max(len(str(r[i])) for r in [header, *rows]) for i in range(len(header))]

    def line(row: Sequence[str]) -> str:
        return "  ".join(str(c).ljust(w) for c, w in zip(row, widths, strict=True)).rstrip()

    return "\n".join([line(header), *(line(r) for r in rows)])


def report_text(report: Report) -> str:
    """Return a whole normalized report as readable text (for `reportwatch show`)."""
    lines = [
        f"{report.regulator} · {report.framework}",
        f"Authority: {report.authority or '(not named)'}",
    ]
    lines += [f"{name}: {value}" for name, value in report_rows(report)]
    if report.theme:
        lines.append(f"Theme: {report.theme}")
    for label, value in report.publication.model_dump(exclude_none=True).items():
        lines.append(f"{label.replace('_', ' ').capitalize()}: {value}")
    if report.commitment:
        lines += ["", "The local authority commitment", wrap(report.commitment)]
    for section in report.sections:
        lines += ["", f"## {section.title}"]
        for finding in section.findings:
            prefix = "- " if finding.kind == "bullet" else ""
            lines += ["", wrap(prefix + finding.text)]
    lines += [f"note: {note}" for note in report.notes]
    return "\n".join(lines)


def more_after_first(items: Sized) -> str:
    """Return how many items follow the first, as ' (+2 more)', or '' for one item or none."""
    return f" (+{len(items) - 1} more)" if len(items) > 1 else ""


def counted(number: int, noun: str) -> str:
    """Return '1 message', '2 messages'."""
    return f"{number} {noun}{'' if number == 1 else 's'}"


def wrap(text: str) -> str:
    """Return text wrapped to the terminal width."""
    return "\n".join(textwrap.wrap(text, WIDTH)) or text


def to_json(value: Any) -> str:
    """Return a value (models included) as indented JSON for `--json` output."""
    return json.dumps(value, indent=2, ensure_ascii=False, default=_plain)


def _plain(value: Any) -> Any:
    dump: Callable[..., Any] | None = getattr(value, "model_dump", None)
    if dump is not None:
        return dump(mode="json")
    raise TypeError(f"not JSON serializable: {type(value).__name__}")
