"""Leads' side of the kernel import (``gateway.imports``): columns, matching, and writes
through the lead services — the same ``create_lead`` / ``update_lead`` / ``delete_lead``
that ``createLead``, ``updateLead``, ``deleteLead`` and web forms call, under the importing
user's access and field rules."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import func, select

from gateway.sdk import (
    CallerContext,
    ImportColumn,
    check_writable_fields,
    get_writable,
    records_by_id,
)
from plugins.leads import services
from plugins.leads.imports import columns as cols
from plugins.leads.imports.parsing import LeadRow, lead_row
from plugins.leads.models import Lead

#: What a before-image restores: every attribute an import may write but the owner (an
#: update never changes it).
_RESTORED = tuple(attr for attr in cols.ATTRS.values() if attr != "owner_id")


class LeadImporter:
    entity = services.LEAD
    variants: tuple[str, ...] = ()  # one kind of lead: the variant ""

    def columns(self, ctx: CallerContext, variant: str) -> Sequence[ImportColumn]:
        return cols.COLUMNS if variant == cols.VARIANT else ()

    def creatable(self, variant: str) -> bool:
        return True

    def check_writable(self, ctx: CallerContext, keys: Sequence[str]) -> None:
        attrs = [cols.ATTRS[key] for key in keys if key in cols.ATTRS]
        check_writable_fields(ctx.access, "Lead", services.written_fields("Lead", attrs))

    def match_value(self, key: str, row: Mapping[str, str]) -> str | None:
        raw = (row.get(key) or "").strip()
        if not raw:
            return None
        return raw.casefold() if key == "email" else raw

    def find(self, ctx: CallerContext, key: str, values: set[str]) -> dict[str, list[Any]]:
        """Among the leads the session's predicate lets ``ctx`` see: one query."""
        session = ctx.session
        found: dict[str, list[Any]] = {}
        if key == "id":
            return records_by_id(ctx, Lead, "Lead", values)
        if key == "email":
            for lead in session.scalars(select(Lead).where(func.lower(Lead.email).in_(values))):
                found.setdefault(lead.email.casefold(), []).append(lead)
        return found

    def prepare(self, ctx: CallerContext, variant: str, row: Mapping[str, str]) -> LeadRow:
        return lead_row(ctx, row)

    def create(self, ctx: CallerContext, variant: str, prepared: Any) -> Lead:
        """A row without an owner makes an unmanaged lead (the "unmanaged" tab's import);
        with one, a lead in progress of that user — ``createLead``'s one creation path."""
        row: LeadRow = prepared
        return services.create_lead(
            ctx,
            services.LeadData(values=dict(row.values)),
            unmanaged=row.owner_id is None,
            owner_id=row.owner_id,
        )

    def create_many(self, ctx: CallerContext, variant: str, prepared: Sequence[Any]) -> list[Lead]:
        """A chunk of rows through ``create_leads``: ``create_lead``'s rules, one INSERT."""
        rows: Sequence[LeadRow] = prepared
        return services.create_leads(
            ctx,
            [services.NewLead(services.LeadData(values=dict(r.values)), r.owner_id) for r in rows],
        )

    def update(self, ctx: CallerContext, record: Any, row: Mapping[str, str]) -> bool:
        lead: Lead = record
        changes = {
            attr: value
            for attr, value in lead_row(ctx, row, current=lead).values.items()
            if getattr(lead, attr) != value
        }
        if not changes:  # nothing to write: no permission needed for what stays as it is
            return False
        return self._write(ctx, lead, changes)

    def snapshot(self, ctx: CallerContext, record: Any) -> dict[str, Any]:
        """What the import writes, plus the owner and status: a lead claimed, reassigned or
        closed since the import counts as edited since (undo leaves it alone)."""
        lead: Lead = record
        return {
            "values": {attr: getattr(lead, attr) for attr in _RESTORED},
            "owner_id": lead.owner_id,
            "status": lead.status.value,
        }

    def restore(self, ctx: CallerContext, record: Any, image: Mapping[str, Any]) -> None:
        lead: Lead = record
        changes = {
            attr: value
            for attr, value in image["values"].items()
            if attr in _RESTORED and getattr(lead, attr) != value
        }
        if changes:
            self._write(ctx, lead, changes)

    def delete(self, ctx: CallerContext, record: Any) -> None:
        services.delete_lead(ctx, get_writable(ctx.session, Lead, record.id, services.LEAD))

    def get(self, ctx: CallerContext, record_id: int) -> Lead | None:
        return ctx.session.get(Lead, record_id)

    def preload(self, ctx: CallerContext, record_ids: Sequence[int]) -> list[Lead]:
        """The leads in one statement (:meth:`snapshot` reads their columns only)."""
        return list(ctx.session.scalars(select(Lead).where(Lead.id.in_(record_ids))))

    @staticmethod
    def _write(ctx: CallerContext, lead: Lead, changes: dict[str, Any]) -> bool:
        """``updateLead``'s path: the lead must be writable (FORBIDDEN if only readable),
        then the service (CONFLICT if closed, field rules)."""
        writable = get_writable(ctx.session, Lead, lead.id, services.LEAD)
        services.update_lead(ctx, writable, services.LeadData(values=changes))
        return True
