"""The gate every PDF passes before PDFium reads it: pypdf opens it, refuses one that is locked
(but for an empty user password), damaged, empty or over MAX_PAGES, and decompresses each page's
content and what else PDFium would decompress for its text within the limits of pdf_limits, so
that a decompression bomb is refused here. Only as much is parsed as these checks need.
"""

from __future__ import annotations

import logging
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from io import BytesIO

from pypdf import PdfReader

from reportwatch.errors import InputError
from reportwatch.pdf_limits import ContentBudget, limit_error, pdf_limits

MAX_PAGES = 500


def accept(raw: bytes) -> int:
    """Return the number of pages of a PDF (bytes) that passes the gate.

    Raises InputError ('encrypted PDF', 'damaged PDF: ...', 'PDF too large: ...') for one that
    does not."""
    with quiet_pypdf(), pdf_limits():
        return check_pages(open_reader(raw))


@contextmanager
def quiet_pypdf() -> Iterator[None]:
    """Silence pypdf's log messages and warnings about a damaged file while reading it: what
    matters is reported once, as the InputError."""
    logger = logging.getLogger("pypdf")
    level = logger.level
    logger.setLevel(logging.CRITICAL)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            yield
    finally:
        logger.setLevel(level)


def damaged(exc: BaseException) -> InputError:
    """Return the InputError for a PDF pypdf cannot read, with pypdf's reason in short (a limit
    it reached: the PDF is too large)."""
    message = str(exc).strip()
    reason = message.splitlines()[0] if message else type(exc).__name__
    return limit_error(exc) or InputError(f"damaged PDF: {reason[:120]}")


def open_reader(raw: bytes) -> PdfReader:
    """Return a pypdf reader for the bytes, unlocked when only an empty password protects them.

    Raises InputError for an encrypted, damaged, empty or over-long PDF."""
    try:
        reader = PdfReader(BytesIO(raw))
        encrypted = reader.is_encrypted
    except Exception as exc:
        raise damaged(exc) from None
    if encrypted and not unlocked(reader):
        raise InputError("encrypted PDF")
    try:
        count = len(reader.pages)
    except Exception as exc:
        raise damaged(exc) from None
    if count == 0:
        raise InputError("damaged PDF: no pages")
    if count > MAX_PAGES:
        raise InputError(f"PDF too large: {count} pages, more than {MAX_PAGES}")
    return reader


def unlocked(reader: PdfReader) -> bool:
    """Return True when an encrypted PDF opens with the empty user password (owner-only locks)."""
    try:
        return bool(reader.decrypt(""))
    except Exception:
        return False


def check_pages(reader: PdfReader) -> int:
    """Decompress, within the limits, what PDFium will read of each page for its text, and
    return the number of pages. Raises InputError for a page pypdf cannot read or that inflates
    past a limit."""
    budget = ContentBudget()
    for page in reader.pages:
        try:
            budget.spend(page)
        except InputError:
            raise
        except Exception as exc:
            raise damaged(exc) from None
    return len(reader.pages)
