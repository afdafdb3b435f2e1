"""The consent module's permissions, as the seed describes them (MISSION K, item 8 of the
issue): an administrator configures and unblocks, senders ask clients again, reviewers see
the state and the proof. Record access still applies: each sees only the consent data of
clients they may see."""

from __future__ import annotations

from enum import StrEnum

from gateway.sdk import Permission


class ConsentPermission(StrEnum):
    MANAGE = "consent.manage"
    SEND = "consent.send"
    REVIEW = "consent.review"


DESCRIPTIONS = {
    ConsentPermission.MANAGE: "Configure consent requests and unblock clients blocked by GDPR.",
    ConsentPermission.SEND: "Send a consent request to a client again.",
    ConsentPermission.REVIEW: "See clients' consent state and history, and export the proof.",
}

CATALOGUE = Permission.from_enum(ConsentPermission, {k.value: v for k, v in DESCRIPTIONS.items()})
