"""A stored version as two files in its document's folder: `v0001.json`, the version itself
(readable JSON: {"meta": ..., "report": ..., "changes": [...]}, a `model.Version`), and
`v0001.raw.html` (`.raw.pdf`, `.raw.txt`, `.raw.md`), the input bytes exactly as received.
The JSON file is the version: a raw file without one is what an interrupted run left.

Two files a version, where format 1 had a folder of four: on this kind of machine (a virtual
machine whose kernel work is dear) making a version's folder and its files cost the kernel
more than any other stage: a cold run of 1,683 versions took 7.2 s against 8.8 s with a folder
(medians of four, alternating; CPU 11.9 against 14.3 s); each file more costs about 0.2 ms of
kernel time. Not one zip file a version: a store of zips is not readable or diff-friendly in
plain git, and this one is.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import TypeVar

from pydantic import BaseModel, ValidationError

from reportwatch.errors import StoreError
from reportwatch.model import Report, Version

M = TypeVar("M", bound=BaseModel)

VERSION_FILE = re.compile(r"^v(\d{4,})\.json$")  # a version: v0001.json
RAW_FILE = re.compile(r"^v(\d{4,})\.raw\.[^.]+$")  # its raw bytes: v0001.raw.html


def version_stem(number: int) -> str:
    """Return what every file of version `number` is named from: v0001."""
    return f"v{number:04d}"


def version_name(number: int) -> str:
    """Return the file name of version `number` in its document's folder: v0001.json."""
    return f"{version_stem(number)}.json"


def raw_name(number: int, raw_file: str) -> str:
    """Return the file name of version `number`'s raw bytes, whose meta names them `raw_file`
    (raw.html): v0001.raw.html."""
    return f"{version_stem(number)}.{raw_file}"


def version_json(meta_json: bytes, report_json: bytes, changes_json: bytes) -> bytes:
    """Return a version file's bytes from its parts as `store_files.to_json` renders each: what
    `to_json` gives of the `Version`, without rendering the report again (JSON strings hold no
    raw newline, so indenting every line of a part nests it)."""
    parts = (b"meta", meta_json), (b"report", report_json), (b"changes", changes_json)
    nested = b",\n".join(b'  "' + name + b'": ' + indented(part) for name, part in parts)
    return b"{\n" + nested + b"\n}\n"


def indented(part: bytes) -> bytes:
    """Return rendered JSON indented one level (two spaces), its final newline dropped."""
    return part.rstrip(b"\n").replace(b"\n", b"\n  ")


class ReportOnly(BaseModel):
    """A version file read for its report alone (its meta and changes skipped)."""

    report: Report


def read_version(path: Path, data: bytes) -> Version:
    """Return a version file's bytes as a Version; StoreError naming the file when it is not
    one."""
    return validated(path, data, Version)


def read_report(path: Path, data: bytes) -> Report:
    """Return the report of a version file's bytes; StoreError naming the file when it holds
    none valid."""
    return validated(path, data, ReportOnly).report


def validated(path: Path, data: bytes, model: type[M]) -> M:
    """Return the JSON bytes of the file at `path` as a `model`; StoreError naming the file
    when they do not fit it."""
    try:
        return model.model_validate_json(data)
    except ValidationError as exc:
        raise StoreError(f"{path}: not valid for its schema") from exc
