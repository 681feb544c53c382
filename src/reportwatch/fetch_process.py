"""A run's URL fetches in a process of their own, beside the run's process.

In a run's one process, the requests (0.3 ms of CPU each in urllib3 and http.client, for a 304)
and the run's own reads and records take turns on one interpreter lock. `FetchProcess` runs the
run's one `Fetcher` on a few threads in a helper process (`reportwatch.processes`), so its
per-host limits, cookies and "host stopped answering" still hold across every URL of the run;
the run sends it each URL with its validators and gets what it answered, or the error, as a
Future. Answers come back in the order they arrive, each with the number of its request.
"""

from __future__ import annotations

import os
import pickle
import signal
import threading
import time
from collections.abc import Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import suppress
from multiprocessing import Pipe
from multiprocessing.connection import Connection
from queue import Empty, SimpleQueue
from typing import Self

from reportwatch import processes
from reportwatch.errors import FetchError
from reportwatch.fetch import Fetched, UrlFetcher

# how long closing waits for fetches already under way (each is bounded by its own timeouts)
CLOSE_WAIT_SECONDS = 60.0
# How long an answer waits for others to go with it. A message costs each process about as much
# CPU as a 304; sent alone, most answers of a run of 304s went one a message. The run asks for
# up to `prefetch.AHEAD` URLs ahead, so the wait is hidden.
COALESCE_SECONDS = 0.001
Ask = tuple[str, dict[str, str] | None]  # a URL and the validators to send with it
Request = tuple[int, str, dict[str, str] | None]  # number, URL, validators
Answer = tuple[int, Fetched | BaseException]  # number, what its URL answered


class FetchProcess:
    """A helper process fetching URLs through one fetcher on `threads` threads. Thread-safe;
    close it (or use `with`) to stop it."""

    def __init__(self, fetcher: UrlFetcher, threads: int) -> None:
        """Start the process: forked when that is safe (it fetches through its copy of
        `fetcher`), else spawned (`fetcher` is pickled: a `Fetcher` pickles as a new one with
        the same settings)."""
        ours, theirs = Pipe()
        self._process = processes.context().Process(
            target=serve, args=(theirs, fetcher, threads, os.getpid()), name="reportwatch-fetch"
        )
        self._process.daemon = True
        self._process.start()
        theirs.close()
        self._conn = ours
        self._lock, self._sending = threading.Lock(), threading.Lock()
        self._waiting: dict[int, Future[Fetched]] = {}
        self._sent = 0
        self._ended: FetchError | None = None
        # started with the first request: until then this process may still fork (its parse
        # workers, `processes.can_fork`)
        self._receiver = threading.Thread(target=self._receive, name="fetch-answers", daemon=True)

    @property
    def pid(self) -> int | None:
        """Return the helper process's id."""
        return self._process.pid

    def submit(self, url: str, validators: dict[str, str] | None = None) -> Future[Fetched]:
        """Return a Future of what a URL answers (fetched conditionally with `validators`):
        its `Fetched`, or the error its fetch raised."""
        return self.submit_many([(url, validators)])[0]

    def submit_many(self, requests: Sequence[Ask]) -> list[Future[Fetched]]:
        """Return a Future for each (URL, validators) request (see `submit`), all sent at once:
        a message costs about as much CPU as a 304."""
        futures: list[Future[Fetched]] = [Future() for _ in requests]
        with self._lock:
            if self._ended is not None:
                for future in futures:
                    future.set_exception(self._ended)
                return futures
            first = self._sent
            self._sent += len(requests)
            self._waiting.update(zip(range(first, self._sent), futures, strict=True))
            if first == 0:
                self._receiver.start()
        batch = [(first + n, url, validators) for n, (url, validators) in enumerate(requests)]
        try:
            with self._sending:
                self._conn.send(batch)
        except (OSError, ValueError):  # the process is gone: `_receive` says why
            pass
        return futures

    def fetch(self, url: str, validators: dict[str, str] | None = None) -> Fetched:
        """Return what a URL answers (a `UrlFetcher`); raise its error."""
        return self.submit(url, validators).result()

    def _receive(self) -> None:
        """Settle each request's Future with its answer, until the process ends; then fail
        the requests still waiting."""
        while True:
            try:
                answers: list[Answer] = self._conn.recv()
            except (EOFError, OSError):
                break
            with self._lock:
                futures = [self._waiting.pop(ident) for ident, _ in answers]
            for future, (_, answer) in zip(futures, answers, strict=True):
                if isinstance(answer, BaseException):
                    future.set_exception(answer)
                else:
                    future.set_result(answer)
        with self._lock:
            self._ended = FetchError("not fetched: the run's fetch process ended", transient=True)
            waiting, self._waiting = list(self._waiting.values()), {}
        for future in waiting:
            future.set_exception(self._ended)

    def close(self) -> None:
        """Stop the process: requests not started are dropped (their Futures fail), fetches
        under way finish first (at most CLOSE_WAIT_SECONDS)."""
        with suppress(OSError, ValueError), self._sending:
            self._conn.send(None)
        self._process.join(CLOSE_WAIT_SECONDS)
        if self._process.is_alive():
            self._process.kill()
            self._process.join()
        if self._receiver.is_alive():
            self._receiver.join()
        self._conn.close()

    def __enter__(self) -> Self:
        """Return self."""
        return self

    def __exit__(self, *exc_info: object) -> None:
        """Close: see `close`."""
        self.close()


class FetchThreads:
    """URL fetches on threads of this process, through one fetcher (a small run's)."""

    def __init__(self, fetcher: UrlFetcher, threads: int) -> None:
        """Prepare `threads` threads to fetch through `fetcher`."""
        self._fetcher = fetcher
        self._pool = ThreadPoolExecutor(threads, thread_name_prefix="fetch-ahead")

    def submit_many(self, requests: Sequence[Ask]) -> list[Future[Fetched]]:
        """Return a Future for each (URL, validators) request (see `FetchProcess.submit`)."""
        return [self._pool.submit(self._fetcher.fetch, url, checks) for url, checks in requests]

    def fetch(self, url: str, validators: dict[str, str] | None = None) -> Fetched:
        """Return what a URL answers, fetched on the calling thread; raise its error."""
        return self._fetcher.fetch(url, validators)

    def close(self) -> None:
        """Stop: requests not started are dropped, fetches under way finish first."""
        self._pool.shutdown(wait=True, cancel_futures=True)


def serve(conn: Connection, fetcher: UrlFetcher, threads: int, parent: int) -> None:
    """Run in the fetch process: fetch each request read from `conn` on `threads` threads and
    send back the answers, until the run sends None or goes away."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the run's; it then closes this
    processes.exit_with_parent(parent)
    answers: SimpleQueue[Answer | None] = SimpleQueue()
    # plain threads on a queue: a ThreadPoolExecutor's Future and locks per request took this
    # process 0.87 s of CPU over 1,683 304s, against 0.81 s so
    todo: SimpleQueue[Request | None] = SimpleQueue()
    workers = [
        threading.Thread(target=fetch_each, args=(fetcher, todo, answers), name=f"fetch_{n}")
        for n in range(threads)
    ]
    sender = threading.Thread(target=send_answers, args=(conn, answers), name="send-answers")
    for thread in [*workers, sender]:
        thread.start()
    queue_requests(conn, todo)
    with suppress(Empty):  # requests not started are dropped; the run fails their Futures
        while True:
            todo.get_nowait()
    for _ in workers:
        todo.put(None)
    for thread in workers:
        thread.join()
    answers.put(None)
    sender.join()
    conn.close()


def queue_requests(conn: Connection, todo: SimpleQueue[Request | None]) -> None:
    """Put each request the run sends on `todo`, until it sends None or goes away."""
    while True:
        try:
            requests: list[Request] | None = conn.recv()
        except (EOFError, OSError):
            return
        if requests is None:
            return
        for request in requests:
            todo.put(request)


def fetch_each(
    fetcher: UrlFetcher, todo: SimpleQueue[Request | None], answers: SimpleQueue[Answer | None]
) -> None:
    """Fetch each request taken from `todo` and put its answer (what it fetched, or its error
    as it can cross to the run: `portable`) on `answers`, until None is taken."""
    while (request := todo.get()) is not None:
        ident, url, validators = request
        try:
            result: Fetched | BaseException = fetcher.fetch(url, validators)
        except Exception as exc:
            result = portable(exc)
        answers.put((ident, result))


def send_answers(conn: Connection, answers: SimpleQueue[Answer | None]) -> None:
    """Send the answers put in `answers` to the run, as many at once as are waiting
    COALESCE_SECONDS after the first, until None is put."""
    while (first := answers.get()) is not None:
        batch, done = [first], False
        if answers.empty():
            time.sleep(COALESCE_SECONDS)
        while not answers.empty() and not done:
            if (more := answers.get()) is None:
                done = True
            else:
                batch.append(more)
        with suppress(OSError):
            conn.send(batch)
        if done:
            return


def portable(error: Exception) -> BaseException:
    """Return an error as it can cross to the run's process: itself when it pickles and
    unpickles, else a RuntimeError naming it (the run reports it as an internal error)."""
    try:
        pickle.loads(pickle.dumps(error))
    except Exception:
        return RuntimeError(repr(error))
    return error
