"""URL fetches made ahead of `pipeline.ingest_item`, so that fetching overlaps the rest of a run.

`pipeline.ingest_item(store, item, now, fetcher)` fetches URLs through `fetcher` (any
`reportwatch.fetch.UrlFetcher`). Two things fetch ahead and then replay the answers to it:

- `Prefetched`, filled by the Prefect flow's fetch task with what the real
  `reportwatch.http.Fetcher` answered for each URL (bytes, a 304, or the error); the record task
  hands the same `Prefetched` to `ingest_item` as its fetcher.
- `Ahead`, used by `pipeline.ingest`: a process of its own for a large run's fetches
  (`fetch_process.FetchProcess`), a few threads for a small run's, keep the next URLs fetched
  while inputs are recorded one at a time in input order, and worker processes parse what they
  answered.

Local files are read by `ingest_item` itself, so every stage after the fetch is the pipeline's
own code, and the store is written by one thread, in input order, as without fetching ahead.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from contextlib import suppress
from functools import partial
from typing import Generic, Self, TypeVar

from reportwatch import processes
from reportwatch.errors import InputError, StoreError, is_transient
from reportwatch.fetch import Fetched, UrlFetcher, is_url
from reportwatch.fetch_process import FetchProcess, FetchThreads
from reportwatch.normalize import Defaults
from reportwatch.sources import Item
from reportwatch.store import Store

R = TypeVar("R")  # what parsing gives (the pipeline's: a report prepared to record)
Parser = Callable[[Fetched, Defaults], R]
# threads fetching ahead (the Fetcher's per-host limit still holds): more only queue for the
# GIL, 2 ran an all-304 run of 1,683 URLs in 2.3 s where 4 took 2.7 s; in the fetch process,
# 1.43 s with 2 and 1.49 s with 1 (medians of 8 alternating runs)
FETCH_WORKERS = 2
# URLs fetched (and being parsed) ahead of the one being recorded: enough to keep both parse
# workers busy past a slow PDF (a cold run of 1,683 took 8.8 s with 16, 9.8-11.2 s with 4;
# later, side by side, 6.9 s with 48 and 7.4 s with 128 where 16 took 7.9 s)
AHEAD = 48
TOP_UP = 16  # URLs asked for at once when fewer than AHEAD - TOP_UP are ahead
PARSE_WORKERS = 2  # processes parsing ahead, at most one a core
# a run of fewer URLs parses in-process: spawning a worker process costs about half a second
POOL_MIN_URLS = 50


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
        return self._replay(answer)

    def answered(self, url: str) -> Fetched | None:
        """Return the bytes (or 304) a URL answered, None when it failed or was not fetched."""
        with self._lock:
            answer = self._answers.get(url)
        return answer if isinstance(answer, Fetched) else None

    @staticmethod
    def _replay(answer: Fetched | Exception | None) -> Fetched:
        """Return a kept answer, or raise its error (InputError when there is none)."""
        if answer is None:
            raise InputError("not fetched by this run's fetch task")
        if isinstance(answer, Exception):
            raise answer
        return answer


class ParseAhead(Generic[R]):
    """Parses fetched bytes in worker processes ahead of their turn to be recorded, when a run is
    large enough to pay for the workers, and hands each result over once (what the parsers give:
    the pipeline's parse, then diff against the store). What was not parsed ahead is parsed in
    this process when asked for. Thread-safe; close it (or use `with`) to stop its workers."""

    def __init__(
        self,
        here: Parser[R],
        in_worker: Parser[R],
        urls: int,
        workers: ProcessPoolExecutor | None = None,
    ) -> None:
        """Prepare to parse the answers of a run of `urls` URLs: ahead with `in_worker` (picklable)
        in worker processes when the run wants them (`wants_workers`), `workers` when given
        (`forked_workers`: they are then this object's to stop), else started on first need (or
        by `warm`); else, when asked, with `here` in this process."""
        self._here, self._in_worker = here, in_worker
        self._use_pool = workers is not None or wants_workers(urls)
        self._pool = workers
        self._parsed: dict[str, tuple[Fetched, Future[R]]] = {}
        self._lock = threading.Lock()

    def start(self, fetched: Fetched, defaults: Defaults) -> None:
        """Start parsing fetched bytes in a worker (nothing for a 304, or for a small run)."""
        if fetched.not_modified or (pool := self._workers()) is None:
            return
        future = pool.submit(self._in_worker, fetched, defaults)
        with self._lock:
            self._parsed[fetched.location] = (fetched, future)

    def _workers(self) -> ProcessPoolExecutor | None:
        """Return the parse workers, started on first need (None when the run is too small)."""
        with self._lock:
            if self._use_pool and self._pool is None:
                self._pool = start_workers()
            return self._pool

    def warm(self) -> None:
        """Start the workers now, for a run large enough: called before the run starts its
        threads, they are forked (see `start_workers`)."""
        self._workers()

    def parse(self, fetched: Fetched, defaults: Defaults) -> R:
        """Return what parsing gives of fetched bytes: parsed ahead for exactly these bytes,
        else parsed now, in this process. Raises what parsing raises."""
        with self._lock:
            ahead = self._parsed.pop(fetched.location, None)
        if ahead is not None and ahead[0] is fetched:
            return ahead[1].result()
        return self._here(fetched, defaults)

    def close(self) -> None:
        """Stop the workers: parses not started are dropped, running ones finish."""
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)

    def __enter__(self) -> Self:
        """Return self."""
        return self

    def __exit__(self, *exc_info: object) -> None:
        """Close: see `close`."""
        self.close()


class Ahead(Generic[R]):
    """Fetches a run's URLs ahead of the in-order record loop of `pipeline.ingest` and parses
    what they answered in worker processes when the run is large enough to pay for them. As a
    `UrlFetcher` it hands each URL's answer to `ingest_item`; `parse` hands over what was parsed
    ahead.

    A large run fetches in a process of its own (`FetchProcess`), so that the requests and the
    record loop (which reads each 304's latest report when its turn comes) do not take turns on
    one interpreter lock; a small one fetches on threads of this process, after reading every
    input's state and latest report (`read_ahead`). Either way one fetcher fetches every URL, so
    its per-host limits hold. Only the first occurrence of a URL is fetched ahead, with the
    validators its state holds before the run (nothing earlier in the run writes them); a URL
    listed again is fetched when its turn comes, as without fetching ahead. Close it (or use
    `with`) to stop its fetches and workers."""

    def __init__(
        self,
        store: Store,
        fetcher: UrlFetcher,
        items: Sequence[Item],
        parsers: tuple[Parser[R], Parser[R]],
        workers: int = FETCH_WORKERS,
    ) -> None:
        """Prepare to fetch `items`' URLs ahead through `fetcher` on `workers` threads, reading
        validators from `store`, and to parse their answers with `parsers` (in this process, in
        a worker: see `ParseAhead`); nothing starts before `start`."""
        self._store, self._fetcher, self._threads = store, fetcher, workers
        first: dict[str, Item] = {}
        for item in items:
            if is_url(item.location):
                first.setdefault(item.location, item)
        self._queue = list(first.values())
        self._window = AHEAD
        self._fetches: FetchProcess | FetchThreads | None = None
        self._pending: dict[str, Future[Fetched]] = {}
        self._parsing = ParseAhead(*parsers, len(self._queue))
        self._started = 0

    def start(self) -> Self:
        """Start fetching: a large run's fetch process and parse workers, forked before this
        process starts a thread (`processes.can_fork`), else threads here after reading what
        the store holds of each URL (`read_ahead`); then fetch the first URLs ahead; return
        self."""
        if wants_workers(len(self._queue)):
            self._fetches = FetchProcess(self._fetcher, self._threads)
            self._parsing.warm()
        else:
            self._fetches = FetchThreads(self._fetcher, self._threads)
            read_ahead(self._store, self._queue)
        self._top_up()
        return self

    def _top_up(self) -> None:
        """Keep up to `window` URLs fetched or being fetched ahead of the record loop, asking
        for TOP_UP more at a time."""
        assert self._fetches is not None, "fetching ahead has not started"
        if len(self._pending) > self._window - TOP_UP or self._started == len(self._queue):
            return
        items = self._queue[self._started : self._started + self._window - len(self._pending)]
        self._started += len(items)
        states = [self._store.source_state(item.location) for item in items]
        requests = [
            (item.location, state.validators or None)
            for item, state in zip(items, states, strict=True)
        ]
        futures = self._fetches.submit_many(requests)
        for item, state, future in zip(items, states, futures, strict=True):
            future.add_done_callback(partial(self._answered, item.defaults, state.document))
            self._pending[item.location] = future

    def _answered(self, defaults: Defaults, document: str | None, fetched: Future[Fetched]) -> None:
        """When a URL answered with bytes, start parsing them and drop the report read ahead
        for its document, which only a 304 shows."""
        if fetched.cancelled() or fetched.exception() is not None:
            return
        if not (answer := fetched.result()).not_modified:
            self._parsing.start(answer, defaults)
            if document:
                self._store.drop_report_ahead(document)

    def fetch(self, url: str, validators: dict[str, str] | None = None) -> Fetched:
        """Return (or raise) what a URL answered when fetched ahead; a URL not fetched ahead
        (listed again, or not in the run's items) is fetched now with `validators`."""
        pending = self._pending.pop(url, None)
        self._top_up()
        if pending is None:
            assert self._fetches is not None, "fetching ahead has not started"
            return self._fetches.fetch(url, validators)
        return pending.result()

    def parse(self, fetched: Fetched, defaults: Defaults) -> R:
        """Return what parsing gives of fetched bytes: parsed ahead, else parsed now (see
        `ParseAhead.parse`). Raises what parsing raises."""
        return self._parsing.parse(fetched, defaults)

    def close(self) -> None:
        """Stop fetching and parsing ahead: unstarted work is dropped, running work finishes."""
        if self._fetches is not None:
            self._fetches.close()
        self._parsing.close()

    def __enter__(self) -> Self:
        """Start fetching ahead; return self."""
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        """Close: see `close`."""
        self.close()


def read_ahead(store: Store, items: Sequence[Item]) -> None:
    """Read, before their URLs are fetched, each input's state and its document's latest report
    (what a run shows of an input that answers 304: `Store.read_latest_report_ahead`), all on
    the calling thread. Read beside the fetch threads instead, each file waited for the
    interpreter lock after every system call: an all-304 run of 1,683 URLs took 2.3 s that
    way and 1.8 s this way."""
    for item in items:
        state = store.source_state(item.location)
        if state.document:
            with suppress(StoreError):  # read again when its turn comes, and reported then
                store.read_latest_report_ahead(state.document)


def fetch_ahead(
    store: Store, fetcher: UrlFetcher, answers: Prefetched, parsing: ParseAhead[R], item: Item
) -> None:
    """Fetch an input's URL into `answers`, with the validators its state holds (read ahead by
    `read_ahead`); when it answered bytes, start parsing them (`parsing`) and drop the report
    read ahead for it, which only a 304 shows."""
    state = store.source_state(item.location)
    answers.fetch_into(fetcher, item.location, state.validators or None)
    fetched = answers.answered(item.location)
    if fetched is not None and not fetched.not_modified:
        parsing.start(fetched, item.defaults)
        if state.document:
            store.drop_report_ahead(state.document)


def wants_workers(urls: int) -> bool:
    """Return True when a run of `urls` URLs pays for parse worker processes: POOL_MIN_URLS or
    more, on more than one core."""
    return urls >= POOL_MIN_URLS and (os.cpu_count() or 1) > 1


def forked_workers(urls: int) -> ProcessPoolExecutor | None:
    """Return parse workers for a run of `urls` URLs, forked now, when the run wants them
    (`wants_workers`) and this process may fork (`can_fork`); else None. For a caller about to
    start threads of its own before its run starts (Prefect's flow engine): hand them to
    `ParseAhead`, which stops them."""
    return start_workers() if wants_workers(urls) and processes.can_fork() else None


def start_workers() -> ProcessPoolExecutor:
    """Return a pool of parse worker processes, one a core up to PARSE_WORKERS, started now
    (forked when that is safe, else spawned: `processes.context`). A forked worker shares the
    store's lock file; it exits with the pool, before the lock is released, or at most
    `processes.PARENT_WATCH_SECONDS` after this process is killed."""
    count = min(PARSE_WORKERS, os.cpu_count() or 1)
    pool = ProcessPoolExecutor(
        count, processes.context(), initializer=processes.exit_with_parent, initargs=(os.getpid(),)
    )
    pool.submit(os.getpid)  # a pool starts its processes on its first task
    return pool
