"""Leads: reading (the lists), writing, the race-free claim, the all-or-nothing conversion
(through the contacts module's services, so their validation and permissions apply), and
the references a contact merge moves."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import Select, func, or_, select, update

from gateway.sdk import (
    SYSTEM,
    AccessLevel,
    BadUserInput,
    CallerContext,
    ChangeKind,
    Conflict,
    Forbidden,
    Listed,
    NotFound,
    Order,
    ProfileKind,
    Window,
    audit,
    bulk,
    changed_rows,
    events,
    get_user,
    get_writable,
    initial_access,
    list_records,
    utcnow,
)
from plugins.contacts import services as contacts
from plugins.contacts import validation as check
from plugins.contacts.models import Contact
from plugins.contacts.services import ContactData
from plugins.leads.fields import LEAD_TEXT
from plugins.leads.models import (
    OPEN_LEAD_STATUSES,
    Lead,
    LeadStatus,
    Opportunity,
)
from plugins.leads.services.common import LEAD, check_fields

# -- leads: reading ---------------------------------------------------------------------------


@dataclass
class LeadFilter:
    statuses: list[LeadStatus] | None = None
    mine: bool = False
    unmanaged: bool = False
    owner_id: int | None = None
    search: str | None = None
    created_after: datetime | None = None
    created_before: datetime | None = None


def leads_query(user_id: int, flt: LeadFilter) -> Select[Lead]:
    """The caller's visible leads narrowed by the filter, all in SQL."""
    stmt = select(Lead)
    if flt.unmanaged:
        stmt = stmt.where(Lead.status == LeadStatus.UNMANAGED, Lead.owner_id.is_(None))
    if flt.mine:
        stmt = stmt.where(Lead.owner_id == user_id)
    if flt.statuses:
        stmt = stmt.where(Lead.status.in_(flt.statuses))
    if flt.owner_id is not None:
        stmt = stmt.where(Lead.owner_id == flt.owner_id)
    if flt.created_after is not None:
        stmt = stmt.where(Lead.created_at >= flt.created_after)
    if flt.created_before is not None:
        stmt = stmt.where(Lead.created_at < flt.created_before)
    if flt.search and flt.search.strip():
        for word in flt.search.lower().split():
            stmt = stmt.where(
                or_(
                    *(
                        func.lower(column).contains(word, autoescape=True)
                        for column in (Lead.name, Lead.company, Lead.email)
                    )
                )
            )
    return stmt


def list_leads(
    ctx: CallerContext,
    flt: LeadFilter,
    *,
    order: Order,
    window: Window,
    filter_reads: Collection[str] = (),
    options: Sequence[Any] = (),
) -> Listed[Lead]:
    """One page of the caller's leads (the kernel's list path: field rules, narrowing,
    keyset page, lazy count)."""
    stmt = leads_query(ctx.require_caller().user_id, flt)
    return list_records(
        ctx,
        Lead,
        "Lead",
        stmt,
        order=order,
        window=window,
        filter_reads=filter_reads,
        options=options,
    )


@dataclass
class LeadData:
    """Lead fields the caller set (partial updates)."""

    values: dict[str, Any] = field(default_factory=dict)


def _apply_lead(lead: Lead, data: LeadData) -> None:
    v = data.values
    for attr, limit in LEAD_TEXT.items():
        if attr in v:
            value = (v[attr] or "").strip()
            if len(value) > limit:
                raise BadUserInput(f"at most {limit} characters", field=attr)
            setattr(lead, attr, value)
    if "email" in v:
        lead.email = check.email(v["email"], "email") if (v["email"] or "").strip() else ""
    if "phone" in v:
        lead.phone = check.phone(v["phone"], "phone")[0] if (v["phone"] or "").strip() else ""
    if "access" in v:  # set by imports (the field table's ``access`` column)
        try:
            lead.access = AccessLevel(v["access"]).value
        except ValueError:
            allowed = ", ".join(a.value for a in AccessLevel)
            raise BadUserInput(f"access is one of {allowed}", field="access") from None
    if not lead.name:
        raise BadUserInput("a lead needs a name", field="name")


def build_lead(
    ctx: CallerContext, data: LeadData, *, unmanaged: bool, owner_id: int | None = None
) -> Lead:
    """THE rules of a new lead, for :func:`create_lead` and :func:`create_leads`: a lead
    from "unmanaged" (nobody's) or from "my leads" (the creator's, or the named owner's:
    assistants name the user they create it for); a visitor (a web form) makes unmanaged
    leads only. Every check made; a new ``Lead`` not in the session, no event fired."""
    # A visitor (a web form: CallerContext.visitor) has no caller and no field rules.
    visitor = ctx.visitor_tenant_id is not None
    if not (visitor and unmanaged):
        ctx.require_caller()
        check_fields(ctx, "Lead", [*data.values, *(["owner_id"] if owner_id is not None else [])])
    lead = Lead(
        tenant_id=ctx.tenant_id, created_by_id=ctx.user_id, access=initial_access(ctx, LEAD)
    )
    if unmanaged:
        if owner_id is not None:
            raise BadUserInput("an unmanaged lead has no owner", field="ownerId")
        lead.owner_id, lead.status = None, LeadStatus.UNMANAGED
    else:
        caller = ctx.require_caller()
        if owner_id is None and caller.profile_kind is ProfileKind.ASSISTANT:
            raise BadUserInput("assistants must name the owner of a new lead", field="ownerId")
        owner = get_user(ctx.session, caller.tenant_id, owner_id or caller.user_id, "ownerId")
        lead.owner_id, lead.status = owner.id, LeadStatus.IN_PROGRESS
    _apply_lead(lead, data)
    return lead


def create_lead(
    ctx: CallerContext, data: LeadData, *, unmanaged: bool, owner_id: int | None = None
) -> Lead:
    """THE way a lead is made: ``createLead``, web forms and jobs call it (an import calls
    :func:`create_leads`, the same rules in bulk). See :func:`build_lead`."""
    lead = build_lead(ctx, data, unmanaged=unmanaged, owner_id=owner_id)
    ctx.session.add(lead)
    events.record_changed(ctx, ChangeKind.CREATED, LEAD, lead)
    return lead


@dataclass(frozen=True)
class NewLead:
    """One lead of :func:`create_leads`: its values and its owner (``None``: unmanaged)."""

    data: LeadData
    owner_id: int | None = None


def create_leads(ctx: CallerContext, given: Sequence[NewLead]) -> list[Lead]:
    """Many :func:`create_lead` at once (an import's chunk of rows): each built by
    :func:`build_lead`, then written with one INSERT (``gateway.bulk``, after the flush's
    access checks, in SQL; audited as created) instead of one unit of work per lead; their
    record events fired in order. Returns the leads, ids set, holding exactly what was
    written — not in the session (a read gives the same values). Any problem raises; the
    caller's savepoint drops the rest."""
    leads = [
        build_lead(ctx, new.data, unmanaged=new.owner_id is None, owner_id=new.owner_id)
        for new in given
    ]
    rows = []
    for lead in leads:
        row = bulk.as_stored(Lead, bulk.values_of(lead))
        for attr, value in row.items():  # defaults as stored: what a read would give
            setattr(lead, attr, value)
        rows.append(row)
    ids = bulk.insert_records(ctx.session, Lead, rows)
    for lead, pk in zip(leads, ids, strict=True):
        lead.id = pk
    if events.has_listeners(ctx):
        stored = ctx.session.scalars(
            select(Lead).where(Lead.id.in_(ids)).execution_options(**{SYSTEM: True})
        )
        by_id = {lead.id: lead for lead in stored}
        for pk in ids:
            events.record_changed(ctx, ChangeKind.CREATED, LEAD, by_id[pk])
    return leads


def update_lead(ctx: CallerContext, lead: Lead, data: LeadData) -> Lead:
    if lead.status not in OPEN_LEAD_STATUSES:
        raise Conflict("the lead is closed", field="id")
    check_fields(ctx, "Lead", data.values.keys())
    _apply_lead(lead, data)
    events.record_changed(ctx, ChangeKind.UPDATED, LEAD, lead, frozenset(data.values))
    return lead


def claim_lead(ctx: CallerContext, lead_id: int) -> Lead:
    """Make an unmanaged lead the caller's: one conditional UPDATE, so of any number of
    concurrent claims exactly one changes the row and the others see ``rowcount == 0``
    (PostgreSQL re-checks the WHERE after the winner commits; SQLite serialises writers)."""
    caller = ctx.require(f"leads.{LEAD}.update")
    if caller.profile_kind is ProfileKind.ASSISTANT:
        raise Forbidden("assistants cannot own leads", field="id")
    access = ctx.access
    if access is None or not access.scope.has(f"leads.{LEAD}.read"):
        # No lead is visible to such a caller, so none can be claimed; and the existence
        # check below must not answer them either.
        raise NotFound("no such lead", field="id")
    check_fields(ctx, "Lead", ("owner_id", "status"))
    session = ctx.session
    claimed = changed_rows(
        session,
        update(Lead)
        .where(
            Lead.id == lead_id,
            Lead.owner_id.is_(None),
            Lead.status == LeadStatus.UNMANAGED,
        )
        .values(owner_id=caller.user_id, status=LeadStatus.IN_PROGRESS, updated_at=utcnow())
        .execution_options(synchronize_session=False),
    )
    if claimed != 1:
        # Someone else was faster (or the lead is closed): say so, but only for a lead of
        # the caller's organisation; other IDs are simply not found. The winner's lead may
        # be invisible to the losers now, so this cannot depend on visibility: a caller who
        # may read leads learns that the ID exists in their organisation (docs/modules/leads.md).
        exists = session.scalar(
            select(Lead.id)
            .where(Lead.id == lead_id, Lead.tenant_id == caller.tenant_id)
            .execution_options(**{SYSTEM: True})
        )
        if exists is None:
            raise NotFound("no such lead", field="id")
        raise Conflict("the lead is already assigned or closed", field="id")
    lead = session.get_one(Lead, lead_id, populate_existing=True)
    audit.record_updated(
        session,
        LEAD,
        lead,
        {"owner_id": (None, caller.user_id), "status": (LeadStatus.UNMANAGED, lead.status)},
    )
    events.record_changed(ctx, ChangeKind.UPDATED, LEAD, lead, frozenset({"owner", "status"}))
    return lead


def writable_open_lead(ctx: CallerContext, lead_id: int) -> Lead:
    """A lead the caller may work on: visible, claimed (by them or someone they may act for)
    and still open."""
    session = ctx.session
    lead = session.get(Lead, lead_id)
    if lead is None:
        raise NotFound("no such lead", field="id")
    if lead.status is LeadStatus.UNMANAGED and lead.owner_id is None:
        raise Conflict("assign the lead to yourself first (claimLead)", field="id")
    if lead.status not in OPEN_LEAD_STATUSES:
        raise Conflict("the lead is already closed", field="id")
    return get_writable(session, Lead, lead.id, LEAD)


def mark_unsuitable(ctx: CallerContext, lead: Lead, reason: str) -> Lead:
    clean = reason.strip()
    if not clean:
        raise BadUserInput("say why the lead is unsuitable", field="reason")
    if len(clean) > 2000:
        raise BadUserInput("at most 2000 characters", field="reason")
    check_fields(ctx, "Lead", ("status", "unsuitable_reason"))
    lead.status = LeadStatus.UNSUITABLE
    lead.unsuitable_reason = clean
    lead.closed_at = utcnow()
    events.record_changed(ctx, ChangeKind.UPDATED, LEAD, lead, frozenset({"status"}))
    return lead


@dataclass
class Conversion:
    """What to create from a lead: a person (its name), a company (its company name), or
    both, linked."""

    person: bool = True
    company: bool | None = None  # default: when the lead names a company
    country: str | None = None
    access: AccessLevel | None = None


def _split_name(name: str) -> tuple[str, str]:
    first, _, last = name.strip().partition(" ")
    return first, last.strip()


def convert_lead(ctx: CallerContext, lead: Lead, how: Conversion) -> Lead:
    """Create the contact(s) with the lead's data, link them and close the lead.

    Runs inside the caller's unit of work: any failure (the contacts' validation, their
    permissions, a hook) rolls back every contact already created and leaves the lead as it
    was. The contacts get the lead's owner as manager.
    """
    check_fields(ctx, "Lead", ("status", "contact_id", "company_contact_id"))
    want_company = bool(lead.company) if how.company is None else how.company
    if not (how.person or want_company):
        raise BadUserInput("create a person, a company or both", field="createPerson")
    if want_company and not lead.company:
        raise BadUserInput("the lead names no company", field="createCompany")
    common: dict[str, Any] = {"owner_id": lead.owner_id, "source": lead.source or "lead"}
    if how.country is not None:
        common["country"] = how.country
    if how.access is not None:
        common["access"] = how.access
    emails = [("WORK", lead.email)] if lead.email else []
    phones = [("WORK", lead.phone)] if lead.phone else []
    person: Contact | None = None
    company: Contact | None = None
    if how.person:
        first, last = _split_name(lead.name)
        person = contacts.create_contact(
            ctx,
            ContactData(
                values={
                    **common,
                    "kind": "PERSON",
                    "first_name": first,
                    "last_name": last,
                    "description": lead.notes,
                },
                emails=emails,
                phones=phones,
            ),
        )
    if want_company:
        company = contacts.create_contact(
            ctx,
            ContactData(
                values={**common, "kind": "COMPANY", "company_name": lead.company},
                emails=[] if person else emails,
                phones=[] if person else phones,
            ),
        )
    ctx.session.flush()
    if person is not None and company is not None:
        contacts.update_contact(ctx, person, ContactData(values={"company_id": company.id}))
    converted = person or company
    assert converted is not None, "a person, a company or both (checked above)"
    lead.contact_id = converted.id
    lead.company_contact_id = company.id if company is not None and person is not None else None
    lead.status = LeadStatus.CONVERTED
    lead.closed_at = utcnow()
    events.record_changed(ctx, ChangeKind.UPDATED, LEAD, lead, frozenset({"status", "contact"}))
    return lead


def delete_lead(ctx: CallerContext, lead: Lead) -> None:
    events.ensure_deletable(ctx, LEAD, lead)
    ctx.session.delete(lead)
    events.record_changed(ctx, ChangeKind.DELETED, LEAD, lead)


# -- merged contacts --------------------------------------------------------------------------


def move_contact_references(context: CallerContext, kept: Contact, merged: Contact) -> None:
    """Re-point the leads and opportunities naming the merged contact to the kept one.

    Called before the merged contact is deleted, whose foreign keys would otherwise clear
    the references (SET NULL). Every row of the tenant moves, also those the merging user
    cannot see: SYSTEM statements restricted to the contacts' tenant, returning no rows.
    """
    for column in (Opportunity.contact_id, Lead.contact_id, Lead.company_contact_id):
        audit.relink(
            context.session, column, merged.tenant_id, merged.id, kept.id, **{SYSTEM: True}
        )
