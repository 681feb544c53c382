"""Where a fetch may go: the scheme and address policy applied to the URL asked for and to
every redirect.

A URL asked for must be http(s), with a host a request can name. A redirect to anything but
http(s) is refused. A redirect to a private, loopback, link-local or otherwise non-global address
is refused, unless that address is one of the URL asked for or of a URL the run names (the
sources file's, the command line's): a watched intranet page may redirect to itself or to another
watched host, and no page may lead us to an address nobody named. Host names are resolved to
decide; resolving again to connect is not pinned, so DNS rebinding is not prevented.
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Iterable
from contextlib import suppress
from urllib.parse import urljoin, urlsplit

HTTP_SCHEMES = ("http", "https")


def url_refusal(url: str) -> str | None:
    """Return why a URL cannot be requested at all, or None: not http(s), or unreadable, or a
    host starting with '*' or '.' (which requests refused as invalid)."""
    try:
        parts = urlsplit(url)
    except ValueError:  # e.g. an unclosed [IPv6 address
        return "invalid URL"
    if parts.scheme.lower() not in HTTP_SCHEMES:
        return "not an http(s) URL"
    if (parts.hostname or "").startswith(("*", ".")):
        return "invalid URL"
    return None


def host_of(url: str) -> str:
    """Return the host of a URL ('' when it has none or cannot be read)."""
    try:
        return urlsplit(url).hostname or ""
    except ValueError:
        return ""


class RedirectRefused(Exception):
    """Raised when a redirect may not be followed (its target, or one redirect too many)."""


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
    `origin`'s host or of a host of the URLs `named`; a URL that cannot be read."""
    try:
        parts = urlsplit(target)
    except ValueError:
        return "invalid URL"
    if parts.scheme.lower() not in HTTP_SCHEMES:
        return f"refused redirect to a non-http(s) URL ({parts.scheme or 'no scheme'})"
    private = non_global(parts.hostname or "")
    if not private:
        return None
    allowed = {ip for url in (origin, *named) for ip in non_global(host_of(url))}
    unnamed = [ip for ip in private if ip not in allowed]
    return f"refused redirect to private address {unnamed[0]}" if unnamed else None


REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})


def redirect_target(status: int, location: str | None, url: str) -> str | None:
    """Return the absolute URL a response of `url` redirects to, or None when it is no redirect
    (another status, or no Location).

    The Location's bytes are read as UTF-8 when they are (the header arrives decoded as
    Latin-1), as requests read them."""
    if status not in REDIRECT_STATUSES or location is None:
        return None
    with suppress(UnicodeError):  # not UTF-8 bytes: keep the text as it came
        location = location.encode("latin-1").decode("utf-8")
    try:
        return urljoin(url, location)
    except ValueError:
        return location  # unreadable: `redirect_refusal` says so
