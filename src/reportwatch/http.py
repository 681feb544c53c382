"""HTTP fetcher: a URL -> `Fetched`, with retries, conditional requests, limits and politeness.

One `Fetcher` (urllib3 pool managers, `http_pools`) serves a run. What it does on every fetch:

- Retries: urllib3's `Retry` retries connection errors, read timeouts, 429 and 500/502/503/504
  with exponential backoff (`backoff` is urllib3's backoff_factor: the first retry is immediate,
  then backoff * 2**(n-1) seconds), honouring Retry-After. A Retry-After longer than
  `max_retry_after` fails the fetch at once instead of sleeping.
- Conditional requests: validators from a previous fetch (`Fetched.http`) are sent as
  If-None-Match / If-Modified-Since; a 304 comes back as `Fetched(not_modified=True)`.
- Redirects: followed here, at most `max_redirects`, each hop checked by `url_policy` (http(s)
  only; no redirect from a public address into a private one); each hop has its own retries.
- Limits: the body is streamed and abandoned past `max_bytes` (a larger Content-Length is refused
  before reading); a body shorter than its Content-Length is refused as truncated. `timeout`
  bounds connecting and each read, not the whole download.
- Politeness, per host of the URL asked for (redirect hops are not counted separately): at most
  `per_host` requests in flight, and a request starts at least `min_interval` after the previous
  start and after the previous response arrived. Retries inside urllib3 are spaced by backoff.
- A host down: once a host has answered none of UNREACHABLE_AFTER URLs in a row (each after its
  retries), its URLs fail at once for UNREACHABLE_FOR seconds ("not tried: ...", transient), then
  one is tried again; any answer from it ends this.

Every failure raises `FetchError` (an `InputError`) with one short line naming the reason
(`http_failures`) and whether it is transient (may pass if tried later); the caller adds the
URL. The settings are `http_settings.HttpSettings`; a final response is read by `http_response`.
`http_headers` makes the headers sent (user agent, validators, credentials, cookies) and
`http_pools` the connection pools (the proxy the environment names, the certificates trusted).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from time import monotonic  # the gates' clock (a test moves it on)
from typing import Any, Self
from urllib.parse import urlsplit

import urllib3.exceptions as u3
from urllib3 import Timeout
from urllib3.response import BaseHTTPResponse
from urllib3.util import parse_url
from urllib3.util.retry import Retry

from reportwatch.errors import FetchError
from reportwatch.fetch import VALIDATOR_KEYS, Fetched
from reportwatch.http_failures import TRANSPORT_ERRORS, RetryAfterTooLong, describe, fetch_error
from reportwatch.http_headers import Cookies, base_headers, conditional, keeps_auth, url_auth
from reportwatch.http_pools import Pools
from reportwatch.http_response import content_type, read_body, status_error, validators_of
from reportwatch.http_settings import DEFAULT_SETTINGS, HttpSettings
from reportwatch.url_policy import (
    RedirectRefused,
    redirect_refusal,
    redirect_target,
    url_refusal,
)

__all__ = [
    "DEFAULT_SETTINGS",
    "FetchError",
    "Fetcher",
    "HttpSettings",
    "describe",
    "redirect_refusal",
]

RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})


class CappedRetry(Retry):
    """urllib3 Retry that raises RetryAfterTooLong instead of sleeping more than `max_wait`."""

    def __init__(self, *args: Any, max_wait: float = 120.0, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.max_wait = max_wait

    def new(self, **kw: Any) -> Self:
        """Return a copy with `kw` changed, keeping `max_wait` (urllib3 copies on each retry)."""
        return super().new(max_wait=self.max_wait, **kw)

    def get_retry_after(self, response: BaseHTTPResponse) -> float | None:
        """Return the seconds a response's Retry-After asks for (None if absent or unreadable).

        Raises RetryAfterTooLong when that is more than `max_wait`."""
        header = response.headers.get("Retry-After")
        if header is None:
            return None
        try:
            seconds = self.parse_retry_after(header)
        except u3.InvalidHeader:
            return None  # unreadable: fall back to backoff
        if seconds > self.max_wait:
            raise RetryAfterTooLong(seconds)
        return seconds


# A host that answered none of this many URLs in a row (each after its retries) is not asked
# again for UNREACHABLE_FOR seconds: its other URLs fail at once, as transient, instead of each
# waiting out its retries (with a host down, a run of 1,683 URLs took hours).
UNREACHABLE_AFTER = 3
UNREACHABLE_FOR = 60.0


class HostGate:
    """Politeness towards one host: at most `slots` requests in flight, starts spaced out; and
    a host that stopped answering left alone for a while."""

    def __init__(self, host: str, slots: int, interval: float) -> None:
        self._host = host
        self._slots = threading.BoundedSemaphore(slots)
        self._lock = threading.Lock()
        self._interval = interval
        self._next_start = 0.0  # monotonic() before which no request may start
        self._silent = 0  # URLs in a row the host did not answer
        self._last_silence = ""
        self._left_until = 0.0  # monotonic() before which it is not asked again

    def unreachable(self) -> FetchError | None:
        """Return the error of a URL not tried because its host stopped answering (it answered
        none of the last UNREACHABLE_AFTER URLs, under UNREACHABLE_FOR seconds ago), or None."""
        with self._lock:
            if self._silent < UNREACHABLE_AFTER or monotonic() >= self._left_until:
                return None
            reason = f"{self._host} answered none of the last {self._silent} URLs"
            return FetchError(f"not tried: {reason} (last: {self._last_silence})", True)

    def _enter_unless_unreachable(self) -> None:
        """Raise the error of `unreachable` while the host is left alone."""
        if (error := self.unreachable()) is not None:
            raise error

    def no_answer(self, error: FetchError) -> None:
        """Note that a URL got no answer from the host, after its retries."""
        with self._lock:
            self._silent += 1
            self._last_silence = str(error)
            if self._silent >= UNREACHABLE_AFTER:
                self._left_until = monotonic() + UNREACHABLE_FOR

    @contextmanager
    def slot(self) -> Iterator[None]:
        """Hold one in-flight slot, entered once this host may be sent another request. Raises
        the FetchError of `unreachable`, before and after waiting for the slot, while the host
        is left alone (checked before the wait too, so its URLs fail without waiting)."""
        self._enter_unless_unreachable()
        with self._slots:
            self._enter_unless_unreachable()  # it may have stopped answering during the wait
            with self._lock:
                start = max(monotonic(), self._next_start)
                self._next_start = start + self._interval
            delay = start - monotonic()
            if delay > 0:  # even sleep(0) is a system call and a thread switch
                time.sleep(delay)
            yield

    def answered(self) -> None:
        """Note that a response arrived: the next request starts `interval` after it at the soonest.

        The server has seen a request before we see its answer, so this makes the spacing hold as
        the server measures it, not only as we do."""
        with self._lock:
            self._next_start = max(self._next_start, monotonic() + self._interval)
            self._silent = 0


class Fetcher:
    """Fetches http(s) URLs for one run over pooled connections; safe to share across threads.

    Redirect rule: a redirect to a private, loopback or link-local address is refused unless it
    is an address of the URL asked for or of one of the `named` URLs (see `url_policy`)."""

    def __init__(
        self, settings: HttpSettings = DEFAULT_SETTINGS, named: Iterable[str] = ()
    ) -> None:
        """Make the run's pools. `named` are the URLs the run watches: a redirect may lead to
        a private address only if it is one of theirs."""
        self.settings = settings
        self.named = tuple(named)
        self._retry = make_retry(settings)
        self._timeout = Timeout(connect=settings.timeout, read=settings.timeout)
        self._headers = base_headers(settings.user_agent)
        self._pools = Pools(maxsize=max(10, settings.per_host))
        self._cookies = Cookies()
        self._gates: dict[str, HostGate] = {}
        self._gates_lock = threading.Lock()

    def __reduce__(self) -> tuple[type[Fetcher], tuple[HttpSettings, tuple[str, ...]]]:
        """Pickle as a new fetcher with the same settings and named URLs (a spawned fetch
        process's): connections, cookies and host gates belong to one process."""
        return type(self), (self.settings, self.named)

    def _gate(self, url: str) -> HostGate:
        """Return the politeness gate of a URL's host, made on first use."""
        host = urlsplit(url).hostname or ""  # lower-cased by urlsplit
        with self._gates_lock:
            if host not in self._gates:
                settings = self.settings
                self._gates[host] = HostGate(host, settings.per_host, settings.min_interval)
            return self._gates[host]

    def fetch(self, url: str, validators: dict[str, str] | None = None) -> Fetched:
        """Return what an http(s) URL serves now; `validators` are a previous fetch's `http`.

        Returns Fetched(not_modified=True, raw=b"") on a 304. Raises FetchError otherwise."""
        refusal = url_refusal(url)
        if refusal is not None:
            raise FetchError(refusal)
        kept = {k: v for k, v in (validators or {}).items() if k in VALIDATOR_KEYS and v}
        gate = self._gate(url)
        try:
            with gate.slot():
                response, final_url = self._follow(url, kept)
                gate.answered()
                return self._finish(url, final_url, response, kept)
        except FetchError:
            raise
        except TRANSPORT_ERRORS as exc:
            error = fetch_error(exc, self.settings)
            if error.transient and not isinstance(exc, RetryAfterTooLong):
                gate.no_answer(error)
            raise error from exc

    def _follow(self, url: str, validators: dict[str, str]) -> tuple[BaseHTTPResponse, str]:
        """Send a GET (conditional when there are validators) and follow its redirects; return
        the final response, its body unread, and its URL. Raises RedirectRefused for a redirect
        refused by `url_policy` or one past `max_redirects`."""
        headers = {**self._headers, **conditional(validators)}
        auth = url_auth(url)
        hop = url
        for _ in range(self.settings.max_redirects + 1):
            response = self._send(hop, {**headers, **auth, **self._cookies.header(hop)})
            target = redirect_target(response.status, response.headers.get("Location"), hop)
            if target is None:
                return response, hop
            discard(response)  # a redirect's body is never read: a hostile one may be endless
            refusal = redirect_refusal(target, url, self.named) or url_refusal(target)
            if refusal is not None:
                raise RedirectRefused(refusal)
            auth = auth if keeps_auth(hop, target) else {}
            hop = target
        raise RedirectRefused("too many redirects")

    def _send(self, url: str, headers: dict[str, str]) -> BaseHTTPResponse:
        """Send one GET (urllib3 retrying it) and return the response, its body unread."""
        response = self._pools.manager_for(url).urlopen(
            "GET",
            url,
            headers=headers,
            retries=self._retry,
            redirect=False,
            timeout=self._timeout,
            preload_content=False,
            decode_content=False,
        )
        self._cookies.keep(url, response.headers)
        return response

    def _finish(
        self, url: str, final_url: str, response: BaseHTTPResponse, validators: dict[str, str]
    ) -> Fetched:
        """Return the Fetched of a final response, its connection back in the pool when the
        response was read to its end (else closed). Raises FetchError as `_result` does."""
        try:
            fetched = self._result(url, final_url, response, validators)
        except BaseException:
            discard(response)
            raise
        response.drain_conn()  # nothing left to read: returns the connection to its pool
        return fetched

    def _result(
        self, url: str, final_url: str, response: BaseHTTPResponse, validators: dict[str, str]
    ) -> Fetched:
        """Return the Fetched of a final response. Raises FetchError for anything but 200 / 304."""
        if response.status == 304:
            if not validators:
                raise FetchError("HTTP 304 Not Modified to a request that was not conditional")
            kept = {**validators, **validators_of(response)}
            return Fetched(url, b"", http=kept, not_modified=True)
        if response.status != 200:
            raise status_error(response)
        body = read_body(response, self.settings.max_bytes, self.settings.max_seconds)
        if not body:
            raise FetchError("empty response")
        media_type, charset = content_type(response.headers.get("Content-Type"))
        found = {
            **validators_of(response),
            "charset": charset,
            "final_url": request_url(final_url),
            "status": str(response.status),
        }
        http_info = {key: value for key, value in found.items() if value}
        return Fetched(url, body, media_type=media_type, http=http_info)

    def close(self) -> None:
        """Close the pooled connections."""
        self._pools.clear()

    def __enter__(self) -> Self:
        """Return this fetcher, to be closed when the `with` block ends."""
        return self

    def __exit__(self, *exc_info: object) -> None:
        """Close the fetcher."""
        self.close()


def make_retry(settings: HttpSettings) -> CappedRetry:
    """Return the retry policy of every request: connection errors, read timeouts, 429 and
    5xx retried `settings.retries` times with backoff, a Retry-After honoured up to its cap."""
    return CappedRetry(
        total=settings.retries,
        connect=settings.retries,
        read=settings.retries,
        status=settings.retries,
        other=0,
        backoff_factor=settings.backoff,
        status_forcelist=RETRY_STATUSES,
        allowed_methods=frozenset({"GET"}),
        respect_retry_after_header=True,
        raise_on_status=False,
        max_wait=settings.max_retry_after,
    )


def discard(response: BaseHTTPResponse) -> None:
    """Close a response whose body is not wanted (or not all read), and its connection."""
    response.close()
    response.release_conn()


def request_url(url: str) -> str:
    """Return a URL as it was requested: normalized and percent-encoded by urllib3, with "/" for
    an empty path (as requests recorded a response's URL)."""
    parts = parse_url(url)
    return parts._replace(path=parts.path or "/").url
