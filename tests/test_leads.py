"""The leads module over HTTP, as the demo users: creating from "unmanaged" and "my leads",
claiming, conversion (all or nothing), unsuitable leads, opportunities with stages, budgets,
history, custom fields and shares, the pipeline aggregates and the dashboard figures."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

import pytest

LEAD_FIELDS = "id name company email status owner { email } unsuitableReason closedAt"
CREATE_LEAD = f"""mutation($input: CreateLeadInput!) {{ createLead(input: $input) {{
  lead {{ {LEAD_FIELDS} }} errors {{ code message field }} }} }}"""
CLAIM = f"""mutation($id: ID!) {{ claimLead(id: $id) {{
  lead {{ {LEAD_FIELDS} }} errors {{ code message field }} }} }}"""
CONVERT = """mutation($id: ID!, $input: ConvertLeadInput) { convertLead(id: $id, input: $input) {
  lead { id status closedAt contact { id displayName email company { displayName } owner { email } }
         companyContact { id displayName } }
  errors { code message field } } }"""
UNSUITABLE = f"""mutation($id: ID!, $r: String!) {{ markLeadUnsuitable(id: $id, reason: $r) {{
  lead {{ {LEAD_FIELDS} }} errors {{ code message field }} }} }}"""
LIST = """query($view: LeadView, $f: LeadFilterInput, $n: Int, $a: String) {
  leads(view: $view, filter: $f, first: $n, after: $a) {
    totalCount pageInfo { hasNextPage endCursor } edges { node { id name status owner { email } } } } }"""
OPP_FIELDS = """id title access description budget { currency amount type count total }
  weightedAmount probability stage { id name } responsible { email } contact { displayName }
  stageHistory { fromStage { name } toStage { name } changedBy { email } changedAt }
  customFields { key value } expectedCloseDate"""
CREATE_OPP = f"""mutation($input: CreateOpportunityInput!) {{ createOpportunity(input: $input) {{
  opportunity {{ {OPP_FIELDS} }} errors {{ code message field }} }} }}"""
STAGES = "{ opportunityStages { id name probability position won lost } }"


def ok(response, field):
    assert response.errors == [], response.errors
    payload = response.data[field]
    assert payload["errors"] == [], payload["errors"]
    return payload


def new_lead(client, **fields):
    return ok(client(CREATE_LEAD, {"input": {"name": "Nina New", **fields}}), "createLead")["lead"]


def listed(client, view="ALL", **variables):
    r = client(LIST, {"view": view, "n": 500, **variables})
    assert r.errors == [], r.errors
    conn = r.data["leads"]
    return {e["node"]["name"] for e in conn["edges"]}, conn["totalCount"]


def contact_names(client):
    r = client("{ contacts(first: 500) { edges { node { displayName } } } }")
    assert r.errors == [], r.errors
    return {e["node"]["displayName"] for e in r.data["contacts"]["edges"]}


def stages(client):
    r = client(STAGES)
    assert r.errors == [], r.errors
    return {s["name"]: s for s in r.data["opportunityStages"]}


# -- leads ----------------------------------------------------------------------------------


def test_created_from_my_leads_is_mine_from_unmanaged_nobodys(as_):
    rep1 = as_("rep1")
    mine = new_lead(rep1, name="Mia Mine", company="Mine Ltd", email="mia@mine.example")
    assert mine["status"] == "IN_PROGRESS" and mine["owner"] == {"email": "rep1@demo.test"}
    pool = new_lead(rep1, name="Pablo Pool", unmanaged=True)
    assert pool["status"] == "UNMANAGED" and pool["owner"] is None
    # Unmanaged leads: everyone with lead read permission sees them; claimed ones follow
    # record access.
    for who in ("rep2", "manager", "backoffice", "assistant"):
        names, _ = listed(as_(who), "UNMANAGED")
        assert "Pablo Pool" in names, who
    assert "Mia Mine" not in listed(as_("rep2"))[0]
    assert "Mia Mine" in listed(as_("manager"))[0]
    mine_names, total = listed(rep1, "MINE")
    assert "Mia Mine" in mine_names and "Pablo Pool" not in mine_names and total == len(mine_names)
    # The dedicated root fields answer the same.
    r = rep1("{ unmanagedLeads(first: 100) { totalCount } myLeads(first: 100) { totalCount } }")
    assert r.data["unmanagedLeads"]["totalCount"] == listed(rep1, "UNMANAGED")[1]
    assert r.data["myLeads"]["totalCount"] == total
    # node(id) goes through the same access control.
    assert as_("rep2")("query($id: ID!) { node(id: $id) { id } }", {"id": mine["id"]}).data == {
        "node": None
    }
    assert as_("rep2")("query($id: ID!) { lead(id: $id) { id } }", {"id": pool["id"]}).data[
        "lead"
    ] == {"id": pool["id"]}


def test_validation_and_assistants(as_):
    rep1 = as_("rep1")
    r = rep1(CREATE_LEAD, {"input": {"name": "  "}})
    assert r.data["createLead"]["errors"][0]["field"] == "name"
    r = rep1(CREATE_LEAD, {"input": {"name": "X", "email": "nope"}})
    assert r.data["createLead"]["errors"][0]["field"] == "email"
    assistant = as_("assistant")
    r = assistant(CREATE_LEAD, {"input": {"name": "For someone"}})
    assert r.data["createLead"]["errors"][0]["code"] == "BAD_USER_INPUT"
    pool = new_lead(assistant, name="Assisted Pool", unmanaged=True)
    r = assistant(CLAIM, {"id": pool["id"]})
    assert r.data["claimLead"]["errors"][0]["code"] == "FORBIDDEN"


def test_claim_makes_it_yours_once(as_):
    pool = new_lead(as_("manager"), name="Claimable", unmanaged=True)
    won = ok(as_("rep1")(CLAIM, {"id": pool["id"]}), "claimLead")["lead"]
    assert won["status"] == "IN_PROGRESS" and won["owner"] == {"email": "rep1@demo.test"}
    again = as_("rep2")(CLAIM, {"id": pool["id"]}).data["claimLead"]
    assert again["lead"] is None and again["errors"][0]["code"] == "CONFLICT"
    assert "Claimable" not in listed(as_("rep2"), "UNMANAGED")[0]
    assert "Claimable" not in listed(as_("rep2"))[0]  # now rep1's private lead
    assert "Claimable" in listed(as_("rep1"), "MINE")[0]
    missing = as_("rep2")(CLAIM, {"id": "TGVhZDo5OTk5OTk="}).data["claimLead"]  # Lead:999999
    assert missing["errors"][0]["code"] == "NOT_FOUND"
    # Another organisation's lead is not found, even while it is unmanaged.
    other = as_("admin@acme.test")(CLAIM, {"id": pool["id"]}).data["claimLead"]
    assert other["errors"][0]["code"] == "NOT_FOUND"
    fresh = new_lead(as_("manager"), name="Still unmanaged", unmanaged=True)
    other = as_("admin@acme.test")(CLAIM, {"id": fresh["id"]}).data["claimLead"]
    assert other["errors"][0]["code"] == "NOT_FOUND"
    assert "Still unmanaged" in listed(as_("rep2"), "UNMANAGED")[0]


def test_convert_creates_linked_contacts_and_closes_the_lead(as_):
    rep1 = as_("rep1")
    lead = new_lead(
        rep1, name="Carla Convert", company="Convert Corp", email="carla@convert.example"
    )
    converted = ok(rep1(CONVERT, {"id": lead["id"]}), "convertLead")["lead"]
    assert converted["status"] == "CONVERTED" and converted["closedAt"]
    person = converted["contact"]
    assert person["displayName"] == "Carla Convert"
    assert person["email"] == "carla@convert.example"
    assert person["company"] == {"displayName": "Convert Corp"}
    assert person["owner"] == {"email": "rep1@demo.test"}
    assert converted["companyContact"]["displayName"] == "Convert Corp"
    assert {"Carla Convert", "Convert Corp"} <= contact_names(rep1)
    assert "Carla Convert" not in contact_names(as_("rep2"))
    again = rep1(CONVERT, {"id": lead["id"]}).data["convertLead"]
    assert again["errors"][0]["code"] == "CONFLICT"
    # Only a company, when asked.
    solo = new_lead(rep1, name="Solo Buyer", company="Solo Shop")
    only = ok(rep1(CONVERT, {"id": solo["id"], "input": {"createPerson": False}}), "convertLead")[
        "lead"
    ]
    assert only["contact"]["displayName"] == "Solo Shop" and only["companyContact"] is None


def test_conversion_is_all_or_nothing(as_, monkeypatch):
    from gateway.errors import BadUserInput
    from plugins.contacts.models import ContactKind
    from plugins.leads import services

    rep1, admin = as_("rep1"), as_("admin")
    lead = new_lead(rep1, name="Fiona Fail", company="Failing Industries", email="f@fail.example")
    before = contact_names(admin)
    # Invalid data for the new contacts: refused, nothing created.
    r = rep1(CONVERT, {"id": lead["id"], "input": {"country": "Nowhere"}})
    payload = r.data["convertLead"]
    assert payload["lead"] is None and payload["errors"][0]["field"] == "country"
    assert contact_names(admin) == before
    # The company fails after the person (and the company itself) were flushed.
    real = services.contacts.create_contact

    def company_fails(ctx, data):
        created = real(ctx, data)
        if created.kind is ContactKind.COMPANY:
            raise BadUserInput("forced failure creating the company", field="companyName")
        return created

    monkeypatch.setattr(services.contacts, "create_contact", company_fails)
    payload = rep1(CONVERT, {"id": lead["id"]}).data["convertLead"]
    monkeypatch.undo()
    assert payload["lead"] is None and payload["errors"][0]["field"] == "companyName"
    assert contact_names(admin) == before
    assert "Fiona Fail" not in contact_names(admin)
    still = rep1(
        "query($id: ID!) { lead(id: $id) { status contact { id } closedAt } }",
        {"id": lead["id"]},
    )
    assert still.data["lead"] == {"status": "IN_PROGRESS", "contact": None, "closedAt": None}
    # And with nothing forced, the same lead converts.
    assert ok(rep1(CONVERT, {"id": lead["id"]}), "convertLead")["lead"]["status"] == "CONVERTED"


def test_conversion_rolls_back_when_closing_the_lead_fails(as_, monkeypatch):
    from gateway.errors import Conflict
    from plugins.leads import services

    rep1 = as_("rep1")
    lead = new_lead(rep1, name="Late Failure", company="Late Co")
    before = contact_names(as_("admin"))
    real = services.events.record_changed

    def failing(ctx, kind, entity, record, changed=frozenset()):
        real(ctx, kind, entity, record, changed)
        if entity == services.LEAD and "contact" in changed:
            raise Conflict("forced failure after the contacts were created")

    monkeypatch.setattr(services.events, "record_changed", failing)
    payload = rep1(CONVERT, {"id": lead["id"]}).data["convertLead"]
    assert payload["errors"][0]["message"].startswith("forced failure")
    monkeypatch.undo()
    assert contact_names(as_("admin")) == before
    status = rep1("query($id: ID!) { lead(id: $id) { status } }", {"id": lead["id"]})
    assert status.data["lead"] == {"status": "IN_PROGRESS"}


def test_unmanaged_lead_must_be_claimed_before_closing(as_):
    rep1 = as_("rep1")
    pool = new_lead(rep1, name="Pool Closer", unmanaged=True)
    r = rep1(UNSUITABLE, {"id": pool["id"], "r": "no budget"})
    assert r.data["markLeadUnsuitable"]["errors"][0]["code"] == "CONFLICT"
    r = rep1(CONVERT, {"id": pool["id"]})
    assert r.data["convertLead"]["errors"][0]["code"] == "CONFLICT"


def test_mark_unsuitable_needs_a_reason_and_write_access(as_):
    rep1 = as_("rep1")
    lead = new_lead(rep1, name="Ursula Unsuitable")
    r = rep1(UNSUITABLE, {"id": lead["id"], "r": "   "})
    assert r.data["markLeadUnsuitable"]["errors"][0]["field"] == "reason"
    r = as_("rep2")(UNSUITABLE, {"id": lead["id"], "r": "not mine"})
    assert r.data["markLeadUnsuitable"]["errors"][0]["code"] == "NOT_FOUND"
    done = ok(rep1(UNSUITABLE, {"id": lead["id"], "r": "Too small"}), "markLeadUnsuitable")
    assert done["lead"]["status"] == "UNSUITABLE"
    assert done["lead"]["unsuitableReason"] == "Too small" and done["lead"]["closedAt"]
    names, _ = listed(rep1, "MINE", f={"status": ["UNSUITABLE"]})
    assert "Ursula Unsuitable" in names


def test_lead_pagination_and_search(as_):
    rep1 = as_("rep1")
    for i in range(7):
        new_lead(rep1, name=f"Paged {i}", company="Pager Inc")
    seen, after = [], None
    while True:
        r = rep1(LIST, {"view": "MINE", "n": 3, "a": after, "f": {"search": "pager"}})
        conn = r.data["leads"]
        seen += [e["node"]["name"] for e in conn["edges"]]
        assert conn["totalCount"] == 7
        if not conn["pageInfo"]["hasNextPage"]:
            break
        after = conn["pageInfo"]["endCursor"]
    assert sorted(seen) == [f"Paged {i}" for i in range(7)] and len(seen) == 7


# -- opportunities --------------------------------------------------------------------------


def new_opp(client, **fields):
    """An opportunity; private (its owner and those above) unless ``access`` says: these
    tests are about who sees what (the organisation's default is open to all)."""
    fields = {"access": "PRIVATE", **fields}
    return ok(client(CREATE_OPP, {"input": {"title": "Deal", **fields}}), "createOpportunity")[
        "opportunity"
    ]


def test_opportunity_budget_stage_history_and_custom_fields(as_):
    manager = as_("manager")
    created = manager(
        """mutation { createOpportunityCustomField(key: "region", label: "Region",
        type: CHOICE, choices: ["North", "South"]) { errors { code } } }"""
    )
    assert created.data["createOpportunityCustomField"]["errors"] == []
    rep1 = as_("rep1")
    all_stages = stages(rep1)
    contact = rep1('{ contacts(first: 1, search: "iberia") { edges { node { id } } } }').data[
        "contacts"
    ]["edges"][0]["node"]["id"]
    opp = new_opp(
        rep1,
        title="Hourly support",
        contactId=contact,
        budget={"currency": "usd", "amount": "95.5", "type": "PER_HOUR", "count": 40},
        expectedCloseDate="2027-01-31",
        stageId=all_stages["Proposal"]["id"],
        customFields=[{"key": "region", "value": "North"}],
    )
    assert opp["budget"] == {
        "currency": "USD",
        "amount": "95.5000",
        "type": "PER_HOUR",
        "count": 40,
        "total": "3820.0000",
    }
    assert Decimal(opp["weightedAmount"]) == Decimal("1910")
    assert opp["probability"] == 50 and opp["stage"]["name"] == "Proposal"
    assert opp["contact"] == {"displayName": "Iberia Logistics S.L."}
    assert opp["responsible"] == {"email": "rep1@demo.test"}
    assert opp["customFields"] == [{"key": "region", "value": "North"}]
    assert [(h["fromStage"], h["toStage"]["name"]) for h in opp["stageHistory"]] == [
        (None, "Proposal")
    ]
    moved = rep1(
        f"""mutation($id: ID!, $s: ID!) {{ moveOpportunity(id: $id, stageId: $s) {{
        opportunity {{ {OPP_FIELDS} closedAt }} errors {{ code }} }} }}""",
        {"id": opp["id"], "s": all_stages["Won"]["id"]},
    ).data["moveOpportunity"]["opportunity"]
    assert moved["closedAt"] and moved["probability"] == 100
    assert [
        (h["fromStage"]["name"] if h["fromStage"] else None, h["toStage"]["name"])
        for h in moved["stageHistory"]
    ] == [(None, "Proposal"), ("Proposal", "Won")]
    assert moved["stageHistory"][1]["changedBy"] == {"email": "rep1@demo.test"}
    # Budget validation.
    r = rep1(CREATE_OPP, {"input": {"title": "Bad", "budget": {"amount": "-1"}}})
    assert r.data["createOpportunity"]["errors"][0]["field"] == "budget.amount"
    r = rep1(CREATE_OPP, {"input": {"title": "Bad", "budget": {"currency": "EURO"}}})
    assert r.data["createOpportunity"]["errors"][0]["field"] == "currency"
    r = rep1(CREATE_OPP, {"input": {"title": "Bad", "budget": {"type": "FIXED", "count": 3}}})
    assert r.data["createOpportunity"]["errors"][0]["field"] == "budget.count"


def test_restricted_opportunity_is_seen_only_by_chosen_users(as_):
    rep1 = as_("rep1")
    opp = new_opp(rep1, title="Secret merger", access="PRIVATE")
    query = "query($id: ID!) { opportunity(id: $id) { title } node(id: $id) { id } }"
    listing = '{ opportunities(first: 500, filter: {search: "secret"}) { totalCount } }'
    rep2, backoffice = as_("rep2"), as_("backoffice")
    assert rep2(query, {"id": opp["id"]}).data == {"opportunity": None, "node": None}
    assert rep2(listing).data["opportunities"]["totalCount"] == 0
    rep2_id = rep2("{ me { user { id } } }").data["me"]["user"]["id"]
    shared = rep1(
        """mutation($r: ID!, $u: ID!) { shareRecord(recordId: $r, userId: $u) {
        shares { user { email } canWrite } errors { code message } } }""",
        {"r": opp["id"], "u": rep2_id},
    ).data["shareRecord"]
    assert shared["errors"] == [] and shared["shares"] == [
        {"user": {"email": "rep2@demo.test"}, "canWrite": False}
    ]
    assert rep2(query, {"id": opp["id"]}).data["opportunity"] == {"title": "Secret merger"}
    assert rep2(listing).data["opportunities"]["totalCount"] == 1
    # Read-only share: rep2 cannot change it.
    r = rep2(
        'mutation($id: ID!) { updateOpportunity(id: $id, input: {title: "Mine now"}) '
        "{ errors { code } } }",
        {"id": opp["id"]},
    )
    assert r.data["updateOpportunity"]["errors"][0]["code"] == "FORBIDDEN"
    # The assistant of rep1 and rep1's managers see it; another rep does not.
    assert as_("manager")(query, {"id": opp["id"]}).data["opportunity"] is not None
    assert backoffice(query, {"id": opp["id"]}).data["opportunity"] is not None
    assert as_("admin@acme.test")(query, {"id": opp["id"]}).data["opportunity"] is None


def test_stage_settings(as_):
    rep1, manager = as_("rep1"), as_("manager")
    r = rep1(
        'mutation { createOpportunityStage(input: {name: "Demo", probability: 30}) '
        "{ errors { code } } }"
    )
    assert r.codes == ["FORBIDDEN"]
    created = manager(
        """mutation { createOpportunityStage(input: {name: "Demo call", probability: 30})
        { stage { id name probability position won lost } errors { code field } } }"""
    ).data["createOpportunityStage"]
    assert created["errors"] == [] and created["stage"]["probability"] == 30
    r = manager(
        'mutation { createOpportunityStage(input: {name: "X", probability: 130}) '
        "{ errors { field } } }"
    )
    assert r.data["createOpportunityStage"]["errors"] == [{"field": "probability"}]
    in_use = stages(rep1)["Prospecting"]["id"]
    new_opp(rep1, title="Blocks the stage", stageId=in_use)
    r = manager(
        "mutation($id: ID!) { deleteOpportunityStage(id: $id) { ok errors { code } } }",
        {"id": in_use},
    )
    assert r.data["deleteOpportunityStage"]["errors"][0]["code"] == "CONFLICT"
    r = manager(
        "mutation($id: ID!) { deleteOpportunityStage(id: $id) { ok errors { code } } }",
        {"id": created["stage"]["id"]},
    )
    assert r.data["deleteOpportunityStage"] == {"ok": True, "errors": []}


def test_default_stages_on_first_use(as_, gateway, demo):
    from sqlalchemy import delete

    from plugins.leads.models import OpportunityStage

    with gateway.db.transaction() as s:  # a tenant that never had stages
        s.execute(delete(OpportunityStage).where(OpportunityStage.tenant_id == demo["acme"].id))
    acme = as_("admin@acme.test")
    names = list(stages(acme))
    assert names == ["Prospecting", "Qualification", "Proposal", "Negotiation", "Won", "Lost"]
    assert list(stages(acme)) == names  # seeded once
    # A mutation seeds them in its own unit of work too.
    with gateway.db.transaction() as s:
        s.execute(delete(OpportunityStage).where(OpportunityStage.tenant_id == demo["acme"].id))
    created = new_opp(acme, title="First deal")
    assert created["stage"]["name"] == "Prospecting"
    assert list(stages(acme)) == names


# -- pipeline and dashboard -----------------------------------------------------------------

PIPELINE = """query($f: OpportunityFilterInput) { pipeline(filter: $f) {
  stages { stage { name } count totals { currency amount } weighted { currency amount } }
  forecast { currency amount } won { count totals { currency amount } }
  lost { count totals { currency amount } } } }"""


def money(items):
    return {m["currency"]: Decimal(m["amount"]) for m in items}


def test_pipeline_aggregates_respect_visibility(as_):
    rep2 = as_("rep2")
    all_stages = stages(rep2)
    new_opp(rep2, title="P1", budget={"amount": "1000.10"}, stageId=all_stages["Proposal"]["id"])
    new_opp(
        rep2,
        title="P2",
        budget={"amount": "10.0001", "type": "PER_DAY", "count": 3, "currency": "USD"},
        stageId=all_stages["Proposal"]["id"],
    )
    new_opp(rep2, title="W1", budget={"amount": "500"}, stageId=all_stages["Won"]["id"])
    r = rep2(PIPELINE, {"f": {"mine": True}})
    assert r.errors == [], r.errors
    p = r.data["pipeline"]
    by_stage = {s["stage"]["name"]: s for s in p["stages"]}
    assert by_stage["Proposal"]["count"] == 2
    assert money(by_stage["Proposal"]["totals"]) == {
        "EUR": Decimal("1000.10"),
        "USD": Decimal("30.0003"),
    }
    assert money(by_stage["Proposal"]["weighted"]) == {
        "EUR": Decimal("500.05"),
        "USD": Decimal("15.00015").quantize(Decimal("0.0001")),
    }
    # The forecast, exactly: per open stage, the exact total of the listed rows weighted by
    # the stage's probability (to four decimals, as the aggregate rounds per stage).
    listed_opps = rep2(
        """{ opportunities(first: 500, filter: {mine: true}) { totalCount edges { node {
        budget { currency total } stage { id probability won lost } } } } }"""
    ).data["opportunities"]
    assert listed_opps["totalCount"] == len(listed_opps["edges"])
    per_stage: dict[tuple[str, int, str], Decimal] = {}
    for edge in listed_opps["edges"]:
        node = edge["node"]
        if node["stage"]["won"] or node["stage"]["lost"] or node["budget"]["total"] is None:
            continue
        key = (node["stage"]["id"], node["stage"]["probability"], node["budget"]["currency"])
        per_stage[key] = per_stage.get(key, Decimal(0)) + Decimal(node["budget"]["total"])
    expected_forecast: dict[str, Decimal] = {}
    for (_stage, probability, currency), total in per_stage.items():
        weighted = (total * probability / 100).quantize(Decimal("0.0001"))
        expected_forecast[currency] = expected_forecast.get(currency, Decimal(0)) + weighted
    assert money(p["forecast"]) == expected_forecast
    assert expected_forecast["EUR"] >= Decimal("500.05")
    assert p["won"]["count"] == 1 and money(p["won"]["totals"]) == {"EUR": Decimal("500")}
    # rep1 sees none of rep2's private opportunities in the aggregates.
    rep1_view = as_("rep1")(PIPELINE, {"f": {"search": "P1"}}).data["pipeline"]
    assert all(s["count"] == 0 for s in rep1_view["stages"])
    # The connection agrees with the aggregates.
    conn = rep2(
        """query($s: [ID!]) { opportunities(first: 100, filter: {stageIds: $s, mine: true})
        { totalCount } }""",
        {"s": [all_stages["Proposal"]["id"]]},
    ).data["opportunities"]
    assert conn["totalCount"] == 2


def figures_of(client):
    r = client('{ dashboard(modules: ["leads"]) { figures { key count amount currency } } }')
    assert r.errors == [], r.errors
    out = {}
    for f in r.data["dashboard"]["figures"]:
        out[(f["key"], f["currency"])] = f["count"] if f["count"] is not None else f["amount"]
    return out


def test_dashboard_figures_match_visible_rows(as_):
    rep1, rep2 = as_("rep1"), as_("rep2")
    new_lead(rep1, name="Dash Mine")
    new_lead(rep2, name="Dash Pool", unmanaged=True)
    all_stages = stages(rep1)
    new_opp(rep1, title="Dash won", budget={"amount": "12.5"}, stageId=all_stages["Won"]["id"])
    for client, email in ((rep1, "rep1@demo.test"), (rep2, "rep2@demo.test")):
        figures = figures_of(client)
        mine = client(
            "{ myLeads(first: 500, filter: {status: [IN_PROGRESS]}) { totalCount } }"
        ).data["myLeads"]["totalCount"]
        pool = client("{ unmanagedLeads(first: 500) { totalCount } }").data["unmanagedLeads"][
            "totalCount"
        ]
        listing = client("{ leads(first: 500) { totalCount edges { node { createdAt } } } }").data[
            "leads"
        ]
        assert listing["totalCount"] == len(listing["edges"])  # every visible lead is listed
        created = [datetime.fromisoformat(e["node"]["createdAt"]) for e in listing["edges"]]
        periods = client('{ dashboard(modules: ["leads"]) { today week } }').data["dashboard"]
        today = datetime.fromisoformat(periods["today"])
        week = datetime.fromisoformat(periods["week"])
        assert figures[("leads.mine", None)] == mine, email
        assert figures[("leads.unmanaged", None)] == pool, email
        assert figures[("leads.newToday", None)] == sum(c >= today for c in created) >= 1, email
        assert figures[("leads.newThisWeek", None)] == sum(c >= week for c in created), email
        open_count = client(
            "{ opportunities(first: 500, filter: {open: true}) { totalCount } }"
        ).data["opportunities"]["totalCount"]
        assert figures[("leads.openOpportunities", None)] == open_count, email
    # rep1's new won deal counts for rep1 only; both see the manager's public won deal.
    rep1_figures, rep2_figures = figures_of(rep1), figures_of(rep2)
    won = ("leads.wonThisMonth", None)
    assert rep1_figures[won] == rep2_figures[won] + 1 >= 2
    amount = ("leads.wonThisMonthAmount", "EUR")
    assert Decimal(rep1_figures[amount]) - Decimal(rep2_figures[amount]) == Decimal("12.5")


def test_read_only_field_rules_block_changes(as_):
    admin = as_("admin")
    profiles = admin("{ profiles { id name } }").data["profiles"]
    rep_profile = next(p["id"] for p in profiles if p["name"] == "Sales rep")
    r = admin(
        """mutation($id: ID!) { updateProfile(id: $id, input: {fieldRules: [
        {typeName: "Opportunity", fieldName: "budget", mode: READ_ONLY},
        {typeName: "Lead", fieldName: "source", mode: READ_ONLY}]}) { errors { code } } }""",
        {"id": rep_profile},
    )
    assert r.data["updateProfile"]["errors"] == []
    rep1 = as_("rep1")
    r = rep1(CREATE_OPP, {"input": {"title": "Priced", "budget": {"amount": "10"}}})
    assert r.data["createOpportunity"]["errors"][0]["code"] == "FORBIDDEN"
    opp = new_opp(rep1, title="Unpriced")
    assert opp["budget"]["amount"] is None
    r = rep1(CREATE_LEAD, {"input": {"name": "Sourced", "source": "fair"}})
    assert r.data["createLead"]["errors"][0]["code"] == "FORBIDDEN"
    assert new_lead(rep1, name="Unsourced")["name"] == "Unsourced"


# -- review fixes: merged contacts, stage flags, overflow-free sums, races, claims -------------

MERGE = """mutation($k: ID!, $m: ID!) { mergeContacts(keepId: $k, mergeId: $m) {
  contact { id } errors { code message } } }"""
UPDATE_STAGE = """mutation($id: ID!, $input: OpportunityStageInput!) {
  updateOpportunityStage(id: $id, input: $input) { stage { name won lost }
  errors { code field } } }"""
OPP_CLOSED = "query($id: ID!) { opportunity(id: $id) { closedAt contact { id } } }"


def test_merging_contacts_moves_their_leads_and_opportunities(as_):
    from tests.test_contacts import CREATE, create

    manager, director = as_("manager"), as_("director")
    lead = new_lead(manager, name="Merle Merged", company="Merged Holdings")
    converted = ok(manager(CONVERT, {"id": lead["id"]}), "convertLead")["lead"]
    person, company = converted["contact"]["id"], converted["companyContact"]["id"]
    kept_person = create(manager, firstName="Merle", lastName="Kept")["id"]
    kept_company = manager(CREATE, {"input": {"kind": "COMPANY", "companyName": "Kept Holdings"}})
    kept_company = kept_company.data["createContact"]["contact"]["id"]
    mine = new_opp(manager, title="Follows the person", contactId=person)
    # The director's private opportunity names the contact too; the manager cannot see it.
    hidden = new_opp(director, title="Hidden follower", contactId=person, access="PRIVATE")
    assert manager(OPP_CLOSED, {"id": hidden["id"]}).data["opportunity"] is None
    for kept, merged in ((kept_person, person), (kept_company, company)):
        assert ok(manager(MERGE, {"k": kept, "m": merged}), "mergeContacts")["contact"] == {
            "id": kept
        }
    after = manager(
        "query($id: ID!) { lead(id: $id) { contact { id } companyContact { id } } }",
        {"id": lead["id"]},
    ).data["lead"]
    assert after == {"contact": {"id": kept_person}, "companyContact": {"id": kept_company}}
    moved = manager(OPP_CLOSED, {"id": mine["id"]}).data["opportunity"]
    assert moved["contact"] == {"id": kept_person}
    moved = director(OPP_CLOSED, {"id": hidden["id"]}).data["opportunity"]
    assert moved["contact"] == {"id": kept_person}


def test_changing_won_lost_flags_follows_opportunities_in_the_stage(as_):
    manager, rep2 = as_("manager"), as_("rep2")
    stage = ok(
        manager(
            """mutation { createOpportunityStage(input: {name: "Signed", probability: 90})
            { stage { id } errors { code field } } }"""
        ),
        "createOpportunityStage",
    )["stage"]["id"]
    opp = new_opp(rep2, title="Flagged deal", budget={"amount": "7"}, stageId=stage)
    query = """query { pipeline(filter: {search: "flagged"}) { won { count totals { amount } }
      lost { count } } }"""

    def closed_at():
        return rep2(OPP_CLOSED, {"id": opp["id"]}).data["opportunity"]["closedAt"]

    def won_this_month():
        return figures_of(rep2)[("leads.wonThisMonth", None)]

    before = won_this_month()
    assert closed_at() is None
    assert rep2(query).data["pipeline"]["won"]["count"] == 0
    # Becoming a won stage closes the opportunities already in it, now.
    ok(manager(UPDATE_STAGE, {"id": stage, "input": {"won": True}}), "updateOpportunityStage")
    closed = closed_at()
    assert closed is not None
    assert rep2(query).data["pipeline"]["won"] == {"count": 1, "totals": [{"amount": "7.0000"}]}
    assert won_this_month() == before + 1
    # Won → lost keeps the close time; they only count as lost now.
    ok(
        manager(UPDATE_STAGE, {"id": stage, "input": {"won": False, "lost": True}}),
        "updateOpportunityStage",
    )
    assert closed_at() == closed
    assert rep2(query).data["pipeline"]["lost"]["count"] == 1
    assert won_this_month() == before
    # Open again: not closed any more.
    ok(manager(UPDATE_STAGE, {"id": stage, "input": {"lost": False}}), "updateOpportunityStage")
    assert closed_at() is None
    assert rep2(query).data["pipeline"] == {"won": {"count": 0, "totals": []}, "lost": {"count": 0}}


def test_pipeline_sums_of_huge_budgets_are_exact(as_, gateway, demo):
    """Budgets at the limits (amount 1e9 with four decimals, 10,000 units) on many rows: a
    64-bit sum of ten-thousandths would overflow after 92 of them, a weighted one after 1."""
    from sqlalchemy import select

    from gateway.db import utcnow
    from plugins.leads.models import BudgetType, Opportunity, OpportunityStage

    rep2 = as_("rep2")
    all_stages = stages(rep2)
    amount, count, rows = Decimal("999999999.9999"), 10_000, 100
    tenant, owner = demo["demo"].id, demo["demo"].users["rep2@demo.test"].id
    with gateway.db.transaction() as s:
        won = s.scalar(
            select(OpportunityStage).where(
                OpportunityStage.tenant_id == tenant, OpportunityStage.name == "Won"
            )
        )
        for i in range(rows):
            s.add(
                Opportunity(
                    tenant_id=tenant,
                    title=f"Huge won {i}",
                    currency="CHF",
                    amount=amount,
                    budget_type=BudgetType.PER_HOUR,
                    budget_count=count,
                    stage_id=won.id,
                    owner_id=owner,
                    created_by_id=owner,
                    closed_at=utcnow(),
                )
            )
    budget = {"currency": "CHF", "amount": str(amount), "type": "PER_HOUR", "count": count}
    for i in range(2):
        new_opp(
            rep2, title=f"Huge open {i}", budget=budget, stageId=all_stages["Negotiation"]["id"]
        )
    total = amount * count
    r = rep2(PIPELINE, {"f": {"search": "huge"}})
    assert r.errors == [], r.errors
    p = r.data["pipeline"]
    by_stage = {s["stage"]["name"]: s for s in p["stages"]}
    assert money(by_stage["Won"]["totals"]) == {"CHF": total * rows}
    assert money(by_stage["Won"]["weighted"]) == {"CHF": total * rows}
    assert money(by_stage["Negotiation"]["totals"]) == {"CHF": total * 2}
    assert money(by_stage["Negotiation"]["weighted"]) == {"CHF": total * 2 * 75 / 100}
    assert money(p["forecast"]) == {"CHF": total * 2 * 75 / 100}
    assert p["won"]["count"] == rows and money(p["won"]["totals"]) == {"CHF": total * rows}
    assert Decimal(figures_of(rep2)[("leads.wonThisMonthAmount", "CHF")]) == total * rows


@pytest.fixture
def sneaked_in(gateway):
    """Simulate a concurrent request that inserted the same unique name after the mutation's
    "is it taken?" check: the first flush of a new or renamed row named ``Racer`` finds a
    row with that name already there (inserted on the same connection)."""
    from sqlalchemy import event, insert
    from sqlalchemy.orm import Session

    from plugins.leads.models import OpportunityCustomField, OpportunityStage

    done: list[str] = []

    def before_flush(session, _context, _instances):
        for obj in [*session.new, *session.dirty]:
            if done:
                return
            if isinstance(obj, OpportunityStage) and obj.name == "Racer":
                values = {"name": "Racer", "position": 99, "probability": 0}
                table = OpportunityStage.__table__
            elif isinstance(obj, OpportunityCustomField) and obj.key == "racer":
                values = {"key": "racer", "label": "Racer", "type": "TEXT", "position": 99}
                table = OpportunityCustomField.__table__
            else:
                continue
            session.connection().execute(insert(table).values(tenant_id=obj.tenant_id, **values))
            done.append(obj.__class__.__name__)

    event.listen(Session, "before_flush", before_flush)
    try:
        yield done
    finally:
        event.remove(Session, "before_flush", before_flush)


def test_racing_duplicate_names_answer_conflict(as_, sneaked_in):
    manager = as_("manager")
    r = manager(
        """mutation { createOpportunityStage(input: {name: "Racer", probability: 5})
        { stage { id } errors { code field } } }"""
    )
    assert r.errors == [], r.errors
    assert r.data["createOpportunityStage"] == {
        "stage": None,
        # The race is lost at the unique constraint, which the kernel's transaction turns
        # into CONFLICT (without naming a field: the module no longer catches it itself).
        "errors": [{"code": "CONFLICT", "field": None}],
    }
    assert sneaked_in == ["OpportunityStage"]
    # Renaming into the race, too.
    sneaked_in.clear()
    stage = stages(manager)["Qualification"]["id"]
    r = manager(UPDATE_STAGE, {"id": stage, "input": {"name": "Racer"}})
    assert r.errors == [], r.errors
    assert r.data["updateOpportunityStage"]["errors"] == [{"code": "CONFLICT", "field": None}]
    assert sneaked_in == ["OpportunityStage"]
    assert "Racer" not in stages(manager) and "Qualification" in stages(manager)
    sneaked_in.clear()
    r = manager(
        """mutation { createOpportunityCustomField(key: "racer", label: "Racer", type: TEXT)
        { customField { key } errors { code field } } }"""
    )
    assert r.errors == [], r.errors
    assert r.data["createOpportunityCustomField"] == {
        "customField": None,
        "errors": [{"code": "CONFLICT", "field": None}],
    }
    assert sneaked_in == ["OpportunityCustomField"]
    fields = manager("{ opportunityCustomFields { key } }").data["opportunityCustomFields"]
    assert {"key": "racer"} not in fields


def test_claim_is_not_found_without_lead_read_permission(as_, client_for):
    admin = as_("admin")
    profile = ok(
        admin(
            """mutation { createProfile(input: {name: "Lead updater", kind: HIERARCHICAL,
            permissions: ["leads.lead.update"]}) { profile { id } errors { code message } } }"""
        ),
        "createProfile",
    )["profile"]["id"]
    ok(
        admin(
            """mutation($p: ID!) { createUser(input: {email: "updater@demo.test",
            displayName: "Updater", password: "updater-password", profileId: $p})
            { user { email } errors { code message } } }""",
            {"p": profile},
        ),
        "createUser",
    )
    updater = client_for("updater@demo.test", "updater-password")
    taken = new_lead(as_("rep1"), name="Somebody's private lead")
    pool = new_lead(as_("rep1"), name="Nobody's lead", unmanaged=True)
    # Without leads.lead.read nothing about leads is revealed, claimed or not.
    for lead in (taken, pool):
        r = updater(CLAIM, {"id": lead["id"]}).data["claimLead"]
        assert r["lead"] is None
        assert [(e["code"], e["field"]) for e in r["errors"]] == [("NOT_FOUND", "id")]
    # Readers of leads still get CONFLICT for a lead they cannot see (the race losers'
    # answer; the documented within-tenant existence signal).
    r = as_("rep2")(CLAIM, {"id": taken["id"]}).data["claimLead"]
    assert r["errors"][0]["code"] == "CONFLICT"
    listed_pool, _ = listed(as_("rep2"), "UNMANAGED")
    assert "Nobody's lead" in listed_pool  # the refused claim changed nothing
