"""Signed, expiring, single-use links of consent mails.

A link is ``/consent/{kind}.{request id}.{expiry}.{signature}``: ``kind`` is ``a`` (answer a
request: accept or deny) or ``w`` (withdraw a consent given). The signature is the kernel's
HMAC (``Gateway.secret_box``, the key that signs file links) over the kind, request, expiry
and the request's stored *nonce*. So a link is:

* **signed** — nothing in it can be changed without the server key;
* **expiring** — the expiry is signed, and checked again against the stored ``expires_at``;
* **single-use** — answering moves the request out of ``SENT`` with a conditional
  ``UPDATE … WHERE status = 'SENT' AND nonce = …``; a second use (even racing, in another
  worker) matches no row. A new nonce (a resend) voids every older link of the request.

The page a GET shows carries a second signature (``form``) that the POST must send back:
a POST without having seen the page (a forged form elsewhere) is refused.
"""

from __future__ import annotations

import hmac
from dataclasses import dataclass
from datetime import datetime

from gateway.sdk import Gateway

ROUTE = "/consent"
ANSWER, WITHDRAW = "a", "w"


def _message(kind: str, request_id: int, expires: int, nonce: str) -> str:
    return f"consent-link:{kind}:{request_id}:{expires}:{nonce}"


def token(gateway: Gateway, kind: str, request_id: int, expires_at: datetime, nonce: str) -> str:
    expires = int(expires_at.timestamp())
    sig = gateway.secret_box.sign(_message(kind, request_id, expires, nonce))
    return f"{kind}.{request_id}.{expires}.{sig}"


def url(gateway: Gateway, link_token: str) -> str:
    return f"{gateway.settings.public_url.rstrip('/')}{ROUTE}/{link_token}"


@dataclass(frozen=True)
class Claim:
    """What a link says, before it is believed (:meth:`authentic` with the stored nonce)."""

    kind: str
    request_id: int
    expires: int
    sig: str

    @classmethod
    def parse(cls, text: str) -> Claim | None:
        parts = text.split(".")
        if len(parts) != 4 or parts[0] not in (ANSWER, WITHDRAW):
            return None
        kind, request_id, expires, sig = parts
        if not (request_id.isdigit() and expires.isdigit()) or len(request_id) > 18:
            return None
        if len(expires) > 12 or len(sig) != 64:
            return None
        return cls(kind, int(request_id), int(expires), sig)

    def authentic(self, gateway: Gateway, nonce: str | None) -> bool:
        if not nonce:
            return False
        expected = gateway.secret_box.sign(
            _message(self.kind, self.request_id, self.expires, nonce)
        )
        return hmac.compare_digest(expected.encode(), self.sig.encode("utf-8", "replace"))

    def expired(self, now: datetime) -> bool:
        return self.expires <= int(now.timestamp())

    def form_token(self, gateway: Gateway) -> str:
        """The page's anti-forgery value: only someone who loaded the page has it."""
        return gateway.secret_box.sign(f"consent-form:{self.kind}:{self.request_id}:{self.sig}")

    def form_ok(self, gateway: Gateway, given: str) -> bool:
        return hmac.compare_digest(
            self.form_token(gateway).encode(), given.encode("utf-8", "replace")
        )
