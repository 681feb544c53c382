"""Decoding text whose charset is unknown or may be wrong: which codec a declared label means,
decoding in a declared codec only when it fits, and detection (UTF-8 with stray legacy bytes read
as windows-1252, else charset_normalizer's guess). Used for text files and HTML pages alike."""

from __future__ import annotations

import codecs

_AS_BROWSERS_READ = dict.fromkeys(("latin_1", "iso8859_1", "ascii"), "cp1252")
_NOT_WEB = {"utf_7", "unicode_escape", "raw_unicode_escape", "idna", "punycode", "undefined"}
_SINGLE_BYTE = ("cp12", "cp8", "cp4", "latin", "iso8859", "mac_", "koi8", "kz1048")
_LENIENT = "reportwatch-utf8-cp1252"


def _cp1252_for_bad_bytes(error: UnicodeError) -> tuple[str, int]:
    """Codec error handler: decode bytes that are not UTF-8 as windows-1252 (stray legacy bytes)."""
    assert isinstance(error, UnicodeDecodeError)
    return bytes(error.object[error.start : error.end]).decode("cp1252", "replace"), error.end


codecs.register_error(_LENIENT, _cp1252_for_bad_bytes)


def codec_for(label: str | None) -> str | None:
    """Return the Python codec a declared charset label names (Latin-1 and ASCII as windows-1252),
    or None for a missing, unknown or non-web label, or UTF-16/32 (never right without a BOM)."""
    try:
        name = codecs.lookup((label or "").strip("\"' ")).name.replace("-", "_")
    except (LookupError, ValueError):
        return None
    if name.startswith(("utf_16", "utf_32")) or name in _NOT_WEB:
        return None
    return _AS_BROWSERS_READ.get(name, name)


def is_single_byte(codec: str) -> bool:
    """Return True for a single-byte legacy codec (any bytes decode in one, rightly or not)."""
    return codec.replace("-", "_").startswith(_SINGLE_BYTE)


def decode_declared(raw: bytes, codec: str) -> str | None:
    """Return raw decoded in a declared codec, or None when that fails or gives replacement
    characters. Bytes that are valid UTF-8 are UTF-8, whatever a legacy label says."""
    for candidate in ("utf_8", codec) if is_single_byte(codec) else (codec,):
        try:
            text = raw.decode(candidate)
        except (UnicodeError, LookupError):  # LookupError: a bytes-to-bytes codec ('base64')
            continue
        return None if "\ufffd" in text else text
    return None


def detect_text(raw: bytes) -> str:
    """Return raw decoded in the charset detected: UTF-8 (stray legacy bytes read as windows-1252)
    when most of its non-ASCII text is UTF-8, else charset_normalizer's guess, read as
    windows-1252 when the guess is any single-byte code page (English pages: the likely one)."""
    lenient = raw.decode("utf-8", errors="replace")
    bad = lenient.count("\ufffd")
    if bad == 0 or sum(1 for ch in lenient if ord(ch) > 127) - bad >= bad:
        return raw.decode("utf-8", errors=_LENIENT)
    from charset_normalizer import from_bytes  # here: most pages never need it

    best = from_bytes(raw[: 2 * 1024 * 1024]).best()
    if best is not None and not is_single_byte(best.encoding):
        return raw.decode(best.encoding, errors="replace")
    return raw.decode("cp1252", errors="replace")
