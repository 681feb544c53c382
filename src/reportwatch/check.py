"""`reportwatch check`: verify every stored version against its hashes, changing nothing.

For each document folder: version numbers run 1, 2, 3... with none missing. For each version:
meta.json, report.json and changes.json parse and fit their schemas; meta.json names the document
and version it is stored as; the raw bytes hash to meta.json's raw_sha256 and report.json to its
report_sha256. Also: store.json holds a format number this code knows, and each input's state
file parses. Leftovers of interrupted runs (temporary folders and files, which readers skip) are
listed apart: harmless. Each problem is one line naming the file and the reason; nothing is
ever repaired.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError

from reportwatch import store_format
from reportwatch.errors import StoreError
from reportwatch.model import Change, Report, SourceState, VersionMeta
from reportwatch.store import Store
from reportwatch.store_files import VERSION_DIR, leftovers, sha256, subfolders

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
    for path in sorted((store.root / "sources").glob("*.json")):
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
        (int(m.group(1)), p) for p in folder.iterdir() if (m := VERSION_DIR.match(p.name))
    )
    numbers = [n for n, _ in found]
    problems = []
    if numbers != list(range(1, len(numbers) + 1)):
        missing = sorted(set(range(1, max(numbers, default=0) + 1)) - set(numbers))
        what = ", ".join(f"v{n:04d}" for n in missing) or "no versions"
        problems.append(Problem(folder, f"version numbers not contiguous: {what} missing"))
    key = "/".join(folder.parts[-3:])
    result.documents += 1 if found else 0
    for number, path in found:
        result.versions += 1
        problems += check_version(path, key, number)
    return problems


def check_version(folder: Path, key: str, number: int) -> list[Problem]:
    """Return the problems of one version folder: its files parse, name it rightly and match
    their hashes."""
    meta, problems = check_json(folder / "meta.json", VersionMeta)
    report, report_problems = check_json(folder / "report.json", Report)
    problems += report_problems
    problems += check_changes(folder / "changes.json")
    if not isinstance(meta, VersionMeta):
        return problems
    if (meta.document, meta.version) != (key, number):
        stored = f"says {meta.document} v{meta.version}, stored as {key} v{number}"
        problems.append(Problem(folder / "meta.json", stored))
    raw = folder / meta.raw_file
    if Path(meta.raw_file).name != meta.raw_file or meta.raw_file.startswith("."):
        named = f"raw_file {meta.raw_file!r} is not a file name"
        problems.append(Problem(folder / "meta.json", named))
    elif not raw.is_file():
        problems.append(Problem(raw, "missing (named by meta.json raw_file)"))
    elif sha256(raw.read_bytes()) != meta.raw_sha256:
        problems.append(Problem(raw, "SHA-256 does not match raw_sha256 in meta.json"))
    path = folder / "report.json"
    if report is not None and sha256(path.read_bytes()) != meta.report_sha256:
        problems.append(Problem(path, "SHA-256 does not match report_sha256 in meta.json"))
    return problems


def check_json(path: Path, model: type[BaseModel]) -> tuple[BaseModel | None, list[Problem]]:
    """Return a JSON file parsed as a model, or None and the problem: missing, not JSON, or not
    valid for its schema (naming the first field at fault)."""
    parsed, problems = read_json(path)
    if problems:
        return None, problems
    try:
        return model.model_validate(parsed), []
    except ValidationError as exc:
        return None, [Problem(path, f"not valid for its schema ({schema_error(exc)})")]


def check_changes(path: Path) -> list[Problem]:
    """Return the problems of a changes.json: missing, not JSON, or not a list of change records."""
    records, problems = read_json(path)
    if problems:
        return problems
    if not isinstance(records, list):
        return [Problem(path, "not a list of change records")]
    for index, record in enumerate(records):
        try:
            Change.model_validate(record)
        except ValidationError as exc:
            return [Problem(path, f"record {index} not a change record ({schema_error(exc)})")]
    return []


def read_json(path: Path) -> tuple[Any, list[Problem]]:
    """Return what a JSON file holds, or None and the problem: missing, unreadable, not JSON."""
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        return None, [Problem(path, "missing")]
    except OSError as exc:
        return None, [Problem(path, f"unreadable ({exc.strerror})")]
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
    verdict = f"{count} problem{'s' if count != 1 else ''}" if count else "ok"
    lines.append(f"checked {result.documents} documents, {result.versions} versions: {verdict}")
    return "\n".join(lines)
