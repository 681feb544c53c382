"""Decoding an HTML page's bytes: a BOM, then the declared charset (HTTP, then <meta>) when it
decodes cleanly, then detection; Latin-1 and ASCII labels are read as windows-1252, as browsers
read them."""

from __future__ import annotations

import codecs
import re

from reportwatch.charset import codec_for, decode_declared, detect_text
from reportwatch.errors import InputError
from reportwatch.extract import looks_binary

_META_CHARSET = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?\s*([A-Za-z0-9_:.-]+)""", re.I)


def decode_html(raw: bytes, declared_charset: str | None) -> str:
    """Return the page's text: a BOM wins, then the declared charset (argument, then <meta>) when it
    decodes cleanly, then detection. Raises InputError for binary input."""
    if raw.startswith(codecs.BOM_UTF8):
        return raw.decode("utf-8-sig", errors="replace")
    if raw.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return raw.decode("utf-16", errors="replace")
    if looks_binary(raw):
        raise InputError("binary file, not an HTML page")
    meta = _META_CHARSET.search(raw[:8192])
    for label in (declared_charset, meta.group(1).decode("ascii") if meta else None):
        codec = codec_for(label)
        if codec and (text := decode_declared(raw, codec)) is not None:
            return text
    return detect_text(raw)
