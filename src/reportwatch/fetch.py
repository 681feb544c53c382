"""Fetch stage: an input's location -> its raw bytes.

Local files are read here; http(s) URLs go through `reportwatch.http` (one fetcher a run, retries,
conditional requests, politeness per host).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

from reportwatch.errors import InputError

MAX_BYTES = 50 * 1024 * 1024
# The HTTP validators kept from a fetch (`Fetched.http`) and sent back as a conditional request.
VALIDATOR_KEYS = ("etag", "last_modified")


@dataclass(frozen=True)
class Fetched:
    """Raw bytes of an input and what the transport said about them."""

    location: str
    raw: bytes
    media_type: str | None = None
    http: dict[str, str] = field(default_factory=dict)
    not_modified: bool = False


def is_url(location: str) -> bool:
    """Return True for an http or https URL."""
    return re.match(r"^https?://", location, re.IGNORECASE) is not None


def read_file(location: str) -> Fetched:
    """Return a local file's bytes. Raises InputError naming the reason it cannot be read."""
    path = Path(location)
    try:
        if not path.exists():
            raise InputError("no such file")
        if path.is_dir():
            raise InputError("a folder, not a file")
        if path.stat().st_size > MAX_BYTES:
            raise InputError(f"larger than {MAX_BYTES // (1024 * 1024)} MB")
        return Fetched(location, path.read_bytes())
    except OSError as exc:
        raise InputError(f"cannot read ({exc.strerror})") from exc


class UrlFetcher(Protocol):
    """What fetches URLs for a run (`reportwatch.http.Fetcher`)."""

    def fetch(self, url: str, validators: dict[str, str] | None = None) -> Fetched:
        """Return a URL's bytes, or not_modified for a conditional request that matched."""
        ...


def fetch(
    location: str, fetcher: UrlFetcher | None = None, validators: dict[str, str] | None = None
) -> Fetched:
    """Return the raw bytes of a file path or URL (URLs through `fetcher`, conditionally when
    `validators` from the last fetch are given). Raises InputError when they cannot be had."""
    if is_url(location):
        if fetcher is None:
            raise InputError("a URL, but this run has no HTTP fetcher")
        return fetcher.fetch(location, validators)
    return read_file(location)
