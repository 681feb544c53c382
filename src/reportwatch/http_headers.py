"""What a fetcher's requests carry besides the URL, as a requests session sent it: its default
headers, the validators of a conditional request, Basic credentials written in the URL (dropped
when a redirect leaves the host), and the cookies servers set during the run."""

from __future__ import annotations

import re
from http.cookiejar import CookieJar
from typing import Any, cast
from urllib.parse import unquote, urlsplit
from urllib.request import Request

from urllib3 import HTTPHeaderDict
from urllib3.util import make_headers

# what urllib3 can decode here ("gzip, deflate", with br / zstd when their packages are there)
DECODABLE = make_headers(accept_encoding=True)["accept-encoding"]
ACCEPT_ENCODING = ", ".join(re.split(r",\s*", DECODABLE))
DEFAULT_PORTS = {"http": 80, "https": 443}


def base_headers(user_agent: str) -> dict[str, str]:
    """Return the headers every request carries."""
    return {
        "User-Agent": user_agent,
        "Accept-Encoding": ACCEPT_ENCODING,
        "Accept": "*/*",
        "Connection": "keep-alive",
    }


def conditional(validators: dict[str, str]) -> dict[str, str]:
    """Return the If-None-Match / If-Modified-Since headers of a previous fetch's validators."""
    headers = {}
    if "etag" in validators:
        headers["If-None-Match"] = validators["etag"]
    if "last_modified" in validators:
        headers["If-Modified-Since"] = validators["last_modified"]
    return headers


def url_auth(url: str) -> dict[str, str]:
    """Return the Authorization header of the user:password written in a URL ({} when none)."""
    if "@" not in url:  # the usual case, decided without parsing
        return {}
    parts = urlsplit(url)
    if parts.username is None or parts.password is None:
        return {}
    return make_headers(basic_auth=f"{unquote(parts.username)}:{unquote(parts.password)}")


def keeps_auth(previous: str, target: str) -> bool:
    """Return True when credentials sent to `previous` may be sent on to redirect `target`:
    the same host, and the same scheme and port or an upgrade from http to https on the
    default ports (requests' rule)."""
    old, new = urlsplit(previous), urlsplit(target)
    if old.hostname != new.hostname:
        return False
    if (old.scheme, new.scheme) == ("http", "https") and old.port in (80, None):
        return new.port in (443, None)
    defaults = (DEFAULT_PORTS.get(old.scheme), None)
    if old.scheme == new.scheme and old.port in defaults and new.port in defaults:
        return True
    return old.scheme == new.scheme and old.port == new.port


class Cookies:
    """The cookies servers set during a run, sent back where they belong (a standard
    `http.cookiejar.CookieJar`, as requests' session kept). Safe to share across threads."""

    def __init__(self) -> None:
        self._jar = CookieJar()
        self._any = False  # no cookie yet: skip the jar on every request

    def header(self, url: str) -> dict[str, str]:
        """Return the Cookie header a request for `url` carries ({} when none)."""
        if not self._any:
            return {}
        request = Request(url)
        self._jar.add_cookie_header(request)
        cookie = request.get_header("Cookie")
        return {"Cookie": cookie} if cookie else {}

    def keep(self, url: str, headers: HTTPHeaderDict) -> None:
        """Keep the cookies a response for `url` sets."""
        if "Set-Cookie" not in headers:
            return
        answer = Answer(headers)
        self._jar.extract_cookies(cast(Any, answer), Request(url))
        self._any = True


class Answer:
    """A response's headers as `http.cookiejar` reads them (`info().get_all`)."""

    def __init__(self, headers: HTTPHeaderDict) -> None:
        self._headers = headers

    def info(self) -> Answer:
        """Return the object holding the headers: this one."""
        return self

    def get_all(self, name: str, default: list[str]) -> list[str]:
        """Return every value of header `name`, or `default` when there is none."""
        return self._headers.getlist(name) or default
