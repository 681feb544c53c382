"""Limits on reading a PDF, so that a small file that inflates to gigabytes (a decompression bomb)
is refused after a few MB instead of being read into memory.

pypdf decompresses each stream it reads; its own caps (75 MB a stream) are lowered here to
MAX_STREAM_BYTES, and the content streams of all pages together may inflate to MAX_CONTENT_BYTES.
A real Ofsted report's page content is under 40 KB, and the whole report's under 400 KB.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from pypdf import apply_configuration
from pypdf.errors import LimitReachedError
from pypdf.generic import ArrayObject, StreamObject

from reportwatch.errors import InputError

MB = 1024 * 1024
MAX_STREAM_BYTES = 4 * MB  # one stream, decompressed
MAX_CONTENT_BYTES = 16 * MB  # the content of all pages together, decompressed
_STREAM_CAPS = (
    "maximum_declared_stream_length",
    "array_based_stream_maximum_output_length",
    "lzw_maximum_output_length",
    "run_length_maximum_output_length",
    "zlib_maximum_output_length",
    "brotli_maximum_output_length",
    "stream_decoding_work_maximum_length",
)


@contextmanager
def pdf_limits() -> Iterator[None]:
    """Lower pypdf's caps on decompressing one stream to MAX_STREAM_BYTES while reading."""
    with apply_configuration(None, **dict.fromkeys(_STREAM_CAPS, MAX_STREAM_BYTES)):
        yield


def limit_error(exc: BaseException) -> InputError | None:
    """Return the InputError for a limit pypdf reached (the PDF is too large), or None when
    `exc` is something else."""
    if not isinstance(exc, LimitReachedError):
        return None
    message = str(exc).strip()
    reason = message.splitlines()[0] if message else "a limit reached"
    if "decompress" in reason.lower():
        size = MAX_STREAM_BYTES / MB
        return InputError(
            f"PDF too large: a stream inflates past {size:g} MB (a decompression bomb?)"
        )
    return InputError(f"PDF too large: {reason[:120]}")


def content_size(page: Any) -> int:
    """Return the decompressed size of a pypdf page's content streams (pypdf keeps what it
    decoded, for the text extraction that follows)."""
    contents = page.get("/Contents")
    found = contents.get_object() if contents is not None else None
    streams = list(found) if isinstance(found, ArrayObject) else [found]
    objects = (s.get_object() for s in streams if s is not None)
    return sum(len(stream.get_data()) for stream in objects if isinstance(stream, StreamObject))


@dataclass
class ContentBudget:
    """What is left of MAX_CONTENT_BYTES as a PDF's pages are read."""

    left: int = MAX_CONTENT_BYTES

    def spend(self, page: Any) -> None:
        """Count a page's content against the budget. Raises InputError once it is spent."""
        self.left -= content_size(page)
        if self.left < 0:
            limit = MAX_CONTENT_BYTES / MB
            raise InputError(f"PDF too large: its pages' content inflates past {limit:g} MB")
