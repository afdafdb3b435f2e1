"""Signed download links: a browser opens them without the Authorization header.

A link names the file, the user it was minted for and its expiry, and carries an HMAC of
the three under the server key (``SecretBox.sign``, a key derived for signing only). The
link is a capability for a few minutes (``CRM_FILE_LINK_SECONDS``), not a secret for ever:
the download still checks that the file exists, has not expired and belongs to that user,
who must still be active — so a link outlives neither the file nor the account.
"""

from __future__ import annotations

import hmac
from dataclasses import dataclass
from datetime import datetime
from urllib.parse import urlencode

from gateway.identity.crypto import SecretBox

#: The route prefix of uploads and downloads (gateway.files.http).
ROUTE = "/files"


def _message(file_id: int, user_id: int, expires: int) -> str:
    return f"file-download:{file_id}:{user_id}:{expires}"


def signed_path(box: SecretBox, file_id: int, user_id: int, expires_at: datetime) -> str:
    """``/files/{id}?u=…&exp=…&sig=…`` for ``user_id``, valid until ``expires_at``."""
    expires = int(expires_at.timestamp())
    sig = box.sign(_message(file_id, user_id, expires))
    return f"{ROUTE}/{file_id}?" + urlencode({"u": user_id, "exp": expires, "sig": sig})


@dataclass(frozen=True)
class LinkClaim:
    """What a link's parameters say, before they are believed."""

    file_id: int
    user_id: int
    expires: int
    sig: str

    def authentic(self, box: SecretBox) -> bool:
        expected = box.sign(_message(self.file_id, self.user_id, self.expires))
        # Bytes: compare_digest refuses str holding anything but ASCII (a forged "sig=ñ").
        return hmac.compare_digest(expected.encode(), self.sig.encode("utf-8", "replace"))

    def expired(self, now: datetime) -> bool:
        return self.expires <= int(now.timestamp())
