"""Issue 12 item 1: search matches only the text the caller may read on records the caller
may see. A related record's text (a person's company's name) counts only while that record
is visible; a field the caller's profile hides is not searched — on the list, its count,
the export, and both the pre-shaped and the general list paths."""

from __future__ import annotations

import base64
import io
import os

import openpyxl
import pytest
import sqlalchemy as sa
from alembic import command

from gateway import migrate
from gateway.access.reads import full_access_fields, unreadable_fields
from gateway.db import Database
from gateway.graphql.context import RequestContext
from gateway.identity.models import ProfileKind
from gateway.identity.services import Caller
from gateway.testing import temporary_database
from plugins.contacts.validation import fold
from tests.test_contacts import create

#: Sorted by date: a profile hiding a name field may not sort by name.
SEARCH = """query($s: String!) { contacts(first: 100, search: $s, orderBy: {field: CREATED_AT}) {
  totalCount edges { node { id } } } }"""
#: A selection the pre-shaped path cannot answer (it does not shape custom fields), so the
#: general path runs the same search.
SEARCH_GENERAL = """query($s: String!) {
  contacts(first: 100, search: $s, orderBy: {field: CREATED_AT}) {
  totalCount edges { node { id customFields { key } } } } }"""
RULES = """mutation($id: ID!, $rules: [FieldRuleInput!]!) {
  updateProfile(id: $id, input: {fieldRules: $rules}) { errors { code message } } }"""
SHARE = """mutation($r: ID!, $u: ID!) { shareRecord(recordId: $r, userId: $u) {
  errors { code message } } }"""
RENAME = """mutation($id: ID!, $n: String!) { updateContact(id: $id, input: {companyName: $n}) {
  errors { code message } } }"""


def found(client, text: str) -> set[str]:
    """The names a search finds, checked equal on both list paths and in the count. The
    search selects ids only (a profile hiding a name field may not read ``displayName``,
    derived from it); the names come from the tenant's administrator."""
    admin = client.__class__(client.http).login("admin@demo.test")
    everyone = admin("{ contacts(first: 500) { edges { node { id displayName } } } }")
    name_of = {
        e["node"]["id"]: e["node"]["displayName"] for e in everyone.data["contacts"]["edges"]
    }
    results = []
    for query in (SEARCH, SEARCH_GENERAL):
        r = client(query, {"s": text})
        assert r.errors == [], r.errors
        page = r.data["contacts"]
        names = {name_of[e["node"]["id"]] for e in page["edges"]}
        assert page["totalCount"] == len(names)
        results.append(names)
    assert results[0] == results[1]
    return results[0]


def exported_names(client, text: str) -> set[str]:
    r = client("query($s: String) { exportContacts(search: $s) { contentBase64 } }", {"s": text})
    assert r.errors == [], r.errors
    book = openpyxl.load_workbook(
        io.BytesIO(base64.b64decode(r.data["exportContacts"]["contentBase64"]))
    )
    return {row[1] for row in book["Contacts"].iter_rows(min_row=2, values_only=True)}


def hide(as_, *fields: str, type_name: str = "Contact", profile: str = "Sales rep") -> None:
    admin = as_("admin")
    profiles = admin("{ profiles { id name } }").data["profiles"]
    profile_id = next(p["id"] for p in profiles if p["name"] == profile)
    rules = [{"typeName": type_name, "fieldName": f, "mode": "HIDDEN"} for f in fields]
    r = admin(RULES, {"id": profile_id, "rules": rules})
    assert r.errors == [] and r.data["updateProfile"]["errors"] == [], r.body


@pytest.fixture
def hidden_company(as_):
    """rep1's private company and a public employee of it (rep2 sees only the employee)."""
    rep1 = as_("rep1")
    company = create(rep1, kind="COMPANY", companyName="Zephyrine Quartz GmbH")
    person = create(
        rep1, firstName="Pat", lastName="Employee", companyId=company["id"], access="PUBLIC_READ"
    )
    return company, person


def test_a_hidden_company_name_finds_nothing_letter_by_letter(as_, hidden_company):
    rep2 = as_("rep2")
    assert "Pat Employee" in found(rep2, "employee")  # the person is visible to rep2
    for text in ("z", "ze", "zeph", "zephyrine", "zephyrine quartz", "quartz gmbh", "gmbh"):
        assert found(rep2, text) == set(), text
    assert exported_names(rep2, "zephyrine") == set()
    # whoever sees the company finds the person through it
    for user in ("rep1", "manager", "director", "assistant", "backoffice", "admin"):
        assert found(as_(user), "zephyrine quartz") == {"Zephyrine Quartz GmbH", "Pat Employee"}
    assert exported_names(as_("manager"), "zephyrine") == {
        "Zephyrine Quartz GmbH",
        "Pat Employee",
    }


def test_the_company_name_matches_once_the_company_becomes_visible(as_, hidden_company):
    company, _ = hidden_company
    rep1, rep2 = as_("rep1"), as_("rep2")
    assert found(rep2, "zephyrine") == set()
    rep2_id = rep2("{ me { user { id } } }").data["me"]["user"]["id"]
    r = rep1(SHARE, {"r": company["id"], "u": rep2_id})
    assert r.data["shareRecord"]["errors"] == [], r.body
    assert found(as_("rep2"), "zephyrine") == {"Zephyrine Quartz GmbH", "Pat Employee"}


def test_a_renamed_company_is_found_by_its_new_name_only(as_, hidden_company):
    company, _ = hidden_company
    rep1 = as_("rep1")
    r = rep1(RENAME, {"id": company["id"], "n": "Borealis Tin SA"})
    assert r.data["updateContact"]["errors"] == [], r.body
    assert found(rep1, "borealis") == {"Borealis Tin SA", "Pat Employee"}
    assert found(rep1, "zephyrine") == set()


def test_every_word_may_match_a_different_readable_field(as_, hidden_company):
    rep1 = as_("rep1")
    assert found(rep1, "pat zephyrine") == {"Pat Employee"}  # own name + company's name
    assert found(as_("rep2"), "pat zephyrine") == set()


#: (hidden fields, a search that finds a contact rep1 sees only through them, what it finds
#: once they are hidden)
HIDDEN_CASES = [
    (("email",), "lucia@iberialog", set()),
    (("emails",), "lucia@iberialog", set()),
    (("phone",), "600 100 200", set()),
    (("phones",), "600100200", set()),
    (("fiscalId",), "b12345674", set()),
    (("tags",), "lead-2026", set()),
    (("firstName",), "hannah", set()),
    (("lastName",), "fernandez", set()),
    (("companyName",), "iberia logistics", set()),
    # the link to the company would reveal the company's name; the company itself still
    # matches by its own name
    (("company",), "iberia logistics", {"Iberia Logistics S.L."}),
]


@pytest.mark.parametrize(("fields", "text", "expected"), HIDDEN_CASES)
def test_fields_the_profile_hides_are_not_searched(as_, fields, text, expected):
    before = found(as_("rep1"), text)
    assert before - expected, text  # something is found only through the field
    manager_before = found(as_("manager"), text)
    hide(as_, *fields)
    rep1 = as_("rep1")
    assert found(rep1, text) == expected, fields
    assert exported_names(rep1, text) == expected
    assert found(rep1, "") >= before  # the contacts themselves are still listed
    assert found(as_("manager"), text) == manager_before  # other profiles are unaffected


def test_readable_fields_still_search_when_others_are_hidden(as_):
    hide(as_, "email", "phone", "fiscalId", "tags")
    rep1 = as_("rep1")
    assert found(rep1, "lucia fernandez") == {"Lucía Fernández"}
    assert found(rep1, "iberia") == {"Iberia Logistics S.L.", "Lucía Fernández"}
    assert found(rep1, "lucia iberialog") == set()  # the second word only in an email


def test_a_profile_that_hides_every_searched_field_finds_nothing(as_):
    hide(
        as_,
        "firstName",
        "lastName",
        "companyName",
        "displayName",
        "email",
        "phone",
        "fiscalId",
        "tags",
        "company",
    )
    rep1 = as_("rep1")
    r = rep1(
        """query($s: String!) { contacts(first: 10, search: $s, orderBy: {field: CREATED_AT}) {
        totalCount edges { node { id } } } }""",
        {"s": "lucia"},
    )
    assert r.errors == [], r.errors
    assert r.data["contacts"]["totalCount"] == 0
    # an empty search still lists every visible contact
    r = rep1("{ contacts(first: 10, orderBy: {field: CREATED_AT}) { totalCount } }")
    assert r.data["contacts"]["totalCount"] > 0


def test_like_wildcards_in_a_search_are_plain_characters(as_):
    rep1 = as_("rep1")
    create(rep1, firstName="Percent", lastName="Sign")
    for text in ("%", "_", "%ent", "p_rcent"):
        assert found(rep1, text) == set(), text
        for query in (
            "query($s: String) { leads(filter: {search: $s}) { totalCount } }",
            "query($s: String) { opportunities(filter: {search: $s}) { totalCount } }",
            "query($s: String) { invoices(filter: {search: $s}) { totalCount } }",
        ):
            r = as_("manager")(query, {"s": text})
            assert r.errors == [], r.errors
            assert next(iter(r.data.values()))["totalCount"] == 0, (query, text)


@pytest.mark.parametrize(
    ("profile", "user", "rule", "query"),
    [
        (
            "Sales rep",
            "rep1",
            ("Contact", "source"),
            '{ exportContacts(filter: {source: "web"}) { contentBase64 } }',
        ),
        (
            "Sales manager",
            "manager",
            ("Invoice", "orderNumber"),
            '{ exportInvoices(filter: {search: "PO"}) { contentBase64 } }',
        ),
        (
            "Sales rep",
            "rep1",
            ("Opportunity", "title"),
            '{ pipeline(filter: {search: "deal"}) { stages { count } } }',
        ),
        (
            "Sales rep",
            "rep1",
            ("Opportunity", "responsible"),
            "{ pipeline(filter: {mine: true}) { stages { count } } }",
        ),
    ],
)
def test_exports_and_aggregates_refuse_filters_on_hidden_fields(as_, profile, user, rule, query):
    """Exports and the pipeline take the lists' filters, so they refuse the same hidden ones:
    which rows they count or export would reveal the hidden values."""
    assert as_(user)(query).errors == []
    type_name, field = rule
    hide(as_, field, type_name=type_name, profile=profile)
    refused = as_(user)(query)
    assert refused.codes == ["FORBIDDEN"], refused.errors
    assert refused.errors[0]["extensions"]["fields"] == [f"{type_name}.{field}"]
    assert as_("director")(query).errors == []  # other profiles are unaffected


def test_unreadable_fields_cover_rules_and_required_permissions(gateway, demo, as_):
    """What search leaves out: fields a rule hides, and fields whose ``@requires``
    permission the profile lacks (the test plugin's ``Note.secret``)."""
    hide(as_, "email")
    tenant = demo["demo"]

    def context(email: str, kind: ProfileKind) -> RequestContext:
        user = tenant.users[email]
        caller = Caller(user.id, tenant.id, tenant.slug, user.profile_id, kind, session_id=0)
        return RequestContext(
            gateway=gateway, caller=caller, enabled_modules=frozenset(gateway.registry.plugins)
        )

    rep, admin = (
        context("rep1@demo.test", ProfileKind.HIERARCHICAL),
        context("admin@demo.test", ProfileKind.ADMINISTRATOR),
    )
    try:
        # effective rules: ``emails`` shows what ``email`` does (see @derivedFrom)
        assert unreadable_fields(rep, "Contact", {"email", "emails", "phone"}) == {
            "email",
            "emails",
        }
        assert unreadable_fields(rep, "Note", {"secret", "title"}) == {"secret"}
        assert unreadable_fields(admin, "Note", {"secret", "title"}) == frozenset()
        assert full_access_fields(rep, "Contact", {"discount", "email"}) == {"discount"}
    finally:
        rep.close()
        admin.close()


#: Rows as contacts_0002 stored them: a company, and a person of it whose combined search
#: text holds the company's name.
OLD_ROWS = [
    "INSERT INTO tenants (slug, name, created_at, language, timezone, legal_name, fiscal_id, "
    "address, phone) VALUES ('t', 'T', CURRENT_TIMESTAMP, 'en', 'UTC', '', '', '', '')",
    *(
        "INSERT INTO contacts (tenant_id, kind, first_name, last_name, company_name, company_id, "
        "currency, website, street, city, region, postal_code, country, fiscal_id, source, "
        "segment, zone, description, access, created_at, updated_at, sort_name, search_text) "
        f"SELECT id, {values}, 'EUR', '', '', '', '', '', '', {fiscal}, '', '', '', '', "
        "'PRIVATE', CURRENT_TIMESTAMP, CURRENT_TIMESTAMP, '', "
        f"{old} FROM tenants"
        for values, fiscal, old in (
            ("'COMPANY', '', '', 'Zéphyr SA', NULL", "'B1'", "'zephyr sa b1'"),
            (
                "'PERSON', 'Ána', 'Pé', '', (SELECT min(id) FROM contacts)",
                "''",
                "'ana pe zephyr sa'",
            ),
        )
    ),
    "INSERT INTO contact_emails (tenant_id, contact_id, kind, address, position) "
    "SELECT tenant_id, max(id), 'WORK', 'Ana@X.example', 0 FROM contacts GROUP BY tenant_id",
    "INSERT INTO contact_phones (tenant_id, contact_id, kind, number, digits, position) "
    "SELECT tenant_id, max(id), 'WORK', '+34 600', '34600', 0 FROM contacts GROUP BY tenant_id",
    "INSERT INTO contact_tags (tenant_id, name, restricted) SELECT id, 'VIP', false FROM tenants",
    "INSERT INTO contact_tag_links (contact_id, tag_id, tenant_id) "
    "SELECT (SELECT max(id) FROM contacts), id, tenant_id FROM contact_tags",
]
SEARCH_COLUMNS = (
    "search_text",
    "search_first_name",
    "search_last_name",
    "search_company_name",
    "search_emails",
    "search_phones",
    "search_fiscal_id",
    "search_tags",
)


def test_the_migration_recomputes_the_search_columns(tmp_path, registry):
    """contacts_0003 on existing rows: the per-field columns filled, the company's name out
    of the persons' combined text; and back down again."""
    with temporary_database(tmp_path, os.environ.get("TEST_DATABASE_URL")) as url:
        db = Database(url)
        config = migrate.alembic_config(registry)
        try:
            migrate.upgrade(db.engine, registry)
            with db.engine.begin() as conn:
                config.attributes["connection"] = conn
                command.downgrade(config, "contacts_0002")
            with db.engine.begin() as conn:
                for statement in OLD_ROWS:
                    conn.execute(sa.text(statement))
            migrate.upgrade(db.engine, registry)
            with db.engine.connect() as conn:
                rows = conn.execute(
                    sa.text(f"SELECT {', '.join(SEARCH_COLUMNS)} FROM contacts ORDER BY id")
                ).all()
            assert [tuple(r) for r in rows] == [
                ("zephyr sa b1", "", "", "zephyr sa", "", "", "b1", ""),
                (
                    *("ana pe ana@x.example +34 600 34600 vip", "ana", "pe", ""),
                    *("ana@x.example", "+34 600 34600", "", "vip"),
                ),
            ]
            with db.engine.begin() as conn:
                config.attributes["connection"] = conn
                command.downgrade(config, "contacts_0002")
            migrate.upgrade(db.engine, registry)
            assert migrate.pending(db.engine, registry) == set()
        finally:
            db.engine.dispose()


#: What the oracle reads of each visible contact, by the field it needs.
ORACLE_FIELDS = {
    "firstName": "firstName",
    "lastName": "lastName",
    "companyName": "companyName",
    "emails": "emails { address }",
    "phones": "phones { number }",
    "fiscalId": "fiscalId",
    "tags": "tags { name }",
    "company": "company { companyName }",
}
WORDS = [
    "iberia",
    "lucia",
    "nordic",
    "atlantic",
    "zephyrine",
    "600",
    "vip",
    "b1234",
    "example",
    "a",
    "pat zephyrine",
    "ana sousa",
]


def _oracle(client, hidden: set[str]) -> dict[str, list[str]]:
    """Each visible contact's readable text, read through the typed fields."""
    selection = " ".join(v for k, v in ORACLE_FIELDS.items() if k not in hidden)
    r = client(
        f"{{ contacts(first: 500, orderBy: {{field: CREATED_AT}}) {{ edges {{ node {{ "
        f"id {selection} }} }} }} }}"
    )
    assert r.errors == [], r.errors
    texts = {}
    for edge in r.data["contacts"]["edges"]:
        node = edge["node"]
        parts = [node.get(f) or "" for f in ("firstName", "lastName", "companyName", "fiscalId")]
        parts += [e["address"] for e in node.get("emails", [])]
        for phone in node.get("phones", []):
            parts += [phone["number"], "".join(ch for ch in phone["number"] if ch.isdigit())]
        parts += [t["name"] for t in node.get("tags", [])]
        if node.get("company"):
            parts.append(node["company"]["companyName"])
        texts[node["id"]] = [fold(p) for p in parts if p]
    return texts


@pytest.mark.parametrize("hidden", [(), ("email", "company"), ("lastName", "tags", "phone")])
@pytest.mark.parametrize("user", ["rep1", "rep2", "manager", "assistant", "backoffice"])
def test_search_finds_exactly_what_the_readable_text_matches(as_, hidden_company, user, hidden):
    """For every user and profile: a search finds a contact iff each word appears in a field
    the caller can read on it (or on its company, if the caller sees the company)."""
    if hidden:
        for profile in ("Sales rep", "Sales manager", "Sales assistant", "Back office"):
            hide(as_, *hidden, profile=profile)
    client = as_(user)
    unreadable = set(hidden) | {{"email": "emails", "phone": "phones"}.get(f, f) for f in hidden}
    texts = _oracle(client, unreadable)
    for words in WORDS:
        expected = {
            cid
            for cid, parts in texts.items()
            if all(any(w in p for p in parts) for w in fold(words).split())
        }
        r = client(
            """query($s: String!) { contacts(first: 500, search: $s, orderBy: {field: CREATED_AT})
            { totalCount edges { node { id } } } }""",
            {"s": words},
        )
        assert r.errors == [], r.errors
        assert {e["node"]["id"] for e in r.data["contacts"]["edges"]} == expected, (user, words)
