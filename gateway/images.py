"""Small images sent as ``data:`` URLs (contact photos, user photos): at most 1 MB, checked
with Pillow before decoding (format, pixel count: no decompression bombs), shrunk and
re-encoded, so what is stored is always a small, well-formed PNG or JPEG."""

from __future__ import annotations

import base64
import binascii
import io
import re

from PIL import Image, UnidentifiedImageError

from gateway.errors import BadUserInput

MAX_BYTES = 1024 * 1024
MAX_SIZE = (200, 300)
#: Refuse decompression bombs long before Pillow's own (warning-only) default.
MAX_PIXELS = 25_000_000
ACCEPTED = {"PNG": "image/png", "JPEG": "image/jpeg", "WEBP": "image/webp", "GIF": "image/gif"}
_DATA_URL = re.compile(r"^data:(?P<mime>[\w/+.-]+);base64,(?P<data>.*)$", re.S)


def decode(data_url: str) -> bytes:
    match = _DATA_URL.match(data_url.strip())
    if match is None:
        raise BadUserInput("send the photo as a base64 data: URL", field="dataUrl")
    if len(match["data"]) > (MAX_BYTES * 4) // 3 + 4:
        raise BadUserInput("the photo may be at most 1 MB", field="dataUrl")
    try:
        content = base64.b64decode(match["data"], validate=True)
    except (binascii.Error, ValueError) as exc:
        raise BadUserInput("the photo is not valid base64", field="dataUrl") from exc
    if len(content) > MAX_BYTES:
        raise BadUserInput("the photo may be at most 1 MB", field="dataUrl")
    return content


def normalise(content: bytes, fit: tuple[int, int] = MAX_SIZE) -> tuple[bytes, str]:
    """The image re-encoded (PNG if it has transparency, else JPEG), shrunk to ``fit``."""
    try:
        with Image.open(io.BytesIO(content)) as probe:
            kind = probe.format
            width, height = probe.size
            probe.verify()
        if kind not in ACCEPTED:
            raise BadUserInput("the photo must be PNG, JPEG, WebP or GIF", field="dataUrl")
        if width * height > MAX_PIXELS:
            raise BadUserInput("the photo has too many pixels", field="dataUrl")
        with Image.open(io.BytesIO(content)) as image:
            image.thumbnail(fit)
            transparent = image.mode in ("RGBA", "LA", "P")
            out = io.BytesIO()
            if transparent:
                image.convert("RGBA").save(out, format="PNG", optimize=True)
                return out.getvalue(), "image/png"
            image.convert("RGB").save(out, format="JPEG", quality=85)
            return out.getvalue(), "image/jpeg"
    except (UnidentifiedImageError, OSError, SyntaxError, Image.DecompressionBombError) as exc:
        raise BadUserInput("the file is not an image", field="dataUrl") from exc


def data_url(content: bytes | None, mime: str | None) -> str | None:
    """A stored image as a ``data:`` URL (``None`` when there is none)."""
    if not content or not mime:
        return None
    return f"data:{mime};base64,{base64.b64encode(content).decode()}"
