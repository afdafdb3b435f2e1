"""The contacts module over HTTP, as the demo users: the frontend contract, record access on
every path, restrictions, search and filters, pagination, export, statement budgets."""

from __future__ import annotations

import base64
import io

import openpyxl

CREATE = """mutation($input: CreateContactInput!) { createContact(input: $input) {
  contact { id displayName email phone access owner { email } tags { name } customFields { key value } }
  errors { code message field } } }"""
UPDATE = """mutation($id: ID!, $input: UpdateContactInput!) { updateContact(id: $id, input: $input) {
  contact { id displayName access tags { name } } errors { code message field } } }"""
DELETE = "mutation($id: ID!) { deleteContact(id: $id) { deletedId errors { code message } } }"
LIST = """query($s: String, $f: ContactFilterInput, $n: Int, $a: String, $o: ContactOrder) {
  contacts(first: $n, after: $a, search: $s, filter: $f, orderBy: $o) {
    totalCount pageInfo { hasNextPage endCursor } edges { node { id displayName } } } }"""
SEES_PRIVATE_OF_REP1 = ["rep1", "manager", "director", "assistant", "backoffice", "admin"]


def create(client, **fields):
    r = client(CREATE, {"input": {"kind": "PERSON", **fields}})
    assert r.errors == [], r.errors
    payload = r.data["createContact"]
    assert payload["errors"] == [], payload
    return payload["contact"]


def names(client, **variables):
    r = client(LIST, {"n": 500, **variables})
    assert r.errors == [], r.errors
    return {e["node"]["displayName"] for e in r.data["contacts"]["edges"]}, r.data["contacts"][
        "totalCount"
    ]


def exported(client):
    r = client("{ exportContacts { contentBase64 } }")
    assert r.errors == [], r.errors
    book = openpyxl.load_workbook(
        io.BytesIO(base64.b64decode(r.data["exportContacts"]["contentBase64"]))
    )
    return book["Contacts"]


def test_create_returns_the_frontend_contract(as_):
    c = create(
        as_("rep1"),
        firstName="Zoe",
        lastName="Quinn",
        email="zoe@example.com",
        phone="+34 600 000 001",
        tags=["customer"],
        customFields=[{"key": "industry", "value": "Food"}],
    )
    assert c["displayName"] == "Zoe Quinn"
    assert (c["email"], c["phone"], c["access"]) == (
        "zoe@example.com",
        "+34 600 000 001",
        "PRIVATE",
    )
    assert c["owner"] == {"email": "rep1@demo.test"}
    assert c["tags"] == [{"name": "customer"}]
    assert c["customFields"] == [{"key": "industry", "value": "Food"}]
    node = as_("rep1")(
        "query($id: ID!) { node(id: $id) { id ... on Contact { displayName } } }", {"id": c["id"]}
    )
    assert node.data["node"] == {"id": c["id"], "displayName": "Zoe Quinn"}


def test_private_contact_is_invisible_to_rep2_on_every_path(as_):
    rep1, rep2, acme = as_("rep1"), as_("rep2"), as_("admin@acme.test")
    c = create(rep1, firstName="Private", lastName="Pat", email="pat@private.example")
    for outsider in (rep2, acme):
        found, total = names(outsider)
        assert "Private Pat" not in found
        assert total == len(found)
        assert names(outsider, s="pat@private")[0] == set()
        assert outsider("query($id: ID!) { contact(id: $id) { id } }", {"id": c["id"]}).data == {
            "contact": None
        }
        assert outsider("query($id: ID!) { node(id: $id) { id } }", {"id": c["id"]}).data == {
            "node": None
        }
        upd = outsider(UPDATE, {"id": c["id"], "input": {"firstName": "Hacked"}}).data[
            "updateContact"
        ]
        assert upd["errors"][0]["code"] == "NOT_FOUND"
        assert (
            outsider(DELETE, {"id": c["id"]}).data["deleteContact"]["errors"][0]["code"]
            == "NOT_FOUND"
        )
    assert "Private Pat" not in {
        r[1] for r in exported(rep2).iter_rows(min_row=2, values_only=True)
    }
    for who in SEES_PRIVATE_OF_REP1:
        found, _ = names(as_(who), s="pat")
        assert found == {"Private Pat"}, who
        assert (
            as_(who)("query($id: ID!) { contact(id: $id) { description } }", {"id": c["id"]}).errors
            == []
        ), who


def test_acme_sees_none_of_demo(as_):
    found, total = names(as_("admin@acme.test"))
    assert found == {"Acme Widgets Inc."} and total == 1
    demo_found, _ = names(as_("admin"))
    assert "Acme Widgets Inc." not in demo_found and "Iberia Logistics S.L." in demo_found


def test_public_read_and_public_write(as_):
    rep1, rep2 = as_("rep1"), as_("rep2")
    pub = create(
        rep1, firstName="Public", lastName="Reader", access="PUBLIC_READ", description="secret plan"
    )
    got = rep2(
        "query($id: ID!) { contact(id: $id) { displayName description discount } }",
        {"id": pub["id"]},
    )
    assert got.data["contact"] == {
        "displayName": "Public Reader",
        "description": None,
        "discount": None,
    }
    assert sorted(got.codes) == ["FORBIDDEN", "FORBIDDEN"]
    upd = rep2(UPDATE, {"id": pub["id"], "input": {"firstName": "Changed"}}).data["updateContact"]
    assert upd["errors"][0]["code"] == "FORBIDDEN"
    writable = create(rep1, firstName="Public", lastName="Writer", access="PUBLIC_WRITE")
    upd = rep2(UPDATE, {"id": writable["id"], "input": {"lastName": "Edited"}}).data[
        "updateContact"
    ]
    assert upd == {
        "contact": {
            "id": writable["id"],
            "displayName": "Public Edited",
            "access": "PUBLIC_WRITE",
            "tags": [],
        },
        "errors": [],
    }


def test_restrictions_tags_fiscal_id_discount_public(as_):
    rep1, backoffice, assistant, manager = (
        as_("rep1"),
        as_("backoffice"),
        as_("assistant"),
        as_("manager"),
    )
    c = create(rep1, firstName="Tag", lastName="Target")
    vip = rep1(UPDATE, {"id": c["id"], "input": {"tags": ["VIP"]}}).data["updateContact"]
    assert vip["errors"][0] == {
        "code": "FORBIDDEN",
        "message": "your profile may not add or remove the tag(s) VIP",
        "field": "tags",
    }
    ok = manager(UPDATE, {"id": c["id"], "input": {"tags": ["VIP", "customer"]}}).data[
        "updateContact"
    ]
    assert ok["errors"] == [] and {t["name"] for t in ok["contact"]["tags"]} == {"VIP", "customer"}
    removing = rep1(UPDATE, {"id": c["id"], "input": {"tags": ["customer"]}}).data["updateContact"]
    assert removing["errors"][0]["code"] == "FORBIDDEN"  # removing VIP is restricted too
    other = rep1(
        UPDATE, {"id": c["id"], "input": {"fiscalIdType": "OTHER", "fiscalId": "P-123"}}
    ).data["updateContact"]
    assert other["errors"][0] == {
        "code": "FORBIDDEN",
        "message": "your profile may not do this (needs contacts.fiscal_id_other)",
        "field": "fiscalIdType",
    }
    assert (
        backoffice(
            UPDATE, {"id": c["id"], "input": {"fiscalIdType": "OTHER", "fiscalId": "P-123"}}
        ).data["updateContact"]["errors"]
        == []
    )
    bad_nif = rep1(
        UPDATE, {"id": c["id"], "input": {"fiscalIdType": "NIF", "fiscalId": "12345678A"}}
    ).data["updateContact"]
    assert bad_nif["errors"][0]["field"] == "fiscalId"
    assert (
        rep1(UPDATE, {"id": c["id"], "input": {"discount": "10"}}).data["updateContact"]["errors"][
            0
        ]["field"]
        == "discount"
    )
    assert (
        manager(UPDATE, {"id": c["id"], "input": {"discount": "10"}}).data["updateContact"][
            "errors"
        ]
        == []
    )
    supplier = rep1(UPDATE, {"id": c["id"], "input": {"category": "SUPPLIER"}}).data[
        "updateContact"
    ]
    assert supplier["errors"][0]["field"] == "category"
    # the assistant may edit rep1's contacts but not make them public nor own them
    assert (
        assistant(UPDATE, {"id": c["id"], "input": {"city": "Bilbao"}}).data["updateContact"][
            "errors"
        ]
        == []
    )
    assert (
        assistant(UPDATE, {"id": c["id"], "input": {"access": "PUBLIC_READ"}}).data[
            "updateContact"
        ]["errors"][0]["code"]
        == "FORBIDDEN"
    )
    assistant_id = assistant("{ me { user { id } } }").data["me"]["user"]["id"]
    own = manager(UPDATE, {"id": c["id"], "input": {"ownerId": assistant_id}}).data["updateContact"]
    assert own["errors"][0]["code"] == "BAD_USER_INPUT"


def test_validation_errors_name_the_field(as_):
    rep1 = as_("rep1")
    cases = [
        ({"kind": "PERSON"}, "firstName"),
        ({"kind": "COMPANY", "firstName": "Qzx"}, "companyName"),
        ({"kind": "PERSON", "firstName": "Qzx", "email": "not-an-email"}, "emails"),
        ({"kind": "PERSON", "firstName": "Qzx", "currency": "euro"}, "currency"),
        (
            {
                "kind": "PERSON",
                "firstName": "Qzx",
                "customFields": [{"key": "annual_revenue", "value": "lots"}],
            },
            "customFields",
        ),
        (
            {
                "kind": "PERSON",
                "firstName": "Qzx",
                "customFields": [{"key": "industry", "value": "Mining"}],
            },
            "customFields",
        ),
        ({"kind": "PERSON", "firstName": "Qzx", "latitude": "123"}, "latitude"),
    ]
    for fields, field in cases:
        r = rep1(CREATE, {"input": fields}).data["createContact"]
        assert r["contact"] is None and r["errors"][0]["field"] == field, (fields, r)
    assert names(as_("admin"), s="qzx")[0] == set()  # nothing half-written


def test_search_filters_sorting_and_pagination(as_):
    admin = as_("admin")
    assert names(admin, s="lucia")[0] == {"Lucía Fernández"}  # accents ignored
    assert names(admin, s="IBERIA")[0] == {
        "Iberia Logistics S.L.",
        "Lucía Fernández",
    }  # company name
    assert names(admin, s="600 100")[0] == {"Lucía Fernández"}  # phone
    assert names(admin, s="B12345674")[0] == {"Iberia Logistics S.L."}  # fiscal ID
    assert names(admin, s="vip")[0] == {"Iberia Logistics S.L.", "Atlantic Foods S.A."}  # tag
    assert names(admin, f={"kind": "COMPANY", "tags": ["customer"]})[0] == {
        "Iberia Logistics S.L.",
        "Atlantic Foods S.A.",
    }
    assert names(admin, f={"customFields": [{"key": "annual_revenue", "min": "5000000"}]})[0] == {
        "Atlantic Foods S.A."
    }
    assert names(admin, f={"customFields": [{"key": "newsletter", "equals": "true"}]})[0] == {
        "Ana Sousa"
    }
    assert names(as_("rep1"), f={"mine": True})[0] == {
        "Iberia Logistics S.L.",
        "Lucía Fernández",
        "Marco Rossi",
    }
    assert names(admin, f={"category": "SUPPLIER"}, s="nordic")[1] == 1
    first = admin(LIST, {"n": 3, "o": {"field": "NAME", "direction": "ASC"}}).data["contacts"]
    order = [e["node"]["displayName"] for e in first["edges"]]
    assert order == ["Ana Sousa", "Atlantic Foods S.A.", "Hannah Becker"]
    assert first["pageInfo"]["hasNextPage"] is True and first["totalCount"] == 7
    rest = admin(LIST, {"n": 10, "a": first["pageInfo"]["endCursor"], "o": {"field": "NAME"}}).data[
        "contacts"
    ]
    assert rest["edges"][0]["node"]["displayName"] == "Iberia Logistics S.L."
    assert rest["pageInfo"]["hasNextPage"] is False
    bad = admin(LIST, {"f": {"customFields": [{"key": "nope", "equals": "x"}]}})
    assert bad.codes == ["BAD_USER_INPUT"]


def test_export_contains_exactly_what_the_caller_may_see_and_no_formulas(as_):
    rep1, rep2 = as_("rep1"), as_("rep2")
    create(rep1, firstName='=HYPERLINK("x")', access="PUBLIC_READ", description="do not leak")
    sheet = exported(rep2)
    header = [c.value for c in sheet[1]]
    rows = {
        r[1]: dict(zip(header, r, strict=True))
        for r in sheet.iter_rows(min_row=2, values_only=True)
    }
    assert '=HYPERLINK("x")' in rows
    assert rows['=HYPERLINK("x")']["Description"] in ("", None)
    assert all(cell.data_type == "s" for cell in sheet["B"])
    assert "Lucía Fernández" not in rows  # rep1's private contact
    assert set(rows) == names(rep2)[0]
    mine = {r[1]: r for r in exported(rep1).iter_rows(min_row=2, values_only=True)}
    assert "Lucía Fernández" in mine


def test_delete_and_the_veto_hook(as_, gateway):
    manager = as_("manager")
    c = create(manager, firstName="Short", lastName="Lived")
    assert manager(DELETE, {"id": c["id"]}).data["deleteContact"] == {
        "deletedId": c["id"],
        "errors": [],
    }
    rep1 = as_("rep1")
    mine = create(rep1, firstName="No", lastName="Delete")
    assert (
        rep1(DELETE, {"id": mine["id"]}).data["deleteContact"]["errors"][0]["code"] == "FORBIDDEN"
    )


def test_manager_is_notified_when_assigned(as_):
    rep1, rep2 = as_("rep1"), as_("rep2")
    rep2_id = rep2("{ me { user { id } } }").data["me"]["user"]["id"]
    c = create(rep1, firstName="Handed", lastName="Over", ownerId=rep2_id)
    notes = rep2("{ notifications(unreadOnly: true) { kind title subjectId read } }").data[
        "notifications"
    ]
    assert notes == [
        {
            "kind": "contacts.assigned",
            "title": "You now manage Handed Over",
            "subjectId": c["id"],
            "read": False,
        }
    ]
    assert rep2("mutation { markNotificationsRead }").data == {"markNotificationsRead": 1}
    assert rep2("{ notifications(unreadOnly: true) { kind } }").data["notifications"] == []


def test_lists_up_to_the_page_cap_take_constant_statements(as_, gateway, demo, sql_log):
    from plugins.contacts.models import Contact, ContactEmail, ContactTagLink, CustomValue
    from plugins.contacts.services import refresh_search

    tenant = demo["demo"]
    with gateway.db.transaction() as s:
        from sqlalchemy import select

        from plugins.contacts.models import CustomField, Tag

        tag = s.scalar(select(Tag).where(Tag.tenant_id == tenant.id, Tag.name == "customer"))
        field = s.scalar(
            select(CustomField).where(
                CustomField.tenant_id == tenant.id, CustomField.key == "industry"
            )
        )
        owners = [
            tenant.users[e].id for e in ("rep1@demo.test", "rep2@demo.test", "manager@demo.test")
        ]
        for i in range(520):  # more than the 500-row page cap
            c = Contact(
                tenant_id=tenant.id,
                kind="PERSON",
                first_name=f"Bulk{i:03d}",
                last_name="Person",
                owner_id=owners[i % 3],
                access="PRIVATE" if i % 4 else "PUBLIC_READ",
            )
            c.emails = [ContactEmail(tenant_id=tenant.id, address=f"bulk{i}@example.com")]
            c.tag_links = [ContactTagLink(tag=tag, tenant_id=tenant.id)]
            c.custom_values = [CustomValue(field=field, tenant_id=tenant.id, value_text="Food")]
            c.phones = []
            s.add(c)
            refresh_search(c)
    query = """query($n: Int) { contacts(first: $n, search: "bulk") { totalCount edges { node {
        id displayName email owner { email displayName } tags { name } customFields { key value } } } } }"""
    counts = {}
    manager = as_("manager")
    # one request first: plan probes (gateway.access.narrowing) run once a minute per user
    manager(query, {"n": 1})
    for size in (10, 100, 200, 500):
        with sql_log:
            r = manager(query, {"n": size})
        assert r.errors == []
        assert len(r.data["contacts"]["edges"]) == size
        counts[size] = len(sql_log.statements)
    # 500: the page plus the row that says there is a next one, and their relations, still in
    # one statement per relation (pagination.BATCH)
    assert counts[10] == counts[100] == counts[200] == counts[500], counts


def test_nested_company_owners_take_constant_statements(as_, gateway, demo, sql_log):
    from plugins.contacts.models import Contact

    tenant = demo["demo"]
    reps = [
        tenant.users[e].id
        for e in ("rep1@demo.test", "rep2@demo.test", "manager@demo.test", "director@demo.test")
    ]
    with gateway.db.transaction() as s:
        companies = [
            Contact(
                tenant_id=tenant.id,
                kind="COMPANY",
                company_name=f"Co{i}",
                sort_name=f"co{i}",
                owner_id=reps[i % 4],
                search_text=f"co{i}",
            )
            for i in range(40)
        ]
        s.add_all(companies)
        s.flush()
        s.add_all(
            Contact(
                tenant_id=tenant.id,
                kind="PERSON",
                first_name=f"Emp{i:03d}",
                sort_name=f"emp{i:03d}",
                owner_id=reps[0],
                company_id=companies[i % 40].id,
                search_text=f"emp{i:03d}",
            )
            for i in range(200)
        )
    director = as_("director")
    query = """query($n: Int) { contacts(first: $n, search: "emp") { edges { node {
        displayName owner { email } company { displayName owner { email } } } } } }"""
    counts = {}
    # one request first: plan probes (gateway.access.narrowing) run once a minute per user
    director(query, {"n": 1})
    for size in (10, 150):
        with sql_log:
            assert director(query, {"n": size}).errors == []
        counts[size] = len(sql_log.statements)
    assert counts[10] == counts[150], counts


def test_filters_and_orders_on_hidden_fields_are_refused(as_):
    """Matches, order and cursors would reveal what a field rule hides."""
    admin = as_("admin")
    profiles = admin("{ profiles { id name } }").data["profiles"]
    rep_profile = next(p["id"] for p in profiles if p["name"] == "Sales rep")
    r = admin(
        """mutation($id: ID!) { updateProfile(id: $id, input: {fieldRules: [
        {typeName: "Contact", fieldName: "source", mode: HIDDEN},
        {typeName: "Contact", fieldName: "createdAt", mode: HIDDEN}]}) {
        errors { code message } } }""",
        {"id": rep_profile},
    )
    assert r.data["updateProfile"]["errors"] == []
    rep1 = as_("rep1")
    for variables, field in (
        ({"f": {"source": "web"}}, "Contact.source"),
        ({"o": {"field": "CREATED_AT"}}, "Contact.createdAt"),
        ({"f": {"createdAfter": "2020-01-01T00:00:00+00:00"}}, "Contact.createdAt"),
    ):
        refused = rep1(LIST, variables)
        assert refused.codes == ["FORBIDDEN"], (variables, refused.errors)
        assert refused.errors[0]["extensions"]["fields"] == [field]
    # what the rules leave visible still filters and sorts
    fine = rep1(LIST, {"f": {"zone": "north"}, "o": {"field": "UPDATED_AT"}})
    assert fine.errors == []
    # profiles without the rules are unaffected
    assert as_("manager")(LIST, {"f": {"source": "web"}, "o": {"field": "CREATED_AT"}}).errors == []
