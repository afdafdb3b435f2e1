"""The audit trail (issue 17 item 2): every change to an access-controlled record — by the
API, a merge, a web form — with who, when, the path and each field's before and after;
readable only by those who see the record, hidden fields masked."""

from __future__ import annotations

import json
import uuid

from tests.test_contact_webforms import form, post  # noqa: F401  (fixture)

HISTORY = """query($id: ID!) { recordHistory(recordId: $id) { totalCount edges { node {
  action via reason user { email } changes { field before after masked } } } } }"""
CREATE = """mutation($i: CreateContactInput!) { createContact(input: $i) { contact { id } } }"""
UPDATE = """mutation($id: ID!, $i: UpdateContactInput!) { updateContact(id: $id, input: $i) {
  errors { code } } }"""
RULES = """mutation($id: ID!, $rules: [FieldRuleInput!]!) {
  updateProfile(id: $id, input: {fieldRules: $rules}) { errors { code message } } }"""


def _history(client, record_id: str) -> list[dict]:
    r = client(HISTORY, {"id": record_id})
    assert r.errors == [], r.errors
    return [e["node"] for e in r.data["recordHistory"]["edges"]]


def _changes(entry: dict) -> dict[str, tuple]:
    return {
        c["field"]: (
            json.loads(c["before"]) if c["before"] else None,
            json.loads(c["after"]) if c["after"] else None,
            c["masked"],
        )
        for c in entry["changes"]
    }


def _contact(client, name: str) -> str:
    r = client(CREATE, {"i": {"kind": "COMPANY", "companyName": name}})
    assert r.errors == [], r.errors
    return r.data["createContact"]["contact"]["id"]


def test_api_changes_are_recorded_with_before_and_after(as_):
    rep1 = as_("rep1")
    name = f"Audited {uuid.uuid4().hex[:6]}"
    contact = _contact(rep1, name)
    assert (
        rep1(UPDATE, {"id": contact, "i": {"zone": "north"}}).data["updateContact"]["errors"] == []
    )
    updated, created = _history(rep1, contact)
    assert (created["action"], created["via"], created["user"]) == (
        "created",
        "api",
        {"email": "rep1@demo.test"},
    )
    assert _changes(created)["companyName"] == (None, name, False)
    assert updated["action"] == "updated"
    assert _changes(updated) == {"zone": ("", "north", False)}


def test_history_is_for_those_who_see_the_record_with_hidden_fields_masked(as_):
    admin, rep1, rep2, manager = as_("admin"), as_("rep1"), as_("rep2"), as_("manager")
    contact = _contact(rep1, f"Masked {uuid.uuid4().hex[:6]}")
    manager(UPDATE, {"id": contact, "i": {"zone": "south"}})
    # rep2 cannot see rep1's private contact: no history either, as if it did not exist
    r = rep2(HISTORY, {"id": contact})
    assert r.codes == ["NOT_FOUND"]
    profiles = admin("{ profiles { id name } }").data["profiles"]
    rep_profile = next(p["id"] for p in profiles if p["name"] == "Sales rep")
    rules = [{"typeName": "Contact", "fieldName": "zone", "mode": "HIDDEN"}]
    assert admin(RULES, {"id": rep_profile, "rules": rules}).data["updateProfile"]["errors"] == []
    latest = _history(rep1, contact)[0]
    assert latest["user"] == {"email": "manager@demo.test"}
    assert _changes(latest)["zone"] == (None, None, True)
    assert _changes(_history(manager, contact)[0])["zone"] == ("", "south", False)


def test_a_merge_and_a_web_form_say_so(as_, app, form):  # noqa: F811
    manager = as_("manager")
    kept = _contact(manager, f"Kept {uuid.uuid4().hex[:6]}")
    gone = _contact(manager, f"Gone {uuid.uuid4().hex[:6]}")
    merge = """mutation($k: ID!, $m: ID!) { mergeContacts(keepId: $k, mergeId: $m, take: ["companyName"])
      { errors { code } } }"""
    assert manager(merge, {"k": kept, "m": gone}).data["mergeContacts"]["errors"] == []
    assert _history(manager, kept)[0]["reason"] == "merge"
    # a web form's contact: the path is the form, and no user made it
    r = post(
        app,
        form,
        origin="https://shop.example",
        json={"lastName": "Formal", "email": "formal@visitor.example"},
    )
    assert r.status_code in (200, 201), r.text
    search = """query($s: String) { contacts(search: $s) { edges { node { id } } } }"""
    rep1 = as_("rep1")
    [edge] = rep1(search, {"s": "formal@visitor.example"}).data["contacts"]["edges"]
    [created] = _history(rep1, edge["node"]["id"])
    assert (created["action"], created["via"], created["user"]) == ("created", "web_form", None)


def test_an_import_is_recorded_as_such(gateway, demo, as_):
    from tests.test_files import upload
    from tests.test_imports_flow import _run, _workbook

    manager = as_("manager")
    name = f"Imported {uuid.uuid4().hex[:6]} SL"
    sent = upload(
        manager, _workbook([[name, None, "imp@example.test", None, "Soria", 5]]), name="a.xlsx"
    )
    job = _run(gateway, manager, sent.json()["id"])
    assert job["status"] == "SUCCEEDED", job
    search = """query($s: String) { contacts(search: $s) { edges { node { id } } } }"""
    [edge] = manager(search, {"s": name}).data["contacts"]["edges"]
    [created] = _history(manager, edge["node"]["id"])
    assert (created["action"], created["via"], created["user"]) == (
        "created",
        "import",
        {"email": "manager@demo.test"},
    )
    assert _changes(created)["companyName"] == (None, name, False)


LOG = """query($f: AuditLogFilter) { auditLog(first: 100, filter: $f) { totalCount edges { node {
  action target details user { email } clientAddress } } } }"""


def _log(client, **flt) -> list[dict]:
    r = client(LOG, {"f": flt or None})
    assert r.errors == [], r.errors
    return [e["node"] for e in r.data["auditLog"]["edges"]]


def test_the_organisation_log_records_admin_actions_sign_ins_and_exports(demo, as_, gql):
    admin, rep1 = as_("admin"), as_("rep1")
    # a failed and a successful sign-in, a profile change, a module switch, an export
    failed = gql(
        'mutation { login(email: "rep2@demo.test", password: "wrong-password") { errors { code } } }'
    )
    assert failed.data["login"]["errors"]
    _hide = [{"typeName": "Contact", "fieldName": "zone", "mode": "HIDDEN"}]
    profiles = admin("{ profiles { id name } }").data["profiles"]
    rep_profile = next(p["id"] for p in profiles if p["name"] == "Sales rep")
    admin(RULES, {"id": rep_profile, "rules": _hide})
    admin('mutation { setModuleEnabled(name: "calendar", enabled: false) { errors { code } } }')
    rep1("{ exportContacts { filename } }")
    entries = _log(admin)
    actions = [e["action"] for e in entries]
    for expected in (
        "auth.sign_in",
        "auth.sign_in_failed",
        "access.profile_updated",
        "modules.disabled",
        "data.exported",
    ):
        assert expected in actions, (expected, actions)
    failure = next(e for e in entries if e["action"] == "auth.sign_in_failed")
    assert failure["target"] == "rep2@demo.test"
    updated = next(e for e in entries if e["action"] == "access.profile_updated")
    assert updated["target"] == "Sales rep" and "Contact.zone: hidden" in updated["details"]
    assert updated["user"] == {"email": "admin@demo.test"}
    exported = next(e for e in entries if e["action"] == "data.exported")
    assert exported["user"] == {"email": "rep1@demo.test"} and exported["target"] == "contacts.xlsx"
    # filters by area; another organisation's log holds none of it; reps may not read it
    assert {e["action"] for e in _log(admin, actions=["auth."])} <= {
        "auth.sign_in",
        "auth.sign_in_failed",
    }
    assert all(e["target"] != "Sales rep" for e in _log(as_("admin@acme.test")))
    assert rep1(LOG, {"f": None}).codes == ["FORBIDDEN"]


def test_the_log_exports_as_xlsx_and_csv(demo, as_):
    import base64
    import csv
    import io

    import openpyxl

    admin = as_("admin")
    export = """query($f: AuditExportFormat!) { exportAuditLog(format: $f) {
      filename mimeType contentBase64 } }"""
    xlsx = admin(export, {"f": "XLSX"}).data["exportAuditLog"]
    book = openpyxl.load_workbook(io.BytesIO(base64.b64decode(xlsx["contentBase64"])))
    rows = list(book.active.iter_rows(values_only=True))
    assert rows[0][:3] == ("When (UTC)", "User", "Action")
    assert any(r[2] == "auth.sign_in" and r[1] == "admin@demo.test" for r in rows[1:])
    text = base64.b64decode(admin(export, {"f": "CSV"}).data["exportAuditLog"]["contentBase64"])
    parsed = list(csv.reader(io.StringIO(text.decode())))
    assert parsed[0][2] == "Action" and len(parsed) >= len(rows)  # the first export is logged
    assert _log(admin, actions=["data.exported"])[0]["target"] == "audit-log.csv"


def test_retention_purges_old_entries(gateway, demo, as_):
    from datetime import timedelta

    from sqlalchemy import func, select, update

    from gateway.audit.models import AdminEvent
    from gateway.audit.purge import purge_expired
    from gateway.db import utcnow

    admin = as_("admin")
    r = admin(
        "mutation { updateOrganization(input: {auditRetentionDays: 10}) { errors { field } } }"
    )
    assert r.data["updateOrganization"]["errors"] == [{"field": "auditRetentionDays"}]
    r = admin(
        "mutation { updateOrganization(input: {auditRetentionDays: 30}) { errors { field } } }"
    )
    assert r.data["updateOrganization"]["errors"] == []
    demo_id = demo["demo"].id
    with gateway.db.transaction() as s:
        s.execute(update(AdminEvent).values(at=utcnow() - timedelta(days=31)))
        others = s.scalar(
            select(func.count()).select_from(AdminEvent).where(AdminEvent.tenant_id != demo_id)
        )
    with gateway.db.transaction() as s:
        assert purge_expired(s) > 0
    with gateway.db.reading() as s:
        grouped = s.execute(
            select(AdminEvent.tenant_id, func.count()).group_by(AdminEvent.tenant_id)
        )
        left = {tenant_id: n for tenant_id, n in grouped}
    assert demo_id not in left  # 30 days kept: all gone
    assert sum(left.values()) == others  # the other organisation keeps two years


def test_a_claimed_lead_records_its_new_owner(as_):
    """A claim is a guarded UPDATE statement the flush never sees: recorded explicitly."""
    from tests.test_leads import CLAIM, new_lead

    pool = new_lead(as_("manager"), name="Audited pool lead", unmanaged=True)
    rep1 = as_("rep1")
    assert rep1(CLAIM, {"id": pool["id"]}).data["claimLead"]["errors"] == []
    latest = _history(rep1, pool["id"])[0]
    assert (latest["action"], latest["user"]) == ("updated", {"email": "rep1@demo.test"})
    owner_before, owner_after, _ = _changes(latest)["owner"]
    assert owner_before is None and owner_after is not None
    assert _changes(latest)["status"][:2] == ("UNMANAGED", "IN_PROGRESS")


def test_a_merge_records_the_records_it_moves_to_the_kept_contact(as_):
    """A merge re-links the merged contact's invoices and opportunities with plain UPDATEs
    (the flush never sees them): each moved record's history says so."""
    from tests.test_calendar_history import _invoice, _opportunity

    admin = as_("admin")
    kept = _contact(admin, f"Kept {uuid.uuid4().hex[:6]}")
    gone = _contact(admin, f"Gone {uuid.uuid4().hex[:6]}")
    moved = [_invoice(admin, gone), _opportunity(admin, gone)[0]]
    merge = """mutation($k: ID!, $m: ID!) { mergeContacts(keepId: $k, mergeId: $m)
      { errors { code } } }"""
    assert admin(merge, {"k": kept, "m": gone}).data["mergeContacts"]["errors"] == []
    for record in moved:
        latest = _history(admin, record)[0]
        assert (latest["action"], latest["reason"], latest["user"]) == (
            "updated",
            "merge",
            {"email": "admin@demo.test"},
        ), record
        [(field, (before, after, masked))] = [
            (f, c) for f, c in _changes(latest).items() if "contact" in f.lower()
        ][:1]
        assert not masked and before != after, (record, field)
