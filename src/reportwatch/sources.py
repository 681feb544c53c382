"""Sources stage: what to watch, from the sources file (`reportwatch.toml`) or the command line.

[[source]]
path = "seeds"                  # a folder, a file or a glob, relative to this file
# url = "https://..."           # a page or PDF to fetch
authority = "Barnet"            # fills in what a document does not say
regulator = "CQC"
tags = ["london"]

[http]                          # optional: how URLs are fetched (defaults below)
per_host = 2                    # at most N requests in flight to one host
min_interval = 1.0              # seconds between requests to one host
"""

from __future__ import annotations

import functools
import glob
import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from reportwatch.channels import ChannelConfig, NotifySettings
from reportwatch.errors import ConfigError
from reportwatch.fetch import is_url
from reportwatch.http_settings import DEFAULT_SETTINGS, MB, HttpSettings
from reportwatch.normalize import Defaults

DEFAULT_FILE = "reportwatch.toml"
# A [table] or [[array of tables]] header line, with the table's name.
_HEADER = re.compile(r"^\s*\[\[?\s*(?P<name>[^\]]*?)\s*\]\]?\s*(#.*)?$")


class SourceConfig(BaseModel):
    """One entry of the sources file."""

    model_config = ConfigDict(extra="forbid")

    name: str | None = None
    path: str | None = None
    url: str | None = None
    urls: str | None = None
    authority: str | None = None
    regulator: Literal["CQC", "Ofsted"] | None = None
    tags: list[str] = []

    @model_validator(mode="after")
    def one_location(self) -> SourceConfig:
        """Require exactly one of `path`, `url` and `urls`."""
        if sum(value is not None for value in (self.path, self.url, self.urls)) != 1:
            raise ValueError("give exactly one of `path`, `url` or `urls`")
        if self.url is not None and not is_url(self.url):
            raise ValueError("`url` must start with http:// or https://")
        return self

    def defaults(self) -> Defaults:
        """Return what this source says about its documents."""
        return Defaults(authority=self.authority, regulator=self.regulator, tags=tuple(self.tags))


_HTTP = DEFAULT_SETTINGS


class HttpConfig(BaseModel):
    """The [http] table: how URLs are fetched (`http_settings.HttpSettings`), defaults as there.
    Values must have their TOML type: a number, not a string holding one."""

    model_config = ConfigDict(extra="forbid", strict=True)

    timeout: float = Field(_HTTP.timeout, gt=0)  # seconds, to connect and for each read
    retries: int = Field(_HTTP.retries, ge=0)  # on connection errors, timeouts, 429 and 5xx
    backoff: float = Field(_HTTP.backoff, ge=0)  # urllib3 backoff_factor, seconds
    max_redirects: int = Field(_HTTP.max_redirects, ge=0)
    max_body_mb: float = Field(_HTTP.max_bytes / MB, gt=0)  # larger bodies are refused
    max_seconds: float = Field(_HTTP.max_seconds, gt=0)  # longest time to read one body
    per_host: int = Field(_HTTP.per_host, ge=1)  # requests in flight to one host
    min_interval: float = Field(_HTTP.min_interval, ge=0)  # seconds between requests to a host
    max_retry_after: float = Field(_HTTP.max_retry_after, ge=0)  # longest Retry-After obeyed
    user_agent: str = Field(_HTTP.user_agent, min_length=1)

    def settings(self) -> HttpSettings:
        """Return these values as the fetcher's settings."""
        values = self.model_dump(exclude={"max_body_mb"})
        return HttpSettings(**values, max_bytes=round(self.max_body_mb * MB))


class SourcesFile(BaseModel):
    """The whole sources file."""

    model_config = ConfigDict(extra="forbid")

    source: list[SourceConfig] = []
    http: HttpConfig = HttpConfig()
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
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read ({exc.strerror})") from exc
    return parsed_sources(text, path)


# the same text is parsed once a process: `reportwatch ingest --prefect` reads the file, then
# the flow it runs does (1,683 sources: 0.1 s each time)
@functools.lru_cache(maxsize=4)
def parsed_sources(text: str, path: Path) -> SourcesFile:
    """Return a sources file's text (read from `path`) parsed. Raises ConfigError naming the
    line and key at fault."""
    try:
        data = tomllib.loads(text)
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
    """Return the line of the TOML text that a validation error's location points at, under any
    table (`http.timeout`: [http]) or array of tables (`source.1.url`: the second [[source]]):
    the key's line within that table, else the table's header; with no such header, a top-level
    `name = ...` line (an inline table). 1 when nothing fits."""
    if not location:
        return 1
    lines = text.splitlines()
    name, rest = location[0], location[1:]
    nth = 0
    if rest and rest[0].isdigit():
        nth, rest = int(rest[0]), rest[1:]
    headers = [i for i, line in enumerate(lines) if _HEADER.match(line)]
    own = [i for i in headers if (m := _HEADER.match(lines[i])) and m["name"] == name]
    if nth < len(own):
        start = own[nth]
        end = next((i for i in headers if i > start), len(lines))
        return key_line(lines, start + 1, end, rest[0] if rest else None) or start + 1
    return key_line(lines, 0, headers[0] if headers else len(lines), name) or 1


def key_line(lines: list[str], start: int, end: int, key: str | None) -> int | None:
    """Return the number (from 1) of the line in lines[start:end] that sets `key`, or None."""
    if key is None:
        return None
    sets = re.compile(rf"^\s*{re.escape(key)}\s*=")
    return next((i + 1 for i in range(start, end) if sets.match(lines[i])), None)


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
        label = source.name or source.url or source.urls or source.path or f"source {number}"
        for location in map(str, source_locations(source, base)):
            earlier = items.get(location)
            defaults = merged(earlier.defaults, source.defaults()) if earlier else source.defaults()
            items[location] = Item(location, defaults, earlier.source if earlier else label)
    return list(items.values())


def source_locations(source: SourceConfig, base: Path) -> list[str | Path]:
    """Return the inputs one source names: its URL, the URLs of its URL-list file, or the files
    of its path."""
    if source.url is not None:
        return [source.url]
    if source.urls is not None:
        return list(url_list(base / source.urls))
    return list(expand_path(source.path or "", base))


def url_list(path: Path) -> list[str]:
    """Return the URLs of a URL-list file: one a line; blank lines and `#` comments skipped.
    Raises ConfigError naming the file and line of anything that is not an http(s) URL."""
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) else "not UTF-8 text"
        raise ConfigError(f"{path}: cannot read URL list ({reason})") from exc
    urls = []
    for number, line in enumerate(lines, start=1):
        text = line.strip()
        if not text or text.startswith("#"):
            continue
        if not is_url(text) or any(c.isspace() for c in text):
            raise ConfigError(f"{path}:{number}: not an http(s) URL: {text[:80]}")
        urls.append(text)
    return urls


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
            where = item.location if is_url(item.location) else str(Path(item.location).resolve())
            known.setdefault(where, item)
    items = []
    for arg in args:
        if is_url(arg):
            items.append(known.get(arg) or Item(arg, Defaults(), arg))
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


def choose_items(
    inputs: list[str], config: Path | None, parsed: SourcesFile | None = None
) -> list[Item]:
    """Return what a run ingests: the inputs named (files, folders, globs, URLs), else every
    source of the sources file `config` (`parsed` when the caller has read it already). Raises
    ConfigError when there is nothing to ingest."""
    if parsed is None and config is not None:
        parsed = load_sources(config)
    if inputs:
        return items_from_args(inputs, parsed, Path())
    if parsed is not None and config is not None:
        return items_from_config(parsed, config.parent)
    raise ConfigError(f"nothing to ingest: name files, folders or URLs, or write {DEFAULT_FILE}")


def http_settings(config: Path | None) -> HttpSettings:
    """Return the fetcher settings the sources file's [http] table gives (the defaults with no
    file). Raises ConfigError naming the line and key at fault."""
    return settings_of(config).http.settings()
