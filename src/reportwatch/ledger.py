"""What each channel has been sent: one ledger a channel, `<store>/notify/<channel>.json`.

Events are derived from the store, never queued beside it: a channel's pending events are the
stored versions above the last one its ledger says it handled, and the sources whose run of
failures it has not been told about (or whose recovery it has not). So a version stored by a run
that died before notifying is still sent by the next run, and a delivery that failed is retried
until it succeeds. A channel seen for the first time starts from the store as it is: it hears of
what comes after, not of all history.

Before a message goes out its event ids are written to the ledger as `sending`; a run killed after
a channel accepted a message but before the ledger recorded it leaves them there, and the next run
sends those events again marked `resent`. That instant is the one way an event reaches a channel
twice, and the message says so.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field

from reportwatch.channels import ChannelConfig
from reportwatch.fetch import is_url
from reportwatch.model import Event, SourceState
from reportwatch.normalize import Defaults
from reportwatch.render import document_title
from reportwatch.store import Store
from reportwatch.store_files import read_model, to_json, write_atomic


class Ledger(BaseModel):
    """One channel's record of what it has been sent."""

    model_config = ConfigDict(extra="forbid")

    channel: str
    handled: dict[str, int] = Field(default_factory=dict)
    alerted: dict[str, str] = Field(default_factory=dict)
    sending: list[str] = Field(default_factory=list)
    failed_attempts: int = 0
    last_error: str | None = None

    def record(self, events: Iterable[Event]) -> None:
        """Mark events handled: a document's versions up to the event's, a source's alert."""
        for event in events:
            if event.kind == "changes" and event.document and event.version:
                self.handled[event.document] = max(
                    self.handled.get(event.document, 0), event.version
                )
            elif event.kind == "failing":
                self.alerted[event.source] = failing_run(event)
            elif event.kind == "recovered" and self.alerted.get(event.source) == failing_run(event):
                del self.alerted[event.source]


def ledger_path(store: Store, channel: ChannelConfig) -> Path:
    """Return the ledger file of a channel."""
    return store.root / "notify" / f"{channel.key()}.json"


def load_ledger(store: Store, channel: ChannelConfig) -> Ledger | None:
    """Return a channel's ledger, or None for a channel never seen in this store."""
    path = ledger_path(store, channel)
    if not path.exists():
        return None
    return read_model(path, Ledger)


def save_ledger(store: Store, channel: ChannelConfig, ledger: Ledger) -> None:
    """Write a channel's ledger atomically."""
    path = ledger_path(store, channel)
    path.parent.mkdir(parents=True, exist_ok=True)
    write_atomic(path, to_json(ledger))


def open_ledgers(store: Store, channels: Iterable[ChannelConfig]) -> None:
    """Start a ledger for each channel seen for the first time, at the store's current versions;
    call it before a run stores anything, so that the run's own changes are sent."""
    for channel in channels:
        if load_ledger(store, channel) is None:
            handled = {key: numbers[-1] for key, numbers in store.version_numbers().items()}
            save_ledger(store, channel, Ledger(channel=channel.name, handled=handled))


def change_events(
    store: Store,
    ledger: Ledger,
    known: Mapping[str, Defaults],
    stored: Mapping[str, list[int]],
    loaded: dict[str, Event],
) -> list[Event]:
    """Return the stored versions (`stored`: `Store.version_numbers`) a channel has not handled,
    oldest first within a document. `loaded` keeps the events read for one channel for the
    next, so each version is read once a run."""
    events = []
    for key, numbers in stored.items():
        done = ledger.handled.get(key, 0)
        for number in (n for n in numbers if n > done):
            event_id = f"{key}@v{number}"
            if event_id not in loaded:
                loaded[event_id] = version_event(store, key, number, known)
            event = loaded[event_id]  # frozen: shared by every channel it is not resent to
            if event_id in ledger.sending:
                event = event.model_copy(update={"resent": True})
            events.append(event)
    return events


def version_event(store: Store, key: str, number: int, known: Mapping[str, Defaults]) -> Event:
    """Return the event of one stored version: who and what, its change records, its source."""
    version = store.load(key, number)
    report = version.report
    return Event(
        id=f"{key}@v{number}",
        kind="changes",
        at=version.meta.ingested_at,
        title=document_title(report, key),
        source=version.meta.source,
        document=key,
        version=number,
        authority=report.authority,
        regulator=report.regulator,
        tags=tags_of(version.meta.source, known),
        changes=version.changes,
    )


def alert_events(
    states: Iterable[SourceState], ledger: Ledger, after: int, known: Mapping[str, Defaults]
) -> list[Event]:
    """Return the failure alerts a channel is owed: a source that recovered since the channel
    was alerted about it, and a source that has now failed `after` runs in a row whose run of
    failures the channel was not yet alerted about."""
    events = []
    for state in states:
        run = str(state.failure_runs)
        alerted = ledger.alerted.get(state.location)
        if alerted is not None and (alerted != run or state.consecutive_failures == 0):
            events.append(alert_event(state, "recovered", alerted, known, ledger.sending))
        if state.consecutive_failures >= after and alerted != run:
            events.append(alert_event(state, "failing", run, known, ledger.sending))
    return events


def alert_event(
    state: SourceState,
    kind: str,
    run: str,
    known: Mapping[str, Defaults],
    sending: list[str],
) -> Event:
    """Return a failing or recovered event for a source and the run of failures it is about."""
    defaults = defaults_of(state.location, known)
    failing = kind == "failing"
    event_id = f"{kind}:{state.location}#{run}"
    return Event(
        id=event_id,
        kind="failing" if failing else "recovered",
        at=(state.last_failure_at if failing else state.succeeding_since) or run,
        title=state.location,
        source=state.location,
        authority=defaults.authority,
        regulator=defaults.regulator,
        tags=defaults.tags,
        error=state.last_error if failing else None,
        failures=state.consecutive_failures if failing else 0,
        resent=event_id in sending,
    )


def failing_run(event: Event) -> str:
    """Return which run of failures (its number) a failing or recovered event is about."""
    return event.id.rsplit("#", 1)[1]


def defaults_of(location: str, known: Mapping[str, Defaults]) -> Defaults:
    """Return what the sources file says about an input (nothing for one it does not name); a
    file is looked up as given, then by its absolute path."""
    found = known.get(location)
    if found is None and not is_url(location):
        found = known.get(str(Path(location).resolve()))
    return found or Defaults()


def tags_of(location: str, known: Mapping[str, Defaults]) -> tuple[str, ...]:
    """Return the tags the sources file gives a location (none for one it does not name)."""
    return defaults_of(location, known).tags
