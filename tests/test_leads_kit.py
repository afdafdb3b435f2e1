"""The leads services outside HTTP: a job acting for a demo user lists the leads and
opportunities that user lists over GraphQL, and creates a lead exactly when (and as) the
user can over GraphQL."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from gateway.context import CallerContext, Via
from gateway.errors import GatewayError
from gateway.graphql.common import global_id
from gateway.identity.models import User
from gateway.lists import Order, Window
from plugins.leads import services
from plugins.leads.models import Lead, Opportunity

USERS = ["admin", "director", "manager", "rep1", "rep2", "assistant", "backoffice"]


def _over_http(client, field: str) -> list[str]:
    query = (
        f"query($a: String) {{ {field}(first: 4, after: $a) "
        "{ edges { node { id } } pageInfo { hasNextPage endCursor } } }"
    )
    ids: list[str] = []
    after = None
    while True:
        r = client(query, {"a": after})
        assert r.errors == [], r.errors
        page = r.data[field]
        ids += [e["node"]["id"] for e in page["edges"]]
        if not page["pageInfo"]["hasNextPage"]:
            return ids
        after = page["pageInfo"]["endCursor"]


def _acting_for(gateway, name: str, write: bool = False) -> CallerContext:
    with gateway.db.reading() as s:
        user_id = s.scalar(select(User.id).where(User.email == f"{name}@demo.test"))
    return CallerContext.acting_for(gateway, user_id, via=Via.JOB, write=write)


@pytest.mark.parametrize("name", USERS)
def test_a_job_lists_the_leads_and_opportunities_the_user_lists(gateway, as_, name):
    client = as_(name)
    leads, opportunities = _over_http(client, "leads"), _over_http(client, "opportunities")
    ctx = _acting_for(gateway, name)
    try:
        window = Window.of(gateway.settings, first=500)
        listed = services.list_leads(
            ctx,
            services.LeadFilter(),
            order=Order(Lead.created_at, descending=True, reads=("createdAt",)),
            window=window,
        )
        assert [global_id("Lead", x.id) for x in listed.rows] == leads
        assert listed.count() == len(leads)
        opps = services.list_opportunities(
            ctx,
            services.OpportunityFilter(),
            order=Order(Opportunity.created_at, descending=True, reads=("createdAt",)),
            window=window,
        )
        assert [global_id("Opportunity", x.id) for x in opps.rows] == opportunities
    finally:
        ctx.close()
    if name == "admin":
        assert leads and opportunities  # the comparison is not between two empty lists


CREATE = """mutation($name: String!) { createLead(input: {name: $name}) {
  lead { id } errors { code field } } }"""


@pytest.mark.parametrize("name", USERS)
def test_a_job_creates_a_lead_as_the_user_does(gateway, as_, name):
    client = as_(name)
    r = client(CREATE, {"name": f"HTTP lead of {name}"})
    payload = r.data["createLead"] if r.data else None
    http = (
        ("error", r.errors[0].get("extensions", {}).get("code"))
        if r.errors
        else ("error", payload["errors"][0]["code"])
        if payload["errors"]
        else ("ok", None)
    )
    ctx = _acting_for(gateway, name, write=True)
    try:
        with ctx.transaction():
            lead = services.create_lead(
                ctx, services.LeadData(values={"name": f"Job lead of {name}"}), unmanaged=False
            )
        job = ("ok", None)
        created = global_id("Lead", lead.id)
    except GatewayError as exc:
        job, created = ("error", exc.code.value), None
    finally:
        ctx.close()
    assert job == http
    if created is not None:
        seen = client("query($id: ID!) { lead(id: $id) { name } }", {"id": created})
        assert seen.data["lead"] == {"name": f"Job lead of {name}"}


@pytest.mark.parametrize("field", ["leads", "opportunities"])
def test_backward_pages_over_graphql_mirror_forward_pages(as_, field):
    admin = as_("admin")
    forward = _over_http(admin, field)
    query = (
        f"query($b: String) {{ {field}(last: 3, before: $b) {{ totalCount "
        "edges { node { id } } pageInfo { hasPreviousPage startCursor } } }"
    )
    backward: list[str] = []
    before = None
    while True:
        r = admin(query, {"b": before})
        assert r.errors == [], r.errors
        page = r.data[field]
        assert page["totalCount"] == len(forward)
        backward = [e["node"]["id"] for e in page["edges"]] + backward
        if not page["pageInfo"]["hasPreviousPage"]:
            break
        before = page["pageInfo"]["startCursor"]
    assert backward == forward
