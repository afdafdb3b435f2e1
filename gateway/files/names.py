"""File names and media types as received from a client, made safe to store and to send back.

A name comes from the uploader (or a module) and goes back out in ``Content-Disposition``;
it must not carry a path (``../../etc/passwd``, ``C:\\x``), control characters (header
injection, terminal tricks) or unbounded length. A media type comes from the uploader too
and is only ever a label: downloads are attachments with ``nosniff``.
"""

from __future__ import annotations

import re
import unicodedata
from urllib.parse import quote

#: Longest stored name, in characters (the extension is kept when a name is cut).
MAX_NAME = 200
DEFAULT_NAME = "file"
OCTET_STREAM = "application/octet-stream"

_UNSAFE = re.compile(r"[\x00-\x1f\x7f-\x9f\u200b-\u200f\u202a-\u202e\u2066-\u2069\ufeff\"<>|*?:]")
_SPACES = re.compile(r"\s+")
#: RFC 9110 token characters, for ``type/subtype`` (parameters are dropped).
_TOKEN = r"[!#$%&'*+.^_`|~0-9A-Za-z-]+"
_MEDIA_TYPE = re.compile(rf"({_TOKEN})/({_TOKEN})")


def safe_name(raw: str | None) -> str:
    """A display name without directories, control or bidi characters, at most MAX_NAME long.

    Only the last path component is kept (both ``/`` and ``\\`` separate: the name may come
    from Windows), leading dots are dropped (no hidden or ``..`` names), and a name left
    empty becomes ``file``.
    """
    name = unicodedata.normalize("NFC", raw or "")
    name = re.split(r"[/\\]", name)[-1]
    name = _SPACES.sub(" ", _UNSAFE.sub("_", name)).strip().lstrip(".").strip()
    if not name:
        return DEFAULT_NAME
    if len(name) > MAX_NAME:
        stem, dot, ext = name.rpartition(".")
        if dot and 0 < len(ext) <= 16:
            name = stem[: MAX_NAME - len(ext) - 1].rstrip() + "." + ext
        else:
            name = name[:MAX_NAME]
    return name


def safe_content_type(raw: str | None) -> str:
    """``type/subtype`` in lower case, or ``application/octet-stream`` for anything else
    (parameters such as ``charset`` are dropped: the bytes are served as they came)."""
    value = (raw or "").split(";", 1)[0].strip()
    found = _MEDIA_TYPE.fullmatch(value)
    if found is None or len(value) > 200:
        return OCTET_STREAM
    return value.lower()


def content_disposition(name: str) -> str:
    """``attachment`` with the name for every browser (RFC 6266): an ASCII fallback in
    ``filename`` and the exact UTF-8 name in ``filename*`` (RFC 5987 encoding)."""
    fallback = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
    fallback = re.sub(r"[^A-Za-z0-9 !#$&+,.=@^_`{}~()\[\]-]", "_", fallback).strip() or "file"
    return f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{quote(name, safe='')}"
