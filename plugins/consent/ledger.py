"""The proof of consent (MISSION K6): appending entries, reading them under the client's
access, and exporting them as xlsx or CSV."""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import Select, or_, select
from sqlalchemy.orm import Session

from gateway.sdk import XLSX_MIME, User, add_sheet, new_workbook, printable, to_bytes
from plugins.consent.models import Channel, ConsentRequest, LedgerEntry, LedgerEvent
from plugins.contacts.models import Contact

CSV_MIME = "text/csv"
#: Most entries one export holds; ask for a shorter period beyond it.
EXPORT_LIMIT = 50_000


def append(
    session: Session,
    request: ConsentRequest,
    event: LedgerEvent,
    channel: Channel,
    *,
    actor_id: int | None = None,
    actor: str = "",
    ip_address: str = "",
    user_agent: str = "",
    detail: str = "",
    at: datetime | None = None,
) -> LedgerEntry:
    """Record one fact about ``request`` (its configuration, company, recipient and text
    version are copied into the entry, so the entry stands alone)."""
    entry = LedgerEntry(
        tenant_id=request.tenant_id,
        contact_id=request.contact_id,
        user_id=request.user_id,
        request_id=request.id,
        event=event,
        channel=channel,
        configuration_id=request.configuration_id,
        configuration=request.configuration.description,
        company=request.company.name if request.company is not None else "",
        actor_id=actor_id,
        actor=actor[:254],
        recipient=request.recipient,
        template_version=request.template_version,
        text_sha256=request.text_sha256,
        ip_address=ip_address[:64],
        user_agent=printable(user_agent, one_line=True)[:400],
        detail=detail[:400],
    )
    if at is not None:
        entry.at = at
    session.add(entry)
    return entry


def visible_entries(
    contact_id: int | None,
    since: datetime | None,
    until: datetime | None,
    user_id: int | None = None,
) -> Select[LedgerEntry]:
    """Entries of clients the caller may see (the outer join carries the client's
    visibility predicate in its ON clause: an entry of a hidden client finds no client and
    is left out) and of users (employees; reviewers see them all), of one client, one user
    and/or a period ``[since, until)``, oldest first."""
    stmt = (
        select(LedgerEntry)
        .outerjoin(Contact, Contact.id == LedgerEntry.contact_id)
        .where(or_(Contact.id.is_not(None), LedgerEntry.user_id.is_not(None)))
    )
    if contact_id is not None:
        stmt = stmt.where(LedgerEntry.contact_id == contact_id)
    if user_id is not None:
        stmt = stmt.where(LedgerEntry.user_id == user_id)
    if since is not None:
        stmt = stmt.where(LedgerEntry.at >= since)
    if until is not None:
        stmt = stmt.where(LedgerEntry.at < until)
    return stmt.order_by(LedgerEntry.at, LedgerEntry.id)


HEADER = [
    "Entry",
    "At (UTC)",
    "Client ID",
    "Client",
    "Event",
    "Channel",
    "Configuration",
    "Managing company",
    "Recipient",
    "Template version",
    "Text SHA-256",
    "Asked by",
    "IP address",
    "User agent",
    "Detail",
    "Request",
    "User",
]


def rows(session: Session, stmt: Select[LedgerEntry]) -> list[list[object]]:
    """One row per entry, with the client's name (or the user's, for a user's entry), in
    one statement."""
    joined = (
        stmt.outerjoin(User, User.id == LedgerEntry.user_id)
        .add_columns(
            Contact.kind,
            Contact.company_name,
            Contact.first_name,
            Contact.last_name,
            User.display_name,
            User.email,
        )
        .limit(EXPORT_LIMIT)
    )
    out: list[list[object]] = []
    for entry, kind, company_name, first, last, user_name, user_email in session.execute(joined):
        if kind is None:
            name = user_name or ""
        elif kind.value == "COMPANY":
            name = company_name
        else:
            name = " ".join(p for p in (first, last) if p)
        out.append(
            [
                entry.id,
                entry.at.strftime("%Y-%m-%dT%H:%M:%SZ"),
                entry.contact_id,
                name,
                entry.event.value,
                Channel(entry.channel).value,
                entry.configuration,
                entry.company,
                entry.recipient,
                entry.template_version,
                entry.text_sha256,
                entry.actor,
                entry.ip_address,
                entry.user_agent,
                entry.detail,
                entry.request_id,
                user_email or "",
            ]
        )
    return out


def as_xlsx(data: Sequence[Sequence[object]]) -> bytes:
    workbook = new_workbook()
    add_sheet(workbook, "Consent ledger", HEADER, data)
    return to_bytes(workbook)


def as_csv(data: Sequence[Sequence[object]]) -> bytes:
    return as_csv_rows(HEADER, data)


def as_csv_rows(header: Sequence[str], data: Sequence[Sequence[object]]) -> bytes:
    """UTF-8 with a BOM (spreadsheet apps then read accents right). Text cells that a
    spreadsheet would evaluate (``=``, ``+``, ``-``, ``@``) get a leading apostrophe."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(header)
    for row in data:
        writer.writerow([_cell(v) for v in row])
    return ("\ufeff" + buffer.getvalue()).encode("utf-8")


def _cell(value: object) -> object:
    if isinstance(value, str):
        text = printable(value, one_line=True)
        return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text
    return "" if value is None else value


MIMES = {"XLSX": XLSX_MIME, "CSV": CSV_MIME}
