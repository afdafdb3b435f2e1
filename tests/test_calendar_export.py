"""Tasks on the export path, field rules on the default filter, and who may delete a task
(issue 15: exports are an access path; A6), on both engines.

- `exportTasks` holds exactly the rows `tasks` lists for the caller (visibility in SQL, the
  list's filters) and leaves out the columns their field rules hide; a related record
  prints only while visible; it takes the same number of statements for any row count.
- A profile whose rules hide `Task.status` lists every status by default (the default
  "open only" would tell them each listed task is open); an explicit status filter, `due:
  OVERDUE` and `overdue` stay refused.
- Deleting needs `calendar.task.delete` on the one delete path (`deleteTask`), for
  whoever may otherwise change the task."""

from __future__ import annotations

import base64
import io

import openpyxl

CREATE = """mutation($i: CreateTaskInput!) { createTask(input: $i) {
  task { id } errors { code field } } }"""
COMPLETE = """mutation($id: ID!) { completeTask(id: $id) { errors { code } } }"""
DELETE = """mutation($id: ID!) { deleteTask(id: $id) { deletedId errors { code } } }"""
EXPORT = """query($f: TaskFilterInput) { exportTasks(filter: $f) {
  filename mimeType contentBase64 } }"""
LIST = """query($f: TaskFilterInput) { tasks(first: 100, filter: $f) {
  totalCount edges { node { title } } } }"""
CONTACT = """mutation($i: CreateContactInput!) { createContact(input: $i) { contact { id } } }"""
RULES = """mutation($id: ID!, $rules: [FieldRuleInput!]!) {
  updateProfile(id: $id, input: {fieldRules: $rules}) { errors { code message } } }"""


def _task(client, title, **given):
    r = client(CREATE, {"i": {"title": title, "deadline": "2026-06-01T09:00:00Z", **given}})
    assert r.errors == [] and r.data["createTask"]["errors"] == [], r.body
    return r.data["createTask"]["task"]["id"]


def _rules(admin, profile_name, rules):
    profiles = admin("{ profiles { id name } }").data["profiles"]
    profile = next(p["id"] for p in profiles if p["name"] == profile_name)
    r = admin(
        RULES,
        {"id": profile, "rules": [{"typeName": t, "fieldName": f, "mode": m} for t, f, m in rules]},
    )
    assert r.errors == [] and r.data["updateProfile"]["errors"] == [], r.body


def _sheet(client, flt=None):
    r = client(EXPORT, {"f": flt})
    assert r.errors == [], r.body
    assert r.data["exportTasks"]["filename"] == "tasks.xlsx"
    book = openpyxl.load_workbook(
        io.BytesIO(base64.b64decode(r.data["exportTasks"]["contentBase64"]))
    )
    rows = list(book["Tasks"].iter_rows(values_only=True))
    header = list(rows[0])
    return header, [dict(zip(header, row, strict=True)) for row in rows[1:]]


def _titles(client, flt=None):
    r = client(LIST, {"f": flt})
    assert r.errors == [], r.body
    return sorted(e["node"]["title"] for e in r.data["tasks"]["edges"])


def test_the_export_holds_what_the_list_shows(as_):
    rep1, rep2 = as_("rep1"), as_("rep2")
    contact = rep1(CONTACT, {"i": {"kind": "COMPANY", "companyName": "Rita's client"}}).data[
        "createContact"
    ]["contact"]["id"]
    _task(rep1, "Mine", contactId=contact, description="Bring samples")
    _task(rep1, "Public about my client", contactId=contact, access="PUBLIC_READ")
    done = _task(rep1, "Done one")
    rep1(COMPLETE, {"id": done})
    _task(rep2, "Rob's private")
    header, rows = _sheet(rep1)
    assert {"Title", "Description", "Contact", "Deadline (UTC)", "Responsible", "Status"} <= set(
        header
    )
    assert sorted(r["Title"] for r in rows) == _titles(rep1)
    mine = next(r for r in rows if r["Title"] == "Mine")
    assert mine["Contact"] == "Rita's client" and mine["Description"] == "Bring samples"
    assert mine["Responsible"] == "rep1@demo.test" and mine["Status"] == "OPEN"
    assert "Done one" not in [r["Title"] for r in rows]
    _, every = _sheet(rep1, {"includeCompleted": True})
    assert sorted(r["Title"] for r in every) == _titles(rep1, {"includeCompleted": True})
    # rep2 sees rep1's public task but not rep1's client: the contact cell stays blank
    _, theirs = _sheet(rep2)
    public = next(r for r in theirs if r["Title"] == "Public about my client")
    assert public["Contact"] in (None, "")
    assert "Mine" not in [r["Title"] for r in theirs]
    assert sorted(r["Title"] for r in theirs) == _titles(rep2)


def test_the_export_needs_its_permission_and_follows_field_rules(as_):
    admin, rep1, assistant = as_("admin"), as_("rep1"), as_("assistant")
    _task(rep1, "Secret notes", description="Margin 40 %", deadline="2026-09-01T09:00:00Z")
    _task(rep1, "Earlier, created later", deadline="2026-01-01T09:00:00Z")
    assert assistant(EXPORT, {"f": None}).codes == ["FORBIDDEN"]
    _rules(admin, "Sales rep", [("Task", "description", "HIDDEN"), ("Task", "deadline", "HIDDEN")])
    header, rows = _sheet(rep1)
    assert "Description" not in header and "Deadline (UTC)" not in header
    assert "Margin 40 %" not in [v for r in rows for v in r.values()]
    # with the deadline hidden the rows come by creation, not by the hidden deadline
    titles = [r["Title"] for r in rows]
    assert titles.index("Secret notes") < titles.index("Earlier, created later")
    # filtering the export on a hidden field is refused, as for the list
    r = rep1(EXPORT, {"f": {"from": "2026-01-01T00:00:00Z"}})
    assert r.codes == ["FORBIDDEN"]


def test_the_export_takes_the_same_statements_for_any_row_count(as_, sql_log):
    manager = as_("manager")
    contact = manager(CONTACT, {"i": {"kind": "COMPANY", "companyName": "Budget client"}}).data[
        "createContact"
    ]["contact"]["id"]
    _sheet(manager)  # plan probes and category seeding out of the way
    counts = []
    for n in (1, 6):
        for i in range(n):
            _task(manager, f"Batch {n}-{i}", contactId=contact)
        with sql_log:
            _, rows = _sheet(manager, {"contactId": contact})
        assert len(rows) in (1, 7)
        counts.append(len(sql_log.statements))
    assert counts[0] == counts[1], counts


def test_a_hidden_status_lists_every_status_by_default(as_):
    admin, rep1 = as_("admin"), as_("rep1")
    _task(rep1, "Open one")
    done = _task(rep1, "Closed one")
    rep1(COMPLETE, {"id": done})
    assert "Closed one" not in _titles(rep1)  # before the rule: open only
    _rules(admin, "Sales rep", [("Task", "status", "HIDDEN")])
    listed = _titles(rep1)
    assert {"Open one", "Closed one"} <= set(listed)  # the list no longer tells the status
    assert listed == _titles(rep1, {"includeCompleted": True})
    assert _titles(rep1, {"due": "THIS_WEEK"}) is not None  # deadline only: allowed
    for flt in ({"status": "OPEN"}, {"overdue": True}, {"due": "OVERDUE"}):
        assert rep1(LIST, {"f": flt}).codes == ["FORBIDDEN"], flt
    assert rep1("{ tasks { edges { node { overdue } } } }").codes == ["FORBIDDEN"]
    assert rep1("{ taskCounts { status count } }").codes == ["FORBIDDEN"]
    _, rows = _sheet(rep1)
    assert {"Open one", "Closed one"} <= {r["Title"] for r in rows}
    assert "Status" not in rows[0]
    # other profiles keep the default
    assert "Closed one" not in _titles(as_("manager"))


def test_deleting_needs_the_delete_permission_whoever_may_change_it(as_):
    """The one delete path: a manager (delete permission, above the rep) deletes the rep's
    task; the back office (structural, may change every task) may not; a rep may not
    delete a task they only read; an assistant (no delete permission) may not delete the
    task of the rep they serve although they may change it."""
    rep1, rep2, manager = as_("rep1"), as_("rep2"), as_("manager")
    backoffice, assistant = as_("backoffice"), as_("assistant")
    task = _task(rep1, "Served")
    public = _task(rep1, "Readable", access="PUBLIC_READ")
    assert rep2(DELETE, {"id": public}).data["deleteTask"]["errors"][0]["code"] == "FORBIDDEN"
    r = assistant(
        """mutation($id: ID!) { updateTask(id: $id, input: {title: "Served!"}) {
      errors { code } } }""",
        {"id": task},
    )
    assert r.data["updateTask"]["errors"] == [], r.body
    assert assistant(DELETE, {"id": task}).data["deleteTask"]["errors"][0]["code"] == "FORBIDDEN"
    assert backoffice(DELETE, {"id": task}).data["deleteTask"]["errors"][0]["code"] == "FORBIDDEN"
    assert _titles(rep1).count("Served!") == 1
    r = manager(DELETE, {"id": task})
    assert r.data["deleteTask"] == {"deletedId": task, "errors": []}
    assert "Served!" not in _titles(rep1)
    assert rep1(DELETE, {"id": public}).data["deleteTask"]["errors"] == []
