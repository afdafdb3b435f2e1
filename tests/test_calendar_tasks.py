"""Calendar tasks over HTTP on both engines (MISSION T1, parts of T2/T3, M8): the write
path, record access on list, count and task(id), the calendar range, the group creation,
and contacts' task reassignment answered by the calendar module."""

from __future__ import annotations

import uuid

from gateway.jobs import run_pending

TASK_FIELDS = """id title description deadline allDay reminderMinutes status overdue access
  completedAt category { name colour } contact { id } responsible { email }"""
CREATE = f"""mutation($i: CreateTaskInput!) {{ createTask(input: $i) {{
  task {{ {TASK_FIELDS} }} errors {{ code message field }} }} }}"""
CREATE_MANY = """mutation($i: CreateTaskInput!, $c: [ID!]!) { createTasks(input: $i, contactIds: $c) {
  tasks { id contact { id } } errors { code field } } }"""
UPDATE = f"""mutation($id: ID!, $i: UpdateTaskInput!) {{ updateTask(id: $id, input: $i) {{
  task {{ {TASK_FIELDS} }} errors {{ code message field }} }} }}"""
COMPLETE = """mutation($id: ID!, $d: Boolean!) { completeTask(id: $id, done: $d) {
  task { status completedAt } errors { code } } }"""
DELETE = """mutation($id: ID!) { deleteTask(id: $id) { deletedId errors { code } } }"""
LIST = """query($f: TaskFilterInput, $n: Int, $a: String) { tasks(first: $n, after: $a, filter: $f) {
  totalCount edges { node { id title deadline responsible { email } } }
  pageInfo { hasNextPage endCursor } } }"""
ONE = """query($id: ID!) { task(id: $id) { id title } }"""
CONTACT = """mutation($i: CreateContactInput!) { createContact(input: $i) { contact { id } } }"""
TASKS_PREVIEW = """query($i: ReassignTasksInput!) { reassignTasksPreview(input: $i) { tasks } }"""
REASSIGN_TASKS = """mutation($i: ReassignTasksInput!) { reassignTasks(input: $i) {
  job { id } errors { code field } } }"""
JOB = """query($id: ID!) { job(id: $id) { status resultCounts { name value } } }"""


def _users(admin):
    return {
        u["email"].split("@")[0]: u["id"] for u in admin("{ users { id email } }").data["users"]
    }


def _create(client, **given):
    r = client(CREATE, {"i": {"deadline": "2026-06-01T09:00:00Z", **given}})
    assert r.errors == [] and r.data["createTask"]["errors"] == [], r
    return r.data["createTask"]["task"]


def _titles(client, flt=None):
    r = client(LIST, {"f": flt, "n": 100})
    assert r.errors == [], r.errors
    return [e["node"]["title"] for e in r.data["tasks"]["edges"]], r.data["tasks"]["totalCount"]


def test_create_update_complete_delete(as_):
    rep1 = as_("rep1")
    cats = rep1("{ taskCategories { id name colour } }").data["taskCategories"]
    assert [c["name"] for c in cats] == ["Call", "Visit"]
    task = _create(rep1, title="  Call Ana  ", categoryId=cats[0]["id"], description="About prices")
    assert task["title"] == "Call Ana" and task["status"] == "OPEN"
    assert task["reminderMinutes"] == 1440 and task["access"] == "PRIVATE"
    assert task["responsible"]["email"] == "rep1@demo.test"
    assert task["category"] == {"name": "Call", "colour": cats[0]["colour"]}
    later = _create(rep1, title="Later", deadline="2999-01-01T09:00:00Z")
    assert later["overdue"] is False

    r = rep1(UPDATE, {"id": task["id"], "i": {"reminderMinutes": None, "allDay": True}})
    changed = r.data["updateTask"]["task"]
    assert changed["reminderMinutes"] is None and changed["allDay"] is True
    assert changed["deadline"].startswith("2026-06-01T00:00:00")
    bad = rep1(UPDATE, {"id": task["id"], "i": {"reminderMinutes": 7}})
    assert bad.data["updateTask"]["errors"][0] == {
        "code": "BAD_USER_INPUT",
        "message": bad.data["updateTask"]["errors"][0]["message"],
        "field": "reminderMinutes",
    }

    done = rep1(COMPLETE, {"id": task["id"], "d": True}).data["completeTask"]["task"]
    assert done["status"] == "DONE" and done["completedAt"]
    assert "Call Ana" not in _titles(rep1)[0]  # open tasks only by default
    assert "Call Ana" in _titles(rep1, {"includeCompleted": True})[0]
    assert "Call Ana" in _titles(rep1, {"status": "DONE"})[0]
    reopened = rep1(COMPLETE, {"id": task["id"], "d": False}).data["completeTask"]["task"]
    assert reopened == {"status": "OPEN", "completedAt": None}

    r = rep1(DELETE, {"id": task["id"]})
    assert r.data["deleteTask"] == {"deletedId": task["id"], "errors": []}
    assert rep1(ONE, {"id": task["id"]}).data["task"] is None


def test_bad_input_is_typed_and_writes_nothing(as_):
    rep1 = as_("rep1")
    r = rep1(CREATE, {"i": {"title": " ", "deadline": "2026-06-01T09:00:00Z"}})
    assert r.data["createTask"]["errors"][0]["field"] == "title"
    r = rep1(
        CREATE,
        {
            "i": {
                "title": "x",
                "deadline": "2026-06-01T09:00:00Z",
                "contactId": "Q29udGFjdDo5OTk5OTk=",
            }
        },
    )
    assert r.data["createTask"]["errors"][0]["code"] == "NOT_FOUND"
    assert _titles(rep1, {"includeCompleted": True}) == (["Prepare the quarterly review"], 1)


def test_a_rep_sees_only_what_the_hierarchy_allows(as_):
    admin, rep1, rep2, manager = as_("admin"), as_("rep1"), as_("rep2"), as_("manager")
    users = _users(admin)
    mine = _create(rep1, title="Rita's private")
    theirs = _create(rep2, title="Rob's private")
    public = _create(rep2, title="Rob's public", access="PUBLIC_READ")
    reps = {"ownerIds": [users["rep1"], users["rep2"]]}
    assert _titles(rep1, reps) == (["Rita's private", "Rob's public"], 2)
    # and the manager's public demo task, not the director's private ones
    assert _titles(rep1)[0] == ["Rita's private", "Rob's public", "Prepare the quarterly review"]
    # the manager (above both reps) sees both reps' tasks, and their own demo tasks
    assert {"Rita's private", "Rob's private", "Rob's public"} <= set(_titles(manager)[0])
    assert rep1(ONE, {"id": theirs["id"]}).data["task"] is None
    assert rep1(ONE, {"id": mine["id"]}).data["task"]["title"] == "Rita's private"
    # a hidden task can be neither changed nor deleted, and filtering by its owner finds
    # only what is visible
    r = rep1(UPDATE, {"id": theirs["id"], "i": {"title": "mine now"}})
    assert r.data["updateTask"]["errors"][0]["code"] == "NOT_FOUND"
    assert rep1(DELETE, {"id": theirs["id"]}).data["deleteTask"]["errors"][0]["code"] == "NOT_FOUND"
    assert _titles(rep1, {"ownerIds": [users["rep2"]]}) == (["Rob's public"], 1)
    # public read is not public write
    r = rep1(UPDATE, {"id": public["id"], "i": {"title": "mine now"}})
    assert r.data["updateTask"]["errors"][0]["code"] in ("FORBIDDEN", "NOT_FOUND")
    # a rep may not hand the task to a user that does not exist in the organisation
    r = rep1(UPDATE, {"id": mine["id"], "i": {"responsibleId": "VXNlcjo5OTk5OTk="}})
    assert r.data["updateTask"]["errors"][0]["field"] == "responsibleId"


def test_back_office_may_not_delete(as_):
    """Deleting needs calendar.task.delete: the demo's back office (structural) may change
    every task but delete none."""
    admin, backoffice = as_("admin"), as_("backoffice")
    task = _create(admin, title="Admin's")
    r = backoffice(UPDATE, {"id": task["id"], "i": {"title": "Checked"}})
    assert r.data["updateTask"]["errors"] == [], r
    r = backoffice(DELETE, {"id": task["id"]})
    assert r.data["deleteTask"]["errors"][0]["code"] == "FORBIDDEN"
    assert admin(ONE, {"id": task["id"]}).data["task"] is not None


def test_calendar_range_and_overdue(as_):
    rep1 = as_("rep1")
    for day in ("2026-03-01", "2026-03-15", "2026-03-31", "2026-04-01"):
        _create(rep1, title=f"Due {day}", deadline=f"{day}T10:00:00Z")
    march = {"from": "2026-03-01T00:00:00Z", "to": "2026-04-01T00:00:00Z"}
    assert _titles(rep1, march) == (["Due 2026-03-01", "Due 2026-03-15", "Due 2026-03-31"], 3)
    # a range in the user's timezone (Madrid, UTC+2 in April) is sent as offset instants
    april_madrid = {"from": "2026-04-01T00:00:00+02:00", "to": "2026-05-01T00:00:00+02:00"}
    assert _titles(rep1, april_madrid)[0] == ["Due 2026-04-01"]
    # overdue and not overdue split the open tasks
    overdue, _ = _titles(rep1, {"overdue": True})
    future, _ = _titles(rep1, {"overdue": False})
    assert sorted(overdue + future) == sorted(_titles(rep1)[0])
    # pagination: pages of 2 walk the range in deadline order
    page = rep1(LIST, {"f": march, "n": 2}).data["tasks"]
    assert [e["node"]["title"] for e in page["edges"]] == ["Due 2026-03-01", "Due 2026-03-15"]
    rest = rep1(LIST, {"f": march, "n": 2, "a": page["pageInfo"]["endCursor"]}).data["tasks"]
    assert [e["node"]["title"] for e in rest["edges"]] == ["Due 2026-03-31"]


def test_one_task_for_many_contacts(as_):
    admin, rep1 = as_("admin"), as_("rep1")
    mark = uuid.uuid4().hex[:6]
    contacts = [
        rep1(CONTACT, {"i": {"kind": "COMPANY", "companyName": f"Firm {i} {mark}"}}).data[
            "createContact"
        ]["contact"]["id"]
        for i in range(3)
    ]
    r = rep1(
        CREATE_MANY,
        {"i": {"title": "Send the catalogue", "deadline": "2026-07-01T09:00:00Z"}, "c": contacts},
    )
    made = r.data["createTasks"]
    assert made["errors"] == [] and sorted(t["contact"]["id"] for t in made["tasks"]) == sorted(
        contacts
    )
    assert _titles(rep1, {"contactId": contacts[0]}) == (["Send the catalogue"], 1)
    # one contact the caller cannot see refuses the whole group: nothing written
    hidden = admin(CONTACT, {"i": {"kind": "COMPANY", "companyName": f"Hidden {mark}"}}).data[
        "createContact"
    ]["contact"]["id"]
    r = rep1(
        CREATE_MANY,
        {"i": {"title": "Again", "deadline": "2026-07-01T09:00:00Z"}, "c": [*contacts, hidden]},
    )
    assert r.data["createTasks"]["errors"] == [{"code": "NOT_FOUND", "field": "contactIds"}]
    assert "Again" not in _titles(rep1)[0]
    r = rep1(CREATE_MANY, {"i": {"title": "None", "deadline": "2026-07-01T09:00:00Z"}, "c": []})
    assert r.data["createTasks"]["errors"][0]["field"] == "contactIds"


def test_task_categories_need_the_settings_permission(as_):
    admin, rep1 = as_("admin"), as_("rep1")
    r = admin(
        'mutation { createTaskCategory(name: "Meeting", colour: "#aa00ff") { category { name colour } errors { code } } }'
    )
    assert r.data["createTaskCategory"]["category"] == {"name": "Meeting", "colour": "#AA00FF"}
    again = admin(
        'mutation { createTaskCategory(name: "Meeting", colour: "#aa00ff") { errors { code } } }'
    )
    assert again.data["createTaskCategory"]["errors"][0]["code"] == "CONFLICT"
    bad = admin('mutation { createTaskCategory(name: "X", colour: "red") { errors { field } } }')
    assert bad.data["createTaskCategory"]["errors"] == [{"field": "colour"}]
    r = rep1('mutation { createTaskCategory(name: "Mine", colour: "#000000") { errors { code } } }')
    assert r.codes == ["FORBIDDEN"]


def test_reassign_tasks_moves_open_tasks_in_the_range(gateway, as_):
    """contacts' reassignTasks job, answered by the calendar (and the notes test module,
    which has no tasks here): only open tasks of the range move, and a rep counts and moves
    only what they may change."""
    admin, rep1, rep2 = as_("admin"), as_("rep1"), as_("rep2")
    users = _users(admin)
    _create(rep2, title="Early", deadline="2026-02-01T09:00:00Z")
    late = _create(rep2, title="Late", deadline="2026-05-01T09:00:00Z")
    done = _create(rep2, title="Done", deadline="2026-05-02T09:00:00Z")
    rep2(COMPLETE, {"id": done["id"], "d": True})
    ask = {
        "fromUserId": users["rep2"],
        "toUserId": users["rep1"],
        "startsAfter": "2026-03-01T00:00:00Z",
    }
    assert admin(TASKS_PREVIEW, {"i": ask}).data["reassignTasksPreview"] == {"tasks": 1}
    assert rep1(TASKS_PREVIEW, {"i": ask}).data["reassignTasksPreview"] == {"tasks": 0}
    whole = {**ask, "startsAfter": None}
    assert admin(TASKS_PREVIEW, {"i": whole}).data["reassignTasksPreview"] == {"tasks": 2}

    r = admin(REASSIGN_TASKS, {"i": ask})
    assert r.data["reassignTasks"]["errors"] == [], r
    run_pending(gateway)
    job = admin(JOB, {"id": r.data["reassignTasks"]["job"]["id"]}).data["job"]
    assert job["status"] == "SUCCEEDED"
    assert {c["name"]: c["value"] for c in job["resultCounts"]} == {"tasksMoved": 1}
    assert admin(ONE, {"id": late["id"]}).data["task"]["title"] == "Late"
    owners = {
        e["node"]["title"]: e["node"]["responsible"]["email"]
        for e in admin(LIST, {"f": {"includeCompleted": True}, "n": 100}).data["tasks"]["edges"]
    }
    assert owners["Late"] == "rep1@demo.test"
    assert owners["Early"] == owners["Done"] == "rep2@demo.test"
    # the rep now sees the moved task
    assert "Late" in _titles(rep1)[0]


def test_two_first_uses_at_once_add_the_default_categories_once(gateway, demo):
    """Both transactions see no categories and add the defaults; the second gives way on
    the unique names instead of failing (PostgreSQL; SQLite's writers queue up)."""
    import threading

    from sqlalchemy import delete, func, select

    from plugins.calendar.history import categories as history
    from plugins.calendar.history.models import HistoryCategory, Interaction
    from plugins.calendar.models import Task, TaskCategory
    from plugins.calendar.services import seed_categories

    tenant = demo["acme"].id
    with gateway.db.transaction() as session:  # as a tenant that never used them
        for model in (Task, Interaction, TaskCategory, HistoryCategory):
            session.execute(delete(model).where(model.tenant_id == tenant))
    for seed, model in ((seed_categories, TaskCategory), (history.seed, HistoryCategory)):
        second_failed: list[BaseException] = []

        def second(seed=seed, failed=second_failed) -> None:
            try:
                with gateway.db.transaction() as other:
                    seed(other, tenant)
            except BaseException as error:  # reported to the test
                failed.append(error)

        with gateway.db.transaction() as first:
            names = [c.name for c in seed(first, tenant)]
            thread = threading.Thread(target=second)
            thread.start()
            thread.join(0.5)  # the second waits on the first's rows (or lock)
        thread.join()
        assert second_failed == []
        with gateway.db.transaction() as session:
            stored = session.scalars(
                select(model.name).where(model.tenant_id == tenant).order_by(model.position)
            ).all()
            assert stored == names and len(names) >= 2
            count = select(func.count()).select_from(model).where(model.tenant_id == tenant)
            assert session.scalar(count) == len(names)
