"""Diff stage: two versions of one report -> typed change records.

Scores, grades, ratings and other fields are compared with deepdiff; findings are aligned between
versions (identical text first, then by similarity), so a reworded paragraph is one `reworded`
record with the words that changed, a paragraph that moved is a `moved` record, and only what has
no counterpart is `added` or `removed`.
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass
from typing import Any

from reportwatch.model import Change, ChangeKind, Report, Severity, WordOp, change_sort_key
from reportwatch.vocab import grade_rank

K = ChangeKind
SEVERITY: dict[ChangeKind, Severity] = {
    K.NEW_REPORT: Severity.HIGH,
    K.RATING_CHANGED: Severity.HIGH,
    K.SCORE_CHANGED: Severity.HIGH,
    K.GRADE_CHANGED: Severity.HIGH,
    K.IMPROVEMENT_ADDED: Severity.MEDIUM,
    K.IMPROVEMENT_REMOVED: Severity.MEDIUM,
    K.FINDING_ADDED: Severity.MEDIUM,
    K.FINDING_REMOVED: Severity.MEDIUM,
    K.FINDING_REWORDED: Severity.MEDIUM,
    K.FIELD_CHANGED: Severity.MEDIUM,
    K.SECTION_ADDED: Severity.MEDIUM,
    K.SECTION_REMOVED: Severity.MEDIUM,
    K.FINDING_MOVED: Severity.LOW,
    K.REPUBLISHED: Severity.LOW,
}
IMPROVEMENT_SECTIONS = {"What needs to improve"}
REWORD_THRESHOLD = 60.0  # % similarity at or above which two findings are one, reworded
_FIELD_PATH = re.compile(r"^root\['(?P<field>[^']+)'\](?:\['(?P<item>[^']+)'\])?")


def change(kind: ChangeKind, document: str, where: str, **fields: Any) -> Change:
    """Return a change record of a kind, with that kind's severity."""
    return Change(kind=kind, severity=SEVERITY[kind], document=document, where=where, **fields)


def new_report(report: Report, document: str) -> list[Change]:
    """Return the record of a document seen for the first time."""
    return [change(K.NEW_REPORT, document, report.subject(), new=headline(report))]


def headline(report: Report) -> str:
    """Return the one-line verdict of a report: its score, rating or overall grade."""
    if report.score:
        return f"{report.score.value} - {report.score.label}"
    if report.overall_rating:
        percent = f" ({report.overall_percent}%)" if report.overall_percent is not None else ""
        return f"{report.overall_rating}{percent}"
    return ", ".join(f"{k}: {v}" for k, v in report.grades.items())


def diff_reports(old: Report, new: Report, document: str) -> list[Change]:
    """Return the change records between two versions of a document, most important first.
    An empty list means nothing of substance or metadata changed."""
    changes = field_changes(old, new, document) + finding_changes(old, new, document)
    changes += publication_changes(old, new, document)
    return sorted(changes, key=change_sort_key)


# --- scores, grades, ratings, fields --------------------------------------------------------


def scored_fields(report: Report) -> dict[str, Any]:
    """Return the fields compared as values (not as findings), in a shape deepdiff walks."""
    return {
        "overall_rating": report.overall_rating,
        "overall_percent": report.overall_percent,
        "score": report.score.value if report.score else None,
        "grades": dict(report.grades),
        "statement_scores": dict(report.statement_scores),
        "statement": report.statement,
        "commitment": report.commitment,
        "expectations": list(report.expectations),
        "authority": report.authority,
    }


def field_changes(old: Report, new: Report, document: str) -> list[Change]:
    """Return the records of changed scores, grades, ratings and fields."""
    # imported here: deepdiff takes a tenth of a second to import, and a run where nothing
    # changed (every answer a 304) never diffs
    from deepdiff import DeepDiff

    before, after = scored_fields(old), scored_fields(new)
    result = DeepDiff(before, after, view="tree")
    paths: set[tuple[str, str | None]] = set()
    for items in result.values():
        for item in items:
            match = _FIELD_PATH.match(item.path())
            if match:
                paths.add((match["field"], match["item"]))
    records = []
    for field, item in sorted(paths, key=lambda p: (p[0], p[1] or "")):
        old_value = before[field].get(item) if item else before[field]
        new_value = after[field].get(item) if item else after[field]
        records.append(field_change(field, item, old_value, new_value, document))
    return records


def direction(old: int | None, new: int | None) -> str | None:
    """Return 'up' or 'down' for a move between two ranks, None if either is missing."""
    if old is None or new is None or old == new:
        return None
    return "up" if new > old else "down"


def field_change(field: str, item: str | None, old: Any, new: Any, document: str) -> Change:
    """Return the record of one changed field (item: the grade or statement within it)."""
    if field == "score":
        return change(
            K.SCORE_CHANGED, document, "score", old=old, new=new, direction=direction(old, new)
        )
    if field == "statement_scores":
        return change(
            K.SCORE_CHANGED,
            document,
            f"score: {item}",
            old=old,
            new=new,
            direction=direction(old, new),
        )
    if field == "grades":
        rank_old = grade_rank(old) if old else None
        rank_new = grade_rank(new) if new else None
        return change(
            K.GRADE_CHANGED,
            document,
            item or "grade",
            old=old,
            new=new,
            direction=direction(rank_old, rank_new),
        )
    if field == "overall_rating":
        return change(K.RATING_CHANGED, document, "overall rating", old=old, new=new)
    if field == "overall_percent":
        return change(
            K.SCORE_CHANGED,
            document,
            "overall score %",
            old=old,
            new=new,
            direction=direction(old, new),
        )
    if field == "expectations":
        old, new = "\n".join(old), "\n".join(new)
    return change(
        K.FIELD_CHANGED,
        document,
        field,
        old=old,
        new=new,
        words=word_diff(str(old or ""), str(new or "")) if old and new else (),
    )


def publication_changes(old: Report, new: Report, document: str) -> list[Change]:
    """Return a low-importance record when only publication dates or the title changed."""
    before = old.publication.model_dump(exclude_none=True)
    after = new.publication.model_dump(exclude_none=True)
    if before == after:
        return []
    fields = sorted(set(before) | set(after))
    changed = [f for f in fields if before.get(f) != after.get(f)]
    return [
        change(
            K.REPUBLISHED,
            document,
            ", ".join(changed),
            old="; ".join(str(before.get(f)) for f in changed),
            new="; ".join(str(after.get(f)) for f in changed),
        )
    ]


# --- findings -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Item:
    """A finding in context: its section, its position there and its text."""

    section: str
    index: int
    text: str


def items_of(report: Report, skip: set[str]) -> list[Item]:
    """Return the findings of a report as items, leaving out the sections named in `skip`."""
    return [
        Item(section.title, index, finding.text)
        for section in report.sections
        if section.title not in skip
        for index, finding in enumerate(section.findings)
    ]


def reflowed_sections(old: Report, new: Report) -> set[str]:
    """Return the titles of sections whose text is the same in both versions, however it is split
    into paragraphs: a reflow is not a change."""

    def texts(report: Report) -> dict[str, str]:
        return {s.title: " ".join(f.text for f in s.findings) for s in report.sections}

    before, after = texts(old), texts(new)
    return {title for title, text in before.items() if after.get(title) == text}


def finding_changes(old: Report, new: Report, document: str) -> list[Change]:
    """Return the records of findings added, removed, reworded and moved, and of sections added
    and removed."""
    unchanged = reflowed_sections(old, new)
    old_items, new_items = items_of(old, unchanged), items_of(new, unchanged)
    pairs, old_left, new_left = match_identical(old_items, new_items)
    records = moved_records(pairs, document)
    old_left, new_left = drop_splits(old_left, new_left)
    new_left, old_left = drop_splits(new_left, old_left)
    reworded, old_left, new_left = match_similar(old_left, new_left)
    for before, after in reworded:
        records.append(
            change(
                K.FINDING_REWORDED,
                document,
                after.section,
                old=before.text,
                new=after.text,
                words=word_diff(before.text, after.text),
            )
        )
    for item in old_left:
        kind = K.IMPROVEMENT_REMOVED if item.section in IMPROVEMENT_SECTIONS else K.FINDING_REMOVED
        records.append(change(kind, document, item.section, old=item.text))
    for item in new_left:
        kind = K.IMPROVEMENT_ADDED if item.section in IMPROVEMENT_SECTIONS else K.FINDING_ADDED
        records.append(change(kind, document, item.section, new=item.text))
    return records + section_records(old, new, document)


def match_identical(
    old: list[Item], new: list[Item]
) -> tuple[list[tuple[Item, Item]], list[Item], list[Item]]:
    """Pair findings whose text is identical, preferring the same section and nearest position.
    Returns the pairs and what is left unpaired on each side."""
    by_text: dict[str, list[Item]] = {}
    for item in old:
        by_text.setdefault(item.text, []).append(item)
    pairs, new_left = [], []
    for item in new:
        candidates = by_text.get(item.text)
        if not candidates:
            new_left.append(item)
            continue
        best = min(candidates, key=lambda c: (c.section != item.section, abs(c.index - item.index)))
        candidates.remove(best)
        pairs.append((best, item))
    old_left = [i for group in by_text.values() for i in group]
    old_left.sort(key=lambda i: (i.section, i.index))
    return pairs, old_left, new_left


def moved_records(pairs: list[tuple[Item, Item]], document: str) -> list[Change]:
    """Return `moved` records for identical findings that changed section or relative order.
    Within a section, the longest run kept in order stays put; the others moved."""
    records = []
    by_section: dict[str, list[tuple[Item, Item]]] = {}
    for before, after in pairs:
        if before.section != after.section:
            records.append(
                change(K.FINDING_MOVED, document, after.section, old=before.section, new=after.text)
            )
        else:
            by_section.setdefault(after.section, []).append((before, after))
    for section, group in by_section.items():
        group.sort(key=lambda pair: pair[1].index)
        kept = longest_increasing([before.index for before, _ in group])
        for position, (_, after) in enumerate(group):
            if position not in kept:
                records.append(
                    change(K.FINDING_MOVED, document, section, old=section, new=after.text)
                )
    return records


def longest_increasing(values: list[int]) -> set[int]:
    """Return the positions of one longest strictly increasing subsequence of values."""
    best: list[list[int]] = []
    for position, value in enumerate(values):
        chains = [chain for chain in best if values[chain[-1]] < value]
        longest: list[int] = max(chains, key=len) if chains else []
        best.append([*longest, position])
    if not best:
        return set()
    winner: list[int] = max(best, key=len)
    return set(winner)


def drop_splits(whole: list[Item], parts: list[Item]) -> tuple[list[Item], list[Item]]:
    """Drop each unpaired finding of `whole` whose text is a run of consecutive unpaired findings
    of `parts` in the same section (a paragraph split in two, or two merged: a reflow, not a
    change), and drop that run too. Returns what is left of both."""
    runs: dict[str, list[Item]] = {}
    for item in parts:
        runs.setdefault(item.section, []).append(item)
    used: set[int] = set()
    kept = []
    for item in whole:
        run = joined_run(runs.get(item.section, []), item.text)
        if run:
            used.update(id(part) for part in run)
        else:
            kept.append(item)
    return kept, [part for part in parts if id(part) not in used]


def joined_run(items: list[Item], text: str) -> list[Item]:
    """Return the run of two or more items at consecutive positions whose texts, joined with
    spaces, equal `text` ([] when there is none)."""
    for start, first in enumerate(items):
        if not text.startswith(first.text):
            continue
        joined, run = first.text, [first]
        for item in items[start + 1 :]:
            if item.index != run[-1].index + 1 or not text.startswith(f"{joined} {item.text}"):
                break
            joined, run = f"{joined} {item.text}", [*run, item]
            if joined == text:
                return run
    return []


def match_similar(
    old: list[Item], new: list[Item]
) -> tuple[list[tuple[Item, Item]], list[Item], list[Item]]:
    """Pair leftover findings that are rewordings of each other (similarity at or above the
    threshold, most similar first, the same section preferred). Returns the pairs and what is
    left on each side."""
    if not old or not new:
        return [], old, new
    from rapidfuzz import fuzz  # here: a run of unchanged documents never needs it

    candidates = []
    for a, before in enumerate(old):
        for b, after in enumerate(new):
            score = fuzz.ratio(before.text, after.text, score_cutoff=REWORD_THRESHOLD)
            if score:
                candidates.append((score + (5.0 if before.section == after.section else 0.0), a, b))
    used_old: set[int] = set()
    used_new: set[int] = set()
    pairs = []
    for _, a, b in sorted(candidates, reverse=True):
        if a not in used_old and b not in used_new:
            used_old.add(a)
            used_new.add(b)
            pairs.append((old[a], new[b]))
    pairs.sort(key=lambda pair: (pair[1].section, pair[1].index))
    old_left = [item for a, item in enumerate(old) if a not in used_old]
    new_left = [item for b, item in enumerate(new) if b not in used_new]
    return pairs, old_left, new_left


def section_records(old: Report, new: Report, document: str) -> list[Change]:
    """Return records of sections present in only one of the versions."""
    before = [s.title for s in old.sections]
    after = [s.title for s in new.sections]
    removed = [change(K.SECTION_REMOVED, document, t, old=t) for t in before if t not in after]
    added = [change(K.SECTION_ADDED, document, t, new=t) for t in after if t not in before]
    return removed + added


def word_diff(old: str, new: str) -> tuple[WordOp, ...]:
    """Return the word-level difference between two texts as kept/deleted/inserted runs."""
    a, b = old.split(), new.split()
    ops: list[WordOp] = []
    matcher = difflib.SequenceMatcher(None, a, b, autojunk=False)
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag == "equal":
            ops.append(WordOp(op="=", text=" ".join(a[i1:i2])))
            continue
        if i2 > i1:
            ops.append(WordOp(op="-", text=" ".join(a[i1:i2])))
        if j2 > j1:
            ops.append(WordOp(op="+", text=" ".join(b[j1:j2])))
    return tuple(ops)
