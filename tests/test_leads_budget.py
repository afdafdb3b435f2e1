"""Statement budgets of the lead and opportunity lists: the same number of statements for 10
and 200 rows, and nesting adds one statement per relation, never one per row."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from gateway.contract import AccessLevel
from plugins.contacts.models import Contact, ContactEmail, ContactKind
from plugins.leads.models import (
    Lead,
    LeadStatus,
    Opportunity,
    OpportunityCustomField,
    OpportunityCustomValue,
    OpportunityStage,
    StageChange,
)
from plugins.leads.services import seed_default_stages

LEADS = """query($n: Int) { leads(first: $n, filter: {search: "bulk"}) { totalCount edges { node {
  id name status owner { email displayName } contact { displayName email owner { email }
  company { displayName } } companyContact { displayName } } } } }"""
OPPORTUNITIES = """query($n: Int) { opportunities(first: $n, filter: {search: "bulk"}) {
  totalCount edges { node { id title budget { amount total } weightedAmount probability
  stage { name } responsible { email } contact { displayName email owner { email } }
  stageHistory { fromStage { name } toStage { name } changedBy { email } changedAt }
  customFields { key value } } } } }"""


def _owners(demo) -> list[int]:
    users = demo["demo"].users
    return [users[e].id for e in ("rep1@demo.test", "rep2@demo.test", "manager@demo.test")]


def seed_leads(gateway, demo, count: int) -> None:
    tenant, owners = demo["demo"].id, _owners(demo)
    with gateway.db.transaction() as s:
        for i in range(count):
            owner = None if i % 5 == 0 else owners[i % 3]
            contact = None
            if i % 2 and owner is not None:
                contact = Contact(
                    tenant_id=tenant,
                    kind=ContactKind.PERSON,
                    first_name=f"Bulk{i}",
                    owner_id=owners[(i + 1) % 3],
                    access=AccessLevel.PUBLIC_READ.value,
                )
                contact.emails = [ContactEmail(tenant_id=tenant, address=f"b{i}@example.com")]
                s.add(contact)
            s.add(
                Lead(
                    tenant_id=tenant,
                    name=f"Bulk lead {i:03d}",
                    owner_id=owner,
                    status=LeadStatus.UNMANAGED
                    if owner is None
                    else (LeadStatus.CONVERTED if contact else LeadStatus.IN_PROGRESS),
                    contact=contact,
                    access=AccessLevel.PRIVATE.value,
                )
            )


def seed_opportunities(gateway, demo, count: int) -> None:
    tenant, owners = demo["demo"].id, _owners(demo)
    with gateway.db.transaction() as s:
        seed_default_stages(s, tenant)
        stages = list(
            s.scalars(
                select(OpportunityStage)
                .where(OpportunityStage.tenant_id == tenant)
                .order_by(OpportunityStage.position)
            )
        )
        field = OpportunityCustomField(
            tenant_id=tenant, key="region", label="Region", type="TEXT", position=1
        )
        s.add(field)
        contacts = [
            Contact(
                tenant_id=tenant,
                kind=ContactKind.COMPANY,
                company_name=f"Bulk Co {i}",
                owner_id=owners[i % 3],
                access=AccessLevel.PUBLIC_READ.value,
            )
            for i in range(30)
        ]
        s.add_all(contacts)
        s.flush()
        for i in range(count):
            stage = stages[i % len(stages)]
            opp = Opportunity(
                tenant_id=tenant,
                title=f"Bulk deal {i:03d}",
                owner_id=owners[i % 3],
                contact_id=contacts[i % 30].id,
                amount=100 + i,
                stage_id=stages[0].id,
                access=(AccessLevel.PUBLIC_READ if i % 4 == 0 else AccessLevel.PRIVATE).value,
            )
            opp.stage_changes = [
                StageChange(tenant_id=tenant, to_stage_id=stages[0].id, changed_by_id=owners[0]),
                StageChange(
                    tenant_id=tenant,
                    from_stage_id=stages[0].id,
                    to_stage_id=stage.id,
                    changed_by_id=owners[i % 3],
                ),
            ]
            opp.stage_id = stage.id
            opp.custom_values = [
                OpportunityCustomValue(field=field, tenant_id=tenant, value_text=f"r{i % 3}")
            ]
            s.add(opp)


def _counts(client, sql_log, query, field, sizes=(10, 200)) -> dict[int, int]:
    counts = {}
    # one request first: plan probes (gateway.access.narrowing) run once a minute per user
    client(query, {"n": 1})
    for size in sizes:
        with sql_log:
            r = client(query, {"n": size})
        assert r.errors == [], r.errors
        assert len(r.data[field]["edges"]) == size
        counts[size] = len(sql_log.statements)
    return counts


@pytest.mark.parametrize("who", ["manager@demo.test", "rep1@demo.test", "backoffice@demo.test"])
def test_lead_list_statements_do_not_grow_with_page_size(demo, gateway, client_for, sql_log, who):
    seed_leads(gateway, demo, 700)
    counts = _counts(client_for(who), sql_log, LEADS, "leads")
    assert counts[10] == counts[200], (counts, sql_log.statements)


@pytest.mark.parametrize("who", ["manager@demo.test", "backoffice@demo.test"])
def test_opportunity_list_statements_do_not_grow_with_page_size(
    demo, gateway, client_for, sql_log, who
):
    seed_opportunities(gateway, demo, 450)
    counts = _counts(client_for(who), sql_log, OPPORTUNITIES, "opportunities")
    assert counts[10] == counts[200], (counts, sql_log.statements)


def test_nesting_adds_statements_per_relation_not_per_row(demo, gateway, client_for, sql_log):
    seed_leads(gateway, demo, 300)
    seed_opportunities(gateway, demo, 300)
    manager = client_for("manager@demo.test")
    flat = {
        "leads": '{ leads(first: 150, filter: {search: "bulk"}) { edges { node { id } } } }',
        "opportunities": '{ opportunities(first: 150, filter: {search: "bulk"}) '
        "{ edges { node { id } } } }",
    }
    for field, nested_query in (("leads", LEADS), ("opportunities", OPPORTUNITIES)):
        with sql_log:
            assert manager(flat[field]).errors == []
        base = len(sql_log.statements)
        with sql_log:
            r = manager(nested_query, {"n": 150})
        assert r.errors == [] and len(r.data[field]["edges"]) == 150
        # leads: totalCount, contacts, their emails, companies, companyContact, users;
        # opportunities: totalCount, contacts, emails, history, custom values, stages, users.
        assert len(sql_log.statements) - base <= 8, sql_log.statements
