"""Fetch stage: an input's location -> its raw bytes.

Local files are read here; http(s) URLs go through `reportwatch.http` (one session a run, retries,
conditional requests, politeness per host).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

from reportwatch.errors import InputError

MAX_BYTES = 50 * 1024 * 1024


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


def fetch(location: str) -> Fetched:
    """Return the raw bytes of a file path or URL. Raises InputError when they cannot be had."""
    if is_url(location):
        raise InputError("fetching URLs is not available in this version")
    return read_file(location)
