"""Organisation settings (MISSION I3): name, language, timezone, company data, logo."""

from __future__ import annotations

import base64
import binascii
import re
from dataclasses import dataclass
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from sqlalchemy.orm import Session

from gateway.access.enforcement import access_of
from gateway.audit.admin import log_admin
from gateway.errors import BadUserInput
from gateway.tenancy.models import RecordVisibility, Tenant

MAX_LOGO_BYTES = 512 * 1024
#: Raster formats only: SVG can carry scripts. Checked by content, not by the claimed type.
LOGO_SIGNATURES = {
    "image/png": (b"\x89PNG\r\n\x1a\n",),
    "image/jpeg": (b"\xff\xd8\xff",),
    "image/webp": (b"RIFF",),
}
_LANGUAGE = re.compile(r"^[a-z]{2,3}(-[A-Z]{2})?$")
_DATA_URL = re.compile(r"^data:(?P<mime>[\w/+.-]+);base64,(?P<data>.*)$", re.S)


@dataclass
class OrganizationChanges:
    name: str | None = None
    language: str | None = None
    timezone: str | None = None
    legal_name: str | None = None
    fiscal_id: str | None = None
    address: str | None = None
    phone: str | None = None
    email: str | None = None
    website: str | None = None
    require_two_factor: bool | None = None
    audit_retention_days: int | None = None
    record_visibility: RecordVisibility | None = None


#: The audit trail and log are kept at least a month and at most ten years.
RETENTION_RANGE = (30, 3650)

_LIMITS = {
    "name": 200,
    "legal_name": 200,
    "fiscal_id": 40,
    "address": 500,
    "phone": 40,
    "email": 254,
    "website": 200,
}


def update_settings(session: Session, tenant: Tenant, changes: OrganizationChanges) -> Tenant:
    for attr, limit in _LIMITS.items():
        value = getattr(changes, attr)
        if value is None:
            continue
        value = value.strip()
        if len(value) > limit:
            raise BadUserInput(f"at most {limit} characters", field=_camel(attr))
        if attr == "name" and not value:
            raise BadUserInput("the organisation needs a name", field="name")
        setattr(tenant, attr, value)
    if changes.language is not None:
        tenant.language = checked_language(changes.language)
    if changes.timezone is not None:
        tenant.timezone = checked_timezone(changes.timezone)
    if changes.require_two_factor is not None:
        tenant.require_two_factor = changes.require_two_factor
    if changes.audit_retention_days is not None:
        low, high = RETENTION_RANGE
        if not low <= changes.audit_retention_days <= high:
            raise BadUserInput(
                f"keep the audit between {low} and {high} days", field="auditRetentionDays"
            )
        tenant.audit_retention_days = changes.audit_retention_days
    if changes.record_visibility is not None:
        tenant.record_visibility = RecordVisibility(changes.record_visibility)
    log_admin(
        session,
        tenant.id,
        "organization.updated",
        tenant.name,
        {k: v for k, v in vars(changes).items() if v is not None},
    )
    session.flush()
    access = access_of(session)
    if access is not None and changes.record_visibility is not None:
        access.invalidate()  # "those below me" may have just changed
    return tenant


def checked_language(value: str) -> str:
    """A language tag (``en``, ``es-ES``); BAD_USER_INPUT on ``language`` otherwise."""
    if not _LANGUAGE.match(value):
        raise BadUserInput("use a language tag such as 'en' or 'es-ES'", field="language")
    return value


def checked_timezone(value: str) -> str:
    """An IANA time zone name (``Europe/Madrid``); BAD_USER_INPUT on ``timezone`` otherwise."""
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise BadUserInput("not a known time zone", field="timezone") from exc
    if value not in available_timezones() and value != "UTC":
        raise BadUserInput("not a known time zone", field="timezone")
    return value


def set_logo(session: Session, tenant: Tenant, data_url: str) -> Tenant:
    """A PNG, JPEG or WebP logo given as a data URL, at most 512 KiB, checked by content."""
    match = _DATA_URL.match(data_url.strip())
    if match is None:
        raise BadUserInput("send the logo as a base64 data: URL", field="dataUrl")
    mime = match["mime"].lower()
    if mime not in LOGO_SIGNATURES:
        raise BadUserInput("the logo must be PNG, JPEG or WebP", field="dataUrl")
    if len(match["data"]) > (MAX_LOGO_BYTES * 4) // 3 + 4:
        raise BadUserInput("the logo may be at most 512 KiB", field="dataUrl")
    try:
        content = base64.b64decode(match["data"], validate=True)
    except (binascii.Error, ValueError) as exc:
        raise BadUserInput("the logo is not valid base64", field="dataUrl") from exc
    if len(content) > MAX_LOGO_BYTES:
        raise BadUserInput("the logo may be at most 512 KiB", field="dataUrl")
    if not content.startswith(LOGO_SIGNATURES[mime]) or (
        mime == "image/webp" and content[8:12] != b"WEBP"
    ):
        raise BadUserInput(f"the content is not a {mime} image", field="dataUrl")
    tenant.logo, tenant.logo_mime = content, mime
    session.flush()
    return tenant


def clear_logo(session: Session, tenant: Tenant) -> Tenant:
    tenant.logo = tenant.logo_mime = None
    session.flush()
    return tenant


def logo_data_url(tenant: Tenant) -> str | None:
    if tenant.logo is None or tenant.logo_mime is None:
        return None
    return f"data:{tenant.logo_mime};base64,{base64.b64encode(tenant.logo).decode()}"


def _camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(p.capitalize() for p in rest)
