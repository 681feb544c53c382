"""Limits on reading a PDF, so that a small file that inflates to gigabytes (a decompression bomb)
is refused after a few MB instead of being read into memory.

pypdf is the gate every PDF passes before PDFium reads its text: it decompresses each stream
that PDFium will read for the text (the pages' content streams and the form XObjects they draw,
the fonts' programs, CMaps and glyph procedures) with its own caps (75 MB a stream) lowered here to
MAX_STREAM_BYTES, and the content of all pages together (forms included) may inflate to
MAX_CONTENT_BYTES. Images are not read for text, so they are not decompressed. A real Ofsted
report's page content is under 40 KB, and the whole report's under 400 KB.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from pypdf import apply_configuration
from pypdf.errors import LimitReachedError
from pypdf.generic import ArrayObject, DictionaryObject, StreamObject

from reportwatch.errors import InputError

MB = 1024 * 1024
MAX_STREAM_BYTES = 4 * MB  # one stream, decompressed
MAX_CONTENT_BYTES = 16 * MB  # the content of all pages together, decompressed
# the streams of a font that PDFium reads for text: its program, CMaps, Type 3 glyph procedures
_FONT_STREAMS = ("/FontFile", "/FontFile2", "/FontFile3", "/ToUnicode", "/Encoding", "/CIDToGIDMap")
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
    """Return the decompressed size of a pypdf page's content streams."""
    contents = page.get("/Contents")
    found = contents.get_object() if contents is not None else None
    streams = list(found) if isinstance(found, ArrayObject) else [found]
    objects = (s.get_object() for s in streams if s is not None)
    return sum(len(stream.get_data()) for stream in objects if isinstance(stream, StreamObject))


def resolved(value: Any) -> Any:
    """Return a pypdf object with its indirect reference followed (None when it is broken)."""
    try:
        return value.get_object() if value is not None else None
    except Exception:
        return None


def members(value: Any) -> Iterator[Any]:
    """Yield the resolved values of a pypdf dictionary or array (nothing for anything else)."""
    found = resolved(value)
    if isinstance(found, DictionaryObject):
        yield from (resolved(found.get(key)) for key in list(found))
    elif isinstance(found, ArrayObject):
        yield from (resolved(item) for item in found)


def font_streams(font: DictionaryObject) -> Iterator[Any]:
    """Yield what of a font (with its descendant fonts and descriptors) may be a stream PDFium
    decompresses to read text set in it."""
    for part in [font, *members(font.get("/DescendantFonts"))]:
        if isinstance(part, DictionaryObject):
            descriptor = resolved(part.get("/FontDescriptor"))
            for holder in (part, descriptor):
                if isinstance(holder, DictionaryObject):
                    yield from (resolved(holder.get(key)) for key in _FONT_STREAMS)
    yield from members(font.get("/CharProcs"))


@dataclass
class ResourceWalk:
    """The streams a page's resources hold that PDFium reads for text, each met once per PDF:
    form XObjects (page content) and font streams."""

    seen: set[int] = field(default_factory=set)

    def first_time(self, found: Any) -> bool:
        """Return True the first time a resolved object is met (pypdf resolves an indirect
        object to the same Python object each time)."""
        if id(found) in self.seen:
            return False
        self.seen.add(id(found))
        return True

    def streams(self, resources: Any) -> Iterator[tuple[StreamObject, bool]]:
        """Yield (stream, is_content) for each stream not met before under the resources."""
        pending = [resolved(resources)]
        while pending:
            found = pending.pop()
            if not isinstance(found, DictionaryObject) or not self.first_time(found):
                continue
            for xobject in members(found.get("/XObject")):
                if isinstance(xobject, StreamObject) and xobject.get("/Subtype") == "/Form":
                    if self.first_time(xobject):
                        yield xobject, True
                    pending.append(resolved(xobject.get("/Resources")))
            for font in members(found.get("/Font")):
                if isinstance(font, DictionaryObject):
                    yield from self.new_streams(font_streams(font))
                    pending.append(resolved(font.get("/Resources")))

    def new_streams(self, candidates: Iterable[Any]) -> Iterator[tuple[StreamObject, bool]]:
        """Yield (stream, False) for each of the candidates that is a stream not met before."""
        for candidate in candidates:
            if isinstance(candidate, StreamObject) and self.first_time(candidate):
                yield candidate, False


@dataclass
class ContentBudget:
    """What is left of MAX_CONTENT_BYTES as a PDF's pages are read."""

    left: int = MAX_CONTENT_BYTES
    walk: ResourceWalk = field(default_factory=ResourceWalk)

    def spend(self, page: Any) -> None:
        """Count a page's content (its content streams and the forms it draws for the first
        time) against the budget, and decompress the fonts it uses for the first time, each
        within MAX_STREAM_BYTES. Raises InputError once the budget is spent, pypdf's
        LimitReachedError for a stream past MAX_STREAM_BYTES, and pypdf's error for a stream
        it cannot decode."""
        self.left -= content_size(page)
        self.check()
        for stream, is_content in self.walk.streams(page.get("/Resources")):
            size = len(stream.get_data())
            if is_content:
                self.left -= size
                self.check()

    def check(self) -> None:
        """Raise InputError when the budget is spent."""
        if self.left < 0:
            limit = MAX_CONTENT_BYTES / MB
            raise InputError(f"PDF too large: its pages' content inflates past {limit:g} MB")
