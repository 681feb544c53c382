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
run leaves no half-written version; readers skip names that start with a dot. Raw bytes and the
times and hashes in meta.json never change; `reparse` may re-derive report.json and changes.json.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from filelock import FileLock, Timeout
from pydantic import BaseModel, ValidationError

from reportwatch.errors import StoreError
from reportwatch.model import Change, Report, SourceState, Version, VersionMeta

STORE_FORMAT = 1
_KEY_PART = re.compile(r"^[a-z0-9][a-z0-9-]*$")
_VERSION_DIR = re.compile(r"^v(\d{4,})$")


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


def write_atomic(path: Path, data: bytes, durable: bool = True) -> None:
    """Replace a file's content atomically: write a temporary file beside it, then rename.
    `durable` also flushes the file and the rename to disk before returning."""
    tmp = path.with_name(f".{path.name}.{uuid.uuid4().hex}.tmp")
    if durable:
        write_file(tmp, data)
    else:
        tmp.write_bytes(data)
    os.replace(tmp, path)
    if durable:
        fsync_dir(path.parent)


class Store:
    """A snapshot store rooted at a directory."""

    def __init__(self, root: Path | str) -> None:
        self.root = Path(root)
        self.documents_dir = self.root / "documents"

    # --- opening and locking ---

    def check_format(self) -> None:
        """Raise StoreError when the store was written in a format this version cannot read."""
        path = self.root / "store.json"
        if not path.exists():
            return
        try:
            found = json.loads(path.read_text()).get("format")
        except (OSError, ValueError, AttributeError) as exc:
            raise StoreError(f"{path}: unreadable store format file ({exc})") from exc
        if found != STORE_FORMAT:
            raise StoreError(
                f"{self.root}: store format {found}; this reportwatch reads format {STORE_FORMAT}"
            )

    def ensure(self) -> None:
        """Create the store if it does not exist yet; check its format if it does."""
        self.check_format()
        self.documents_dir.mkdir(parents=True, exist_ok=True)
        if not (self.root / "store.json").exists():
            write_atomic(self.root / "store.json", to_json({"format": STORE_FORMAT}))

    @contextmanager
    def locked(self, timeout: float = 600.0) -> Iterator[None]:
        """Hold the store's write lock: a second writer waits up to `timeout` seconds, then fails
        with a message naming the store."""
        self.ensure()
        lock = FileLock(str(self.root / ".lock"), timeout=timeout)
        try:
            with lock:
                yield
        except Timeout:
            raise StoreError(
                f"{self.root}: another reportwatch run holds the store; gave up after {timeout:g}s"
            ) from None

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
            if path.is_dir() and any(_VERSION_DIR.match(p.name) for p in path.iterdir()):
                keys.append("/".join(path.relative_to(self.documents_dir).parts))
        return keys

    def versions(self, key: str) -> list[int]:
        """Return a document's version numbers, oldest first ([] for an unknown document)."""
        directory = self.document_dir(key)
        if not directory.is_dir():
            return []
        found = (_VERSION_DIR.match(p.name) for p in directory.iterdir())
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
        self, meta: VersionMeta, raw: bytes, report: Report, changes: list[Change]
    ) -> Version:
        """Write a new version atomically and return it. Raises StoreError if a version with
        that number appeared meanwhile (the store is written under its lock, so only by misuse)."""
        directory = self.document_dir(meta.document)
        directory.mkdir(parents=True, exist_ok=True)
        target = self.version_dir(meta.document, meta.version)
        tmp = directory / f".tmp-{uuid.uuid4().hex}"
        tmp.mkdir()
        try:
            write_file(tmp / meta.raw_file, raw)
            write_file(tmp / "report.json", to_json(report))
            write_file(tmp / "changes.json", to_json([c.model_dump(mode="json") for c in changes]))
            write_file(tmp / "meta.json", to_json(meta))
            fsync_dir(tmp)
            if target.exists():
                raise StoreError(f"{meta.document}: version {meta.version} already exists")
            os.rename(tmp, target)
            fsync_dir(directory)
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
        state: SourceState = self.read_model(path, SourceState)
        return state

    def save_source_state(self, state: SourceState) -> None:
        """Write an input's state atomically (only when it differs from what is stored)."""
        path = self.source_path(state.location)
        data = to_json(state)
        if path.exists() and path.read_bytes() == data:
            return
        path.parent.mkdir(parents=True, exist_ok=True)
        # Atomic but not flushed: every input's state is rewritten on every run (its last
        # success time), and two fsyncs per input were most of the time of a run where nothing
        # changed. It is a cache of validators and counters: losing the newest copy to a power
        # cut costs one unconditional fetch, never a version.
        write_atomic(path, data, durable=False)

    def quarantine(self, location: str, raw: bytes, reason: str, when: str) -> Path:
        """Keep an input that could not be used, with the reason, for a person to look at;
        return its folder. Quarantined input is never diffed."""
        folder = self.root / "quarantine" / sha256(location.encode())[:20] / when.replace(":", "")
        folder.mkdir(parents=True, exist_ok=True)
        write_atomic(folder / "raw", raw)
        write_atomic(folder / "reason.json", to_json({"location": location, "reason": reason}))
        return folder
