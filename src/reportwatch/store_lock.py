"""The store's write lock: one writer at a time; another run waits for it, saying so on stderr,
up to a timeout (REPORTWATCH_LOCK_TIMEOUT, else 600 s), then fails naming the store."""

from __future__ import annotations

import os
from pathlib import Path

from filelock import FileLock, Timeout

from reportwatch import store_format
from reportwatch.errors import StoreError

DEFAULT_LOCK_TIMEOUT = 600.0
LOCK_TIMEOUT_ENV = "REPORTWATCH_LOCK_TIMEOUT"


def acquire(root: Path, wait: float | None) -> FileLock:
    """Return the store's lock at `root`, held: at once when free, else after waiting up to
    `wait` seconds (None: `default_lock_timeout()`). Raises StoreError when it stays held."""
    wait = default_lock_timeout() if wait is None else wait  # a bad setting is said at once
    lock = FileLock(str(root / ".lock"))
    try:
        lock.acquire(timeout=0)
    except Timeout:
        holder = f"{root}: another reportwatch run holds the store"
        if wait > 0:
            store_format.say(f"{holder}; waiting up to {wait:g}s for it")
        try:
            lock.acquire(timeout=wait)
        except Timeout:
            raise StoreError(f"{holder}; gave up after {wait:g}s") from None
    return lock


def default_lock_timeout() -> float:
    """Return the seconds a writer waits for the lock: REPORTWATCH_LOCK_TIMEOUT, else 600.
    Raises StoreError when the variable is not a number of seconds."""
    value = os.environ.get(LOCK_TIMEOUT_ENV, "").strip()
    if not value:
        return DEFAULT_LOCK_TIMEOUT
    try:
        seconds = float(value)
    except ValueError:
        seconds = -1.0
    if not seconds >= 0:
        raise StoreError(f"{LOCK_TIMEOUT_ENV}={value!r}: not a number of seconds")
    return seconds
