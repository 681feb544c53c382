"""Sources stage: what to watch, from the sources file (`reportwatch.toml`) or the command line.

[[source]]
path = "seeds"                  # a folder, a file or a glob, relative to this file
# url = "https://..."           # a page or PDF to fetch
authority = "Barnet"            # fills in what a document does not say
regulator = "CQC"
tags = ["london"]
"""

from __future__ import annotations

import glob
import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, ValidationError, model_validator

from reportwatch.channels import ChannelConfig, NotifySettings
from reportwatch.errors import ConfigError
from reportwatch.normalize import Defaults

DEFAULT_FILE = "reportwatch.toml"


class SourceConfig(BaseModel):
    """One entry of the sources file."""

    model_config = ConfigDict(extra="forbid")

    name: str | None = None
    path: str | None = None
    url: str | None = None
    authority: str | None = None
    regulator: Literal["CQC", "Ofsted"] | None = None
    tags: list[str] = []

    @model_validator(mode="after")
    def one_location(self) -> SourceConfig:
        """Require exactly one of `path` and `url`."""
        if (self.path is None) == (self.url is None):
            raise ValueError("give exactly one of `path` or `url`")
        if self.url is not None and not re.match(r"^https?://", self.url):
            raise ValueError("`url` must start with http:// or https://")
        return self

    def defaults(self) -> Defaults:
        """Return what this source says about its documents."""
        return Defaults(authority=self.authority, regulator=self.regulator, tags=tuple(self.tags))


class SourcesFile(BaseModel):
    """The whole sources file."""

    model_config = ConfigDict(extra="forbid")

    source: list[SourceConfig] = []
    notify: NotifySettings = NotifySettings()
    channel: list[ChannelConfig] = []


@dataclass(frozen=True)
class Item:
    """One input to ingest: a file path or URL, with what its source says about it."""

    location: str
    defaults: Defaults = field(default_factory=Defaults)
    source: str = ""


def load_sources(path: Path) -> SourcesFile:
    """Return the parsed sources file. Raises ConfigError naming the line and key at fault."""
    try:
        text = path.read_text(encoding="utf-8")
        data = tomllib.loads(text)
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read ({exc.strerror})") from exc
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: {exc}") from exc
    try:
        return SourcesFile.model_validate(data)
    except ValidationError as exc:
        error = exc.errors()[0]
        location = [str(p) for p in error["loc"]]
        line = line_of(text, location)
        key = ".".join(location) or "(file)"
        raise ConfigError(f"{path}:{line}: {key}: {error['msg']}") from None


def line_of(text: str, location: list[str]) -> int:
    """Return the line of the TOML text that a validation error's location points at: the key's
    line within the n-th [[source]] table, else that table's header (1 if nothing fits)."""
    lines = text.splitlines()
    headers = [i for i, line in enumerate(lines) if line.strip() == "[[source]]"]
    if len(location) < 2 or not location[1].isdigit() or int(location[1]) >= len(headers):
        return 1
    start = headers[int(location[1])]
    end = headers[int(location[1]) + 1] if int(location[1]) + 1 < len(headers) else len(lines)
    key = location[2] if len(location) > 2 else None
    for i in range(start, end):
        if key and re.match(rf"^\s*{re.escape(key)}\s*=", lines[i]):
            return i + 1
    return start + 1


def expand_path(pattern: str, base: Path) -> list[Path]:
    """Return the files a path names: itself, a folder's files (not hidden), or a glob's matches."""
    path = Path(pattern) if Path(pattern).is_absolute() else base / pattern
    if path.is_dir():
        return sorted(p for p in path.rglob("*") if p.is_file() and not hidden(p, path))
    if glob.has_magic(str(path)):
        return sorted(Path(p) for p in glob.glob(str(path), recursive=True) if Path(p).is_file())
    return [path]


def hidden(path: Path, root: Path) -> bool:
    """Return True when any part of a path below root starts with a dot."""
    return any(part.startswith(".") for part in path.relative_to(root).parts)


def items_from_config(config: SourcesFile, base: Path) -> list[Item]:
    """Return the inputs the sources file names, each once: where several sources name the same
    input, each metadata field takes the first value those sources give, in file order."""
    items: dict[str, Item] = {}
    for number, source in enumerate(config.source, start=1):
        label = source.name or source.url or source.path or f"source {number}"
        locations = [source.url] if source.url else expand_path(source.path or "", base)
        for location in map(str, locations):
            earlier = items.get(location)
            defaults = merged(earlier.defaults, source.defaults()) if earlier else source.defaults()
            items[location] = Item(location, defaults, earlier.source if earlier else label)
    return list(items.values())


def merged(first: Defaults, second: Defaults) -> Defaults:
    """Return metadata with each field from `first`, filled from `second` where `first` has none."""
    return Defaults(
        authority=first.authority or second.authority,
        regulator=first.regulator or second.regulator,
        tags=tuple(dict.fromkeys((*first.tags, *second.tags))),
    )


def items_from_args(args: list[str], config: SourcesFile | None, base: Path) -> list[Item]:
    """Return the inputs named on the command line; a file the sources file also covers takes
    that source's metadata."""
    known: dict[str, Item] = {}
    if config is not None:
        for item in items_from_config(config, base):
            known.setdefault(str(Path(item.location).resolve()), item)
    items = []
    for arg in args:
        if re.match(r"^https?://", arg):
            items.append(Item(arg, Defaults(), arg))
            continue
        for path in expand_path(arg, Path()):
            configured = known.get(str(path.resolve()))
            items.append(configured or Item(str(path), Defaults(), arg))
    return items


def config_path(option: Path | str | None) -> Path | None:
    """Return the sources file to use: the one named, else ./reportwatch.toml if it exists."""
    if option is not None:
        return Path(option)
    default = Path(DEFAULT_FILE)
    return default if default.exists() else None


def settings_of(config: Path | None) -> SourcesFile:
    """Return the sources file's settings (an empty file's defaults when there is none)."""
    return load_sources(config) if config is not None else SourcesFile()


def choose_items(inputs: list[str], config: Path | None) -> list[Item]:
    """Return what a run ingests: the inputs named (files, folders, globs, URLs), else every
    source of the sources file. Raises ConfigError when there is nothing to ingest."""
    parsed = load_sources(config) if config is not None else None
    if inputs:
        return items_from_args(inputs, parsed, Path())
    if parsed is not None and config is not None:
        return items_from_config(parsed, config.parent)
    raise ConfigError(f"nothing to ingest: name files, folders or URLs, or write {DEFAULT_FILE}")
