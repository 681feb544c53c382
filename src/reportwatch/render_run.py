"""Renders a run and the store for the terminal and for scripts: the ingest table and tally,
the notifications sent, the listings of `history`. Built on `render`, from the same records."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from reportwatch import render
from reportwatch.model import Change
from reportwatch.notify import Delivery
from reportwatch.pipeline import Outcome, RunResult
from reportwatch.store import Store


def ingest_json(result: RunResult) -> dict[str, Any]:
    """Return an ingest run as the JSON scripts read: each input, its report and its changes."""
    documents = [
        {
            "location": o.location,
            "status": o.status,
            "document": o.document,
            "version": o.version,
            "error": o.error,
            "report": o.report,
            "changes": o.changes,
        }
        for o in result.outcomes
    ]
    deliveries = [d.__dict__ for d in result.deliveries]
    return {"documents": documents, "summary": result.tally(), "notifications": deliveries}


def outcome_rows(outcome: Outcome) -> list[list[str]]:
    """Return the table rows of one ingested document: one per statement or judgement."""
    report = outcome.report
    if report is None:
        return []
    status = f"{outcome.status} (v{outcome.version})"
    rows = []
    for index, (subject, verdict) in enumerate(render.report_rows(report)):
        first = index == 0
        rows.append(
            [
                (report.authority or "(not named)") if first else "",
                report.regulator if first else "",
                subject,
                verdict,
                status if first else "",
            ]
        )
    return rows


def ingest_text(result: RunResult) -> str:
    """Return an ingest run for the terminal: the table, each change summary, the tally."""
    rows = [row for outcome in result.outcomes for row in outcome_rows(outcome)]
    header = ["AUTHORITY", "REGULATOR", "STATEMENT / JUDGEMENT", "SCORE / GRADE", "STATUS"]
    parts = [render.table(header, rows)] if rows else []
    for outcome in result.outcomes:
        if outcome.status == "changed":
            title = render.document_title(outcome.report, outcome.document or outcome.location)
            parts.append(render.text_summary(title, outcome.changes, f" (v{outcome.version})"))
    notes = [
        f"note: {o.location}: {note}"
        for o in result.outcomes
        if o.report is not None
        for note in o.report.notes
    ]
    if notes:
        parts.append("\n".join(notes))
    line = result.tally_line()
    parts.append(line if result.changed() else f"{line}\nno changes")
    sent = deliveries_text(result.deliveries)
    return "\n\n".join(parts + ([sent] if sent else []))


def deliveries_text(deliveries: list[Delivery]) -> str:
    """Return one line a channel that was sent something:
    'notified outbox: 1 message, 5 events → snapshots/outbox/'."""
    lines = []
    for d in deliveries:
        if d.messages:
            sent = f"{render.counted(d.messages, 'message')}, {render.counted(d.events, 'event')}"
            lines.append(f"notified {d.channel}: {sent} → {d.where}")
    return "\n".join(lines)


def documents_listing(store: Store, as_json: bool) -> str:
    """Return every stored document with its version count, latest time and verdict."""
    rows = []
    for key in store.documents():
        latest = store.head(key)
        assert latest is not None
        verdicts = render.report_rows(latest.report)
        verdict = verdicts[0][1] if verdicts else ""
        rows.append([key, str(latest.meta.version), latest.meta.ingested_at, verdict])
    if as_json:
        fields = ("document", "versions", "latest", "verdict")
        return render.to_json([dict(zip(fields, row, strict=True)) for row in rows])
    if not rows:
        return "no documents stored"
    return render.table(["DOCUMENT", "VERSIONS", "LATEST", "SCORE / GRADE"], rows)


def versions_listing(store: Store, key: str, as_json: bool) -> str:
    """Return the versions of one document, each with its most important change."""
    versions = [store.load(key, n) for n in store.versions(key)]
    if as_json:
        return render.to_json(
            [{"version": v.meta.version, "meta": v.meta, "changes": v.changes} for v in versions]
        )
    rows = [
        [f"v{v.meta.version}", v.meta.ingested_at, v.meta.source, changes_headline(v.changes)]
        for v in versions
    ]
    listing = render.table(["VERSION", "INGESTED", "SOURCE", "CHANGES"], rows)
    return "\n".join([key, *("  " + line for line in listing.splitlines())])


def changes_headline(changes: Sequence[Change]) -> str:
    """Return a version's most important change and how many more there are:
    'score 2 → 3 (some shortfalls → good standard) (+1 more)', or 'no changes'."""
    if not changes:
        return "no changes"
    return render.headline(changes[0]) + render.more_after_first(changes)
