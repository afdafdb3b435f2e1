"""Client assignments per managing company (MISSION C9) over HTTP: the access engine's
assignment grant on every read path (list, count, node, nested field, search, filters,
export, dashboard, duplicates), writes, explainAccess, narrowing, the mutations and their
typed errors, and the statement budget of ``Contact.assignments``.

The contacts here are owned by the back office user (structural: outside the reporting
hierarchy), so only an assignment can open them to the sales team:
director → manager → rep1 (served by the assistant), rep2.
"""

from __future__ import annotations

import base64
import dataclasses
import io
import uuid

import openpyxl
import pytest
from starlette.testclient import TestClient

from gateway.app import create_app
from gateway.testing import GraphQLClient

IBERIA, PORTUGAL = "Demo Trading Iberia S.L.", "Demo Trading Portugal Lda."
ASSIGNED = ["rep1", "manager", "director", "assistant"]  # rep1 and those above / serving
NOT_ASSIGNED = ["rep2"]
LIST = """query($s: String, $f: ContactFilterInput) { contacts(first: 500, search: $s, filter: $f) {
  totalCount edges { node { id displayName } } } }"""
ASSIGN = """mutation($c: ID!, $a: ContactAssignmentInput!) { assignContact(contactId: $c, assignment: $a) {
  contact { assignments { company { name } branch { name } user { email } } }
  errors { code message field } } }"""
REPLACE = """mutation($c: ID!, $a: ContactAssignmentInput!) {
  replaceContactAssignment(contactId: $c, assignment: $a) {
  contact { assignments { company { name } branch { name } user { email } } }
  errors { code message field } } }"""
UNASSIGN = """mutation($c: ID!, $co: ID!) { unassignContact(contactId: $c, companyId: $co) {
  contact { id } errors { code message field } } }"""
CREATE = """mutation($input: CreateContactInput!) { createContact(input: $input) {
  contact { id displayName assignments { company { name } user { email } assignedAt } }
  errors { code message field } } }"""


@pytest.fixture
def ids(as_):
    """Global IDs of the demo's users, managing companies and branches."""
    admin = as_("admin")
    users = {
        u["email"].split("@")[0]: u["id"] for u in admin("{ users { id email } }").data["users"]
    }
    companies = {
        c["name"]: c
        for c in admin("{ managingCompanies { id name branches { id name } } }").data[
            "managingCompanies"
        ]
    }
    return users, companies


def _create(client, **fields):
    r = client(CREATE, {"input": {"kind": "PERSON", **fields}})
    assert r.errors == [], r.errors
    payload = r.data["createContact"]
    assert payload["errors"] == [], payload
    return payload["contact"]


def _names(client, **variables):
    r = client(LIST, variables)
    assert r.errors == [], r.errors
    found = {e["node"]["displayName"] for e in r.data["contacts"]["edges"]}
    assert r.data["contacts"]["totalCount"] == len(found)
    return found


@pytest.fixture
def assigned(as_, ids):
    """A private contact of the back office, assigned to rep1 through Iberia / Madrid, and a
    person of it (same email, so the two are duplicates) assigned the same way."""
    users, companies = ids
    iberia = companies[IBERIA]
    madrid = next(b["id"] for b in iberia["branches"] if b["name"] == "Madrid")
    mark = uuid.uuid4().hex[:8]
    to_rep1 = [{"companyId": iberia["id"], "userId": users["rep1"], "branchId": madrid}]
    admin = as_("admin")
    company = _create(
        admin,
        kind="COMPANY",
        companyName=f"Zircon{mark} S.L.",
        email=f"z{mark}@zircon.example",
        ownerId=users["backoffice"],
        assignments=to_rep1,
    )
    person = _create(
        admin,
        firstName="Zelda",
        lastName=f"Zircon{mark}",
        email=f"z{mark}@zircon.example",
        companyId=company["id"],
        ownerId=users["backoffice"],
        assignments=to_rep1,
    )
    assert company["assignments"][0]["company"] == {"name": IBERIA}
    assert company["assignments"][0]["user"] == {"email": "rep1@demo.test"}
    return {"mark": mark, "company": company, "person": person, "iberia": iberia["id"]}


def test_assigned_users_and_those_above_see_the_client_on_every_read_path(as_, ids, assigned):
    users, _ = ids
    mark, company, person = assigned["mark"], assigned["company"], assigned["person"]
    expected = {company["displayName"], person["displayName"]}
    for who in ASSIGNED + NOT_ASSIGNED:
        client, sees = as_(who), who in ASSIGNED
        # list, count and search
        assert _names(client, s=f"zircon{mark}") == (expected if sees else set()), who
        # lookups by id
        for query, root in (
            ("query($id: ID!) { contact(id: $id) { id } }", "contact"),
            ("query($id: ID!) { node(id: $id) { id } }", "node"),
        ):
            found = client(query, {"id": company["id"]}).data[root]
            assert (found is not None) == sees, (who, root)
        # nested field: the person's company
        if sees:
            nested = client(
                "query($id: ID!) { contact(id: $id) { company { displayName } } }",
                {"id": person["id"]},
            ).data["contact"]["company"]
            assert nested == {"displayName": company["displayName"]}, who
        # filters: by managing company, by assigned user, both, and "mine"
        by_company = _names(client, s=f"zircon{mark}", f={"managingCompanyId": assigned["iberia"]})
        by_user = _names(client, s=f"zircon{mark}", f={"assignedUserId": users["rep1"]})
        assert by_company == by_user == (expected if sees else set()), who
        # export
        r = client(
            "query($s: String) { exportContacts(search: $s) { contentBase64 } }",
            {"s": f"zircon{mark}"},
        )
        if who == "assistant":  # the demo's assistants may not export
            assert r.codes == ["FORBIDDEN"]
        else:
            book = openpyxl.load_workbook(
                io.BytesIO(base64.b64decode(r.data["exportContacts"]["contentBase64"]))
            )
            rows = list(book["Contacts"].iter_rows(min_row=2, values_only=True))
            assert {row[1] for row in rows} == (expected if sees else set()), who
        # duplicates: the two share an email address
        groups = client("{ contactDuplicates { value contacts { displayName } } }").data[
            "contactDuplicates"
        ]
        dup = [g for g in groups if g["value"] == f"z{mark}@zircon.example"]
        assert bool(dup) == sees, who
    mine = _names(as_("rep1"), s=f"zircon{mark}", f={"mine": True})
    assert mine == expected
    assert _names(as_("manager"), s=f"zircon{mark}", f={"mine": True}) == set()
    assert _names(as_("rep2"), s=f"zircon{mark}", f={"assignedUserId": users["rep2"]}) == set()


def test_dashboard_counts_assigned_clients(as_, assigned):
    def total(who):
        figures = as_(who)('{ dashboard(modules: ["contacts"]) { figures { key count } } }')
        return {f["key"]: f["count"] for f in figures.data["dashboard"]["figures"]}[
            "contacts.total"
        ]

    before = {who: total(who) for who in ("rep1", "rep2")}
    r = as_("admin")(UNASSIGN, {"c": assigned["company"]["id"], "co": assigned["iberia"]})
    assert r.data["unassignContact"]["errors"] == []
    assert total("rep1") == before["rep1"] - 1
    assert total("rep2") == before["rep2"]


def test_assignment_gives_write_access_like_ownership(as_, assigned):
    update = """mutation($id: ID!) { updateContact(id: $id, input: {zone: "east"}) {
      contact { zone } errors { code } } }"""
    cid = assigned["company"]["id"]
    for who in ASSIGNED:
        r = as_(who)(update, {"id": cid}).data["updateContact"]
        assert r == {"contact": {"zone": "east"}, "errors": []}, who
    assert as_("rep2")(update, {"id": cid}).data["updateContact"]["errors"] == [
        {"code": "NOT_FOUND"}
    ]
    # full-access fields (notes) too: an assignment is not a public level
    got = as_("rep1")("query($id: ID!) { contact(id: $id) { description } }", {"id": cid})
    assert got.errors == []


def test_explain_access_names_the_assignment(as_, ids, assigned):
    users, _ = ids
    explain = """query($u: ID!, $r: ID!) { explainAccess(userId: $u, recordId: $r) {
      read { allowed reasons { reason granted detail } } write { allowed } } }"""

    def reason(who):
        r = as_("admin")(explain, {"u": users[who], "r": assigned["company"]["id"]})
        assert r.errors == [], r.errors
        answer = r.data["explainAccess"]
        found = [x for x in answer["read"]["reasons"] if x["reason"] == "ASSIGNMENT"]
        return answer["read"]["allowed"], answer["write"]["allowed"], found[0]

    via = f"via managing company {IBERIA}"
    assert reason("rep1") == (
        True,
        True,
        {"reason": "ASSIGNMENT", "granted": True, "detail": f"assigned to you {via}"},
    )
    assert reason("manager")[2]["detail"] == f"assigned to your subordinate rep1@demo.test {via}"
    assert reason("director")[2]["detail"] == f"assigned to your subordinate rep1@demo.test {via}"
    assert reason("assistant")[2]["detail"] == f"assigned to rep1@demo.test, whom you assist, {via}"
    assert reason("rep2") == (
        False,
        False,
        {
            "reason": "ASSIGNMENT",
            "granted": False,
            "detail": "not assigned to them, anyone below them or anyone they assist",
        },
    )


def test_narrowed_lists_count_assignments(gateway, demo, assigned):
    """Planned from the caller's grants (gateway.access.narrowing), a list still holds the
    assigned clients: the assignment is one of the grants the union reads."""
    settings = dataclasses.replace(gateway.settings, narrowing_cap=10**6)
    with TestClient(create_app(dataclasses.replace(gateway, settings=settings))) as app:
        for who in ASSIGNED + NOT_ASSIGNED:
            client = GraphQLClient(app).login(f"{who}@demo.test")
            found = _names(client, s=f"zircon{assigned['mark']}")
            assert bool(found) == (who in ASSIGNED), who


def test_assign_replace_unassign(as_, ids, assigned):
    users, companies = ids
    rep1, cid = as_("rep1"), assigned["company"]["id"]
    portugal = companies[PORTUGAL]
    porto = next(b["id"] for b in portugal["branches"] if b["name"] == "Porto")
    # rep1 may change the contact, so rep1 may give it a user in another company
    r = rep1(
        ASSIGN,
        {"c": cid, "a": {"companyId": portugal["id"], "userId": users["rep2"], "branchId": porto}},
    ).data["assignContact"]
    assert r["errors"] == []
    assert r["contact"]["assignments"] == [
        {
            "company": {"name": IBERIA},
            "branch": {"name": "Madrid"},
            "user": {"email": "rep1@demo.test"},
        },
        {
            "company": {"name": PORTUGAL},
            "branch": {"name": "Porto"},
            "user": {"email": "rep2@demo.test"},
        },
    ]
    assert _names(as_("rep2"), s=f"zircon{assigned['mark']} s.l.") == {
        assigned["company"]["displayName"]
    }
    # one user per company: assigning again is a conflict, replacing is the way
    again = rep1(ASSIGN, {"c": cid, "a": {"companyId": portugal["id"], "userId": users["manager"]}})
    assert again.data["assignContact"]["errors"][0]["code"] == "CONFLICT"
    replaced = as_("rep2")(
        REPLACE, {"c": cid, "a": {"companyId": portugal["id"], "userId": users["manager"]}}
    ).data["replaceContactAssignment"]
    assert replaced["errors"] == []
    assert replaced["contact"]["assignments"][1] == {
        "company": {"name": PORTUGAL},
        "branch": None,
        "user": {"email": "manager@demo.test"},
    }
    # rep2 gave the assignment away: the contact is no longer theirs to see or change
    assert _names(as_("rep2"), s=f"zircon{assigned['mark']} s.l.") == set()
    lost = as_("rep2")(UNASSIGN, {"c": cid, "co": portugal["id"]}).data["unassignContact"]
    assert lost["errors"] == [{"code": "NOT_FOUND", "message": "no such contact", "field": "id"}]
    removed = rep1(UNASSIGN, {"c": cid, "co": portugal["id"]}).data["unassignContact"]
    assert removed == {"contact": {"id": cid}, "errors": []}
    missing = rep1(UNASSIGN, {"c": cid, "co": portugal["id"]}).data["unassignContact"]
    assert missing["errors"][0]["code"] == "NOT_FOUND"
    assert missing["errors"][0]["field"] == "companyId"


def test_assignments_refuse_bad_input_with_typed_errors(as_, ids, assigned):
    users, companies = ids
    rep1, cid = as_("rep1"), assigned["company"]["id"]
    iberia, portugal = companies[IBERIA], companies[PORTUGAL]
    lisboa = next(b["id"] for b in portugal["branches"] if b["name"] == "Lisboa")
    acme = as_("admin@acme.test")
    acme_company = acme(
        'mutation { createManagingCompany(input: {name: "Acme Holding"}) { company { id } } }'
    ).data["createManagingCompany"]["company"]["id"]
    cases = [
        ({"companyId": portugal["id"], "userId": users["assistant"]}, "BAD_USER_INPUT", "userId"),
        ({"companyId": iberia["id"], "userId": users["rep2"], "branchId": lisboa}, None, None),
        ({"companyId": portugal["id"], "userId": users["rep2"], "branchId": lisboa}, None, None),
        ({"companyId": acme_company, "userId": users["rep2"]}, "NOT_FOUND", "companyId"),
        ({"companyId": "not-an-id", "userId": users["rep2"]}, "BAD_USER_INPUT", None),
    ]
    for given, code, field in cases:
        r = rep1(ASSIGN, {"c": cid, "a": given})
        assert r.errors == [], r.errors
        errors = r.data["assignContact"]["errors"]
        if code is None:  # the branch of another company; or a valid assignment (then undo)
            if given["companyId"] == iberia["id"]:
                assert errors[0]["code"] in ("BAD_USER_INPUT", "CONFLICT")
            else:
                assert errors == []
                rep1(UNASSIGN, {"c": cid, "co": portugal["id"]})
            continue
        assert errors[0]["code"] == code, (given, errors)
        if field:
            assert errors[0]["field"] == field
    wrong_branch = rep1(
        REPLACE,
        {"c": cid, "a": {"companyId": iberia["id"], "userId": users["rep2"], "branchId": lisboa}},
    ).data["replaceContactAssignment"]["errors"]
    assert wrong_branch == [
        {
            "code": "BAD_USER_INPUT",
            "message": "the branch belongs to another managing company",
            "field": "branchId",
        }
    ]
    acme_user = acme("{ me { user { id } } }").data["me"]["user"]["id"]
    other_tenant_user = rep1(
        REPLACE, {"c": cid, "a": {"companyId": iberia["id"], "userId": acme_user}}
    ).data["replaceContactAssignment"]["errors"]
    assert other_tenant_user[0]["code"] == "NOT_FOUND" and other_tenant_user[0]["field"] == "userId"
    # a contact rep2 may not see, and one rep2 may only read
    assert (
        as_("rep2")(
            ASSIGN, {"c": cid, "a": {"companyId": portugal["id"], "userId": users["rep2"]}}
        ).data["assignContact"]["errors"][0]["code"]
        == "NOT_FOUND"
    )
    public = _create(rep1, firstName="Read", lastName="Only", access="PUBLIC_READ")
    assert (
        as_("rep2")(
            ASSIGN, {"c": public["id"], "a": {"companyId": portugal["id"], "userId": users["rep2"]}}
        ).data["assignContact"]["errors"][0]["code"]
        == "FORBIDDEN"
    )
    # creating with the same company twice
    twice = rep1(
        CREATE,
        {
            "input": {
                "kind": "PERSON",
                "firstName": "Twice",
                "assignments": [
                    {"companyId": iberia["id"], "userId": users["rep1"]},
                    {"companyId": iberia["id"], "userId": users["rep2"]},
                ],
            }
        },
    ).data["createContact"]
    assert twice["contact"] is None and twice["errors"][0]["field"] == "assignments"
    assert _names(rep1, s="twice") == set()  # nothing half-written


def test_a_read_only_assignments_field_refuses_changes(as_, ids, assigned):
    users, companies = ids
    admin = as_("admin")
    profiles = {p["name"]: p["id"] for p in admin("{ profiles { id name } }").data["profiles"]}
    rule = admin(
        """mutation($p: ID!) { updateProfile(id: $p, input: {fieldRules: [
        {typeName: "Contact", fieldName: "assignments", mode: READ_ONLY}]}) {
        errors { code message } } }""",
        {"p": profiles["Sales rep"]},
    )
    assert rule.errors == [] and rule.data["updateProfile"]["errors"] == [], rule
    refused = as_("rep1")(
        ASSIGN,
        {
            "c": assigned["company"]["id"],
            "a": {"companyId": companies[PORTUGAL]["id"], "userId": users["rep2"]},
        },
    ).data["assignContact"]["errors"]
    assert refused[0]["code"] == "FORBIDDEN"


def test_assignments_field_takes_constant_statements(as_, gateway, demo, sql_log):
    from plugins.contacts.models import Contact, ContactAssignment

    tenant = demo["demo"]
    user_ids = [tenant.users[f"{u}@demo.test"].id for u in ("rep1", "rep2", "manager")]
    company_rows = {}
    with gateway.db.transaction() as s:
        from sqlalchemy import select

        from gateway.tenancy.models import ManagingCompany

        for c in s.scalars(select(ManagingCompany).where(ManagingCompany.tenant_id == tenant.id)):
            company_rows[c.name] = c.id
        for i in range(150):
            contact = Contact(
                tenant_id=tenant.id,
                kind="PERSON",
                first_name=f"Assig{i:03d}",
                sort_name=f"assig{i:03d}",
                search_text=f"assig{i:03d}",
                owner_id=user_ids[2],
            )
            s.add(contact)
            s.flush()
            for j, name in enumerate((IBERIA, PORTUGAL)):
                s.add(
                    ContactAssignment(
                        tenant_id=tenant.id,
                        contact_id=contact.id,
                        company_id=company_rows[name],
                        user_id=user_ids[(i + j) % 3],
                    )
                )
    query = """query($n: Int) { contacts(first: $n, search: "assig") { edges { node {
        displayName assignments { company { name } branch { name } user { email } assignedAt } } } } }"""
    director = as_("director")
    director(query, {"n": 1})  # plan probes run once a minute per user
    counts = {}
    for size in (10, 150):
        with sql_log:
            r = director(query, {"n": size})
        assert r.errors == [], r.errors
        edges = r.data["contacts"]["edges"]
        assert len(edges) == size and all(len(e["node"]["assignments"]) == 2 for e in edges)
        counts[size] = len(sql_log.statements)
    assert counts[10] == counts[150], counts


def test_a_merge_keeps_the_merged_contacts_assignments(as_, ids, assigned):
    """The kept contact's assignment wins per managing company; the merged contact's
    assignments for other companies move over, so their users keep the client."""
    users, companies = ids
    admin = as_("admin")
    portugal = companies[PORTUGAL]["id"]
    mark = uuid.uuid4().hex[:8]
    twin = _create(
        admin,
        kind="COMPANY",
        companyName=f"Zircon{mark} Twin",
        ownerId=users["backoffice"],
        assignments=[
            {"companyId": assigned["iberia"], "userId": users["manager"]},
            {"companyId": portugal, "userId": users["rep2"]},
        ],
    )
    merge = """mutation($k: ID!, $m: ID!) { mergeContacts(keepId: $k, mergeId: $m) {
      contact { assignments { company { name } user { email } } } errors { code } } }"""
    r = admin(merge, {"k": assigned["company"]["id"], "m": twin["id"]}).data["mergeContacts"]
    assert r["errors"] == []
    assert r["contact"]["assignments"] == [
        {"company": {"name": IBERIA}, "user": {"email": "rep1@demo.test"}},
        {"company": {"name": PORTUGAL}, "user": {"email": "rep2@demo.test"}},
    ]
    # rep2 now sees the kept client through the moved assignment
    assert _names(as_("rep2"), s=f"zircon{assigned['mark']} s.l.") == {
        assigned["company"]["displayName"]
    }
