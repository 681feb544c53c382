"""Where a fetch may go: the scheme and address policy applied to the URL asked for and to
every redirect.

A URL asked for must be http(s). A redirect to anything but http(s) is refused. A redirect to a
private, loopback, link-local or otherwise non-global address is refused, unless that address is
one of the URL asked for or of a URL the run names (the sources file's, the command line's): a
watched intranet page may redirect to itself or to another watched host, and no page may lead us
to an address nobody named. Host names are resolved to decide; resolving again to connect is not
pinned, so DNS rebinding is not prevented.
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Callable, Iterable
from typing import Any
from urllib.parse import urljoin, urlsplit

import requests

HTTP_SCHEMES = ("http", "https")


def scheme_refused(url: str) -> bool:
    """Return True when a URL asked for is not http(s)."""
    return urlsplit(url).scheme.lower() not in HTTP_SCHEMES


class RedirectRefused(Exception):
    """Raised from the response hook when a redirect's target may not be followed."""


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
