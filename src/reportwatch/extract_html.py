"""Extract stage for HTML pages."""

from __future__ import annotations

from reportwatch.errors import InputError
from reportwatch.extract import Extracted


def extract_html(raw: bytes) -> Extracted:
    """Return the blocks of an HTML page."""
    raise InputError("HTML extraction is not available yet")
