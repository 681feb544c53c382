"""Why a fetch failed, in one short line: the exceptions urllib3 and the standard library raise
(and the fetcher's own), each named by the first link of its chain that says what happened."""

from __future__ import annotations

import http.client
import socket
import ssl
from collections.abc import Iterator

import urllib3.exceptions as u3

from reportwatch.errors import FetchError
from reportwatch.http_settings import HttpSettings
from reportwatch.url_policy import RedirectRefused


class RetryAfterTooLong(Exception):
    """Raised from inside urllib3 when a server asks us to wait longer than we will."""

    def __init__(self, seconds: float) -> None:
        super().__init__(seconds)
        self.seconds = seconds


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


# The first row any link of an exception's chain matches names the reason, and says whether
# trying again later may help.
CAUSE_TEXT: tuple[tuple[tuple[type[BaseException], ...], str, bool], ...] = (
    ((u3.NameResolutionError, socket.gaierror), "could not resolve host", True),
    ((ConnectionRefusedError,), "connection refused", True),
    ((TimeoutError, u3.TimeoutError), "timed out after {timeout:g}s", True),
    ((ssl.SSLError, u3.SSLError), "TLS error ({detail})", False),
    ((http.client.RemoteDisconnected,), "server closed the connection without a response", True),
    ((ConnectionResetError,), "connection reset by server", True),
    ((u3.IncompleteRead, http.client.IncompleteRead), "truncated response", True),
    ((u3.DecodeError,), "could not decompress the response", False),
    ((u3.NewConnectionError, ConnectionError), "could not connect", True),
    ((http.client.HTTPException, u3.ProtocolError), "malformed response", False),
    ((u3.ProxyError,), "request failed (ProxyError)", True),  # e.g. a CONNECT the proxy refused
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
    return explain(exc, settings)[0]


def fetch_error(exc: BaseException, settings: HttpSettings) -> FetchError:
    """Return the FetchError for an exception raised while fetching: its reason, and whether
    it is transient."""
    return FetchError(*explain(exc, settings))


def explain(exc: BaseException, settings: HttpSettings) -> tuple[str, bool]:
    """Return the one-line reason for an exception raised while fetching, and whether the
    fetch may succeed if tried again later."""
    if isinstance(exc, RetryAfterTooLong):  # a 429 or 503 that asked for a long wait
        text = f"server asked to retry after {exc.seconds:.0f}s, more than the "
        return text + f"{settings.max_retry_after:g}s limit", True
    if isinstance(exc, RedirectRefused):  # a refused target, or too many redirects
        return str(exc), False
    if isinstance(exc, u3.LocationValueError):
        return "invalid URL", False
    chain = list(causes(exc))
    for kinds, text, transient in CAUSE_TEXT:
        matches = [link for link in chain if isinstance(link, kinds)]
        if matches:
            return text.format(timeout=settings.timeout, detail=ssl_detail(matches)), transient
    return f"request failed ({type(exc).__name__})", True  # some failure of the connection


TRANSPORT_ERRORS = (
    u3.HTTPError,
    http.client.HTTPException,
    OSError,
    RetryAfterTooLong,
    RedirectRefused,
)
