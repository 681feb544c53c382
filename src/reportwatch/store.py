"""Store stage: versioned snapshots on disk, readable and diff-friendly by plain git.

Layout (`<root>` is `./snapshots` unless set):

    <root>/store.json                              {"format": 2}
    <root>/.lock, <root>/.clean                    the writers' lock; "the last writer finished"
    <root>/sources/<hash of location>.json         per input: validators, failure count
    <root>/quarantine/<hash>/<time>/               inputs that parsed but lacked what they must have
    <root>/documents/<regulator>/<authority>/<subject>/   one document (`version_file`):
        v0001.json          a version: {"meta": source, times, hashes, parser version,
                            "report": the normalized report,
                            "changes": change records against the version before}
        v0001.raw.html      its input bytes, as received (.raw.pdf, .raw.txt, .raw.md)

A version's files are written under temporary names and renamed into place, the raw bytes
first, so an interrupted run leaves no half-written version: readers see a version only once
its JSON file is there and skip names that start with a dot, and the next run to take the lock
removes such leftovers (raw bytes without their version file among them). Versions are
committed in groups (`Store.commit`, in `store_commit`): the files of up to COMMIT_EVERY
versions are flushed to disk together, then renamed into place, then the states of their inputs
written, because flushing each version on its own took most of a run's time; a commit falls due
on the committer thread while the run records the next versions, one commit at a time, in
order. An input whose state says nothing new (it answered 304 again) is not rewritten.

Raw bytes and a version's times and hashes never change; `reparse` may re-derive the report
and change records (rewriting the version's JSON file whole). The format number and migrations
live in `store_format`; `check` verifies a store without changing it.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from concurrent.futures import Future
from contextlib import contextmanager, suppress
from pathlib import Path

from reportwatch import store_format, store_lock
from reportwatch.errors import StoreError
from reportwatch.model import Change, Report, SourceState, Version, VersionMeta
from reportwatch.store_commit import GroupCommits
from reportwatch.store_files import (
    Staged,
    flusher,
    fsync_path,
    leftovers,
    read_stored,
    remove,
    sha256,
    subfolders,
    temporary_path,
    temporary_token,
    to_json,
    version_numbers_in,
    write_atomic,
    write_version_files,
)
from reportwatch.version_file import (
    raw_name,
    read_report,
    read_version,
    version_json,
    version_name,
)

CLEAN_MARK = ".clean"  # the last run holding the lock finished without leaving anything behind
_KEY_PART = re.compile(r"^[a-z0-9][a-z0-9-]*$")


class Store(GroupCommits):
    """A snapshot store rooted at a directory (its group commits: `GroupCommits`; its per-input
    states: `SourceStates`)."""

    def __init__(self, root: Path | str, lock_timeout: float | None = None) -> None:
        """Open the store at `root` (nothing is read or written yet). A writer waits for the
        lock up to `lock_timeout` seconds: default REPORTWATCH_LOCK_TIMEOUT, else 600."""
        self.root = Path(root)
        self.documents_dir = self.root / "documents"
        self.lock_timeout = lock_timeout
        self._staged: list[Staged] = []
        self._staged_documents: set[str] = set()
        # the group commit under way on the committer thread, its documents and input states
        self._committing: Future[None] | None = None
        self._committing_documents: set[str] = set()
        self._committing_states: dict[str, SourceState] = {}
        self._unsaved: dict[str, SourceState] = {}  # saved states, written at the next commit
        self._saved: dict[str, SourceState | None] = {}  # states as read or written
        self._saved_in_run: set[str] = set()  # inputs whose state this run saved
        self._reports: dict[str, tuple[int, Report]] = {}  # latest reports read (`latest_report`)
        self._oldest_unsaved: float | None = None
        self._added: dict[tuple[str, int], Version] = {}  # versions this Store committed
        self._written: set[str] = set()  # documents this Store wrote a version of, staged or not

    # --- opening and locking ---

    def check_format(self) -> None:
        """Raise StoreError unless this code can read the store as it is (see
        `store_format.check_readable`): a newer format, or an older one that must be migrated
        first, is refused with a message saying what to do."""
        store_format.check_readable(self.root)

    def ensure(self) -> None:
        """Under the lock: migrate an older store to the current format, create the store if it
        does not exist yet, and remove leftovers of interrupted runs. The store is searched for
        leftovers only when the last writer did not finish cleanly (no CLEAN_MARK): searching
        walks every version, which grows with the store."""
        store_format.migrate(self.root, write_atomic)
        self.documents_dir.mkdir(parents=True, exist_ok=True)
        if not (self.root / store_format.FORMAT_FILE).exists():
            path = self.root / store_format.FORMAT_FILE
            write_atomic(path, store_format.format_json(store_format.current_format()))
        mark = self.root / CLEAN_MARK
        if mark.exists():
            mark.unlink()
            fsync_path(self.root)  # a mark back after a power cut would hide this run's leftovers
        else:
            for leftover in leftovers(self.root):
                remove(leftover)

    @contextmanager
    def locked(self, timeout: float | None = None) -> Iterator[None]:
        """Hold the store's write lock (migrating and creating the store once held). When another
        run holds it, say so on stderr and wait up to `timeout` seconds (default: the store's
        lock_timeout); then fail with a message naming the store. A store in a format this code
        does not know is refused before anything is written, the lock file included."""
        if (found := store_format.stored_format(self.root)) is not None:
            store_format.refuse_unknown(self.root, found)
        self.root.mkdir(parents=True, exist_ok=True)
        lock = store_lock.acquire(self.root, timeout if timeout is not None else self.lock_timeout)
        try:
            # what another run may have rewritten since
            for cache in (self._added, self._written, self._saved, self._saved_in_run):
                cache.clear()
            self._reports.clear()
            self.ensure()
            yield
            self.commit()
            (self.root / CLEAN_MARK).touch()
        finally:
            # a run that raised keeps nothing it had not committed (no clean mark either); a
            # commit under way finishes (or removes its versions) before the lock is released
            with suppress(StoreError):
                self._wait_for_commit()
            self._forget_uncommitted()
            lock.release()

    # --- reading ---

    def document_dir(self, key: str) -> Path:
        """Return the directory of a document key, rejecting keys that could escape the store."""
        parts = key.split("/")
        if len(parts) != 3 or not all(_KEY_PART.match(p) for p in parts):
            raise StoreError(f"not a document key: {key!r}")
        return self.documents_dir.joinpath(*parts)

    def documents(self) -> list[str]:
        """Return the keys of all stored documents, sorted."""
        return list(self.version_numbers())

    def version_numbers(self) -> dict[str, list[int]]:
        """Return every stored document's version numbers, oldest first, by key (in key order):
        each folder listed once."""
        self._commit_staged()
        found = {}
        for parts in sorted(subfolders(self.documents_dir, 3)):
            numbers = version_numbers_in(os.path.join(self.documents_dir, *parts))
            if numbers:
                found["/".join(parts)] = numbers
        return found

    def versions(self, key: str) -> list[int]:
        """Return a document's version numbers, oldest first ([] for an unknown document)."""
        self._commit_staged(key)
        return self._numbers_on_disk(key)

    def _numbers_on_disk(self, key: str) -> list[int]:
        """Return the version numbers a document's folder holds, oldest first."""
        return version_numbers_in(self.document_dir(key))

    def version_path(self, key: str, number: int) -> Path:
        """Return the path of one version's JSON file (v0001.json)."""
        return self.document_dir(key) / version_name(number)

    def _version_bytes(self, key: str, number: int) -> tuple[Path, bytes]:
        """Return one version's JSON file and its bytes. Raises StoreError when it is missing or
        unreadable."""
        path = self.version_path(key, number)
        return path, read_stored(path, missing=f"{key}: no version {number}")

    def load(self, key: str, number: int) -> Version:
        """Return one stored version. Raises StoreError when it is missing or unreadable."""
        if (added := self._added.get((key, number))) is not None:
            return added
        return read_version(*self._version_bytes(key, number))

    def _report_of(self, key: str, number: int) -> Report:
        """Return one version's report: as this run wrote it, else read from its file alone."""
        if (added := self._added.get((key, number))) is not None:
            return added.report
        return read_report(*self._version_bytes(key, number))

    def head(self, key: str) -> Version | None:
        """Return a document's newest version, or None when it has none: what a new input is
        compared with."""
        numbers = self.versions(key)
        return self.load(key, numbers[-1]) if numbers else None

    def wrote(self, key: str) -> bool:
        """Return True when this run (under the lock) wrote a version of the document `key`."""
        return key in self._written

    def latest_report(self, key: str) -> tuple[int, Report] | None:
        """Return a document's newest version number and report (read alone), or
        None when it has none: what a run shows of an input that answered 304 (read ahead by
        `read_latest_report_ahead` unless the run has written a version of it since)."""
        if key not in self._written and (known := self._reports.get(key)) is not None:
            return known
        return self._newest_report(key, self.versions(key))

    def read_latest_report_ahead(self, key: str) -> None:
        """Read a document's newest report, on any thread, for `latest_report` to give later in
        the run (`prefetch.read_ahead` does this for each URL before fetching it), once a run.
        Never commits; what the run writes of the document meanwhile makes the read unused."""
        if (
            key not in self._written
            and key not in self._reports
            and (newest := self._newest_report(key, self._numbers_on_disk(key)))
        ):
            self._reports[key] = newest

    def drop_report_ahead(self, key: str) -> None:
        """Forget a report `read_latest_report_ahead` read (its input answered with new bytes):
        a run of changed pages would otherwise hold every document's report twice."""
        self._reports.pop(key, None)

    def _newest_report(self, key: str, numbers: list[int]) -> tuple[int, Report] | None:
        """Return the last of a document's version `numbers` and its report (None for none)."""
        return (numbers[-1], self._report_of(key, numbers[-1])) if numbers else None

    def raw(self, key: str, number: int) -> bytes:
        """Return the raw input bytes a version was made from. Raises StoreError when they
        cannot be read."""
        return read_stored(self.raw_path(self.load(key, number).meta))

    def raw_path(self, meta: VersionMeta) -> Path:
        """Return the path of a version's raw bytes (v0001.raw.html)."""
        return self.document_dir(meta.document) / raw_name(meta.version, meta.raw_file)

    def resolve(self, ref: str) -> str:
        """Return the document key a user's reference names: the key itself, or a part of exactly
        one key ('ealing/learning'). Raises StoreError naming the candidates otherwise."""
        keys = self.documents()
        if ref in keys:
            return ref
        matches = [k for k in keys if ref.lower() in k]
        if len(matches) == 1:
            return matches[0]
        if not matches:
            raise StoreError(f"no stored document matches {ref!r} (see `reportwatch history`)")
        raise StoreError(f"{ref!r} matches {len(matches)} documents: {', '.join(matches)}")

    # --- writing ---

    def add_version(
        self,
        meta: VersionMeta,
        raw: bytes,
        report: Report,
        changes: list[Change],
        report_json: bytes | None = None,
    ) -> Version:
        """Write a new version under a temporary name and return it (`report_json`: the report
        as `to_json` renders it, when the caller has rendered it already). The version becomes
        durable and visible at the next `commit`, which follows on its own once COMMIT_EVERY
        versions or COMMIT_SECONDS are staged. A version with that number already there (the
        store is written under its lock, so only by misuse) raises StoreError: here when it is
        staged, at the commit when it is on disk (checked on the writer thread)."""
        target = self.version_path(meta.document, meta.version)
        staged = meta.document in self._staged_documents
        if staged and any(s.target == target for s in self._staged):
            raise StoreError(f"{meta.document}: version {meta.version} already exists")
        token = temporary_token()
        moves = tuple((temporary_path(path, token), path) for path in (self.raw_path(meta), target))
        stored = version_json(to_json(meta), report_json or to_json(report), to_json(changes))
        # written on a writer thread: a run's critical path is this thread, and each file
        # system call it made waited for the GIL again after it (the fetch threads hold it)
        written = flusher().submit(write_version_files, moves, [raw, stored])
        version = Version(meta=meta, report=report, changes=tuple(changes))
        self._staged.append(Staged(version, moves, written))
        self._staged_documents.add(meta.document)
        self._written.add(meta.document)
        self._commit_when_due()
        return version

    def rewrite_derived(self, version: Version) -> None:
        """Replace a version's JSON file (its meta, report and changes) atomically; its raw
        bytes are never touched."""
        key, number = version.meta.document, version.meta.version
        self._added.pop((key, number), None)
        write_atomic(self.version_path(key, number), to_json(version))

    # --- quarantine ---

    def quarantine(self, location: str, raw: bytes, reason: str, when: str) -> Path:
        """Keep an input that could not be used, with the reason, for a person to look at;
        return its folder. Quarantined input is never diffed."""
        folder = self.root / "quarantine" / sha256(location.encode())[:20] / when.replace(":", "")
        folder.mkdir(parents=True, exist_ok=True)
        write_atomic(folder / "raw", raw)
        write_atomic(folder / "reason.json", to_json({"location": location, "reason": reason}))
        return folder
