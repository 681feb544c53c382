"""Notification channels: where change summaries go, and which changes each channel wants.

The sources file configures them:

    [notify]
    failure_alert_after = 3        # alert when a source has failed this many runs in a row
    versions_url = "https://intranet.example/reportwatch/{document}/v{version}"

    [[channel]]
    name = "children's services team"
    url_env = "REPORTWATCH_TEAMS_URL"  # or url = "..." (an Apprise URL), url_secret = "name"
                                       # (a Prefect Secret), or folder = "outbox" (files)
    min_importance = "score"           # "score" > "findings" > "republished"
    regulators = ["Ofsted"]
    authorities = ["Ealing"]
    tags = ["london"]
    mode = "digest"                    # or "document": one message per document

With no channel configured, summaries go to the store's `outbox/` folder. The store's Atom feed
(`feed.atom`) is a channel too, on unless `[notify] feed = false`.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from reportwatch.errors import ConfigError
from reportwatch.model import SEVERITY_ORDER, Event, Severity
from reportwatch.vocab import fold, slug

Importance = Literal["score", "findings", "republished"]
IMPORTANCE: dict[str, Severity] = {
    "score": Severity.HIGH,
    "findings": Severity.MEDIUM,
    "republished": Severity.LOW,
}
Format = Literal["auto", "markdown", "html", "text", "json"]
FEED_CHANNEL = "feed"
OUTBOX_CHANNEL = "outbox"


class ChannelConfig(BaseModel):
    """One `[[channel]]` of the sources file: where to deliver, and what it wants."""

    model_config = ConfigDict(extra="forbid")

    name: str
    url: str | None = None
    url_env: str | None = None
    url_secret: str | None = None
    folder: str | None = None
    feed: bool = False
    min_importance: Importance = "findings"
    regulators: list[Literal["CQC", "Ofsted"]] = []
    authorities: list[str] = []
    tags: list[str] = []
    mode: Literal["digest", "document"] = "digest"
    format: Format = "auto"
    failures: bool = True

    @model_validator(mode="after")
    def one_destination(self) -> ChannelConfig:
        """Require exactly one destination and a name that makes a file name."""
        given = [self.url, self.url_env, self.url_secret, self.folder, self.feed or None]
        if sum(value is not None for value in given) != 1:
            raise ValueError("give exactly one of `url`, `url_env`, `url_secret` or `folder`")
        if not fold(self.name):
            raise ValueError("`name` needs a letter or digit")
        if self.feed and self.name != FEED_CHANNEL:
            raise ValueError("the Atom feed is set under [notify], not as a channel")
        return self

    def key(self) -> str:
        """Return the channel's name as a file name (its delivery ledger's)."""
        return slug(self.name)


class NotifySettings(BaseModel):
    """The `[notify]` table: settings shared by every channel."""

    model_config = ConfigDict(extra="forbid")

    failure_alert_after: int = Field(default=3, ge=1)
    versions_url: str | None = None
    feed: bool = True
    feed_entries: int = Field(default=100, ge=1)
    feed_min_importance: Importance = "findings"


def channels_to_use(
    configured: list[ChannelConfig], settings: NotifySettings, store_root: Path
) -> list[ChannelConfig]:
    """Return every channel a run delivers to: the configured ones (or, with none, the store's
    outbox folder), then the feed unless it is turned off. Raises ConfigError on two channels
    whose names make the same file name."""
    channels = list(configured) or [
        ChannelConfig(name=OUTBOX_CHANNEL, folder=str(store_root / "outbox"))
    ]
    if settings.feed:
        channels.append(
            ChannelConfig(
                name=FEED_CHANNEL,
                feed=True,
                min_importance=settings.feed_min_importance,
            )
        )
    seen: dict[str, str] = {}
    for channel in channels:
        if channel.key() in seen:
            if channel.feed:
                raise ConfigError(f"channel name {seen[channel.key()]!r} is the Atom feed's")
            raise ConfigError(f"channels {seen[channel.key()]!r} and {channel.name!r} clash")
        seen[channel.key()] = channel.name
    return channels


def wanted(channel: ChannelConfig, event: Event) -> Event | None:
    """Return the part of an event a channel wants (its changes at or above the channel's
    importance), or None when the channel wants none of it."""
    if not matches(channel, event):
        return None
    if event.kind != "changes":
        return event if channel.failures else None
    floor = SEVERITY_ORDER[IMPORTANCE[channel.min_importance]]
    changes = tuple(c for c in event.changes if SEVERITY_ORDER[c.severity] <= floor)
    return event.model_copy(update={"changes": changes}) if changes else None


def matches(channel: ChannelConfig, event: Event) -> bool:
    """Return True when an event's regulator, authority and tags pass the channel's filters
    (an empty filter passes everything)."""
    if channel.regulators and event.regulator not in channel.regulators:
        return False
    authorities = {fold(a) for a in channel.authorities}
    if authorities and fold(event.authority or "") not in authorities:
        return False
    return not channel.tags or bool(set(channel.tags) & set(event.tags))


def channel_url(channel: ChannelConfig, secret: Callable[[str], str] | None = None) -> str:
    """Return a channel's Apprise URL: given, from the environment, or from a Prefect Secret
    (through `secret`, which only the Prefect layer provides). Raises ConfigError when it
    cannot be had."""
    if channel.url is not None:
        return channel.url
    if channel.url_env is not None:
        value = os.environ.get(channel.url_env)
        if not value:
            raise ConfigError(f"channel {channel.name!r}: ${channel.url_env} is not set")
        return value
    if channel.url_secret is not None:
        if secret is None:
            raise ConfigError(
                f"channel {channel.name!r}: url_secret needs a Prefect run (reportwatch ingest "
                "--prefect); use url_env for runs without Prefect"
            )
        return secret(channel.url_secret)
    raise ConfigError(f"channel {channel.name!r} has no URL")


def masked(url: str) -> str:
    """Return an Apprise URL safe to print: its scheme and host, never tokens or passwords."""
    match = re.match(r"^([a-z0-9+]+)://(?:[^@/]*@)?([^/?:]*)", url, re.IGNORECASE)
    return f"{match.group(1)}://{match.group(2) or '…'}/…" if match else "(unparseable URL)"
