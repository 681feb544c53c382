"""Notify stage: send each channel the events it has not been sent, as messages.

It runs at the end of a run, under the store's lock, so two runs never send at once. What each
channel is owed comes from its ledger (see `ledger`): a failed delivery leaves the events owed,
and the next run sends them; nothing is dropped. Channels deliver through Apprise (Slack, Teams,
email, ntfy, JSON webhooks, ...), to a folder of Markdown and JSON files (the outbox), or to the
store's Atom feed.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from reportwatch.channels import (
    ChannelConfig,
    NotifySettings,
    channel_url,
    channels_to_use,
    masked,
    wanted,
)
from reportwatch.errors import ConfigError, ReportwatchError
from reportwatch.faults import checkpoint
from reportwatch.feed import add_to_feed
from reportwatch.fetch import is_url
from reportwatch.ledger import (
    Ledger,
    alert_events,
    change_events,
    load_ledger,
    open_ledgers,
    save_ledger,
)
from reportwatch.messages import LinkFor, Message, render_message
from reportwatch.model import Event
from reportwatch.normalize import Defaults
from reportwatch.sources import Item, SourcesFile, items_from_config
from reportwatch.store import Store
from reportwatch.store_files import write_atomic

Sender = Callable[[Message], None]
SecretReader = Callable[[str], str]
FORMAT_BY_SCHEME = {"mailto": "html", "mailtos": "html", "json": "json", "jsons": "json"}


class DeliveryError(ReportwatchError):
    """A channel did not accept a message."""


@dataclass
class Delivery:
    """What a run delivered to one channel, and what it still owes it."""

    channel: str
    messages: int = 0
    events: int = 0
    owed: int = 0
    error: str | None = None
    where: str = ""


@dataclass(frozen=True)
class NotifyPlan:
    """Everything the notify stage needs besides the store: channels, settings, what the sources
    file says about each input, and how to read a Prefect Secret (only in a Prefect run)."""

    channels: Sequence[ChannelConfig]
    settings: NotifySettings
    known: Mapping[str, Defaults] = field(default_factory=dict)
    secret: SecretReader | None = None
    send: bool = True


def plan_for(
    config: SourcesFile,
    base: Path | None,
    items: Sequence[Item],
    store: Store,
    secret: SecretReader | None = None,
    send: bool = True,
) -> NotifyPlan:
    """Return the notify plan of a run: the sources file's channels (or the outbox) and the
    feed, its settings, and what it says about every input it names (paths relative to `base`,
    its folder) and the run's own. With `send` off the run sends nothing and its changes stay
    owed to the channels."""
    channels = channels_to_use(config.channel, config.notify, store.root)
    named = items_from_config(config, base) if base is not None else []
    known: dict[str, Defaults] = {}
    for item in [*named, *items]:
        known[item.location] = item.defaults
        if not is_url(item.location):
            known[str(Path(item.location).resolve())] = item.defaults
    return NotifyPlan(channels, config.notify, known, secret, send)


def notify(store: Store, plan: NotifyPlan) -> list[Delivery]:
    """Send every channel what it is owed; return what each got and still awaits. A channel that
    fails keeps its events for the next run and never stops the others."""
    states = store.source_states()
    link_for = versions_link(store, plan.settings)
    loaded: dict[str, Event] = {}
    stored = store.version_numbers()
    deliveries = []
    open_ledgers(store, plan.channels)  # a channel never seen starts from now, not all history
    for channel in plan.channels:
        ledger = load_ledger(store, channel) or Ledger(channel=channel.name)
        events = change_events(store, ledger, plan.known, stored, loaded)
        events += alert_events(states, ledger, plan.settings.failure_alert_after, plan.known)
        deliveries.append(deliver(store, channel, ledger, events, plan, link_for))
    return deliveries


def deliver(
    store: Store,
    channel: ChannelConfig,
    ledger: Ledger,
    events: list[Event],
    plan: NotifyPlan,
    link_for: LinkFor,
) -> Delivery:
    """Send one channel its events, a message a group; record each group in the ledger once it
    is sent (or wanted none of it). At the first failure the rest stays owed."""
    result = Delivery(channel.name)
    groups = [(group, wanted_of(channel, group)) for group in grouped(channel, events)]
    if not any(chosen for _, chosen in groups):
        ledger.record(events)
        save_if_changed(store, channel, ledger)
        return result
    try:
        send = sender(store, channel, plan, link_for, result)
    except ReportwatchError as exc:
        return failed(store, channel, ledger, result, exc, groups)
    earlier = set(ledger.sending)  # sent by a run killed mid-delivery: still to be marked so
    for index, (group, chosen) in enumerate(groups):
        if chosen:
            message = render_message(channel.name, chosen, link_for)
            ledger.sending = sorted(earlier | {event.id for event in chosen})
            save_ledger(store, channel, ledger)
            checkpoint("notify.before-send")
            try:
                send(message)
            except (ReportwatchError, OSError) as exc:
                return failed(store, channel, ledger, result, delivery_error(exc), groups[index:])
            checkpoint("notify.after-send")
            earlier -= {event.id for event in chosen}
            result.messages += 1
            result.events += len(chosen)
        ledger.record(group)
    ledger.sending, ledger.failed_attempts, ledger.last_error = [], 0, None
    save_ledger(store, channel, ledger)
    return result


def failed(
    store: Store,
    channel: ChannelConfig,
    ledger: Ledger,
    result: Delivery,
    error: ReportwatchError,
    unsent: list[tuple[list[Event], list[Event]]],
) -> Delivery:
    """Record a failed delivery in the ledger (the events stay owed, those sent before by an
    interrupted run still marked so) and return the result."""
    ledger.sending = [event.id for _, chosen in unsent for event in chosen if event.resent]
    ledger.failed_attempts += 1
    ledger.last_error = str(error)
    save_ledger(store, channel, ledger)
    result.error = str(error)
    result.owed = sum(len(chosen) for _, chosen in unsent)
    return result


def delivery_error(error: ReportwatchError | OSError) -> ReportwatchError:
    """Return a failure to deliver as the project's error (a folder or the feed that cannot be
    written is one line, like a channel that is down)."""
    if isinstance(error, ReportwatchError):
        return error
    where = f"{error.filename}: " if error.filename else ""
    return DeliveryError(f"{where}{error.strerror or error}")


def save_if_changed(store: Store, channel: ChannelConfig, ledger: Ledger) -> None:
    """Write a ledger only when it differs from the stored one."""
    if load_ledger(store, channel) != ledger:
        save_ledger(store, channel, ledger)


def grouped(channel: ChannelConfig, events: list[Event]) -> list[list[Event]]:
    """Return events in message groups: all in one (digest), or one group a document or source."""
    if channel.mode == "digest":
        return [events]
    groups: dict[str, list[Event]] = {}
    for event in events:
        groups.setdefault(event.document or f"source:{event.source}", []).append(event)
    return list(groups.values())


def wanted_of(channel: ChannelConfig, events: list[Event]) -> list[Event]:
    """Return the part of each event the channel wants, leaving out events it wants none of."""
    return [chosen for event in events if (chosen := wanted(channel, event)) is not None]


def versions_link(store: Store, settings: NotifySettings) -> LinkFor:
    """Return the function giving an event's link to its stored version: `versions_url` filled
    in, else the version's file in the store as a file URL."""
    resolved = Store(store.root.resolve())  # once: resolving a path reads the disk

    def link(event: Event) -> str | None:
        if event.document is None or event.version is None:
            return None
        if settings.versions_url:
            return settings.versions_url.format(document=event.document, version=event.version)
        return resolved.version_path(event.document, event.version).as_uri()

    return link


# --- senders: one a kind of channel ---


def sender(
    store: Store, channel: ChannelConfig, plan: NotifyPlan, link_for: LinkFor, result: Delivery
) -> Sender:
    """Return the function that delivers a message to a channel. Raises ConfigError when the
    channel cannot be reached as configured (no URL, not an Apprise URL)."""
    if channel.feed:
        keep = plan.settings.feed_entries
        result.where = str(store.root / "feed.atom")
        return lambda message: add_to_feed(store, message, link_for, keep)
    if channel.folder is not None:
        result.where = f"{channel.folder}/"
        return folder_sender(Path(channel.folder))
    url = channel_url(channel, plan.secret)
    result.where = masked(url)
    return apprise_sender(channel, url)


def folder_sender(folder: Path) -> Sender:
    """Return a sender that writes each message as Markdown and JSON files into a folder, named
    by time and message id (so a message sent again replaces its own files)."""

    def send(message: Message) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        stamp = re.sub(r"[^0-9T]", "", message.events[0].at)[:15]
        base = folder / f"{stamp}-{message.id}"
        write_atomic(base.with_suffix(".md"), f"{message.title}\n\n{message.markdown}\n".encode())
        write_atomic(base.with_suffix(".json"), (message.json + "\n").encode())

    return send


def apprise_sender(channel: ChannelConfig, url: str) -> Sender:
    """Return a sender that delivers through Apprise in the channel's format (auto: HTML for
    email, JSON for JSON webhooks, Markdown for the rest)."""
    import apprise  # imported only when a channel needs it: it loads many plugins

    client = apprise.Apprise()
    if not client.add(url):
        raise ConfigError(f"channel {channel.name!r}: not a URL Apprise knows: {masked(url)}")
    scheme = url.split("://", 1)[0].lower()
    form = FORMAT_BY_SCHEME.get(scheme, "markdown") if channel.format == "auto" else channel.format
    body_format = {
        "html": apprise.NotifyFormat.HTML,
        "markdown": apprise.NotifyFormat.MARKDOWN,
    }.get(form, apprise.NotifyFormat.TEXT)

    def send(message: Message) -> None:
        body = {
            "html": message.html,
            "markdown": message.markdown,
            "json": message.json,
            "text": message.text,
        }[form]
        capture = apprise.LogCapture(level=apprise.logging.WARNING, fmt="%(message)s")  # type: ignore[no-untyped-call]
        with capture as log:
            delivered = client.notify(body=body, title=message.title, body_format=body_format)
        if not delivered:
            reason = (log.getvalue().strip().splitlines() or ["not accepted"])[-1]
            raise DeliveryError(f"{masked(url)}: {reason}")

    return send
