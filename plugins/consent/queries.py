"""Root query fields of the consent module. Consent data of a client is read through a join
on the client, so the client's visibility predicate applies: a client you may not see has
no consent data for you (``null``, or no rows)."""

from __future__ import annotations

import base64
from datetime import datetime
from typing import Annotated, TypeAlias

import strawberry
from sqlalchemy import select
from sqlalchemy.orm import contains_eager
from strawberry.types import Info

from gateway.sdk import (
    BadUserInput,
    CallerContext,
    Connection,
    ExportFile,
    Order,
    RequestContext,
    Window,
    guarded,
    list_records,
    parse_global_id,
    selected,
)
from plugins.consent import blocked, configurations, ledger, placeholders
from plugins.consent.models import ConsentBlock, ConsentRequest
from plugins.consent.nested import consent_of_contacts
from plugins.consent.permissions import ConsentPermission as P
from plugins.consent.types import (
    BlockedClientType,
    ClientConsent,
    ConsentConfigurationType,
    ConsentRequestType,
    ConsentTemplateField,
    ExportFormat,
    ExportFormatEnum,
    LedgerEntryType,
)
from plugins.contacts.models import Contact
from plugins.contacts.queries import loader_options

Ctx: TypeAlias = Info[RequestContext, None]
LEDGER_PAGE = 500


@guarded(permission=P.MANAGE.value, description="The `[field]` placeholders templates may use.")
def consent_template_fields(info: Ctx) -> list[ConsentTemplateField]:
    info.context.require_caller()
    return [
        ConsentTemplateField(name=n, description=d) for n, (d, _) in placeholders.FIELDS.items()
    ]


@guarded(permission=P.MANAGE.value, description="The organisation's consent configurations.")
def consent_configurations(info: Ctx) -> list[ConsentConfigurationType]:
    ctx = info.context
    ctx.require_caller()
    return [ConsentConfigurationType(record=c) for c in configurations.list_configurations(ctx)]


def client_consent_of(ctx: CallerContext, contact_id: int) -> ClientConsent | None:
    """A client's block and requests, or ``None`` if the client is not visible to the
    caller (the same reading as ``Contact.consent``)."""
    if ctx.session.get(Contact, contact_id) is None:
        return None
    return consent_of_contacts(ctx, [contact_id])[contact_id]


@guarded(
    permission=P.REVIEW.value,
    description="A client's consent state and every request sent, per managing company; "
    "null when you may not see the client.",
)
def client_consent(info: Ctx, contact_id: strawberry.ID) -> ClientConsent | None:
    ctx = info.context
    ctx.require_caller()
    return client_consent_of(ctx, parse_global_id(contact_id, "Contact", "contactId"))


def _window(since: datetime | None, until: datetime | None) -> None:
    if since is not None and until is not None and until <= since:
        raise BadUserInput("`to` must be after `from`", field="to")


@guarded(
    permission=P.REVIEW.value,
    description="The proof of consent, oldest first: of one client, one user (employee) "
    "and/or a period [from, to), for clients you may see and every user. At most 500 "
    "entries; narrow the period for more.",
)
def consent_ledger(
    info: Ctx,
    contact_id: strawberry.ID | None = None,
    from_: Annotated[datetime | None, strawberry.argument(name="from")] = None,
    to: datetime | None = None,
    first: int = 100,
    user_id: strawberry.ID | None = None,
) -> list[LedgerEntryType]:
    ctx = info.context
    ctx.require_caller()
    if not 1 <= first <= LEDGER_PAGE:
        raise BadUserInput(f"between 1 and {LEDGER_PAGE}", field="first")
    _window(from_, to)
    contact = parse_global_id(contact_id, "Contact", "contactId") if contact_id else None
    user = parse_global_id(user_id, "User", "userId") if user_id else None
    stmt = ledger.visible_entries(contact, from_, to, user).limit(first)
    return [LedgerEntryType(record=e) for e in ctx.session.scalars(stmt)]


@guarded(
    permission=P.REVIEW.value,
    description="The proof of consent as a spreadsheet (XLSX) or CSV: of one client, one "
    "user and/or a period [from, to), for clients you may see and every user.",
)
def export_consent_ledger(
    info: Ctx,
    format: ExportFormatEnum = ExportFormat.XLSX,
    contact_id: strawberry.ID | None = None,
    from_: Annotated[datetime | None, strawberry.argument(name="from")] = None,
    to: datetime | None = None,
    user_id: strawberry.ID | None = None,
) -> ExportFile:
    ctx = info.context
    ctx.require_caller()
    _window(from_, to)
    contact = parse_global_id(contact_id, "Contact", "contactId") if contact_id else None
    user = parse_global_id(user_id, "User", "userId") if user_id else None
    data = ledger.rows(ctx.session, ledger.visible_entries(contact, from_, to, user))
    content = ledger.as_csv(data) if format is ExportFormat.CSV else ledger.as_xlsx(data)
    extension = "csv" if format is ExportFormat.CSV else "xlsx"
    return ExportFile(
        filename=f"consent-ledger.{extension}",
        mime_type=ledger.MIMES[format.value],
        content_base64=base64.b64encode(content).decode(),
    )


def _company(company_id: strawberry.ID | None) -> int | None:
    if company_id is None:
        return None
    return parse_global_id(company_id, "ManagingCompany", "companyId")


@guarded(
    permission=P.REVIEW.value,
    description="The clients blocked for email (GDPR) that you may see, most recently "
    "blocked first; of one managing company's clients if given.",
)
def consent_blocked_clients(
    info: Ctx,
    company_id: strawberry.ID | None = None,
    first: int | None = None,
    after: str | None = None,
    last: int | None = None,
    before: str | None = None,
) -> Connection[BlockedClientType]:
    ctx = info.context
    ctx.require_caller()
    stmt = blocked.blocked_clients(ctx, _company(company_id))
    names = selected(info, "edges", "node", "contact")
    listed = list_records(
        ctx,
        ConsentBlock,
        "ConsentBlockedClient",
        stmt,
        order=Order(ConsentBlock.blocked_at, descending=True),
        window=Window.of(ctx.gateway.settings, first, after, last, before),
        options=[contains_eager(ConsentBlock.contact).options(*loader_options(names))],
    )
    return Connection.of(listed, lambda r: BlockedClientType(record=r))


@guarded(
    permission=P.REVIEW.value,
    description="The clients blocked for email that you may see, as XLSX or CSV (columns "
    "your profile may not read are left out); of one managing company's clients if given.",
)
def export_consent_blocked_clients(
    info: Ctx,
    format: ExportFormatEnum = ExportFormat.XLSX,
    company_id: strawberry.ID | None = None,
) -> ExportFile:
    ctx = info.context
    ctx.require_caller()
    content, mime = blocked.export(ctx, _company(company_id), format is ExportFormat.CSV)
    extension = "csv" if format is ExportFormat.CSV else "xlsx"
    return ExportFile(
        filename=f"consent-blocked-clients.{extension}",
        mime_type=mime,
        content_base64=base64.b64encode(content).decode(),
    )


@guarded(
    permission=P.REVIEW.value,
    description="The consent requests sent to a user (employee) by `USER` configurations, "
    "newest first; empty for a user of another organisation.",
)
def user_consent(info: Ctx, user_id: strawberry.ID) -> list[ConsentRequestType]:
    ctx = info.context
    ctx.require_caller()
    user = parse_global_id(user_id, "User", "userId")
    found = ctx.session.scalars(
        select(ConsentRequest)
        .where(ConsentRequest.tenant_id == ctx.tenant_id, ConsentRequest.user_id == user)
        .order_by(ConsentRequest.id.desc())
    )
    return [ConsentRequestType(record=r) for r in found]
