"""The Atom feed of changes, written with the snapshots: `<store>/feed.atom`.

The feed is a channel like any other (see `notify`): each event it is sent becomes one entry,
kept in `<store>/feed.json` (newest first, at most `feed_entries`) and rendered to Atom with
feedgen. An entry's id is its event's, so sending an event again replaces its entry.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from reportwatch.errors import StoreError
from reportwatch.messages import LinkFor, Message, render_message
from reportwatch.store import Store
from reportwatch.store_files import to_json, write_atomic

FEED_ID = "tag:reportwatch,2025:changes"


def feed_entries(store: Store) -> list[dict[str, Any]]:
    """Return the feed's kept entries, newest first ([] before the first)."""
    path = store.root / "feed.json"
    if not path.exists():
        return []
    try:
        entries = json.loads(path.read_bytes())
    except ValueError as exc:
        raise StoreError(f"{path}: not valid JSON ({exc})") from exc
    if not isinstance(entries, list) or not all(isinstance(e, dict) for e in entries):
        raise StoreError(f"{path}: not a list of feed entries")
    return entries


def entry(message: Message) -> dict[str, Any]:
    """Return the feed entry of a one-event message."""
    event = message.events[0]
    return {
        "id": event.id,
        "title": message.title,
        "updated": event.at,
        "link": event.source,
        "html": message.html,
    }


def add_to_feed(store: Store, message: Message, link_for: LinkFor, keep: int) -> None:
    """Add a message's events to the feed, one entry each (replacing entries of the same id),
    and rewrite feed.json and feed.atom atomically."""
    newest = sorted(message.events, key=lambda event: event.at)[-keep:]
    fresh = [entry(render_message("feed", [event], link_for)) for event in newest]
    ids = {e["id"] for e in fresh}
    kept = [e for e in feed_entries(store) if e["id"] not in ids]
    # a stable sort: entries of the same moment keep the order they were sent in, newest first
    entries = sorted([*reversed(fresh), *kept], key=lambda e: e["updated"], reverse=True)[:keep]
    write_atomic(store.root / "feed.json", to_json(entries))
    write_atomic(store.root / "feed.atom", atom(entries))


def atom(entries: Sequence[dict[str, Any]]) -> bytes:
    """Return entries as an Atom feed document."""
    from feedgen.feed import FeedGenerator  # type: ignore[import-untyped]  # only when writing

    generator = FeedGenerator()
    generator.id(FEED_ID)
    generator.title("reportwatch: what changed in the inspection reports you watch")
    newest = entries[0]["updated"] if entries else datetime.now(UTC).isoformat()
    generator.updated(aware(newest))
    for item in reversed(entries):  # feedgen puts the last added first
        feed_entry = generator.add_entry()
        feed_entry.id(f"tag:reportwatch,2025:{item['id']}")
        feed_entry.title(item["title"])
        feed_entry.updated(aware(item["updated"]))
        feed_entry.link(href=item["link"])
        feed_entry.content(item["html"], type="html")
    document: bytes = generator.atom_str(pretty=True)
    return document


def aware(moment: str) -> datetime:
    """Return an ISO time as a timezone-aware datetime (UTC when it names no zone)."""
    parsed = datetime.fromisoformat(moment)
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
