"""Fault injection for the crash tests: die with SIGKILL at an exact, named moment of a run.

`checkpoint(name)` does nothing unless the environment variable `REPORTWATCH_CRASH_AT` is `name`
(die the first time the run reaches that checkpoint) or `name:N` (die the N-th time). Dying is a
real `SIGKILL` of the process itself: no `finally` block, no flush, no atexit handler runs, as
when the machine loses power or the OOM killer strikes. The variable is read once, at import, so
a checkpoint off the test path costs one comparison.

The checkpoints, in the order a run meets them (`CHECKPOINTS`; tests/test_crash.py kills a run
at each of them):

    fetch.done              an input's bytes were fetched (file read or HTTP answer), not parsed
    diff.done               the change records against the latest version are computed
    version.written         Store.add_version: the version's two files (raw bytes, JSON) are
                            written under temporary names; it waits for the group commit
                            (migrating a format-1 store reaches it for each version too)
    version.raw-renamed     Store.commit: the staged versions are flushed, and one version's raw
                            bytes are renamed into place (v0001.raw.html), its JSON not yet
    version.renamed         ... and its JSON file (v0001.json): the version is in place
    state.before-write      ... an input's state (validators, failures) is about to be written
    atomic.before-rename    write_atomic: a temporary file is written, not yet renamed over the
                            target (store.json, an input's state, quarantine, reparse rewrites)
    state.written           an input's state is written
    notify.before-send      a channel's ledger marks the events of a message as being sent
    notify.after-send       the channel accepted the message; its ledger does not record it yet
    run.end                 every input is done and notified; the store's lock is still held

A new checkpoint is a `checkpoint("...")` call and a line here and in `CHECKPOINTS`; the crash
test then kills a run there too.
"""

from __future__ import annotations

import os
import signal
import threading

ENV = "REPORTWATCH_CRASH_AT"

CHECKPOINTS = (
    "fetch.done",
    "diff.done",
    "version.written",
    "version.raw-renamed",
    "version.renamed",
    "state.before-write",
    "atomic.before-rename",
    "state.written",
    "notify.before-send",
    "notify.after-send",
    "run.end",
)


def parse_target(value: str | None) -> tuple[str, int] | None:
    """Return (checkpoint name, N) from a REPORTWATCH_CRASH_AT value ('name' or 'name:N'), or
    None when it is unset or empty. A count that is not a positive number counts as 1."""
    if not value:
        return None
    name, _, count = value.partition(":")
    return name, int(count) if count.isdigit() and int(count) > 0 else 1


_TARGET = parse_target(os.environ.get(ENV))
_reached = 0
_counting = threading.Lock()  # checkpoints are reached on writer threads too


def checkpoint(name: str) -> None:
    """Mark a named moment of a run; kill this process with SIGKILL when REPORTWATCH_CRASH_AT
    asks for this moment (this name, this many times reached). Returns nothing otherwise."""
    global _reached
    if _TARGET is None or name != _TARGET[0]:
        return
    with _counting:
        _reached += 1
        if _reached == _TARGET[1]:
            os.kill(os.getpid(), signal.SIGKILL)
