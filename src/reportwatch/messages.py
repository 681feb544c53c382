"""Notification messages rendered from events: plain text, Markdown, HTML and JSON.

The first line of every message says what changed and for whom ("Hammersmith and Fulham ·
Learning, improvement and innovation: score 2 → 3 (some shortfalls → good standard)"); then the
changes, most important first, reworded findings with the changed words marked; then a link to
the source and to the stored versions. Every format renders the same change records.

The JSON form (webhooks) is a `Notification` below; its schema, versioned by `schema_version`, is
in docs/notification.schema.json.
"""

from __future__ import annotations

import hashlib
import html
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import cached_property

from pydantic import BaseModel, ConfigDict, Field

from reportwatch.model import Change, ChangeKind, Event, change_sort_key
from reportwatch.render import detail, headline, more_after_first

NOTIFICATION_SCHEMA = 1
MAX_DETAILED = 50


class NotifiedEvent(BaseModel):
    """One event as a webhook receives it."""

    model_config = ConfigDict(extra="forbid")

    id: str = Field(description="Stable id: a receiver may drop an id it has seen")
    kind: str = Field(description="changes | failing | recovered")
    at: str
    headline: str = Field(description="The event's first line: who, what, old → new")
    document: str | None = None
    version: int | None = None
    authority: str | None = None
    regulator: str | None = None
    tags: list[str] = []
    source: str
    versions_link: str | None = None
    changes: list[Change] = []
    error: str | None = None
    failures: int = 0
    resent: bool = Field(False, description="Sent before by a run interrupted mid-delivery")


class Notification(BaseModel):
    """A whole notification as a webhook receives it (the JSON format)."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    schema_name: str = Field("reportwatch.notification", alias="schema")
    schema_version: int = NOTIFICATION_SCHEMA
    id: str
    channel: str
    title: str
    events: list[NotifiedEvent]


LinkFor = Callable[[Event], str | None]


def event_line(event: Event) -> str:
    """Return an event's first line: who and what, then its most important change."""
    if event.kind == "failing":
        runs = "run" if event.failures == 1 else "runs in a row"
        return f"{event.title}: fetching failed {event.failures} {runs}: {event.error}"
    if event.kind == "recovered":
        return f"{event.title}: fetching works again"
    top = min(event.changes, key=change_sort_key)
    return f"{event.title}: {headline(top)}"


def message_title(events: Sequence[Event]) -> str:
    """Return a message's first line: its first event's, with how many more follow."""
    return event_line(events[0]) + more_after_first(events)


def message_id(channel: str, events: Sequence[Event]) -> str:
    """Return a message's id: the same channel and events always give the same id."""
    joined = "\n".join([channel, *(e.id for e in events)])
    return hashlib.sha256(joined.encode()).hexdigest()[:16]


def version_span(event: Event) -> str:
    """Return 'v1 → v2' (or 'v1' for a new document)."""
    if event.version is None:
        return ""
    return f"v{event.version - 1} → v{event.version}" if event.version > 1 else f"v{event.version}"


def ordered(event: Event) -> list[Change]:
    """Return an event's changes, most important first."""
    return sorted(event.changes, key=change_sort_key)


def listed(event: Event) -> list[Change]:
    """Return the changes a message lists under an event's first line (a new report's first
    line says all there is)."""
    return [c for c in ordered(event) if c.kind is not ChangeKind.NEW_REPORT]


@dataclass(frozen=True)
class Style:
    """How a line-based format (plain text, Markdown) marks up an event's parts."""

    heading: str
    deleted: str
    inserted: str
    quote: str
    resent: str
    gap: tuple[str, ...]
    markdown_links: bool

    def target(self, document: str, link: str | None) -> str:
        """Return the versions line's target: a link to the document's stored version."""
        if not self.markdown_links:
            return link or document
        return f"[{document}]({link})" if link else f"`{document}`"


PLAIN = Style("{}", "[-{}-]", "{{+{}+}}", "  {}", "(sent again: {})", (), False)
MARKDOWN = Style("**{}**", "~~{}~~", "**{}**", "  > {}", "\n_sent again: {}_", ("",), True)
RESENT = "an earlier run was interrupted while sending this"


def lines_block(event: Event, link: str | None, heading: bool, style: Style) -> list[str]:
    """Return one event as lines of plain text or Markdown."""
    lines = [style.heading.format(event_line(event)), *style.gap] if heading else []
    for change in listed(event):
        lines.append(f"- {headline(change)}")
        body = detail(change, style.deleted, style.inserted)
        if body:
            lines.append(style.quote.format(body))
    if event.resent:
        lines.append(style.resent.format(RESENT))
    lines += [*style.gap, f"Source: {event.source}"]
    if event.document:
        lines.append(f"Versions: {version_span(event)}: {style.target(event.document, link)}")
    return lines


def html_block(event: Event, link: str | None, heading: bool) -> list[str]:
    """Return one event as HTML lines."""
    esc = html.escape
    lines = [f"<h3>{esc(event_line(event))}</h3>"] if heading else []
    lines.append("<ul>")
    for change in listed(event):
        body = detail(change, "\0d{}\0/d", "\0i{}\0/i")
        quoted = f"<br><q>{marked_html(body)}</q>" if body else ""
        lines.append(f"<li>{esc(headline(change))}{quoted}</li>")
    lines.append("</ul>")
    if event.resent:
        lines.append(
            "<p><em>Sent again: an earlier run was interrupted while sending this.</em></p>"
        )
    source = esc(event.source)
    anchor = f'<a href="{source}">{source}</a>' if "://" in event.source else source
    lines.append(f"<p>Source: {anchor}")
    if event.document:
        name = esc(event.document)
        target = f'<a href="{esc(link)}">{name}</a>' if link else name
        lines.append(f"<br>Versions: {esc(version_span(event))}: {target}")
    lines.append("</p>")
    return lines


def marked_html(body: str) -> str:
    """Return a word diff as HTML: deletions in <del>, insertions in <ins>, the rest escaped."""
    escaped = html.escape(body)
    for token, tag in (("\0d", "<del>"), ("\0/d", "</del>"), ("\0i", "<ins>"), ("\0/i", "</ins>")):
        escaped = escaped.replace(token, tag)
    return escaped


def notified(event: Event, link: str | None) -> NotifiedEvent:
    """Return an event as the JSON format carries it."""
    return NotifiedEvent(
        id=event.id,
        kind=event.kind,
        at=event.at,
        headline=event_line(event),
        document=event.document,
        version=event.version,
        authority=event.authority,
        regulator=event.regulator,
        tags=list(event.tags),
        source=event.source,
        versions_link=link,
        changes=ordered(event),
        error=event.error,
        failures=event.failures,
        resent=event.resent,
    )


class Message:
    """One notification to deliver: its id, first line and events, and each format a channel
    may want, rendered when first asked for (the feed needs none of them)."""

    def __init__(self, channel: str, events: Sequence[Event], link_for: LinkFor) -> None:
        """Make the message of a channel about events; `link_for` gives a version's link."""
        self.channel = channel
        self.events = tuple(events)
        self.link_for = link_for
        self.id = message_id(channel, events)
        self.title = message_title(events)

    @cached_property
    def links(self) -> list[str | None]:
        """Return each event's link to its stored version."""
        return [self.link_for(e) for e in self.events]

    @cached_property
    def bodies(self) -> tuple[str, str, str]:
        """Return the body as plain text, Markdown and HTML. With one event the body is its
        details (the first line is the title); with several, each event has its own first line;
        past `MAX_DETAILED` events the bodies only count the rest (the JSON keeps them all)."""
        heading = len(self.events) > 1
        rest = len(self.events) - MAX_DETAILED
        text: list[str] = []
        markdown: list[str] = []
        markup: list[str] = []
        for event, link in zip(self.events[:MAX_DETAILED], self.links, strict=False):
            text += [*lines_block(event, link, heading, PLAIN), ""]
            markdown += [*lines_block(event, link, heading, MARKDOWN), ""]
            markup += html_block(event, link, heading)
        if rest > 0:
            more = f"… and {rest} more (see `reportwatch history` or the feed)"
            text.append(more)
            markdown.append(more)
            markup.append(f"<p>{html.escape(more)}</p>")
        return "\n".join(text).strip(), "\n".join(markdown).strip(), "\n".join(markup)

    @property
    def text(self) -> str:
        """Return the body as plain text."""
        return self.bodies[0]

    @property
    def markdown(self) -> str:
        """Return the body as Markdown (chat)."""
        return self.bodies[1]

    @property
    def html(self) -> str:
        """Return the body as HTML (email, the feed)."""
        return self.bodies[2]

    @cached_property
    def json(self) -> str:
        """Return the whole message as the JSON format (webhooks), every event included."""
        payload = Notification(
            id=self.id,
            channel=self.channel,
            title=self.title,
            events=[notified(e, link) for e, link in zip(self.events, self.links, strict=True)],
        )
        return json.dumps(payload.model_dump(mode="json", by_alias=True), ensure_ascii=False)


def render_message(channel: str, events: Sequence[Event], link_for: LinkFor) -> Message:
    """Return one message about events, each format rendered when a sender asks for it."""
    return Message(channel, events, link_for)


def notification_schema() -> str:
    """Return the JSON Schema of the JSON format, as docs/notification.schema.json holds it."""
    schema = Notification.model_json_schema(by_alias=True)
    return json.dumps(schema, indent=2, ensure_ascii=False) + "\n"
