"""Store stage: versioned snapshots on disk, readable and diff-friendly by plain git.

Layout (`<root>` is `./snapshots` unless set):

    <root>/store.json                              {"format": 1}
    <root>/sources/<hash of location>.json         per input: validators, failure count
    <root>/quarantine/<hash>/<time>/               inputs that parsed but lacked what they must have
    <root>/documents/<regulator>/<authority>/<subject>/v0001/
        raw.txt | raw.md | raw.html | raw.pdf      the input bytes, as received
        report.json                                the normalized report
        meta.json                                  source, times, hashes, parser version
        changes.json                               change records against the version before

A version directory is written under a temporary name and renamed into place, so an interrupted
run leaves no half-written version; readers skip names that start with a dot, and the next run
to take the lock removes such leftovers. Raw bytes and the times and hashes in meta.json never
change; `reparse` may re-derive report.json and changes.json. The format number and migrations
live in `store_format`; `check` verifies a store without changing it.
"""

from __future__ import annotations

import functools
import hashlib
import json
import os
import re
import shutil
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from filelock import FileLock, Timeout
from pydantic import BaseModel, ValidationError

from reportwatch import store_format
from reportwatch.errors import StoreError
from reportwatch.faults import checkpoint
from reportwatch.model import Change, Report, SourceState, Version, VersionMeta

DEFAULT_LOCK_TIMEOUT = 600.0
LOCK_TIMEOUT_ENV = "REPORTWATCH_LOCK_TIMEOUT"
TMP_DIR_PREFIX = ".tmp-"
# exactly the names this module gives temporary files and folders, so that cleaning up after an
# interrupted run never removes a file of anyone else's
_TMP_FILE = re.compile(r"^\..+\.[0-9a-f]{32}\.tmp$")
_TMP_DIR = re.compile(rf"^{re.escape(TMP_DIR_PREFIX)}[0-9a-f]{{32}}$")
FLUSH_THREADS = 4
_KEY_PART = re.compile(r"^[a-z0-9][a-z0-9-]*$")
VERSION_DIR = re.compile(r"^v(\d{4,})$")


def sha256(data: bytes) -> str:
    """Return the hex SHA-256 of bytes."""
    return hashlib.sha256(data).hexdigest()


def to_json(value: BaseModel | list[Any] | dict[str, Any]) -> bytes:
    """Return a model or plain value as indented, UTF-8 JSON bytes with a final newline."""
    data = value.model_dump(mode="json") if isinstance(value, BaseModel) else value
    return (json.dumps(data, indent=2, ensure_ascii=False) + "\n").encode()


def report_hash(report: Report) -> str:
    """Return the hash of a report's normalized JSON (what reparse compares)."""
    return sha256(to_json(report))


def fsync_dir(path: Path) -> None:
    """Flush a directory entry to disk so a rename in it survives a crash."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def write_file(path: Path, data: bytes) -> None:
    """Write bytes to a new file and flush them to disk."""
    with open(path, "wb") as handle:
        handle.write(data)
        handle.flush()
        os.fsync(handle.fileno())


def write_new(path: Path, data: bytes) -> None:
    """Write bytes to a new file, not flushed to disk yet (see `flush_together`)."""
    path.write_bytes(data)


def flush_together(paths: list[Path]) -> None:
    """Flush files (or folders) already written to disk, all at once, and return when all are:
    flushes issued together share the filesystem's journal commits, where one after another
    each waits for a commit of its own."""
    fds = [os.open(path, os.O_RDONLY) for path in paths]
    try:
        list(_flusher().map(os.fsync, fds))
    finally:
        for fd in fds:
            os.close(fd)


@functools.cache
def _flusher() -> ThreadPoolExecutor:
    """Return the threads that flush files for `flush_together` (made on first use)."""
    return ThreadPoolExecutor(FLUSH_THREADS, thread_name_prefix="flush")


def write_atomic(path: Path, data: bytes, durable: bool = True) -> None:
    """Replace a file's content atomically: write a temporary file beside it, then rename.
    `durable` also flushes the file and the rename to disk before returning."""
    tmp = path.with_name(f".{path.name}.{uuid.uuid4().hex}.tmp")
    if durable:
        write_file(tmp, data)
    else:
        tmp.write_bytes(data)
    checkpoint("atomic.before-rename")
    os.replace(tmp, path)
    if durable:
        fsync_dir(path.parent)


class Store:
    """A snapshot store rooted at a directory."""

    def __init__(self, root: Path | str, lock_timeout: float | None = None) -> None:
        """Open the store at `root` (nothing is read or written yet). A writer waits for the
        lock up to `lock_timeout` seconds: default REPORTWATCH_LOCK_TIMEOUT, else 600."""
        self.root = Path(root)
        self.documents_dir = self.root / "documents"
        self.lock_timeout = lock_timeout

    # --- opening and locking ---

    def check_format(self) -> None:
        """Raise StoreError unless this code can read the store as it is (see
        `store_format.check_readable`): a newer format, or an older one that must be migrated
        first, is refused with a message saying what to do."""
        store_format.check_readable(self.root)

    def ensure(self) -> None:
        """Under the lock: migrate an older store to the current format, create the store if it
        does not exist yet, and remove leftovers of interrupted runs."""
        store_format.migrate(self.root, write_atomic)
        self.documents_dir.mkdir(parents=True, exist_ok=True)
        if not (self.root / store_format.FORMAT_FILE).exists():
            path = self.root / store_format.FORMAT_FILE
            write_atomic(path, store_format.format_json(store_format.current_format()))
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
        wait = timeout if timeout is not None else self.lock_timeout
        if wait is None:
            wait = default_lock_timeout()
        lock = FileLock(str(self.root / ".lock"))
        try:
            lock.acquire(timeout=0)
        except Timeout:
            holder = f"{self.root}: another reportwatch run holds the store"
            if wait > 0:
                store_format.say(f"{holder}; waiting up to {wait:g}s for it")
            try:
                lock.acquire(timeout=wait)
            except Timeout:
                raise StoreError(f"{holder}; gave up after {wait:g}s") from None
        try:
            self.ensure()
            yield
        finally:
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
        if not self.documents_dir.is_dir():
            return []
        keys = []
        for path in sorted(self.documents_dir.glob("*/*/*")):
            if path.is_dir() and any(VERSION_DIR.match(p.name) for p in path.iterdir()):
                keys.append("/".join(path.relative_to(self.documents_dir).parts))
        return keys

    def versions(self, key: str) -> list[int]:
        """Return a document's version numbers, oldest first ([] for an unknown document)."""
        directory = self.document_dir(key)
        if not directory.is_dir():
            return []
        found = (VERSION_DIR.match(p.name) for p in directory.iterdir())
        return sorted(int(m.group(1)) for m in found if m)

    def version_dir(self, key: str, number: int) -> Path:
        """Return the directory of one version."""
        return self.document_dir(key) / f"v{number:04d}"

    def read_model(self, path: Path, model: type[BaseModel]) -> Any:
        """Return a JSON file parsed as a model; StoreError naming the file when it is not one."""
        try:
            return model.model_validate_json(path.read_bytes())
        except (OSError, ValidationError) as exc:
            reason = exc.strerror if isinstance(exc, OSError) else "not valid for its schema"
            raise StoreError(f"{path}: {reason}") from exc

    def load(self, key: str, number: int) -> Version:
        """Return one stored version. Raises StoreError when it is missing or unreadable."""
        directory = self.version_dir(key, number)
        if not directory.is_dir():
            raise StoreError(f"{key}: no version {number}")
        changes_path = directory / "changes.json"
        try:
            changes = json.loads(changes_path.read_bytes()) if changes_path.exists() else []
            parsed = tuple(Change.model_validate(c) for c in changes)
        except (ValueError, ValidationError) as exc:
            raise StoreError(f"{changes_path}: not valid change records") from exc
        return Version(
            meta=self.read_model(directory / "meta.json", VersionMeta),
            report=self.read_model(directory / "report.json", Report),
            changes=parsed,
        )

    def latest(self, key: str) -> Version | None:
        """Return a document's newest version, or None when it has none."""
        numbers = self.versions(key)
        return self.load(key, numbers[-1]) if numbers else None

    def raw(self, key: str, number: int) -> bytes:
        """Return the raw input bytes a version was made from."""
        meta: VersionMeta = self.load(key, number).meta
        return (self.version_dir(key, number) / meta.raw_file).read_bytes()

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
        """Write a new version atomically and return it (`report_json`: the report as `to_json`
        renders it, when the caller has rendered it already). Raises StoreError if a version with
        that number appeared meanwhile (the store is written under its lock, so only by misuse)."""
        directory = self.document_dir(meta.document)
        directory.mkdir(parents=True, exist_ok=True)
        target = self.version_dir(meta.document, meta.version)
        tmp = directory / f"{TMP_DIR_PREFIX}{uuid.uuid4().hex}"
        tmp.mkdir()
        checkpoint("version.dir-made")
        try:
            write_new(tmp / meta.raw_file, raw)
            checkpoint("version.raw-written")
            write_new(tmp / "report.json", report_json or to_json(report))
            checkpoint("version.report-written")
            write_new(tmp / "changes.json", to_json([c.model_dump(mode="json") for c in changes]))
            checkpoint("version.changes-written")
            write_new(tmp / "meta.json", to_json(meta))
            files = (meta.raw_file, "report.json", "changes.json", "meta.json")
            flush_together([*(tmp / name for name in files), tmp])
            checkpoint("version.meta-written")
            if target.exists():
                raise StoreError(f"{meta.document}: version {meta.version} already exists")
            os.rename(tmp, target)
            fsync_dir(directory)
            checkpoint("version.renamed")
        finally:
            if tmp.exists():
                shutil.rmtree(tmp, ignore_errors=True)
        return Version(meta=meta, report=report, changes=tuple(changes))

    def rewrite_derived(self, version: Version) -> None:
        """Replace a version's derived files (report, changes, meta) atomically, file by file;
        its raw bytes are never touched."""
        directory = self.version_dir(version.meta.document, version.meta.version)
        write_atomic(directory / "report.json", to_json(version.report))
        changes = [c.model_dump(mode="json") for c in version.changes]
        write_atomic(directory / "changes.json", to_json(changes))
        write_atomic(directory / "meta.json", to_json(version.meta))

    # --- per-input state and quarantine ---

    def source_path(self, location: str) -> Path:
        """Return the state file of an input location."""
        return self.root / "sources" / f"{sha256(location.encode())[:20]}.json"

    def source_state(self, location: str) -> SourceState:
        """Return what the store remembers about an input (a fresh state for a new one)."""
        path = self.source_path(location)
        if not path.exists():
            return SourceState(location=location)
        return self.cached_state(path) or SourceState(location=location)

    def cached_state(self, path: Path) -> SourceState | None:
        """Return an input's state file, or None when it is unreadable: the state is a cache
        (written without fsync), and losing it costs one unconditional fetch, never a version."""
        try:
            state: SourceState = self.read_model(path, SourceState)
        except StoreError:
            return None
        return state

    def source_states(self) -> list[SourceState]:
        """Return the remembered state of every input that has one, sorted by location."""
        folder = self.root / "sources"
        paths = sorted(folder.glob("*.json")) if folder.is_dir() else []
        states = [state for p in paths if (state := self.cached_state(p)) is not None]
        return sorted(states, key=lambda state: state.location)

    def save_source_state(self, state: SourceState) -> None:
        """Write an input's state atomically (only when it differs from what is stored)."""
        path = self.source_path(state.location)
        data = to_json(state)
        if path.exists() and path.read_bytes() == data:
            return
        path.parent.mkdir(parents=True, exist_ok=True)
        checkpoint("state.before-write")
        # Atomic but not flushed: every input's state is rewritten on every run (its last
        # success time), and two fsyncs per input were most of the time of a run where nothing
        # changed. It is a cache of validators and counters: losing the newest copy to a power
        # cut costs one unconditional fetch, never a version.
        write_atomic(path, data, durable=False)
        checkpoint("state.written")

    def quarantine(self, location: str, raw: bytes, reason: str, when: str) -> Path:
        """Keep an input that could not be used, with the reason, for a person to look at;
        return its folder. Quarantined input is never diffed."""
        folder = self.root / "quarantine" / sha256(location.encode())[:20] / when.replace(":", "")
        folder.mkdir(parents=True, exist_ok=True)
        write_atomic(folder / "raw", raw)
        write_atomic(folder / "reason.json", to_json({"location": location, "reason": reason}))
        return folder


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


def leftovers(root: Path) -> list[Path]:
    """Return what interrupted runs left in a store: temporary version folders ('.tmp-...')
    and temporary files of atomic writes ('.<name>.<hex>.tmp'), sorted. Readers skip both."""
    found = []
    for folder, dirs, files in os.walk(root):
        here = Path(folder)
        found += [here / d for d in dirs if _TMP_DIR.match(d)]
        dirs[:] = [d for d in dirs if not _TMP_DIR.match(d)]
        found += [here / f for f in files if _TMP_FILE.match(f)]
    return sorted(found)


def remove(path: Path) -> None:
    """Delete a file or a folder tree; one already gone is no error."""
    if path.is_dir():
        shutil.rmtree(path, ignore_errors=True)
    else:
        path.unlink(missing_ok=True)
