"""HTTP fetcher: a URL -> `Fetched`, with retries, conditional requests, limits and politeness.

One `Fetcher` (one `requests.Session`) serves a run. What it does on every fetch:

- Retries: urllib3's `Retry` retries connection errors, read timeouts, 429 and 500/502/503/504
  with exponential backoff (`backoff` is urllib3's backoff_factor: the first retry is immediate,
  then backoff * 2**(n-1) seconds), honouring Retry-After. A Retry-After longer than
  `max_retry_after` fails the fetch at once instead of sleeping.
- Conditional requests: validators from a previous fetch (`Fetched.http`) are sent as
  If-None-Match / If-Modified-Since; a 304 comes back as `Fetched(not_modified=True)`.
- Redirects: at most `max_redirects`, each checked by `url_policy` (http(s) only; no redirect
  from a public address into a private one).
- Limits: the body is streamed and abandoned past `max_bytes` (a larger Content-Length is refused
  before reading); a body shorter than its Content-Length is refused as truncated. `timeout`
  bounds connecting and each read, not the whole download.
- Politeness, per host of the URL asked for (redirect hops are not counted separately): at most
  `per_host` requests in flight, and a request starts at least `min_interval` after the previous
  start and after the previous response arrived. Retries inside urllib3 are spaced by backoff.

Every failure raises `FetchError` (an `InputError`) with one short line naming the reason
(`http_failures`) and whether it is transient (may pass if tried later); the caller adds the
URL. The settings are `http_settings.HttpSettings`; a final response is read by `http_response`.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any, Self
from urllib.parse import urlsplit

import requests
import urllib3.exceptions as u3
from requests.adapters import HTTPAdapter
from requests.sessions import merge_setting
from requests.utils import get_environ_proxies
from urllib3.response import BaseHTTPResponse
from urllib3.util.retry import Retry

from reportwatch.errors import FetchError
from reportwatch.fetch import VALIDATOR_KEYS, Fetched
from reportwatch.http_failures import TRANSPORT_ERRORS, RetryAfterTooLong, describe, fetch_error
from reportwatch.http_response import content_type, read_body, status_error, validators_of
from reportwatch.http_settings import DEFAULT_SETTINGS, HttpSettings
from reportwatch.url_policy import redirect_guard, redirect_refusal, scheme_refused

__all__ = [
    "DEFAULT_SETTINGS",
    "FetchError",
    "Fetcher",
    "HttpSettings",
    "describe",
    "redirect_refusal",
]

if TYPE_CHECKING:
    from requests.sessions import _Settings

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


class RunSession(requests.Session):
    """A `requests.Session` that reads the proxy environment once per scheme and host of a run,
    not on every request: requests scans the whole environment twice a request for it (a fifth
    of the CPU of a request answered 304), and the environment does not change while a run
    lasts. What it finds, and how it is merged, is what `requests.Session` finds and merges."""

    def __init__(self) -> None:
        super().__init__()
        self._env_proxies: dict[tuple[str, str, str | None], dict[str, str]] = {}
        self._env_lock = threading.Lock()

    def merge_environment_settings(
        self,
        url: str | bytes | None,
        proxies: Any,
        stream: Any,
        verify: Any,
        cert: Any,
    ) -> _Settings:
        """Return the request's proxies, stream, verify and cert, the environment's included
        (as `requests.Session.merge_environment_settings`, the proxies read once a host)."""
        if not self.trust_env or not isinstance(url, str):
            return super().merge_environment_settings(url, proxies, stream, verify, cert)
        no_proxy = proxies.get("no_proxy") if proxies is not None else None
        parts = urlsplit(url)
        key = (parts.scheme, parts.netloc, no_proxy)
        with self._env_lock:
            if key not in self._env_proxies:
                self._env_proxies[key] = get_environ_proxies(url, no_proxy=no_proxy)
            found = self._env_proxies[key]
        if proxies is not None:
            for name, value in found.items():
                proxies.setdefault(name, value)
        if verify is True or verify is None:
            verify = (
                os.environ.get("REQUESTS_CA_BUNDLE") or os.environ.get("CURL_CA_BUNDLE") or verify
            )
        merge: Callable[[Any, Any], Any] = merge_setting  # untyped in requests' stubs
        return {
            "proxies": merge(proxies, self.proxies),
            "stream": merge(stream, self.stream),
            "verify": merge(verify, self.verify),
            "cert": merge(cert, self.cert),
        }


class HostGate:
    """Politeness towards one host: at most `slots` requests in flight, starts spaced out."""

    def __init__(self, slots: int, interval: float) -> None:
        self._slots = threading.BoundedSemaphore(slots)
        self._lock = threading.Lock()
        self._interval = interval
        self._next_start = 0.0  # time.monotonic() before which no request may start

    @contextmanager
    def slot(self) -> Iterator[None]:
        """Hold one in-flight slot, entered once this host may be sent another request."""
        with self._slots:
            with self._lock:
                start = max(time.monotonic(), self._next_start)
                self._next_start = start + self._interval
            time.sleep(max(0.0, start - time.monotonic()))
            yield

    def answered(self) -> None:
        """Note that a response arrived: the next request starts `interval` after it at the soonest.

        The server has seen a request before we see its answer, so this makes the spacing hold as
        the server measures it, not only as we do."""
        with self._lock:
            self._next_start = max(self._next_start, time.monotonic() + self._interval)


class Fetcher:
    """Fetches http(s) URLs for one run over one `requests.Session`; safe to share across threads.

    Redirect rule: a redirect to a private, loopback or link-local address is refused unless it
    is an address of the URL asked for or of one of the `named` URLs (see `url_policy`)."""

    def __init__(
        self, settings: HttpSettings = DEFAULT_SETTINGS, named: Iterable[str] = ()
    ) -> None:
        """Make the run's session. `named` are the URLs the run watches: a redirect may lead to
        a private address only if it is one of theirs."""
        self.settings = settings
        self.named = tuple(named)
        self._session = self._make_session()
        self._gates: dict[str, HostGate] = {}
        self._gates_lock = threading.Lock()

    def _make_session(self) -> requests.Session:
        """Return a session that retries, caps redirects and names itself as configured."""
        s = self.settings
        retry = CappedRetry(
            total=s.retries,
            connect=s.retries,
            read=s.retries,
            status=s.retries,
            other=0,
            backoff_factor=s.backoff,
            status_forcelist=RETRY_STATUSES,
            allowed_methods=frozenset({"GET"}),
            respect_retry_after_header=True,
            raise_on_status=False,
            max_wait=s.max_retry_after,
        )
        adapter = HTTPAdapter(max_retries=retry, pool_maxsize=max(10, s.per_host))
        session = RunSession()
        session.mount("http://", adapter)
        session.mount("https://", adapter)
        session.max_redirects = s.max_redirects
        session.headers["User-Agent"] = s.user_agent
        return session

    def _gate(self, url: str) -> HostGate:
        """Return the politeness gate of a URL's host, made on first use."""
        host = (urlsplit(url).hostname or "").lower()
        with self._gates_lock:
            if host not in self._gates:
                self._gates[host] = HostGate(self.settings.per_host, self.settings.min_interval)
            return self._gates[host]

    def fetch(self, url: str, validators: dict[str, str] | None = None) -> Fetched:
        """Return what an http(s) URL serves now; `validators` are a previous fetch's `http`.

        Returns Fetched(not_modified=True, raw=b"") on a 304. Raises FetchError otherwise."""
        if scheme_refused(url):
            raise FetchError("not an http(s) URL")
        kept = {k: v for k, v in (validators or {}).items() if k in VALIDATOR_KEYS and v}
        gate = self._gate(url)
        try:
            with gate.slot():
                response = self._get(url, kept)
                gate.answered()
                with response:
                    return self._result(url, response, kept)
        except FetchError:
            raise
        except TRANSPORT_ERRORS as exc:
            raise fetch_error(exc, self.settings) from exc

    def _get(self, url: str, validators: dict[str, str]) -> requests.Response:
        """Send a GET (conditional when there are validators); return the streamed response."""
        headers = {}
        if "etag" in validators:
            headers["If-None-Match"] = validators["etag"]
        if "last_modified" in validators:
            headers["If-Modified-Since"] = validators["last_modified"]
        return self._session.get(
            url,
            headers=headers,
            timeout=(self.settings.timeout, self.settings.timeout),
            stream=True,
            hooks={"response": [redirect_guard(self._session, url, self.named)]},
        )

    def _result(self, url: str, response: requests.Response, validators: dict[str, str]) -> Fetched:
        """Return the Fetched of a final response. Raises FetchError for anything but 200 / 304."""
        if response.status_code == 304:
            if not validators:
                raise FetchError("HTTP 304 Not Modified to a request that was not conditional")
            kept = {**validators, **validators_of(response)}
            return Fetched(url, b"", http=kept, not_modified=True)
        if response.status_code != 200:
            raise status_error(response)
        body = read_body(response, self.settings.max_bytes, self.settings.max_seconds)
        if not body:
            raise FetchError("empty response")
        media_type, charset = content_type(response.headers.get("Content-Type"))
        found = {
            **validators_of(response),
            "charset": charset,
            "final_url": response.url,
            "status": str(response.status_code),
        }
        http_info = {key: value for key, value in found.items() if value}
        return Fetched(url, body, media_type=media_type, http=http_info)

    def close(self) -> None:
        """Close the session and its pooled connections."""
        self._session.close()

    def __enter__(self) -> Self:
        """Return this fetcher, to be closed when the `with` block ends."""
        return self

    def __exit__(self, *exc_info: object) -> None:
        """Close the fetcher."""
        self.close()
