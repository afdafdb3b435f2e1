"""The task multi-select of a reassignment (M8, `taskIds`) on both engines: only the chosen
tasks move, within the other filters; an id the caller may not see is NOT_FOUND and one they
may see but not change is FORBIDDEN, on `taskIds`, in the preview and before the job is
queued."""

from __future__ import annotations

from gateway.jobs import run_pending

CREATE = """mutation($i: CreateTaskInput!) { createTask(input: $i) {
  task { id } errors { code field } } }"""
PREVIEW = """query($i: ReassignTasksInput!) { reassignTasksPreview(input: $i) { tasks } }"""
REASSIGN = """mutation($i: ReassignTasksInput!) { reassignTasks(input: $i) {
  job { id } errors { code field } } }"""
JOB = """query($id: ID!) { job(id: $id) { status resultCounts { name value } } }"""
OWNER = """query($id: ID!) { task(id: $id) { responsible { email } } }"""


def _users(admin):
    return {
        u["email"].split("@")[0]: u["id"] for u in admin("{ users { id email } }").data["users"]
    }


def _task(client, title, **given):
    r = client(CREATE, {"i": {"title": title, "deadline": "2026-06-01T09:00:00Z", **given}})
    assert r.errors == [] and r.data["createTask"]["errors"] == [], r.body
    return r.data["createTask"]["task"]["id"]


def _owner(client, task):
    return client(OWNER, {"id": task}).data["task"]["responsible"]["email"]


def test_only_the_selected_tasks_move(gateway, as_):
    admin, manager, rep2 = as_("admin"), as_("manager"), as_("rep2")
    users = _users(admin)
    a, b, c = (_task(rep2, t) for t in ("A", "B", "C"))
    later = _task(rep2, "Later", deadline="2026-09-01T09:00:00Z")
    ask = {"fromUserId": users["rep2"], "toUserId": users["rep1"]}
    assert manager(PREVIEW, {"i": ask}).data["reassignTasksPreview"] == {"tasks": 4}
    chosen = {**ask, "taskIds": [a, b, later], "startsBefore": "2026-07-01T00:00:00Z"}
    # the selection narrows the other filters, never widens them: Later is out of range
    assert manager(PREVIEW, {"i": chosen}).data["reassignTasksPreview"] == {"tasks": 2}
    r = manager(REASSIGN, {"i": chosen})
    assert r.data["reassignTasks"]["errors"] == [], r.body
    run_pending(gateway)
    job = manager(JOB, {"id": r.data["reassignTasks"]["job"]["id"]}).data["job"]
    assert job["status"] == "SUCCEEDED"
    assert {x["name"]: x["value"] for x in job["resultCounts"]} == {"tasksMoved": 2}
    assert [_owner(manager, t) for t in (a, b, c, later)] == [
        "rep1@demo.test",
        "rep1@demo.test",
        "rep2@demo.test",
        "rep2@demo.test",
    ]


def test_ids_outside_what_the_caller_may_change_are_typed_errors(gateway, as_):
    admin, rep1, rep2 = as_("admin"), as_("rep1"), as_("rep2")
    users = _users(admin)
    private = _task(rep2, "Private")
    public = _task(rep2, "Public", access="PUBLIC_READ")  # rep1 sees it, may not change it
    mine = _task(rep1, "Mine")
    ask = {"fromUserId": users["rep2"], "toUserId": users["rep1"]}
    for ids, code in (
        ([private], "NOT_FOUND"),
        ([public], "FORBIDDEN"),
        ([mine, public], "FORBIDDEN"),
    ):
        r = rep1(PREVIEW, {"i": {**ask, "taskIds": ids}})
        assert not (r.data or {}).get("reassignTasksPreview"), r.body
        assert [(e["extensions"]["code"], e["extensions"].get("field")) for e in r.errors] == [
            (code, "taskIds")
        ], r.body
        r = rep1(REASSIGN, {"i": {**ask, "taskIds": ids}})
        assert r.data["reassignTasks"] == {
            "job": None,
            "errors": [{"code": code, "field": "taskIds"}],
        }
    # another organisation's id, or a malformed one, alike
    r = rep1(REASSIGN, {"i": {**ask, "taskIds": ["VGFzazo5OTk5OTk5"]}})  # Task:9999999
    assert r.data["reassignTasks"]["errors"] == [{"code": "NOT_FOUND", "field": "taskIds"}]
    r = rep1(REASSIGN, {"i": {**ask, "taskIds": []}})
    assert r.data["reassignTasks"]["errors"] == [{"code": "BAD_USER_INPUT", "field": "taskIds"}]
    # nothing was queued, nothing moved
    run_pending(gateway)
    assert _owner(admin, public) == "rep2@demo.test"


def test_a_caller_whose_rules_hide_what_the_move_filters_on_is_refused(gateway, as_):
    """The move takes open tasks (in a deadline range): to a manager whose profile hides
    Task.status the preview's count would tell how many are open, so the preview and the
    mutation refuse before any job is queued, naming the field."""
    admin, manager, rep2 = as_("admin"), as_("manager"), as_("rep2")
    users = _users(admin)
    _task(rep2, "Open one")
    profiles = {p["name"]: p["id"] for p in admin("{ profiles { id name } }").data["profiles"]}
    rules = """mutation($id: ID!, $rules: [FieldRuleInput!]!) {
      updateProfile(id: $id, input: {fieldRules: $rules}) { errors { code } } }"""
    ask = {"fromUserId": users["rep2"], "toUserId": users["rep1"]}
    assert manager(PREVIEW, {"i": ask}).data["reassignTasksPreview"] == {"tasks": 1}
    for field, extra in (("status", {}), ("deadline", {"startsBefore": "2026-07-01T00:00:00Z"})):
        hide = [{"typeName": "Task", "fieldName": field, "mode": "HIDDEN"}]
        r = admin(rules, {"id": profiles["Sales manager"], "rules": hide})
        assert r.data["updateProfile"]["errors"] == [], r.body
        r = manager(PREVIEW, {"i": {**ask, **extra}})
        assert r.codes == ["FORBIDDEN"] and f"Task.{field}" in r.errors[0]["message"], r.body
        r = manager(REASSIGN, {"i": {**ask, **extra}})
        assert r.data["reassignTasks"]["errors"][0]["code"] == "FORBIDDEN", r.body
        assert r.data["reassignTasks"]["job"] is None
    # a range on a visible deadline, with status visible again, is fine
    r = admin(rules, {"id": profiles["Sales manager"], "rules": []})
    assert manager(PREVIEW, {"i": ask}).data["reassignTasksPreview"] == {"tasks": 1}
