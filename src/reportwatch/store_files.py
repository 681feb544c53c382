"""The store's files on disk: JSON as the store writes it, atomic replacement, flushing many
files at once (a group commit's), and what interrupted runs leave behind.

Temporary files are named `.<name>.<32 hex>.tmp` and temporary folders `.tmp-<32 hex>`: exactly
these names, so that cleaning up after an interrupted run never removes anyone else's file.
"""

from __future__ import annotations

import ctypes
import functools
import hashlib
import itertools
import json
import os
import re
import shutil
import sys
from collections.abc import Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import BaseModel, SerializeAsAny, TypeAdapter

from reportwatch.errors import StoreError
from reportwatch.faults import checkpoint
from reportwatch.model import Report, Version
from reportwatch.version_file import RAW_FILE, VERSION_FILE, M, validated, version_name

TMP_DIR_PREFIX = ".tmp-"
_TMP_FILE = re.compile(r"^\..+\.[0-9a-f]{32}\.tmp$")
_TMP_DIR = re.compile(rf"^{re.escape(TMP_DIR_PREFIX)}[0-9a-f]{{32}}$")
# threads writing (and flushing) the store's files. Where each file is flushed (fsync), they
# wait on the disk, and many share its journal commits; where syncfs flushes them (Linux), they
# only hand bytes to the kernel, and more of them queue for the interpreter lock: a cold run of
# 1,683 versions took 8.0 s with 16, 6.9 s with 2 (medians of 8 alternating)
FLUSH_THREADS = 16
WRITE_THREADS = 2
_WRITE_FLAGS = os.O_WRONLY | os.O_CREAT | os.O_TRUNC | getattr(os, "O_BINARY", 0)
_MODELS: TypeAdapter[list[SerializeAsAny[BaseModel]]] = TypeAdapter(list[SerializeAsAny[BaseModel]])


def sha256(data: bytes) -> str:
    """Return the hex SHA-256 of bytes."""
    return hashlib.sha256(data).hexdigest()


def to_json(value: BaseModel | Sequence[Any] | dict[str, Any]) -> bytes:
    """Return a model, a list of models or a plain value as indented UTF-8 JSON bytes with a
    final newline. Models are rendered by pydantic (in Rust: `json.dumps` with an indent runs
    its pure-Python encoder), byte for byte what `json.dumps(indent=2, ensure_ascii=False)`
    gives of their JSON dump."""
    if isinstance(value, BaseModel):
        return value.model_dump_json(indent=2).encode() + b"\n"
    if not isinstance(value, dict) and value and all(isinstance(v, BaseModel) for v in value):
        return _MODELS.dump_json(list(value), indent=2) + b"\n"
    return (json.dumps(value, indent=2, ensure_ascii=False) + "\n").encode()


def report_hash(report: Report) -> str:
    """Return the hash of a report's normalized JSON (what reparse compares)."""
    return sha256(to_json(report))


def write_file(path: Path, data: bytes, durable: bool = True) -> None:
    """Write bytes to a file, created or emptied first; `durable` also flushes them to disk.
    Three system calls (four durable) where `open` makes six: each gives up the interpreter
    lock and waits to get it back, and a cold run writes three files an input on the writer
    threads while the run's thread, the fetch threads and the commits want it."""
    fd = os.open(path, _WRITE_FLAGS, 0o666)
    try:
        view = memoryview(data)
        while view:
            view = view[os.write(fd, view) :]
        if durable:
            os.fsync(fd)
    finally:
        os.close(fd)


def read_file(path: Path) -> bytes:
    """Return a file's bytes (OSError when it cannot be read). Four system calls where
    `Path.read_bytes` makes nine: each gives up the interpreter lock and waits to get it back
    behind the run's other threads, and a run reads an input's state and a report an input
    (an unchanged run of 1,683: 2.03 -> 1.95 s, medians of 8 alternating)."""
    fd = os.open(path, os.O_RDONLY | getattr(os, "O_BINARY", 0))
    try:
        size = os.fstat(fd).st_size
        data = os.read(fd, size + 1)
        if len(data) <= size:  # all of it: a regular file reads short only at its end
            return data
        chunks = [data]  # it grew since
        while more := os.read(fd, 1 << 16):
            chunks.append(more)
        return b"".join(chunks)
    finally:
        os.close(fd)


def read_stored(path: Path, missing: str | None = None) -> bytes:
    """Return a stored file's bytes. Raises StoreError naming the file and why it cannot be
    read, or saying `missing` (when given) for a file that is not there."""
    try:
        return read_file(path)
    except FileNotFoundError as exc:
        raise StoreError(missing or f"{path}: {exc.strerror}") from exc
    except OSError as exc:
        raise StoreError(f"{path}: {exc.strerror}") from exc


def read_model(path: Path, model: type[M]) -> M:
    """Return a JSON file parsed as a model; StoreError naming the file when it is not one."""
    return validated(path, read_stored(path), model)


def write_new(path: Path, data: bytes) -> None:
    """Write bytes to a new file, not flushed to disk yet (see `flush_together`)."""
    write_file(path, data, durable=False)


def flush_together(paths: list[Path]) -> None:
    """Flush files (or folders) already written to disk, all at once, and return when all are.
    On Linux, one syncfs(2) for each filesystem holding them: the filesystem's journal is
    committed once, where flushing each file cost more CPU than writing it (1,600 versions: 0.1
    against 1.2 s of CPU). Elsewhere each is flushed (fsync), the flushes issued together so
    that they share the filesystem's journal commits."""
    if not paths:
        return
    if syncfs() is None:
        list(flusher().map(fsync_path, paths))
        return
    folders = sorted({path.parent for path in paths})
    one_a_device = dict(zip(flusher().map(device_of, folders), folders, strict=True))
    for folder in one_a_device.values():
        sync_filesystem(folder)


def device_of(path: Path) -> int:
    """Return the device (the filesystem) a file or folder is on."""
    return os.stat(path).st_dev


@functools.cache
def syncfs() -> Any:
    """Return the C library's syncfs(2) (Linux), or None where there is none."""
    if not sys.platform.startswith("linux"):
        return None
    return getattr(ctypes.CDLL(None, use_errno=True), "syncfs", None)


def sync_filesystem(path: Path) -> None:
    """Flush everything written to the filesystem holding `path` to disk (syncfs(2), which
    reports a failed write-back since Linux 5.8). Raises OSError when it fails."""
    fd = os.open(path, os.O_RDONLY)
    try:
        if syncfs()(fd) != 0:
            error = ctypes.get_errno()
            raise OSError(error, os.strerror(error), str(path))
    finally:
        os.close(fd)


def fsync_path(path: Path) -> None:
    """Flush one file or folder to disk."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


@functools.cache
def flusher() -> ThreadPoolExecutor:
    """Return the threads that write and flush the store's files (made on first use): fewer
    when files are flushed a filesystem at a time (`syncfs`)."""
    count = WRITE_THREADS if syncfs() is not None else FLUSH_THREADS
    return ThreadPoolExecutor(count, thread_name_prefix="flush")


@functools.cache
def committer() -> ThreadPoolExecutor:
    """Return the thread that runs group commits in the background (made on first use): one,
    so that commits are made one after the other, in order."""
    return ThreadPoolExecutor(1, thread_name_prefix="commit")


def temporary_token() -> str:
    """Return a token (32 hex) no other temporary name of this process has had: random once a
    process, then counted (an os.urandom a file was a system call on the writing thread)."""
    return f"{_TOKEN_PREFIX[0]}{next(_TOKEN_COUNT):016x}"


def _new_token_prefix() -> None:
    """Draw this process's random token prefix (again in a forked child)."""
    _TOKEN_PREFIX[:] = [os.urandom(8).hex()]


_TOKEN_PREFIX: list[str] = []
_TOKEN_COUNT = itertools.count()
_new_token_prefix()
if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_new_token_prefix)


def temporary_path(path: Path, token: str | None = None) -> Path:
    """Return the name a file is written under before it is renamed to `path`: beside it,
    `.<name>.<32 hex>.tmp` (what `leftovers` finds), the hex being `token` or a new one."""
    return path.with_name(f".{path.name}.{token or temporary_token()}.tmp")


def write_atomic(path: Path, data: bytes, durable: bool = True) -> None:
    """Replace a file's content atomically: write a temporary file beside it, then rename.
    `durable` also flushes the file and the rename to disk before returning."""
    tmp = temporary_path(path)
    write_file(tmp, data, durable)
    checkpoint("atomic.before-rename")
    os.replace(tmp, path)
    if durable:
        fsync_path(path.parent)


def leftovers(root: Path) -> list[Path]:
    """Return what interrupted runs left in a store: temporary files ('.<name>.<hex>.tmp'), raw
    bytes whose version file was never renamed into place, and format 1's temporary version
    folders ('.tmp-...'), sorted. Readers skip them all."""
    found = []
    for folder, dirs, files in os.walk(root):
        here = Path(folder)
        found += [here / d for d in dirs if _TMP_DIR.match(d)]
        dirs[:] = [d for d in dirs if not _TMP_DIR.match(d)]
        found += [here / f for f in files if _TMP_FILE.match(f)]
        found += [here / f for f in files if is_orphan_raw(f, files)]
    return sorted(found)


def is_orphan_raw(name: str, names: list[str]) -> bool:
    """Return True when `name` is a version's raw bytes (v0001.raw.html) and `names` (its
    folder's files) hold no version file of that number: a run killed between the two renames
    of a commit left it."""
    found = RAW_FILE.match(name)
    return found is not None and version_name(int(found.group(1))) not in names


def remove(path: Path) -> None:
    """Delete a file or a folder tree; one already gone is no error."""
    if path.is_dir():
        shutil.rmtree(path, ignore_errors=True)
    else:
        path.unlink(missing_ok=True)


# --- versions staged for a group commit ---


@dataclass(frozen=True)
class Staged:
    """A version written under temporary names, waiting for the next commit: its files as
    (temporary name, final name), in the order they are renamed into place (the raw bytes, then
    the version file, whose presence makes the version)."""

    version: Version
    moves: tuple[tuple[Path, Path], ...]
    written: Future[list[Path]]  # its files (what to flush), once written

    @property
    def target(self) -> Path:
        """Return the version file's final name (v0001.json)."""
        return self.moves[-1][1]

    @property
    def document(self) -> str:
        """Return the key of the version's document."""
        return self.version.meta.document

    @property
    def number(self) -> int:
        """Return the version's number."""
        return self.version.meta.version


def write_version_files(moves: tuple[tuple[Path, Path], ...], files: list[bytes]) -> list[Path]:
    """Write a version's files (its raw bytes, then the version file) under their temporary
    names, the first of `moves` each; return them (what to flush). Nothing is left behind when
    a write fails. Raises StoreError when the version file's final name exists already."""
    target = moves[-1][1]
    if not made_folder(target.parent) and target.exists():
        raise StoreError(f"{target}: version exists already")
    written: list[Path] = []
    try:
        for (tmp, _), data in zip(moves, files, strict=True):
            written.append(tmp)
            write_new(tmp, data)
    except BaseException:
        for tmp in written:
            tmp.unlink(missing_ok=True)
        raise
    checkpoint("version.written")
    return written


def made_folder(folder: Path) -> bool:
    """Make a folder (and its parents) if missing; return True when this call made it (so
    nothing is in it yet). One system call when its parent is there."""
    try:
        os.mkdir(folder)
    except FileExistsError:
        return False
    except FileNotFoundError:
        folder.mkdir(parents=True, exist_ok=True)
    return True


def discard(staged: list[Staged]) -> None:
    """Remove staged versions' temporary files, once their writer threads are done with them (a
    file still being written is waited for, then removed)."""
    for version in staged:
        version.written.exception()
        for tmp, _ in version.moves:
            tmp.unlink(missing_ok=True)


def version_numbers_in(folder: str | Path) -> list[int]:
    """Return the version numbers a document's folder holds, oldest first ([] for no folder)."""
    try:
        names = os.listdir(folder)
    except (FileNotFoundError, NotADirectoryError):
        return []
    found = (VERSION_FILE.match(name) for name in names)
    return sorted(int(m.group(1)) for m in found if m)


def subfolders(folder: str | Path, depth: int) -> list[tuple[str, ...]]:
    """Return the paths (as parts) of the folders `depth` levels below `folder`, hidden ones
    left out, as `folder.glob("*/*/*")` finds them for a depth of 3."""
    try:
        entries = [e for e in os.scandir(folder) if not e.name.startswith(".") and e.is_dir()]
    except (FileNotFoundError, NotADirectoryError):
        return []
    if depth == 1:
        return [(e.name,) for e in entries]
    return [(e.name, *rest) for e in entries for rest in subfolders(e.path, depth - 1)]
