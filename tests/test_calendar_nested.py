"""``Contact.tasks``: the calendar module's field on the contacts module's type (the kernel's
``crm_type_fields``), with task access, one statement per page, and absent where the
calendar module is off."""

from __future__ import annotations

import uuid

CONTACT = """mutation($i: CreateContactInput!) { createContact(input: $i) { contact { id } } }"""
TASK = (
    """mutation($i: CreateTaskInput!) { createTask(input: $i) { task { id } errors { code } } }"""
)
COMPLETE = """mutation($id: ID!) { completeTask(id: $id, done: true) { errors { code } } }"""
NESTED = """query($id: ID!, $n: Int, $c: Boolean) { contact(id: $id) {
  tasks(first: $n, includeCompleted: $c) { title responsible { email } } } }"""
PAGE = """query($s: String) { contacts(first: 50, search: $s) {
  edges { node { id tasks { title responsible { email } contact { id } case { title } } } } } }"""
CASE = (
    """mutation($i: CreateCaseInput!) { createCase(input: $i) { case { id } errors { code } } }"""
)


def _contact(client, name: str, **extra) -> str:
    r = client(CONTACT, {"i": {"kind": "COMPANY", "companyName": name, **extra}})
    assert r.errors == [], r.errors
    return r.data["createContact"]["contact"]["id"]


def _task(
    client, contact_id: str, title: str, deadline: str = "2026-06-01T09:00:00Z", **extra
) -> str:
    r = client(
        TASK, {"i": {"title": title, "contactId": contact_id, "deadline": deadline, **extra}}
    )
    assert r.data["createTask"]["errors"] == [], r
    return r.data["createTask"]["task"]["id"]


def _titles(client, contact_id: str, **args) -> list[str]:
    r = client(NESTED, {"id": contact_id, **args})
    assert r.errors == [], r.errors
    return [t["title"] for t in r.data["contact"]["tasks"]]


def test_a_contacts_tasks_are_those_the_caller_may_see(as_):
    rep1, rep2, manager = as_("rep1"), as_("rep2"), as_("manager")
    mark = uuid.uuid4().hex[:6]
    shared = _contact(rep1, f"Shared {mark}", access="PUBLIC_READ")
    _task(rep1, shared, "Rep one's call", "2026-06-02T09:00:00Z")
    done = _task(rep1, shared, "Rep one's first visit", "2026-06-01T09:00:00Z")
    rep1(COMPLETE, {"id": done})
    _task(rep2, shared, "Rep two's own", "2026-06-03T09:00:00Z")

    assert _titles(rep1, shared) == ["Rep one's call"]  # open ones by default
    assert _titles(rep1, shared, c=True) == ["Rep one's first visit", "Rep one's call"]
    assert _titles(rep1, shared, c=True, n=1) == ["Rep one's first visit"]
    # rep2 sees the contact, not rep1's private tasks; the manager sees those below them
    assert _titles(rep2, shared) == ["Rep two's own"]
    assert "Rep one's call" in _titles(manager, shared)
    r = rep1(NESTED, {"id": shared, "n": 101})
    assert r.errors[0]["extensions"]["code"] == "BAD_USER_INPUT"


def test_one_statement_for_the_tasks_of_a_whole_page(as_, sql_log):
    """Also for what the tasks link to (case, contact, responsible): loaded for the whole
    page at once, as the top-level list does, never per task."""
    rep1 = as_("rep1")

    def page_cost(count: int) -> int:
        mark = uuid.uuid4().hex[:8]
        for n in range(count):
            contact = _contact(rep1, f"Paged{mark} {n}")
            case = rep1(CASE, {"i": {"title": f"Case {mark} {n}"}})
            assert case.data["createCase"]["errors"] == [], case
            _task(rep1, contact, f"Task {n}", caseId=case.data["createCase"]["case"]["id"])
        rep1(PAGE, {"s": f"Paged{mark}"})  # the narrowing probes' first-list cost
        sql_log.statements.clear()
        with sql_log:
            r = rep1(PAGE, {"s": f"Paged{mark}"})
        edges = r.data["contacts"]["edges"]
        assert len(edges) == count and all(len(e["node"]["tasks"]) == 1 for e in edges)
        assert {e["node"]["tasks"][0]["case"]["title"] for e in edges} == {
            f"Case {mark} {n}" for n in range(count)
        }
        return len(sql_log.statements)

    assert page_cost(2) == page_cost(6)


def test_absent_where_the_calendar_module_is_off(as_):
    admin = as_("admin")
    fields = '{ __type(name: "Contact") { fields { name } } }'
    assert "tasks" in {f["name"] for f in admin(fields).data["__type"]["fields"]}
    r = admin('mutation { setModuleEnabled(name: "calendar", enabled: false) { errors { code } } }')
    assert r.data["setModuleEnabled"]["errors"] == []
    assert "tasks" not in {f["name"] for f in admin(fields).data["__type"]["fields"]}
    r = admin(PAGE, {"s": "x"})
    assert r.errors[0]["extensions"]["code"] == "GRAPHQL_VALIDATION_FAILED"
