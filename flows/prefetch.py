"""URL fetches made ahead of `pipeline.ingest_item`, so that fetching can be a retried task.

`pipeline.ingest_item(store, item, now, fetcher)` fetches URLs through `fetcher` (any
`reportwatch.fetch.UrlFetcher`). The flow's fetch task fills a `Prefetched` with what the real
`reportwatch.http.Fetcher` answered for each URL (bytes, a 304, or the error); the record task then
hands the same `Prefetched` to `ingest_item` as its fetcher, which replays those answers. Local
files are read by `ingest_item` itself, so every stage after the fetch is the pipeline's own code.
"""

from __future__ import annotations

import threading

from reportwatch.errors import InputError, is_transient
from reportwatch.fetch import Fetched, UrlFetcher


class Prefetched:
    """What each URL answered when fetched ahead; replays it as a `UrlFetcher`. Thread-safe."""

    def __init__(self) -> None:
        self._answers: dict[str, Fetched | Exception] = {}
        self._lock = threading.Lock()

    def fetch_into(self, fetcher: UrlFetcher, url: str, validators: dict[str, str] | None) -> None:
        """Fetch a URL with the real fetcher and keep its answer, an error included."""
        try:
            answer: Fetched | Exception = fetcher.fetch(url, validators)
        except Exception as exc:
            answer = exc
        with self._lock:
            self._answers[url] = answer

    def needs(self, url: str) -> bool:
        """Return True when a URL has not been fetched yet, or its last fetch failed for a reason
        that may pass (a transient FetchError: a 404 is not asked again)."""
        with self._lock:
            answer = self._answers.get(url)
        return answer is None or is_transient(answer if isinstance(answer, Exception) else None)

    def error(self, url: str) -> Exception | None:
        """Return the error of a URL's last fetch, if it failed."""
        with self._lock:
            answer = self._answers.get(url)
        return answer if isinstance(answer, Exception) else None

    def fetch(self, url: str, validators: dict[str, str] | None = None) -> Fetched:
        """Return (or raise) what the URL answered when it was fetched ahead."""
        with self._lock:
            answer = self._answers.get(url)
        if answer is None:
            raise InputError("not fetched by this run's fetch task")
        if isinstance(answer, Exception):
            raise answer
        return answer
