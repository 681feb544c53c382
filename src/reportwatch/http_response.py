"""Reading a final HTTP response: its body within the size limit, its media type and declared
charset, its validators, and its status as one line."""

from __future__ import annotations

import math
import time
from collections.abc import Iterator
from http import HTTPStatus

from urllib3.response import BaseHTTPResponse

from reportwatch.errors import FetchError
from reportwatch.http_settings import MB

CHUNK = 64 * 1024


def size_text(n: int) -> str:
    """Return a byte count exactly, in the largest unit that divides it: '20 MB', '512 KB'."""
    if n % MB == 0:
        return f"{n // MB} MB"
    if n % 1024 == 0:
        return f"{n // 1024} KB"
    return f"{n} bytes"


def content_length(response: BaseHTTPResponse) -> int | None:
    """Return a response's declared Content-Length, or None (absent, chunked or malformed)."""
    value = response.headers.get("Content-Length", "").strip()
    if not value.isdigit() or "chunked" in response.headers.get("Transfer-Encoding", "").lower():
        return None
    return int(value)


def arriving(response: BaseHTTPResponse) -> Iterator[bytes]:
    """Yield a streamed response's body, content-decoded, as it arrives: each piece is what one
    read of the socket gave (read1), so a trickling server cannot hold a read for long."""
    while chunk := response.read1(CHUNK, decode_content=True):
        yield chunk


def read_body(response: BaseHTTPResponse, max_bytes: int, max_seconds: float = math.inf) -> bytes:
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
            raise FetchError(
                f"response too slow: body not read within {max_seconds:g}s", transient=True
            )
        chunks.append(chunk)
    encoded = response.headers.get("Content-Encoding", "identity").lower() != "identity"
    if declared is not None and not encoded and size < declared:
        raise FetchError("truncated response", transient=True)
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


def validators_of(response: BaseHTTPResponse) -> dict[str, str]:
    """Return the ETag / Last-Modified a response carries, under Fetched.http's keys."""
    found = {
        "etag": response.headers.get("ETag"),
        "last_modified": response.headers.get("Last-Modified"),
    }
    return {key: value for key, value in found.items() if value}


def status_message(response: BaseHTTPResponse) -> str:
    """Return 'HTTP <code> <phrase>', with ' after N retries' when urllib3 retried."""
    try:
        phrase = HTTPStatus(response.status).phrase
    except ValueError:
        phrase = response.reason or ""
    text = f"HTTP {response.status} {phrase}".strip()
    count = len(response.retries.history) if response.retries is not None else 0
    if count:
        return f"{text} after {count} {'retry' if count == 1 else 'retries'}"
    return text


def status_error(response: BaseHTTPResponse) -> FetchError:
    """Return the FetchError for a final status other than 200 / 304: transient for 429 and
    5xx (the server may answer later), not for any other."""
    code = response.status
    return FetchError(status_message(response), transient=code == 429 or code >= 500)
