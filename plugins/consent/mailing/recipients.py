"""Who a mailing goes to: the recipients the author gave (ids, or a file of ids or
addresses), matched to the contacts or leads the author may see, and whether each may be
emailed. Shared by the preview, the draft and the send job, so all three decide alike.

Every lookup is an ORM statement on the caller's session, so record visibility is the SQL
predicate the kernel adds; a recipient the caller may not see is reported ``NOT_FOUND``,
like one that does not exist. Leads are reached through the plugin registry's ``lead``
entity (its model), never by importing the leads module, and only while it is on.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from gateway.sdk import (
    BadUserInput,
    CallerContext,
    GatewayError,
    mail,
    open_file,
    parse_global_id,
    printable,
    read_table,
    unreadable_fields,
)
from plugins.consent.mailing.models import (
    MAX_RECIPIENTS,
    Audience,
    RecipientStatus,
    SkipReason,
)
from plugins.contacts.models import Contact, ContactEmail

#: The registry entity, the GraphQL type of the ids and of the field rules, per audience.
ENTITY = {Audience.CONTACTS: "contact", Audience.LEADS: "lead"}
TYPE_NAME = {Audience.CONTACTS: "Contact", Audience.LEADS: "Lead"}
#: Column headers a recipients file may use (case and spaces ignored).
ID_HEADERS = frozenset({"id"})
EMAIL_HEADERS = frozenset({"email", "e-mail", "emailaddress", "e-mailaddress"})

_LABEL = r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
_ADDRESS = re.compile(rf"[A-Za-z0-9.!#$%&'*+/=?^_`{{|}}~-]{{1,64}}@{_LABEL}(?:\.{_LABEL})+")


def valid_address(address: str) -> bool:
    """A plain ``local@domain`` an SMTP server accepts in ``RCPT TO`` (no display name, no
    quoting, no control characters, ASCII domain with a dot)."""
    return (
        len(address) <= 254
        and ".." not in address
        and not address.startswith(".")
        and _ADDRESS.fullmatch(address) is not None
    )


@dataclass(frozen=True)
class Given:
    """One recipient as the author gave it."""

    position: int
    given: str
    row: int | None = None
    record_id: int | None = None
    email: str | None = None
    #: Why it cannot be matched at all (a file cell that is not an ID of the audience).
    problem: str = ""


def again(position: int, given: str, row: int | None, record_id: int | None) -> Given:
    """A saved recipient, to decide again when sending: by its record, and to the address
    a file row named (when it was matched by one)."""
    email = given.lower() if row is not None and "@" in given else None
    return Given(position, given, row, record_id=record_id, email=email)


@dataclass
class Decided:
    """What becomes of one recipient: ``PENDING`` (will be sent to) or ``SKIPPED``."""

    given: Given
    record_id: int | None
    status: RecipientStatus
    reason: SkipReason | None = None
    detail: str = ""
    record: Any = None
    address: str = ""


def model_of(ctx: CallerContext, audience: Audience) -> Any:
    """The model of the audience's records; BAD_USER_INPUT for leads while leads is off."""
    if audience is Audience.CONTACTS:
        return Contact
    registry = ctx.gateway.registry
    entity = registry.entities.get(ENTITY[audience])
    if entity is None or registry.entity_module[entity.entity] not in ctx.enabled_modules:
        raise BadUserInput("mass email to leads needs the leads module", field="audience")
    return entity.model


def address_of(audience: Audience, record: Any, given: str | None = None) -> str:
    """Where to send: the contact's address a file row named (matched without case), else
    its first one; a lead's only one."""
    if audience is Audience.CONTACTS:
        addresses = [e.address.strip() for e in record.emails]
        named = [a for a in addresses if given and a.lower() == given]
        return (named or addresses or [""])[0]
    return str(record.email or "").strip()


def gather(
    ctx: CallerContext, audience: Audience, ids: Sequence[str], file_id: str | None
) -> list[Given]:
    """The recipients given by global IDs, then by the rows of an uploaded file (the
    caller's own, through the kernel's files). More than :data:`MAX_RECIPIENTS`, or none,
    is BAD_USER_INPUT; nothing is matched yet."""
    type_name = TYPE_NAME[audience]
    given = [
        Given(n, value, record_id=parse_global_id(value, type_name, "recipientIds"))
        for n, value in enumerate(ids, start=1)
    ]
    if len(given) > MAX_RECIPIENTS:
        raise _too_many("recipientIds")
    if file_id is not None:
        given.extend(_file_rows(ctx, type_name, file_id, start=len(given) + 1))
    if not given:
        raise BadUserInput("choose at least one recipient", field="recipientIds")
    return given


def _too_many(field: str) -> BadUserInput:
    return BadUserInput(f"a mailing has at most {MAX_RECIPIENTS} recipients", field=field)


def _header_key(cell: str | None) -> str:
    return re.sub(r"[\s_]", "", (cell or "").lower())


def _file_rows(ctx: CallerContext, type_name: str, file_id: str, start: int) -> list[Given]:
    source = open_file(ctx, file_id)
    table = read_table(source.content, source.name)
    keys = [_header_key(h) for h in table.header]
    id_col = next((i for i, k in enumerate(keys) if k in ID_HEADERS), None)
    email_col = next((i for i, k in enumerate(keys) if k in EMAIL_HEADERS), None)
    if id_col is None and email_col is None:
        raise BadUserInput('the file needs an "Email" or an "ID" column', field="fileId")
    rows: list[Given] = []
    for row in table.rows:

        def cell(column: int | None, values: list[str | None] = row.values) -> str:
            if column is None or column >= len(values):
                return ""
            return printable(values[column] or "", one_line=True).strip()

        raw_id, raw_email = cell(id_col), cell(email_col)
        if not raw_id and not raw_email:
            continue  # a blank line
        if start + len(rows) > MAX_RECIPIENTS:
            raise _too_many("fileId")
        position = start + len(rows)
        if raw_id:
            try:
                record_id = parse_global_id(raw_id, type_name, "fileId")
            except GatewayError:
                problem = f"not an ID of a {type_name.lower()}"
                rows.append(Given(position, raw_id[:254], row.number, problem=problem))
                continue
            rows.append(Given(position, raw_id[:254], row.number, record_id=record_id))
        else:
            rows.append(Given(position, raw_email[:254], row.number, email=raw_email.lower()))
    return rows


def load(ctx: CallerContext, audience: Audience, ids: Iterable[int]) -> dict[int, Any]:
    """The records among ``ids`` that the caller may see (one statement; contacts with
    their addresses)."""
    wanted = sorted(set(ids))
    if not wanted:
        return {}
    model = model_of(ctx, audience)
    stmt = select(model).where(model.id.in_(wanted))
    if audience is Audience.CONTACTS:
        stmt = stmt.options(selectinload(Contact.emails))
    return {r.id: r for r in ctx.session.scalars(stmt)}


def match_addresses(ctx: CallerContext, audience: Audience, addresses: set[str]) -> dict[str, int]:
    """Lower-cased address → the visible record holding it (the oldest if several). Matching
    compares the address field, so a caller whose profile hides it may not match by it."""
    if not addresses:
        return {}
    model = model_of(ctx, audience)
    field = "email"
    if unreadable_fields(ctx, TYPE_NAME[audience], [field]):
        raise BadUserInput(
            f"your profile may not read {TYPE_NAME[audience]}.email: give IDs, not addresses",
            field="fileId",
        )
    if audience is Audience.CONTACTS:
        column = func.lower(ContactEmail.address)
        stmt = select(column, Contact.id).join(ContactEmail, ContactEmail.contact_id == Contact.id)
    else:
        column = func.lower(model.email)
        stmt = select(column, model.id)
    found: dict[str, int] = {}
    rows = ctx.session.execute(
        stmt.where(column.in_(sorted(addresses))).order_by(stmt.selected_columns[1])
    )
    for address, record_id in rows:
        found.setdefault(address, record_id)
    return found


def decide(ctx: CallerContext, audience: Audience, given: Sequence[Given]) -> list[Decided]:
    """Match every given recipient and say whether it may be emailed: not found (or not
    visible), a duplicate, no address, an invalid one, or refused by a module
    (``crm_email_refusals``: consent, blocks) — each skipped with its reason."""
    unmatched = {g.email for g in given if g.email and g.record_id is None}
    by_address = match_addresses(ctx, audience, unmatched)
    ids = [g.record_id if g.record_id is not None else by_address.get(g.email or "") for g in given]
    records = load(ctx, audience, (i for i in ids if i is not None))
    seen: set[int] = set()
    decided: list[Decided] = []
    for item, record_id in zip(given, ids, strict=True):
        record = records.get(record_id) if record_id is not None else None
        if record is None:
            detail = item.problem or f"no {TYPE_NAME[audience].lower()} you may see"
            decided.append(_skip(item, None, SkipReason.NOT_FOUND, detail))
            continue
        if record.id in seen:
            decided.append(_skip(item, record.id, SkipReason.DUPLICATE, "listed earlier"))
            continue
        seen.add(record.id)
        address = address_of(audience, record, item.email)
        if not address:
            decided.append(_skip(item, record.id, SkipReason.NO_EMAIL, "no email address"))
        elif not valid_address(address) or printable(address, one_line=True) != address:
            decided.append(
                _skip(item, record.id, SkipReason.INVALID_ADDRESS, "not a valid address")
            )
        else:
            decided.append(
                Decided(item, record.id, RecipientStatus.PENDING, record=record, address=address)
            )
    refuse(ctx, audience, decided)
    return decided


def refuse(ctx: CallerContext, audience: Audience, decided: list[Decided]) -> None:
    """Skip the pending recipients the tenant's modules refuse, with their reasons."""
    pending = [d for d in decided if d.status is RecipientStatus.PENDING]
    refusals = mail.email_refusals(
        ctx, ENTITY[audience], [d.record_id for d in pending if d.record_id]
    )
    for item in pending:
        reasons = refusals.get(item.record_id or 0)
        if reasons:
            item.status, item.reason, item.detail = (
                RecipientStatus.SKIPPED,
                SkipReason.REFUSED,
                "; ".join(reasons),
            )


def _skip(item: Given, record_id: int | None, reason: SkipReason, detail: str) -> Decided:
    return Decided(item, record_id, RecipientStatus.SKIPPED, reason, detail)
