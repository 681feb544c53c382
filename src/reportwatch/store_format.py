"""The snapshot store's format number, and migrating a store written in an older format.

`store.json` holds `{"format": N}`. The format this code writes is 1 + the number of migrations
in `MIGRATIONS`, so changing the store's layout is one line there: a function that turns a
format-N store into a format-N+1 one in place, the reason said when it runs, and whether this
code can still read a format-N store as it is (read-only commands then read it; otherwise they
ask the user to migrate). Example:

    MIGRATIONS = {
        1: Migration("notification outbox added", add_outbox, readable=True),
    }

Migrations run under the store's lock, on the first command that writes (`ingest`, `reparse`,
`migrate`), one step at a time: each step's function runs, then store.json is rewritten with the
new number and one line goes to stderr: `snapshots: migrated store format 1 -> 2 (reason)`. A
run killed mid-step leaves store.json at the old number, so the step runs again next time:
migration functions must be idempotent. A store newer than this code is refused, never touched.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from reportwatch.errors import StoreError
from reportwatch.store_migrations import unfold_version_folders

FIRST_FORMAT = 1
FORMAT_FILE = "store.json"


@dataclass(frozen=True)
class Migration:
    """One step from format N to N+1: why, how (a function of the store's root folder, run
    under the lock, idempotent), and whether this code reads a format-N store without it."""

    reason: str
    apply: Callable[[Path], None]
    readable: bool = True


# format N -> N+1, keyed by N; contiguous from FIRST_FORMAT
MIGRATIONS: dict[int, Migration] = {
    1: Migration("each version two files, not a folder", unfold_version_folders, readable=False),
}


def current_format() -> int:
    """Return the store format this code writes: 1 + the number of migrations."""
    return FIRST_FORMAT + len(MIGRATIONS)


def stored_format(root: Path) -> int | None:
    """Return the format number in a store's store.json, or None when there is none yet.

    Raises StoreError naming the file when it cannot be read or holds no format number."""
    path = root / FORMAT_FILE
    try:
        found = json.loads(path.read_bytes()).get("format")
    except FileNotFoundError:
        return None
    except (OSError, ValueError, AttributeError) as exc:
        raise StoreError(f"{path}: unreadable store format file ({exc})") from exc
    if not isinstance(found, int) or isinstance(found, bool):
        raise StoreError(f"{path}: no format number in the store format file")
    return found


def refuse_unknown(root: Path, found: int) -> None:
    """Raise StoreError when format `found` is newer than this code or older than any it knows."""
    current = current_format()
    if found > current or found < FIRST_FORMAT:
        raise StoreError(f"{root}: store format {found}; this reportwatch reads format {current}")


def check_readable(root: Path) -> None:
    """Return when read-only commands can read the store as it is: no store yet, the current
    format, or an older one every later step of which is marked readable. Raises StoreError
    otherwise, saying how to migrate (or that this reportwatch is too old)."""
    found = stored_format(root)
    if found is None or found == current_format():
        return
    refuse_unknown(root, found)
    if not all(MIGRATIONS[n].readable for n in range(found, current_format())):
        raise StoreError(
            f"{root}: store format {found} is older than this reportwatch's "
            f"{current_format()}; run `reportwatch ingest` or `reportwatch migrate` to migrate"
        )


def say(line: str) -> None:
    """Print a one-line notice on stderr."""
    print(line, file=sys.stderr)


def migrate(
    root: Path, write: Callable[[Path, bytes], None], notice: Callable[[str], None] = say
) -> list[int]:
    """Bring an existing store up to the current format, one step at a time, under the caller's
    lock: each step's function, then store.json rewritten by `write`, then one notice line.
    Returns the formats migrated from ([] when already current or when there is no store yet).
    Raises StoreError for a format this code does not know."""
    found = stored_format(root)
    if found is None:
        return []
    refuse_unknown(root, found)
    done = []
    while found < current_format():
        step = MIGRATIONS[found]
        step.apply(root)
        write(root / FORMAT_FILE, format_json(found + 1))
        notice(f"{root}: migrated store format {found} -> {found + 1} ({step.reason})")
        done.append(found)
        found += 1
    return done


def format_json(number: int) -> bytes:
    """Return store.json's content for a format number."""
    return (json.dumps({"format": number}, indent=2) + "\n").encode()
