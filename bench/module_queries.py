"""Floors of the module lists (issue 19): leads, opportunities and invoices, 50 rows, newest
first, as manager01, each one hand-written Core statement (owner, stage, client joined;
the client with the contacts' visibility in its join condition), serialised with
``json.dumps``. Visibility as the gateway's read rule for these entities in this dataset:
tenant AND (owner is the caller OR below the caller OR public; unowned leads too). The
dataset has no shares or sharing rules for them (the sharing rule is for contacts)."""

from __future__ import annotations

import base64
import json
from functools import cache
from typing import Any

from sqlalchemy import Connection, and_, bindparam, or_, select

from bench.queries import (
    CONTACTS,
    PUBLIC,
    USERS,
    FloorScope,
    Json,
    Shape,
    display_name,
    gid,
    member,
    visible,
)
from plugins.invoices.models import Invoice
from plugins.leads.models import Lead, Opportunity, OpportunityStage

LEADS, OPPORTUNITIES, INVOICES = Lead.__table__, Opportunity.__table__, Invoice.__table__
STAGES = OpportunityStage.__table__

PAGE = "pageInfo { hasNextPage endCursor }"
LEADS_Q = f"""query L1($first: Int!) {{ leads(first: $first) {{ edges {{ node {{
  id name company status access owner {{ id email displayName }} createdAt }} }} {PAGE} }} }}"""
OPPORTUNITIES_Q = f"""query O1($first: Int!) {{ opportunities(first: $first) {{ edges {{ node {{
  id title access budget {{ currency amount }} stage {{ name probability }}
  responsible {{ id displayName }} createdAt }} }} {PAGE} }} }}"""
INVOICES_Q = f"""query I1($first: Int!) {{ invoices(first: $first) {{ edges {{ node {{
  id status issueDate dueDate currency access owner {{ id displayName }}
  client {{ id displayName }} }} }} {PAGE} }} }}"""


def _module_visible(table: Any, shape: Shape, *, unowned: bool = False) -> Any:
    dialect, subs, _shared, _rules = shape
    alts = [table.c.owner_id == bindparam("user_id"), table.c.access.in_(PUBLIC)]
    if subs:
        alts.append(member(table.c.owner_id, "subs", dialect))
    if unowned:
        alts.append(table.c.owner_id.is_(None))
    return and_(table.c.tenant_id == bindparam("tenant_id"), or_(*alts))


def _cursor(at: Any, pk: int) -> str:
    return base64.urlsafe_b64encode(json.dumps(["t", at.isoformat(), pk]).encode()).decode()


def _page(rows: list[Any], first: int, node: Any) -> Json:
    more = len(rows) > first
    rows = rows[:first]
    end = _cursor(rows[-1].created_at, rows[-1].id) if rows else None
    return {
        "edges": [{"node": node(r)} for r in rows],
        "pageInfo": {"hasNextPage": more, "endCursor": end},
    }


def _owner_join(table: Any, column: Any) -> Any:
    u = USERS.alias("owner")
    return u, table.outerjoin(u, and_(u.c.id == column, u.c.tenant_id == bindparam("tenant_id")))


@cache
def _leads_stmt(shape: Shape) -> Any:
    t = LEADS
    u, joined = _owner_join(t, t.c.owner_id)
    return (
        select(
            t.c.id,
            t.c.name,
            t.c.company,
            t.c.status,
            t.c.access,
            t.c.created_at,
            u.c.id.label("owner"),
            u.c.email,
            u.c.display_name,
        )
        .select_from(joined)
        .where(_module_visible(t, shape, unowned=True))
        .order_by(t.c.created_at.desc(), t.c.id.desc())
        .limit(bindparam("limit"))
    )


def leads_floor(conn: Connection, sc: FloorScope, first: int) -> Json:
    rows = conn.execute(_leads_stmt(sc.shape), {**sc.params, "limit": first + 1}).all()

    def node(r: Any) -> Json:
        owner = (
            {"id": gid("User", r.owner), "email": r.email, "displayName": r.display_name}
            if r.owner is not None
            else None
        )
        return {
            "id": gid("Lead", r.id),
            "name": r.name,
            "company": r.company,
            "status": r.status.name,
            "access": r.access,
            "owner": owner,
            "createdAt": r.created_at.isoformat(),
        }

    return {"leads": _page(rows, first, node)}


@cache
def _opportunities_stmt(shape: Shape) -> Any:
    t, s = OPPORTUNITIES, STAGES
    u, joined = _owner_join(t, t.c.owner_id)
    joined = joined.outerjoin(
        s, and_(s.c.id == t.c.stage_id, s.c.tenant_id == bindparam("tenant_id"))
    )
    return (
        select(
            t.c.id,
            t.c.title,
            t.c.access,
            t.c.currency,
            t.c.amount,
            t.c.created_at,
            s.c.name.label("stage"),
            s.c.probability,
            u.c.id.label("owner"),
            u.c.display_name,
        )
        .select_from(joined)
        .where(_module_visible(t, shape))
        .order_by(t.c.created_at.desc(), t.c.id.desc())
        .limit(bindparam("limit"))
    )


def opportunities_floor(conn: Connection, sc: FloorScope, first: int) -> Json:
    rows = conn.execute(_opportunities_stmt(sc.shape), {**sc.params, "limit": first + 1}).all()

    def node(r: Any) -> Json:
        return {
            "id": gid("Opportunity", r.id),
            "title": r.title,
            "access": r.access,
            "budget": {
                "currency": r.currency,
                "amount": format(r.amount, "f") if r.amount is not None else None,
            },
            "stage": {"name": r.stage, "probability": r.probability} if r.stage else None,
            "responsible": {"id": gid("User", r.owner), "displayName": r.display_name}
            if r.owner is not None
            else None,
            "createdAt": r.created_at.isoformat(),
        }

    return {"opportunities": _page(rows, first, node)}


@cache
def _invoices_stmt(shape: Shape) -> Any:
    t, c = INVOICES, CONTACTS
    u, joined = _owner_join(t, t.c.owner_id)
    joined = joined.outerjoin(c, and_(c.c.id == t.c.contact_id, visible(c, shape)))
    return (
        select(
            t.c.id,
            t.c.status,
            t.c.issue_date,
            t.c.due_date,
            t.c.currency,
            t.c.access,
            t.c.created_at,
            u.c.id.label("owner"),
            u.c.display_name,
            c.c.id.label("client"),
            c.c.kind,
            c.c.first_name,
            c.c.last_name,
            c.c.company_name,
        )
        .select_from(joined)
        .where(_module_visible(t, shape))
        .order_by(t.c.created_at.desc(), t.c.id.desc())
        .limit(bindparam("limit"))
    )


def invoices_floor(conn: Connection, sc: FloorScope, first: int) -> Json:
    rows = conn.execute(_invoices_stmt(sc.shape), {**sc.params, "limit": first + 1}).all()

    def node(r: Any) -> Json:
        client = (
            {
                "id": gid("Contact", r.client),
                "displayName": display_name(r.kind, r.first_name, r.last_name, r.company_name),
            }
            if r.client is not None
            else None
        )
        return {
            "id": gid("Invoice", r.id),
            "status": r.status.name,
            "issueDate": r.issue_date.isoformat(),
            "dueDate": r.due_date.isoformat(),
            "currency": r.currency,
            "access": r.access,
            "owner": {"id": gid("User", r.owner), "displayName": r.display_name}
            if r.owner is not None
            else None,
            "client": client,
        }

    return {"invoices": _page(rows, first, node)}
