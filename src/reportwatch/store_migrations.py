"""The store's migrations (`store_format.MIGRATIONS` lists them): each turns a store of one
format into the next, in place, under the store's lock, and can run again after being killed
part way (idempotent)."""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

from reportwatch.store_files import (
    flush_together,
    remove,
    subfolders,
    temporary_path,
    write_version_files,
)
from reportwatch.version_file import raw_name, version_json, version_name

VERSION_FOLDER = re.compile(r"^v(\d{4,})$")  # format 1's version folder: v0001


def unfold_version_folders(root: Path) -> None:
    """Format 1 -> 2: turn each version folder (v0001/ holding raw.<suffix>, meta.json,
    report.json and changes.json) into the two files of format 2 beside it: v0001.raw.<suffix>,
    the same bytes, and v0001.json, the three JSON files in one. All are written under
    temporary names, flushed together, renamed into place (the raw bytes first) and flushed
    again before any folder is removed, so a kill at any moment loses nothing: a folder whose
    version file is in place is only removed."""
    folders = format1_version_folders(root / "documents")
    written: list[tuple[Path, Path]] = []
    for folder in folders:
        number = int(folder.name[1:])
        if not (target := folder.with_name(version_name(number))).exists():
            written += write_unfolded(folder, number, target)
    flush_together([tmp for tmp, _ in written])
    for tmp, final in written:
        os.replace(tmp, final)
    flush_together(sorted({folder.parent for folder in folders}))
    for folder in folders:
        remove(folder)


def write_unfolded(folder: Path, number: int, target: Path) -> tuple[tuple[Path, Path], ...]:
    """Write a format-1 version folder's two format-2 files under temporary names, as a run
    writes a new version's (`write_version_files`); return them as (temporary name, final
    name), the raw bytes first."""
    meta = (folder / "meta.json").read_bytes()
    raw_file = json.loads(meta)["raw_file"]
    parts = [(folder / name).read_bytes() for name in ("report.json", "changes.json")]
    finals = (target.with_name(raw_name(number, raw_file)), target)
    moves = tuple((temporary_path(final), final) for final in finals)
    write_version_files(moves, [(folder / raw_file).read_bytes(), version_json(meta, *parts)])
    return moves


def format1_version_folders(documents: Path) -> list[Path]:
    """Return every format-1 version folder under a store's documents folder, sorted."""
    found = []
    for parts in sorted(subfolders(documents, 3)):
        document = documents.joinpath(*parts)
        found += sorted(p for p in document.iterdir() if VERSION_FOLDER.match(p.name))
    return found
