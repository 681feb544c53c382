"""HTTP fetcher: a URL -> `Fetched`, with retries, conditional requests, limits and politeness.

One `Fetcher` (one `requests.Session`) serves a run. What it does on every fetch:

- Retries: urllib3's `Retry` retries connection errors, read timeouts, 429 and 500/502/503/504
  with exponential backoff (`backoff` is urllib3's backoff_factor: the first retry is immediate,
  then backoff * 2**(n-1) seconds), honouring Retry-After. A Retry-After longer than
  `max_retry_after` fails the fetch at once instead of sleeping.
- Conditional requests: validators from a previous fetch (`Fetched.http`) are sent as
  If-None-Match / If-Modified-Since; a 304 comes back as `Fetched(not_modified=True)`.
- Redirects: at most `max_redirects`. A redirect to anything but http(s) is refused. A redirect
  to a private, loopback, link-local or otherwise non-global address is refused, unless that
  address is one of the URL asked for or of a URL the run names (the sources file's, the command
  line's): a watched intranet page may redirect to itself or to another watched host, and no
  page may lead us to an address nobody named. Host names are resolved to decide; resolving
  again to connect is not pinned, so DNS rebinding is not prevented.
- Limits: the body is streamed and abandoned past `max_bytes` (a larger Content-Length is refused
  before reading); a body shorter than its Content-Length is refused as truncated. `timeout`
  bounds connecting and each read; `max_seconds` bounds reading the whole body, so a server
  trickling bytes just fast enough to beat `timeout` is cut off too.
- Politeness, per host of the URL asked for (redirect hops are not counted separately): at most
  `per_host` requests in flight, and a request starts at least `min_interval` after the previous
  start and after the previous response arrived. Retries inside urllib3 are spaced by backoff.

Every failure raises `FetchError` (an `InputError`) with one short line naming the reason; the
caller adds the URL.
"""

from __future__ import annotations

import http.client
import ipaddress
import math
import socket
import ssl
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from http import HTTPStatus
from typing import Any, Self
from urllib.parse import urljoin, urlsplit

import requests
import urllib3.exceptions as u3
from requests.adapters import HTTPAdapter
from urllib3.response import BaseHTTPResponse
from urllib3.util.retry import Retry

from reportwatch import __version__
from reportwatch.errors import ConfigError, InputError
from reportwatch.fetch import Fetched

MB = 1024 * 1024
RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})
CHUNK = 64 * 1024
VALIDATOR_KEYS = ("etag", "last_modified")


@dataclass(frozen=True)
class HttpSettings:
    """How a `Fetcher` talks to servers. Raises ConfigError when a value is out of range."""

    timeout: float = 30.0  # connect and read timeout, seconds
    retries: int = 3  # on connection errors, 429 and 5xx
    backoff: float = 0.5  # urllib3 backoff_factor
    max_redirects: int = 5
    max_bytes: int = 20 * MB
    max_seconds: float = 300.0  # reading one whole body, seconds
    per_host: int = 2  # at most N requests in flight per host
    min_interval: float = 1.0  # seconds between request starts to one host
    max_retry_after: float = 120.0  # never sleep longer than this for a Retry-After
    user_agent: str = f"reportwatch/{__version__} (+https://github.com/reportwatch)"

    def __post_init__(self) -> None:
        """Check every value is in range; raise ConfigError naming the first that is not."""
        checks = {
            "timeout": self.timeout > 0,
            "retries": self.retries >= 0,
            "backoff": self.backoff >= 0,
            "max_redirects": self.max_redirects >= 0,
            "max_bytes": self.max_bytes > 0,
            "max_seconds": self.max_seconds > 0,
            "per_host": self.per_host >= 1,
            "min_interval": self.min_interval >= 0,
            "max_retry_after": self.max_retry_after >= 0,
        }
        for name, ok in checks.items():
            if not ok:
                raise ConfigError(f"http setting {name} out of range: {getattr(self, name)!r}")


DEFAULT_SETTINGS = HttpSettings()


class FetchError(InputError):
    """A URL that could not be fetched; the message is one short line naming the reason."""


class RetryAfterTooLong(Exception):
    """Raised from inside urllib3 when a server asks us to wait longer than we will."""

    def __init__(self, seconds: float) -> None:
        super().__init__(seconds)
        self.seconds = seconds


class RedirectRefused(Exception):
    """Raised from the response hook when a redirect's target may not be followed."""


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


def addresses(host: str) -> list[ipaddress.IPv4Address | ipaddress.IPv6Address]:
    """Return the IP addresses of `host`: itself if it is one, else what the resolver says.

    Returns [] when the name does not resolve (the request itself will then fail and say so)."""
    try:
        return [ipaddress.ip_address(host)]
    except ValueError:
        pass
    try:
        infos = socket.getaddrinfo(host, None, proto=socket.IPPROTO_TCP)
    except (OSError, UnicodeError):
        return []
    return [ipaddress.ip_address(info[4][0]) for info in infos]


def non_global(host: str) -> list[ipaddress.IPv4Address | ipaddress.IPv6Address]:
    """Return the non-global (private, loopback, link-local, multicast...) addresses of `host`,
    IPv4-mapped IPv6 addresses as IPv4."""
    found = []
    for ip in addresses(host):
        if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
            ip = ip.ipv4_mapped
        if not ip.is_global or ip.is_multicast:
            found.append(ip)
    return found


def redirect_refusal(target: str, origin: str, named: Iterable[str] = ()) -> str | None:
    """Return why a redirect to absolute URL `target` is refused for a fetch of `origin`, or None.

    Refused: a scheme other than http(s); a non-global address that is not an address of
    `origin`'s host or of a host of the URLs `named`."""
    parts = urlsplit(target)
    if parts.scheme.lower() not in ("http", "https"):
        return f"refused redirect to a non-http(s) URL ({parts.scheme or 'no scheme'})"
    private = non_global(parts.hostname or "")
    if not private:
        return None
    allowed = {ip for url in (origin, *named) for ip in non_global(urlsplit(url).hostname or "")}
    unnamed = [ip for ip in private if ip not in allowed]
    return f"refused redirect to private address {unnamed[0]}" if unnamed else None


def redirect_guard(
    session: requests.Session, origin: str, named: Iterable[str] = ()
) -> Callable[..., None]:
    """Return a requests response hook that raises RedirectRefused for a refused redirect."""

    def guard(response: requests.Response, *args: Any, **kwargs: Any) -> None:
        target = session.get_redirect_target(response)
        if target is None:
            return
        reason = redirect_refusal(urljoin(response.url, target), origin, named)
        if reason is not None:
            response.close()
            raise RedirectRefused(reason)

    return guard


def size_text(n: int) -> str:
    """Return a byte count exactly, in the largest unit that divides it: '20 MB', '512 KB'."""
    if n % MB == 0:
        return f"{n // MB} MB"
    if n % 1024 == 0:
        return f"{n // 1024} KB"
    return f"{n} bytes"


def content_length(response: requests.Response) -> int | None:
    """Return a response's declared Content-Length, or None (absent, chunked or malformed)."""
    value = response.headers.get("Content-Length", "").strip()
    if not value.isdigit() or "chunked" in response.headers.get("Transfer-Encoding", "").lower():
        return None
    return int(value)


def arriving(response: requests.Response) -> Iterator[bytes]:
    """Yield a streamed response's body, content-decoded, as it arrives: each piece is what one
    read of the socket gave (read1), so a trickling server cannot hold a read for long."""
    while chunk := response.raw.read1(CHUNK, decode_content=True):
        yield chunk


def read_body(response: requests.Response, max_bytes: int, max_seconds: float = math.inf) -> bytes:
    """Return a streamed response's body (content-decoded). Raises FetchError past `max_bytes`,
    when reading it takes more than `max_seconds`, or when fewer bytes came than
    Content-Length declared."""
    declared = content_length(response)
    too_large = FetchError(f"response larger than {size_text(max_bytes)}")
    if declared is not None and declared > max_bytes:
        raise too_large
    chunks: list[bytes] = []
    size = 0
    deadline = time.monotonic() + max_seconds
    for chunk in arriving(response):
        size += len(chunk)
        if size > max_bytes:
            raise too_large
        if time.monotonic() > deadline:
            raise FetchError(f"response too slow: body not read within {max_seconds:g}s")
        chunks.append(chunk)
    encoded = response.headers.get("Content-Encoding", "identity").lower() != "identity"
    if declared is not None and not encoded and size < declared:
        raise FetchError("truncated response")
    return b"".join(chunks)


def content_type(header: str | None) -> tuple[str | None, str | None]:
    """Return (media type lower-cased without parameters, declared charset as given) of a
    Content-Type header; either is None when absent."""
    if not header:
        return None, None
    media, *params = (part.strip() for part in header.split(";"))
    charset = None
    for param in params:
        name, _, value = param.partition("=")
        if name.strip().lower() == "charset" and value.strip().strip("\"'"):
            charset = value.strip().strip("\"'")
    return (media.lower() or None), charset


def validators_of(response: requests.Response) -> dict[str, str]:
    """Return the ETag / Last-Modified a response carries, under Fetched.http's keys."""
    found = {
        "etag": response.headers.get("ETag"),
        "last_modified": response.headers.get("Last-Modified"),
    }
    return {key: value for key, value in found.items() if value}


def status_message(response: requests.Response) -> str:
    """Return 'HTTP <code> <phrase>', with ' after N retries' when urllib3 retried."""
    try:
        phrase = HTTPStatus(response.status_code).phrase
    except ValueError:
        phrase = response.reason or ""
    text = f"HTTP {response.status_code} {phrase}".strip()
    retry = getattr(response.raw, "retries", None)
    count = len(retry.history) if isinstance(retry, Retry) else 0
    if count:
        return f"{text} after {count} {'retry' if count == 1 else 'retries'}"
    return text


def causes(exc: BaseException) -> Iterator[BaseException]:
    """Yield an exception and everything it wraps (cause, context, args, urllib3's .reason)."""
    pending, seen = [exc], set()
    while pending:
        current = pending.pop(0)
        if id(current) in seen:
            continue
        seen.add(id(current))
        yield current
        linked = [current.__cause__, current.__context__, getattr(current, "reason", None)]
        linked += list(current.args)
        pending += [item for item in linked if isinstance(item, BaseException)]


# The first row any link of an exception's chain matches names the reason.
CAUSE_TEXT: tuple[tuple[tuple[type[BaseException], ...], str], ...] = (
    ((u3.NameResolutionError, socket.gaierror), "could not resolve host"),
    ((ConnectionRefusedError,), "connection refused"),
    ((TimeoutError, u3.TimeoutError, requests.Timeout), "timed out after {timeout:g}s"),
    ((ssl.SSLError, u3.SSLError, requests.exceptions.SSLError), "TLS error ({detail})"),
    ((http.client.RemoteDisconnected,), "server closed the connection without a response"),
    ((ConnectionResetError,), "connection reset by server"),
    ((u3.IncompleteRead, http.client.IncompleteRead), "truncated response"),
    ((requests.exceptions.ChunkedEncodingError,), "truncated response"),
    (
        (requests.exceptions.ContentDecodingError, u3.DecodeError),
        "could not decompress the response",
    ),
    ((u3.NewConnectionError, ConnectionError), "could not connect"),
    ((http.client.HTTPException, u3.ProtocolError), "malformed response"),
)


def ssl_detail(links: list[BaseException]) -> str:
    """Return the most specific TLS reason the links carry, e.g. 'certificate has expired'."""
    for link in reversed(links):
        for value in (getattr(link, "verify_message", None), getattr(link, "reason", None)):
            if isinstance(value, str) and value:
                return value
    return "handshake failed"


def describe(exc: BaseException, settings: HttpSettings) -> str:
    """Return the one-line reason for an exception raised while fetching."""
    if isinstance(exc, RetryAfterTooLong):
        return (
            f"server asked to retry after {exc.seconds:.0f}s, "
            f"more than the {settings.max_retry_after:g}s limit"
        )
    if isinstance(exc, RedirectRefused):
        return str(exc)
    if isinstance(exc, requests.TooManyRedirects):
        return "too many redirects"
    if isinstance(exc, requests.exceptions.InvalidSchema):
        return "refused redirect to a non-http(s) URL"
    if isinstance(exc, requests.exceptions.InvalidURL | u3.LocationParseError):
        return "invalid URL"
    chain = list(causes(exc))
    for kinds, text in CAUSE_TEXT:
        matches = [link for link in chain if isinstance(link, kinds)]
        if matches:
            return text.format(timeout=settings.timeout, detail=ssl_detail(matches))
    return f"request failed ({type(exc).__name__})"


TRANSPORT_ERRORS = (
    requests.RequestException,
    u3.HTTPError,
    http.client.HTTPException,
    OSError,
    RetryAfterTooLong,
    RedirectRefused,
)


class Fetcher:
    """Fetches http(s) URLs for one run over one `requests.Session`; safe to share across threads.

    Redirect rule: a redirect to a private, loopback or link-local address is refused unless it
    is an address of the URL asked for or of one of the `named` URLs (see the module docstring)."""

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
        session = requests.Session()
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
        if urlsplit(url).scheme.lower() not in ("http", "https"):
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
            raise FetchError(describe(exc, self.settings)) from exc

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
            raise FetchError(status_message(response))
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
