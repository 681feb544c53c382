"""`reportwatch check`: verify every stored version against its hashes, changing nothing.

For each document folder: version numbers run 1, 2, 3... with none missing. For each version
(v0001.json and its raw bytes, v0001.raw.html): the JSON parses, and its meta, report and
changes fit their schemas; meta names the document and version it is stored as; the raw bytes
hash to meta's raw_sha256 and the report as stored (rendered as the store renders it; not
through the model, so a report written by an older reportwatch keeps its hash) to its
report_sha256. Also: store.json holds a format number this code knows, and each input's state
file parses. Leftovers of interrupted runs (temporary files, raw bytes without their version, which
readers skip) are listed apart: harmless. Each problem is one line naming the file and the
reason; nothing is ever repaired.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError

from reportwatch import render, store_format
from reportwatch.errors import StoreError
from reportwatch.model import Change, Report, SourceState, VersionMeta
from reportwatch.store import Store
from reportwatch.store_files import leftovers, sha256, subfolders, to_json
from reportwatch.version_file import VERSION_FILE, raw_name, version_stem

Read = tuple[bytes | None, list["Problem"]]  # a file's bytes, or None and why not

LEFTOVER = "leftover of an interrupted run (harmless: readers skip it; the next run removes it)"


@dataclass(frozen=True)
class Problem:
    """One thing wrong in a store: the file (or folder) and the reason."""

    path: Path
    reason: str

    def line(self) -> str:
        """Return the problem as the one line `check` prints."""
        return f"{self.path}: {self.reason}"


@dataclass
class CheckResult:
    """What `check` found: counts of what it verified, problems, and harmless leftovers."""

    documents: int = 0
    versions: int = 0
    problems: list[Problem] = field(default_factory=list)
    leftovers: list[Problem] = field(default_factory=list)


def check_store(store: Store) -> CheckResult:
    """Return what is wrong in a store, reading every file and writing none. Raises StoreError
    when there is no store at its root, or its format is one this code cannot read."""
    if not store.root.is_dir():
        raise StoreError(f"{store.root}: no store here")
    result = CheckResult(leftovers=[Problem(p, LEFTOVER) for p in leftovers(store.root)])
    result.problems += check_format_file(store.root)
    for folder in document_folders(store):
        result.problems += check_document(folder, result)
    for path in sorted(store.sources_dir.glob("*.json")):
        result.problems += check_json(path, SourceState)[1]
    return result


def check_format_file(root: Path) -> list[Problem]:
    """Return the problems of store.json: missing or unreadable (a format this code cannot
    read at all is raised as StoreError, as every command does)."""
    path = root / store_format.FORMAT_FILE
    try:
        found = store_format.stored_format(root)
    except StoreError:
        return [Problem(path, "no format number in it (not a store format file)")]
    if found is None:
        return [Problem(path, "missing (a store written by reportwatch always has one)")]
    store_format.check_readable(root)
    return []


def document_folders(store: Store) -> list[Path]:
    """Return every folder that holds a document's versions (regulator/authority/subject)."""
    return [
        store.documents_dir.joinpath(*parts) for parts in sorted(subfolders(store.documents_dir, 3))
    ]


def check_document(folder: Path, result: CheckResult) -> list[Problem]:
    """Return the problems of one document folder and its versions, counting the versions."""
    found = sorted(
        (int(m.group(1)), p) for p in folder.iterdir() if (m := VERSION_FILE.match(p.name))
    )
    numbers = [n for n, _ in found]
    problems = []
    if numbers != list(range(1, len(numbers) + 1)):
        missing = sorted(set(range(1, max(numbers, default=0) + 1)) - set(numbers))
        what = ", ".join(version_stem(n) for n in missing) or "no versions"
        problems.append(Problem(folder, f"version numbers not contiguous: {what} missing"))
    key = "/".join(folder.parts[-3:])
    result.documents += 1 if found else 0
    for number, path in found:
        result.versions += 1
        problems += check_version(path, key, number)
    return problems


def check_version(path: Path, key: str, number: int) -> list[Problem]:
    """Return the problems of one version (its JSON file, v0001.json, and its raw bytes): the
    file parses, its meta, report and changes fit their schemas, it names the version rightly
    and its hashes match."""
    version, problems = parse_json(path, file_bytes(path))
    if problems:
        return problems
    if not isinstance(version, dict):
        return [Problem(path, "not a version (an object of meta, report and changes)")]
    meta, problems = check_part(path, version, "meta", VersionMeta)
    report, report_problems = check_part(path, version, "report", Report)
    problems += report_problems + check_changes(path, version.get("changes"))
    if not isinstance(meta, VersionMeta):
        return problems
    rendered = to_json(version["report"]) if report is not None else None
    return problems + check_hashes(path, meta, rendered, key, number)


def check_part(
    path: Path, version: dict[str, Any], part: str, model: type[BaseModel]
) -> tuple[BaseModel | None, list[Problem]]:
    """Return one part of a version file (meta, report) as its model, or None and the problem:
    missing or not valid for its schema."""
    if part not in version:
        return None, [Problem(path, f"{part}: missing")]
    return fitted(path, version[part], model, f"{part}: ")


def check_hashes(
    path: Path, meta: VersionMeta, report: bytes | None, key: str, number: int
) -> list[Problem]:
    """Return the problems of a version against its meta: stored under another document or
    number, a raw_file that is not a file name, raw bytes missing or whose SHA-256 is not the
    one meta gives, a report (`report`: as stored, rendered as the store renders it) whose
    SHA-256 is not."""
    problems = []
    if (meta.document, meta.version) != (key, number):
        stored = f"meta: says {meta.document} v{meta.version}, stored as {key} v{number}"
        problems.append(Problem(path, stored))
    if report is not None and sha256(report) != meta.report_sha256:
        problems.append(Problem(path, "report: SHA-256 does not match report_sha256 in meta"))
    if Path(meta.raw_file).name != meta.raw_file or meta.raw_file.startswith("."):
        return [*problems, Problem(path, f"meta: raw_file {meta.raw_file!r} is not a file name")]
    raw_path = path.with_name(raw_name(number, meta.raw_file))
    raw, raw_problems = file_bytes(raw_path)
    if raw is None:
        problems += [Problem(p.path, f"{p.reason} (named by meta raw_file)") for p in raw_problems]
    elif sha256(raw) != meta.raw_sha256:
        problems.append(Problem(raw_path, "SHA-256 does not match raw_sha256 in meta"))
    return problems


def check_json(path: Path, model: type[BaseModel]) -> tuple[BaseModel | None, list[Problem]]:
    """Return a JSON file parsed as a model, or None and the problem: missing, unreadable, not
    JSON, or not valid for its schema (`fitted`)."""
    parsed, problems = parse_json(path, file_bytes(path))
    if problems:
        return None, problems
    return fitted(path, parsed, model)


def fitted(
    path: Path, value: Any, model: type[BaseModel], part: str = ""
) -> tuple[BaseModel | None, list[Problem]]:
    """Return a value (read from the file at `path`; `part` of it, when given) validated as a
    model, or None and the problem: not valid for its schema, naming the first field at fault."""
    try:
        return model.model_validate(value), []
    except ValidationError as exc:
        return None, [Problem(path, f"{part}not valid for its schema ({schema_error(exc)})")]


def check_changes(path: Path, records: Any) -> list[Problem]:
    """Return the problems of a version's change records: missing, not a list, or a record that
    is not a change record."""
    if records is None:
        return [Problem(path, "changes: missing")]
    if not isinstance(records, list):
        return [Problem(path, "changes: not a list of change records")]
    for index, record in enumerate(records):
        try:
            Change.model_validate(record)
        except ValidationError as exc:
            why = f"changes: record {index} not a change record ({schema_error(exc)})"
            return [Problem(path, why)]
    return []


def file_bytes(path: Path) -> Read:
    """Return a file's bytes, or None and the problem: missing or unreadable."""
    try:
        return path.read_bytes(), []
    except FileNotFoundError:
        return None, [Problem(path, "missing")]
    except OSError as exc:
        return None, [Problem(path, f"unreadable ({exc.strerror})")]


def parse_json(path: Path, read: Read) -> tuple[Any, list[Problem]]:
    """Return what JSON bytes (`read` of the file at `path`) hold, or None and the problem:
    missing, unreadable, not JSON."""
    data, problems = read
    if data is None:
        return None, problems
    try:
        return json.loads(data), []
    except ValueError:
        return None, [Problem(path, "not valid JSON")]


def schema_error(exc: ValidationError) -> str:
    """Return a validation error's first complaint in short: 'score.value: Field required'."""
    first = exc.errors()[0]
    where = ".".join(str(part) for part in first["loc"]) or "(top level)"
    return f"{where}: {first['msg']}"


def as_json(result: CheckResult) -> dict[str, object]:
    """Return a check's result as the JSON `check --json` prints."""
    return {
        "ok": not result.problems,
        "documents": result.documents,
        "versions": result.versions,
        "problems": [{"path": str(p.path), "reason": p.reason} for p in result.problems],
        "leftovers": [{"path": str(p.path), "reason": p.reason} for p in result.leftovers],
    }


def as_text(result: CheckResult) -> str:
    """Return a check's result as lines: each problem, each leftover, then the tally."""
    lines = [p.line() for p in result.problems + result.leftovers]
    count = len(result.problems)
    verdict = render.counted(count, "problem") if count else "ok"
    documents = render.counted(result.documents, "document")
    lines.append(f"checked {documents}, {render.counted(result.versions, 'version')}: {verdict}")
    return "\n".join(lines)
