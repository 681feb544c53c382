"""The connection pools a `Fetcher` sends through: direct, or through the proxy the environment
names for a URL, with the certificates requests trusted.

Proxies are read as requests read them: HTTP_PROXY / HTTPS_PROXY (lower case first), else
ALL_PROXY; a host is reached directly when NO_PROXY names it (a suffix of the host or of
host:port, an IPv4 address or network, `*`). Whether a URL goes through a proxy is decided once
per scheme and host of a run: the environment does not change while a run lasts, and reading it
costs a scan of every variable. Certificates: the bundle REQUESTS_CA_BUNDLE or CURL_CA_BUNDLE
names (a file or a folder), else certifi's, loaded once into one TLS context for the run, when
the first URL that needs it (https, or any through a proxy) is fetched.
"""

from __future__ import annotations

import ipaddress
import os
import ssl
import threading
from urllib.parse import unquote, urlsplit
from urllib.request import getproxies, proxy_bypass

import certifi
from urllib3 import PoolManager, ProxyManager
from urllib3.util import make_headers, parse_url
from urllib3.util.ssl_ import create_urllib3_context

from reportwatch.errors import FetchError

POOLS = 10  # hosts whose connections are kept (as requests' pool_connections)


def no_proxy_entries() -> list[str]:
    """Return the NO_PROXY entries (no_proxy first), spaces removed, empty ones dropped."""
    value = os.environ.get("no_proxy") or os.environ.get("NO_PROXY") or ""
    return [entry for entry in value.replace(" ", "").split(",") if entry]


def in_network(host: str, entry: str) -> bool:
    """Return True when IPv4 address `host` is `entry`, or inside it when it is a network."""
    if "/" not in entry:
        return host == entry
    try:
        return ipaddress.IPv4Address(host) in ipaddress.IPv4Network(entry, strict=False)
    except ValueError:
        return False


def bypassed(host: str, port: int | None) -> bool:
    """Return True when NO_PROXY says to reach `host` directly (as requests'
    should_bypass_proxies: by address or network for an IPv4 host, by suffix otherwise, then
    urllib's proxy_bypass)."""
    entries = no_proxy_entries()
    try:
        ipaddress.IPv4Address(host)
        is_ipv4 = True
    except ValueError:
        is_ipv4 = False
    if is_ipv4 and any(in_network(host, entry) for entry in entries):
        return True
    with_port = f"{host}:{port}" if port else host
    if not is_ipv4 and any(host.endswith(e) or with_port.endswith(e) for e in entries):
        return True
    try:
        return bool(proxy_bypass(host))
    except (TypeError, OSError):
        return False


def proxy_of(url: str) -> str | None:
    """Return the proxy URL the environment names for `url`, or None to connect directly."""
    parts = urlsplit(url)
    try:
        port = parts.port
    except ValueError:
        return None  # urllib3 refuses the URL itself
    if parts.hostname is None or bypassed(parts.hostname, port):
        return None
    proxies = getproxies()
    proxy = proxies.get(parts.scheme.lower(), proxies.get("all"))
    if not proxy:
        return None
    return proxy if "://" in proxy else f"http://{proxy}"


BUNDLE_VARIABLES = ("REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE")  # as requests reads them, in order


def trusted_context() -> ssl.SSLContext:
    """Return a TLS context that verifies servers against the bundle REQUESTS_CA_BUNDLE or
    CURL_CA_BUNDLE names (a file or a folder), else certifi's. Raises FetchError (not transient)
    naming the bundle when it cannot be loaded."""
    named = next((name for name in BUNDLE_VARIABLES if os.environ.get(name)), None)
    bundle = os.environ[named] if named else certifi.where()
    context = create_urllib3_context()
    try:
        if os.path.isdir(bundle):
            context.load_verify_locations(capath=bundle)
        else:
            context.load_verify_locations(cafile=bundle)
    except (OSError, ssl.SSLError) as exc:
        whose = f"{named} names" if named else "of certifi"
        raise FetchError(f"could not load the CA bundle {whose} ({bundle}): {why(exc)}") from exc
    return context


def why(exc: OSError) -> str:
    """Return the reason a CA bundle did not load, e.g. 'no such file or directory'."""
    reason = getattr(exc, "reason", None)  # an SSLError's, e.g. NO_CERTIFICATE_OR_CRL_FOUND
    text = reason.replace("_", " ") if isinstance(reason, str) else exc.strerror or str(exc)
    return text.lower()


def proxy_credentials(proxy: str) -> tuple[str, str] | None:
    """Return the user and password written in a proxy URL, unquoted (None when it has none)."""
    auth = parse_url(proxy).auth
    if not auth:
        return None
    user, _, password = auth.partition(":")
    return unquote(user), unquote(password)


def proxy_headers(proxy: str) -> dict[str, str]:
    """Return the Proxy-Authorization the credentials in a proxy URL ask for, if any."""
    if (credentials := proxy_credentials(proxy)) is None:
        return {}
    return make_headers(proxy_basic_auth=":".join(credentials))


# the key of the pool manager for direct http: it never needs the TLS context (an empty
# string is no proxy's URL)
DIRECT_PLAIN = ""


class Pools:
    """The pool managers of one fetcher: one for direct connections (two when the run fetches
    both http and https URLs), one per proxy; each made on first use. Safe to share across
    threads."""

    def __init__(self, maxsize: int) -> None:
        """Keep at most `maxsize` connections to one host."""
        self._maxsize = maxsize
        self._lock = threading.Lock()
        self._proxies: dict[tuple[str, str], str | None] = {}  # (scheme, netloc) -> proxy
        self._managers: dict[str | None, PoolManager] = {}
        self._context: ssl.SSLContext | None = None

    def manager_for(self, url: str) -> PoolManager:
        """Return the pool manager to send a request for `url` through.

        Raises FetchError when the CA bundle cannot be loaded (for a URL that needs it: https,
        or any through a proxy), or when the proxy named needs a package that is missing."""
        parts = urlsplit(url)
        key = (parts.scheme, parts.netloc)
        with self._lock:
            if key not in self._proxies:
                self._proxies[key] = proxy_of(url)
            proxy = self._proxies[key]
            # an http-only run never loads the CA bundle (certifi's takes ~40 ms)
            slot = DIRECT_PLAIN if proxy is None and parts.scheme == "http" else proxy
            if slot not in self._managers:
                self._managers[slot] = self._make(proxy, tls=slot != DIRECT_PLAIN)
            return self._managers[slot]

    def _make(self, proxy: str | None, tls: bool) -> PoolManager:
        """Return a new pool manager: direct when `proxy` is None (verifying servers only when
        `tls`), else through the proxy (always with the TLS context: the proxy or the URLs
        behind it may need it)."""
        size = self._maxsize
        if proxy is None:
            context = self._trusted() if tls else None
            return PoolManager(POOLS, ssl_context=context, maxsize=size, block=False)
        if proxy.lower().startswith("socks"):
            return socks_manager(proxy, self._trusted(), size)
        return ProxyManager(
            proxy,
            POOLS,
            proxy_headers=proxy_headers(proxy),
            ssl_context=self._trusted(),
            maxsize=size,
            block=False,
        )

    def _trusted(self) -> ssl.SSLContext:
        """Return the run's TLS context (`trusted_context`), made on first use."""
        if self._context is None:
            self._context = trusted_context()
        return self._context

    def clear(self) -> None:
        """Close every pooled connection."""
        with self._lock:
            for manager in self._managers.values():
                manager.clear()
            self._managers.clear()


def socks_manager(proxy: str, context: ssl.SSLContext, maxsize: int) -> PoolManager:
    """Return a pool manager through SOCKS proxy `proxy`. Raises FetchError without PySocks."""
    try:
        from urllib3.contrib.socks import SOCKSProxyManager
    except ImportError as exc:
        raise FetchError("a SOCKS proxy needs the PySocks package") from exc
    user, password = proxy_credentials(proxy) or ("", "")
    return SOCKSProxyManager(
        proxy,
        username=user or None,
        password=password or None,
        num_pools=POOLS,
        ssl_context=context,
        maxsize=maxsize,
        block=False,
    )
