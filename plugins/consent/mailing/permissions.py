"""The mass email permission (a content permission of the consent module)."""

from __future__ import annotations

from enum import StrEnum

from gateway.sdk import Permission


class MailingPermission(StrEnum):
    SEND_MASS_EMAIL = "consent.send_mass_email"


DESCRIPTIONS = {
    MailingPermission.SEND_MASS_EMAIL: "Compose and send mass email to the clients and "
    "leads you may see (up to 100 recipients a mailing).",
}

CATALOGUE = Permission.from_enum(MailingPermission, {k.value: v for k, v in DESCRIPTIONS.items()})
