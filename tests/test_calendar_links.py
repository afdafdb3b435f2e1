"""Tasks link to opportunities of the leads module through the registry (the calendar does
not import leads, nor require it): the link must be visible to the caller, reads follow
record access and answer null with leads off, `tasks(filter: {opportunityId})` matches only
visible links, a page primes its opportunities in one statement, and deleting the
opportunity clears the link."""

from __future__ import annotations

CREATE_OPP = """mutation($i: CreateOpportunityInput!) { createOpportunity(input: $i) {
  opportunity { id } errors { code message } } }"""
DELETE_OPP = """mutation($id: ID!) { deleteOpportunity(id: $id) { errors { code } } }"""
CREATE = """mutation($i: CreateTaskInput!) { createTask(input: $i) {
  task { id opportunityId opportunity { id ... on Opportunity { title } } }
  errors { code field } } }"""
UPDATE = """mutation($id: ID!, $i: UpdateTaskInput!) { updateTask(id: $id, input: $i) {
  task { id opportunityId } errors { code field } } }"""
ONE = """query($id: ID!) { task(id: $id) { opportunityId opportunity { id } } }"""
LIST = """query($f: TaskFilterInput, $n: Int) { tasks(first: $n, filter: $f) { totalCount
  edges { node { title opportunityId
  opportunity { id ... on Opportunity { title responsible { email } } } } } } }"""


def _opportunity(client, title: str, **given) -> str:
    r = client(CREATE_OPP, {"i": {"title": title, **given}})
    assert r.errors == [] and r.data["createOpportunity"]["errors"] == [], r.body
    return r.data["createOpportunity"]["opportunity"]["id"]


def _task(client, title: str, **given) -> dict:
    r = client(CREATE, {"i": {"title": title, "deadline": "2026-06-01T09:00:00Z", **given}})
    assert r.errors == [] and r.data["createTask"]["errors"] == [], r.body
    return r.data["createTask"]["task"]


PLAIN = """query($f: TaskFilterInput, $n: Int) { tasks(first: $n, filter: $f) {
  edges { node { title } } } }"""


def _titles(client, flt):
    r = client(PLAIN, {"f": flt, "n": 50})
    assert r.errors == [], r.body
    return sorted(e["node"]["title"] for e in r.data["tasks"]["edges"])


def test_a_task_links_a_visible_opportunity(as_):
    rep1, rep2, manager = as_("rep1"), as_("rep2"), as_("manager")
    deal = _opportunity(rep1, "Cold-chain deal", access="PRIVATE")
    task = _task(rep1, "Send the offer", opportunityId=deal)
    assert task["opportunityId"] == deal
    assert task["opportunity"] == {"id": deal, "title": "Cold-chain deal"}
    # rep2 may not see rep1's private opportunity: as if it did not exist
    r = rep2(
        CREATE, {"i": {"title": "x", "deadline": "2026-06-01T09:00:00Z", "opportunityId": deal}}
    )
    assert r.data["createTask"]["errors"] == [{"code": "NOT_FOUND", "field": "opportunityId"}]
    missing = "T3Bwb3J0dW5pdHk6OTk5OTk5"  # Opportunity:999999
    r = rep1(UPDATE, {"id": task["id"], "i": {"opportunityId": missing}})
    assert r.data["updateTask"]["errors"] == [{"code": "NOT_FOUND", "field": "opportunityId"}]
    # the filter: linked tasks of a visible opportunity; the manager above rep1 sees them
    _task(rep1, "Unlinked")
    assert _titles(rep1, {"opportunityId": deal}) == ["Send the offer"]
    assert _titles(manager, {"opportunityId": deal}) == ["Send the offer"]
    # a public task linked to a hidden opportunity: rep2 reads null and the filter finds
    # nothing (it would confirm the hidden link)
    public = _task(rep1, "Public one", opportunityId=deal, access="PUBLIC_READ")
    assert rep2(ONE, {"id": public["id"]}).data["task"] == {
        "opportunityId": None,
        "opportunity": None,
    }
    assert _titles(rep2, {"opportunityId": deal}) == []
    # unlinking
    r = rep1(UPDATE, {"id": task["id"], "i": {"opportunityId": None}})
    assert r.data["updateTask"]["task"]["opportunityId"] is None
    assert _titles(rep1, {"opportunityId": deal}) == ["Public one"]


def test_deleting_the_opportunity_clears_the_link(as_):
    admin = as_("admin")
    deal = _opportunity(admin, "Short-lived")
    task = _task(admin, "Follow up", opportunityId=deal)
    r = admin(DELETE_OPP, {"id": deal})
    assert r.errors == [] and r.data["deleteOpportunity"]["errors"] == [], r.body
    assert admin(ONE, {"id": task["id"]}).data["task"] == {
        "opportunityId": None,
        "opportunity": None,
    }


def test_with_leads_off_the_link_is_refused_and_reads_null(as_):
    admin = as_("admin")
    deal = _opportunity(admin, "Deal")
    task = _task(admin, "Linked", opportunityId=deal)
    off = admin('mutation { setModuleEnabled(name: "leads", enabled: false) { errors { code } } }')
    assert off.data["setModuleEnabled"]["errors"] == []
    # the calendar still works, and says nothing of the opportunity
    assert admin(ONE, {"id": task["id"]}).data["task"] == {
        "opportunityId": None,
        "opportunity": None,
    }
    assert _titles(admin, {"opportunityId": deal}) == []
    r = admin(UPDATE, {"id": task["id"], "i": {"opportunityId": deal}})
    assert r.data["updateTask"]["errors"] == [{"code": "BAD_USER_INPUT", "field": "opportunityId"}]
    on = admin('mutation { setModuleEnabled(name: "leads", enabled: true) { errors { code } } }')
    assert on.data["setModuleEnabled"]["errors"] == []
    assert admin(ONE, {"id": task["id"]}).data["task"]["opportunityId"] == deal


def test_a_page_primes_its_opportunities_and_their_responsible(as_, sql_log):
    rep1, rep2, manager = as_("rep1"), as_("rep2"), as_("manager")
    for rep, title in ((rep1, "A"), (rep2, "B")):
        deal = _opportunity(rep, f"Deal {title}")
        for i in range(3):
            _task(manager, f"{title}{i}", opportunityId=deal)
    manager(LIST, {"n": 1})  # plan probes run once a minute per user
    counts = {}
    for size in (2, 6):
        with sql_log:
            r = manager(LIST, {"n": size, "f": {"from": "2026-06-01T00:00:00Z"}})
        assert r.errors == [] and len(r.data["tasks"]["edges"]) == size, r.body
        counts[size] = len(sql_log.statements)
    assert counts[2] == counts[6], counts
    shown = {e["node"]["opportunity"]["responsible"]["email"] for e in r.data["tasks"]["edges"]}
    assert shown == {"rep1@demo.test", "rep2@demo.test"}


OPP_TASKS = """query($n: Int) { opportunities(first: $n) { edges { node { title
  tasks(includeCompleted: true) { title responsible { email } } } } } }"""


def test_an_opportunitys_tasks_nest_one_statement_per_page(as_, sql_log):
    """`Opportunity.tasks` (the calendar's field on leads' type, `crm_type_fields`): the
    tasks the caller may see, one statement for the whole page, absent with leads off."""
    admin, rep1, rep2, manager = as_("admin"), as_("rep1"), as_("rep2"), as_("manager")
    shared = _opportunity(rep1, "Shared deal", access="PUBLIC_READ")
    _task(rep1, "Rita's step", opportunityId=shared)
    _task(manager, "Max's step", opportunityId=shared, access="PUBLIC_READ")
    one = """query($id: ID!) { node(id: $id) { ... on Opportunity { tasks { title } } } }"""
    assert [t["title"] for t in rep1(one, {"id": shared}).data["node"]["tasks"]] == [
        "Rita's step",  # same deadline: by id
        "Max's step",
    ]
    # rep2 sees the public opportunity and the public task, not rep1's private one
    assert [t["title"] for t in rep2(one, {"id": shared}).data["node"]["tasks"]] == ["Max's step"]

    def page_cost(n: int) -> int:
        manager(OPP_TASKS, {"n": n})  # narrowing probes
        with sql_log:
            r = manager(OPP_TASKS, {"n": n})
        assert r.errors == [] and len(r.data["opportunities"]["edges"]) == n, r.body
        return len(sql_log.statements)

    for i in range(6):
        deal = _opportunity(manager, f"Deal {i}")
        _task(manager, f"Step {i}", opportunityId=deal)
    assert page_cost(2) == page_cost(6)
    off = admin('mutation { setModuleEnabled(name: "leads", enabled: false) { errors { code } } }')
    assert off.data["setModuleEnabled"]["errors"] == []
    assert admin('{ __type(name: "Opportunity") { name } }').data["__type"] is None


def test_a_hidden_status_lists_every_status_in_nested_lists_too(as_):
    admin, rep1 = as_("admin"), as_("rep1")
    deal = _opportunity(rep1, "Status-blind deal")
    _task(rep1, "Open step", opportunityId=deal)
    done = _task(rep1, "Done step", opportunityId=deal)["id"]
    rep1("mutation($id: ID!) { completeTask(id: $id) { errors { code } } }", {"id": done})
    one = """query($id: ID!) { node(id: $id) { ... on Opportunity { tasks { title } } } }"""
    assert [t["title"] for t in rep1(one, {"id": deal}).data["node"]["tasks"]] == ["Open step"]
    profiles = admin("{ profiles { id name } }").data["profiles"]
    rep_profile = next(p["id"] for p in profiles if p["name"] == "Sales rep")
    r = admin(
        """mutation($id: ID!) { updateProfile(id: $id, input: {fieldRules: [
        {typeName: "Task", fieldName: "status", mode: HIDDEN}]}) { errors { code } } }""",
        {"id": rep_profile},
    )
    assert r.data["updateProfile"]["errors"] == [], r.body
    listed = {t["title"] for t in rep1(one, {"id": deal}).data["node"]["tasks"]}
    assert listed == {"Open step", "Done step"}
