"""Web forms: the table and its constants."""

from __future__ import annotations

from datetime import datetime, timedelta
from enum import StrEnum
from typing import TYPE_CHECKING

from sqlalchemy import ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from gateway.sdk import (
    Base,
    UTCDateTime,
    str_enum,
    utcnow,
)
from plugins.contacts.fields import FORM_FIELDS

if TYPE_CHECKING:
    pass


MODULE = "contacts"
#: The contact fields a form may collect (GraphQL names) → Contact attribute (None: a list),
#: and their labels: the field table's ``web_form`` fields.
FIELDS: dict[str, str | None] = {name: f.attr for name, f in FORM_FIELDS.items()}
LABELS = {name: f.form_label or f.label for name, f in FORM_FIELDS.items()}
NAME_FIELDS = ("firstName", "lastName", "companyName")
#: The honeypot: hidden from people by CSS, filled by bots that fill every field.
HONEYPOT = "website_url"
MAX_BODY = 16 * 1024
MAX_DESCRIPTION = 5000
#: Submissions one client address may make to one form per window.
RATE_LIMIT = 5
RATE_WINDOW = timedelta(minutes=10)
SOURCE_PREFIX = "web form: "
MAX_NAME = 80 - len(SOURCE_PREFIX)  # the name goes into the contacts' source (80 chars)


class WebFormTarget(StrEnum):
    """What a submission creates: a contact, or (with the leads module on) an unmanaged lead,
    created by whichever module answers ``crm_web_form_submission``."""

    CONTACT = "CONTACT"
    LEAD = "LEAD"


#: Targets other modules create, and the module that must be on to choose them.
TARGET_MODULES = {WebFormTarget.LEAD: "leads"}


class WebForm(Base):
    """A public contact form of a tenant. Its key is public (it is in the site's HTML), so
    it is stored as is; it only lets visitors submit, never read."""

    __tablename__ = "contact_web_forms"

    id: Mapped[int] = mapped_column(primary_key=True)
    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenants.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(80))
    public_key: Mapped[str] = mapped_column(String(64), unique=True, index=True)
    #: The contact fields the form accepts (GraphQL names), one per line, in form order.
    fields: Mapped[str] = mapped_column(Text, default="")
    #: The subset of ``fields`` a submission must fill, one per line.
    required_fields: Mapped[str] = mapped_column(Text, default="")
    #: Exact origins (``https://shop.example``) browsers may submit from, one per line.
    allowed_origins: Mapped[str] = mapped_column(Text, default="")
    #: The manager of the contacts the form creates (never an assistant).
    owner_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    #: Tag names put on the contacts the form creates, one per line.
    tags: Mapped[str] = mapped_column(Text, default="")
    target: Mapped[WebFormTarget] = mapped_column(
        str_enum(WebFormTarget), default=WebFormTarget.CONTACT
    )
    enabled: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    @property
    def field_list(self) -> list[str]:
        return _lines(self.fields)

    @property
    def required_list(self) -> list[str]:
        return _lines(self.required_fields)

    @property
    def origin_list(self) -> list[str]:
        return _lines(self.allowed_origins)

    @property
    def tag_list(self) -> list[str]:
        return _lines(self.tags)


def _lines(text: str) -> list[str]:
    return [line for line in text.split("\n") if line]
