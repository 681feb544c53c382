"""Extract stage for PDFs (Ofsted reports)."""

from __future__ import annotations

from reportwatch.errors import InputError
from reportwatch.extract import Extracted


def extract_pdf(raw: bytes) -> Extracted:
    """Return the blocks of a PDF report."""
    raise InputError("PDF extraction is not available yet")
