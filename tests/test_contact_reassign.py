"""Mass reassignment (MISSION M7 clients, M8 tasks) over HTTP on both engines: each option
combination, orphans, zones, the multi-select, the preview counting exactly what the job
moves, a rep moving only what they may write (and never counting what they cannot see),
another organisation's ids refused, the task hooks, and all-or-nothing jobs.

The contacts are made by each test (marked, and found by ``search``), owned by the back
office user so only assignments open them to the sales team; jobs are run with
``gateway.jobs.run_pending`` (SQLite: the in-process loop; PostgreSQL: a real worker)."""

from __future__ import annotations

import uuid

import pytest

from gateway.jobs import run_pending
from tests.plugins.notes import tasks as note_tasks

IBERIA, PORTUGAL = "Demo Trading Iberia S.L.", "Demo Trading Portugal Lda."
PREVIEW = """query($i: ReassignClientsInput!) { reassignClientsPreview(input: $i) {
  selected clients skipped { reason count } tasks } }"""
REASSIGN = """mutation($i: ReassignClientsInput!) { reassignClients(input: $i) {
  job { id status kind } errors { code message field } } }"""
TASKS_PREVIEW = """query($i: ReassignTasksInput!) { reassignTasksPreview(input: $i) { tasks } }"""
REASSIGN_TASKS = """mutation($i: ReassignTasksInput!) { reassignTasks(input: $i) {
  job { id status } errors { code message field } } }"""
JOB = """query($id: ID!) { job(id: $id) { status resultCounts { name value }
  errors { code message } } }"""
CREATE = """mutation($input: CreateContactInput!) { createContact(input: $input) {
  contact { id displayName } errors { code message field } } }"""
ASSIGNED = """query($s: String) { contacts(first: 100, search: $s) { edges { node {
  displayName assignments { company { name } user { email } } } } } }"""
NOTE = """mutation($t: String!, $b: String, $o: ID) { createNote(title: $t, body: $b, ownerId: $o) {
  note { id owner { email } } } }"""


@pytest.fixture
def world(as_):
    """The demo's user and company ids, a fresh mark, and a maker of marked clients."""
    admin = as_("admin")
    users = {
        u["email"].split("@")[0]: u["id"] for u in admin("{ users { id email } }").data["users"]
    }
    companies = {
        c["name"]: c["id"]
        for c in admin("{ managingCompanies { id name } }").data["managingCompanies"]
    }
    mark = uuid.uuid4().hex[:8]

    def client(name, *assigned, zone=None, owner="backoffice", access="PRIVATE"):
        given = [{"companyId": companies[c], "userId": users[u]} for c, u in assigned]
        r = admin(
            CREATE,
            {
                "input": {
                    "kind": "COMPANY",
                    "companyName": f"{name} {mark}",
                    "ownerId": users[owner],
                    "access": access,
                    "zone": zone,
                    "assignments": given,
                }
            },
        )
        assert r.errors == [] and r.data["createContact"]["errors"] == [], r
        return r.data["createContact"]["contact"]["id"]

    return {"users": users, "companies": companies, "mark": mark, "client": client}


def _ask(world, origin, destination, **extra):
    """``origin``: (company, user or None[, extra origin fields]); ``destination``: (company,
    user). Restricted to this test's clients by ``search``."""
    users, companies = world["users"], world["companies"]
    company, user, *more = origin
    given_origin = {"managingCompanyId": companies[company], **(more[0] if more else {})}
    if user:
        given_origin["userId"] = users[user]
    ask = {
        "origin": given_origin,
        "destination": {
            "managingCompanyId": companies[destination[0]],
            "userId": users[destination[1]],
        },
        "search": world["mark"],
    }
    ask.update(extra)
    return ask


def preview(client, ask):
    r = client(PREVIEW, {"i": ask})
    assert r.errors == [], r.errors
    found = r.data["reassignClientsPreview"]
    found["skipped"] = {s["reason"]: s["count"] for s in found["skipped"]}
    return found


def run(gateway, client, query, ask, root):
    r = client(query, {"i": ask})
    assert r.errors == [], r.errors
    payload = r.data[root]
    assert payload["errors"] == [], payload
    run_pending(gateway)
    job = client(JOB, {"id": payload["job"]["id"]}).data["job"]
    job["counts"] = {c["name"]: c["value"] for c in job["resultCounts"]}
    return job


def reassign(gateway, client, ask):
    job = run(gateway, client, REASSIGN, ask, "reassignClients")
    assert job["status"] == "SUCCEEDED", job
    return job["counts"]


def placed(client, mark):
    """Each marked client's assignments: name → {(company, user)}."""
    edges = client(ASSIGNED, {"s": mark}).data["contacts"]["edges"]
    return {
        e["node"]["displayName"].split(" ")[0]: {
            (a["company"]["name"], a["user"]["email"].split("@")[0])
            for a in e["node"]["assignments"]
        }
        for e in edges
    }


def test_same_company_gives_the_assignment_to_the_destination_user(gateway, as_, world):
    admin, c = as_("admin"), world["client"]
    c("Alpha", (IBERIA, "rep1"), (PORTUGAL, "rep1"))
    c("Bravo", (IBERIA, "rep1"))
    c("Charlie", (IBERIA, "rep2"))
    ask = _ask(world, (IBERIA, "rep1"), (IBERIA, "manager"))
    assert preview(admin, ask) == {"selected": 2, "clients": 2, "skipped": {}, "tasks": None}
    counts = reassign(gateway, admin, ask)
    assert counts == {"selected": 2, "moved": 2}
    assert placed(admin, world["mark"]) == {
        "Alpha": {(IBERIA, "manager"), (PORTUGAL, "rep1")},
        "Bravo": {(IBERIA, "manager")},
        "Charlie": {(IBERIA, "rep2")},
    }
    # the user is told at the end (the jobs kernel)
    kinds = [n["kind"] for n in as_("admin")("{ notifications { kind } }").data["notifications"]]
    assert kinds, "the starter is notified"


@pytest.mark.parametrize(
    ("keep_origin", "keep_existing", "expected", "moved", "kept"),
    [
        (
            False,
            False,
            {"X": {(PORTUGAL, "rep2")}, "Y": {(PORTUGAL, "rep2")}},
            2,
            0,
        ),
        (
            True,
            False,
            {
                "X": {(IBERIA, "rep1"), (PORTUGAL, "rep2")},
                "Y": {(IBERIA, "rep1"), (PORTUGAL, "rep2")},
            },
            2,
            0,
        ),
        (
            False,
            True,
            {"X": {(PORTUGAL, "rep2")}, "Y": {(IBERIA, "rep1"), (PORTUGAL, "manager")}},
            1,
            1,
        ),
        (
            True,
            True,
            {
                "X": {(IBERIA, "rep1"), (PORTUGAL, "rep2")},
                "Y": {(IBERIA, "rep1"), (PORTUGAL, "manager")},
            },
            1,
            1,
        ),
    ],
)
def test_the_four_option_combinations(
    gateway, as_, world, keep_origin, keep_existing, expected, moved, kept
):
    """Iberia/rep1 → Portugal/rep2. X has only its Iberia assignment; Y also has a Portugal
    one (the manager's)."""
    admin, c = as_("admin"), world["client"]
    c("X", (IBERIA, "rep1"))
    c("Y", (IBERIA, "rep1"), (PORTUGAL, "manager"))
    ask = _ask(
        world,
        (IBERIA, "rep1"),
        (PORTUGAL, "rep2"),
        keepOriginAssignment=keep_origin,
        keepExistingDestination=keep_existing,
    )
    skipped = {"KEPT_AT_DESTINATION": kept} if kept else {}
    shown = preview(admin, ask)
    assert shown == {"selected": 2, "clients": moved, "skipped": skipped, "tasks": None}
    counts = reassign(gateway, admin, ask)
    assert counts["moved"] == shown["clients"] == moved
    assert counts.get("skippedKeptAtDestination", 0) == kept
    assert placed(admin, world["mark"]) == expected


def test_orphans_and_zones(gateway, as_, world):
    admin, c, mark = as_("admin"), world["client"], world["mark"]
    north, south = f"n{mark}", f"s{mark}"
    c("Papa", zone=north)  # no assignment at all
    c("Quebec", (PORTUGAL, "rep1"), zone=north)  # orphan in Iberia
    c("Romeo", (IBERIA, "rep1"), zone=north)  # not an orphan
    c("Sierra", zone=south)  # an orphan of another zone
    orphans = _ask(world, (IBERIA, None, {"orphans": True, "zones": [north]}), (IBERIA, "rep2"))
    assert preview(admin, orphans)["clients"] == 2
    assert reassign(gateway, admin, orphans)["moved"] == 2
    assert placed(admin, mark) == {
        "Papa": {(IBERIA, "rep2")},
        "Quebec": {(PORTUGAL, "rep1"), (IBERIA, "rep2")},
        "Romeo": {(IBERIA, "rep1")},
        "Sierra": set(),
    }
    # the zones tab: every client of the zones, whoever has it in the company
    zones = _ask(world, (IBERIA, None, {"zones": [south, north]}), (IBERIA, "manager"))
    assert preview(admin, zones) == {"selected": 4, "clients": 4, "skipped": {}, "tasks": None}
    assert reassign(gateway, admin, zones)["moved"] == 4
    assert {name: places for name, places in placed(admin, mark).items()} == {
        "Papa": {(IBERIA, "manager")},
        "Quebec": {(PORTUGAL, "rep1"), (IBERIA, "manager")},
        "Romeo": {(IBERIA, "manager")},
        "Sierra": {(IBERIA, "manager")},
    }
    # again: nothing would change
    assert preview(admin, zones) == {
        "selected": 4,
        "clients": 0,
        "skipped": {"ALREADY_AT_DESTINATION": 4},
        "tasks": None,
    }
    # orphans with a zone of nobody: none
    empty = _ask(world, (IBERIA, None, {"orphans": True, "zones": ["nowhere"]}), (IBERIA, "rep2"))
    assert preview(admin, empty)["selected"] == 0


def test_multi_select_and_filters(gateway, as_, world):
    admin, c = as_("admin"), world["client"]
    a = c("Alpha", (IBERIA, "rep1"), zone="east")
    c("Bravo", (IBERIA, "rep1"), zone="west")
    other = c("Charlie", (IBERIA, "rep2"))
    picked = _ask(world, (IBERIA, "rep1"), (IBERIA, "rep2"), contactIds=[a, other])
    assert preview(admin, picked) == {
        "selected": 1,
        "clients": 1,
        "skipped": {"NOT_AT_ORIGIN": 1},
        "tasks": None,
    }
    counts = reassign(gateway, admin, picked)
    assert counts == {"selected": 1, "moved": 1, "skippedNotAtOrigin": 1}
    assert placed(admin, world["mark"])["Bravo"] == {(IBERIA, "rep1")}
    # the contacts list's filters apply
    filtered = _ask(world, (IBERIA, "rep1"), (IBERIA, "rep2"), filter={"zone": "nowhere"})
    assert preview(admin, filtered)["selected"] == 0
    filtered["filter"] = {"zone": "west"}
    assert reassign(gateway, admin, filtered)["moved"] == 1
    assert placed(admin, world["mark"])["Bravo"] == {(IBERIA, "rep2")}


def test_a_rep_moves_only_what_they_may_write_and_counts_only_what_they_see(gateway, as_, world):
    """rep1 takes rep2's Iberia clients: a private one rep1 cannot see (never counted), a
    public read-only one (seen, skipped), a public writable one (moves)."""
    admin, rep1, c = as_("admin"), as_("rep1"), world["client"]
    c("Hidden", (IBERIA, "rep2"))
    c("Readonly", (IBERIA, "rep2"), access="PUBLIC_READ")
    c("Open", (IBERIA, "rep2"), access="PUBLIC_WRITE")
    ask = _ask(world, (IBERIA, "rep2"), (IBERIA, "rep1"))
    assert preview(admin, ask)["clients"] == 3
    shown = preview(rep1, ask)
    assert shown == {"selected": 2, "clients": 1, "skipped": {"NOT_WRITABLE": 1}, "tasks": None}
    counts = reassign(gateway, rep1, ask)
    assert counts == {"selected": 2, "moved": 1, "skippedNotWritable": 1}
    assert placed(admin, world["mark"]) == {
        "Hidden": {(IBERIA, "rep2")},
        "Readonly": {(IBERIA, "rep2")},
        "Open": {(IBERIA, "rep1")},
    }
    # a client the rep cannot see, picked by id: as if it did not exist
    hidden = c("Secret", (IBERIA, "rep2"))
    picked = _ask(world, (IBERIA, "rep2"), (IBERIA, "rep1"), contactIds=[hidden])
    assert rep1(PREVIEW, {"i": picked}).codes == ["NOT_FOUND"]


def test_another_organisations_ids_are_not_found(gateway, as_, world):
    admin = as_("admin")
    acme = as_("admin@acme.test")
    foreign = acme("{ contacts(first: 1) { edges { node { id } } } }").data["contacts"]["edges"]
    foreign_id = foreign[0]["node"]["id"]
    ask = _ask(world, (IBERIA, "rep1"), (IBERIA, "rep2"), contactIds=[foreign_id])
    assert admin(PREVIEW, {"i": ask}).codes == ["NOT_FOUND"]
    r = admin(REASSIGN, {"i": ask})
    assert r.data["reassignClients"]["errors"][0]["code"] == "NOT_FOUND"
    assert r.data["reassignClients"]["job"] is None
    # acme's own users and companies are not demo's
    acme_user = acme("{ me { user { id } } }").data["me"]["user"]["id"]
    ask = _ask(world, (IBERIA, "rep1"), (IBERIA, "rep2"))
    ask["destination"]["userId"] = acme_user
    assert admin(PREVIEW, {"i": ask}).codes == ["NOT_FOUND"]


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"destination": "same"}, "destination"),
        ({"keepOriginAssignment": True}, "keepOriginAssignment"),
        ({"origin": {"orphans": True}}, "origin.userId"),
        ({"origin": {"noUser": True}}, "origin.userId"),
        ({"withTasks": True, "origin": {"orphansOnly": True}}, "withTasks"),
        ({"destination": "assistant"}, "userId"),
    ],
)
def test_bad_requests_are_typed_errors_and_queue_nothing(as_, world, change, field):
    admin = as_("admin")
    ask = _ask(world, (IBERIA, "rep1"), (IBERIA, "rep2"))
    users = world["users"]
    if change.get("destination") == "same":
        ask["destination"]["userId"] = users["rep1"]
    if change.get("destination") == "assistant":
        ask["destination"]["userId"] = users["assistant"]
    origin = change.get("origin", {})
    if origin.get("orphans"):
        ask["origin"]["orphans"] = True
    if origin.get("noUser"):
        del ask["origin"]["userId"]
    if origin.get("orphansOnly"):
        del ask["origin"]["userId"]
        ask["origin"]["orphans"] = True
    for key in ("keepOriginAssignment", "withTasks"):
        if key in change:
            ask[key] = change[key]
    r = admin(PREVIEW, {"i": ask})
    assert r.codes == ["BAD_USER_INPUT"], r.errors
    r = admin(REASSIGN, {"i": ask})
    [error] = r.data["reassignClients"]["errors"]
    assert (error["code"], error["field"]) == ("BAD_USER_INPUT", field)
    assert admin("{ jobs(first: 5) { totalCount } }").data["jobs"]["totalCount"] == 0


def _task(admin, world, owner, day, contact_id, suffix=""):
    from gateway.graphql.common import parse_global_id

    pk = parse_global_id(contact_id, "Contact") if contact_id else 0
    r = admin(NOTE, {"t": f"Task {day} {world['mark']}{suffix}", "b": f"contact:{pk}", "o": owner})
    assert r.errors == [], r.errors
    return r.data["createNote"]["note"]["id"]


def _task_owners(admin, world):
    notes = admin("{ notes(first: 100) { title owner { email } } }").data["notes"]
    return {
        n["title"].split(" ")[1]: n["owner"]["email"].split("@")[0]
        for n in notes
        if world["mark"] in n["title"]
    }


def test_hook_crm_reassign_tasks(gateway, as_, world):
    """The notes test module owns tasks: clients move with their origin user's tasks (the
    moved clients' only), then M8 moves tasks between users by date, summed over the
    modules that answer; the counts of the previews are what the jobs move."""
    admin, c, users = as_("admin"), world["client"], world["users"]
    a = c("Alpha", (IBERIA, "rep1"))
    b = c("Bravo", (IBERIA, "rep1"))
    stays = c("Charlie", (IBERIA, "rep2"))
    _task(admin, world, users["rep1"], "2026-03-01", a)
    _task(admin, world, users["rep1"], "2026-04-01", b)
    _task(admin, world, users["rep1"], "2026-03-05", stays)  # a client that does not move
    _task(admin, world, users["manager"], "2026-03-07", a)  # someone else's task
    note_tasks.CALLS.clear()
    ask = _ask(world, (IBERIA, "rep1"), (IBERIA, "rep2"), withTasks=True)
    assert preview(admin, ask)["tasks"] == 2
    counts = reassign(gateway, admin, ask)
    assert counts == {"selected": 2, "moved": 2, "tasksMoved": 2}
    assert _task_owners(admin, world) == {
        "2026-03-01": "rep2",
        "2026-04-01": "rep2",
        "2026-03-05": "rep1",
        "2026-03-07": "manager",
    }
    [call] = note_tasks.CALLS  # one batch: the moved clients, from rep1 to rep2
    from gateway.graphql.common import parse_global_id

    assert (call["from"], call["to"]) == (
        parse_global_id(users["rep1"], "User"),
        parse_global_id(users["rep2"], "User"),
    )
    assert sorted(call["contact_ids"]) == sorted(parse_global_id(i, "Contact") for i in (a, b))
    assert call["after"] is None and call["before"] is None

    # M8: rep2's tasks from mid-March on, to the director
    tasks = {
        "fromUserId": users["rep2"],
        "toUserId": users["director"],
        "startsAfter": "2026-03-15T00:00:00Z",
        "managingCompanyId": world["companies"][IBERIA],
    }
    r = admin(TASKS_PREVIEW, {"i": tasks})
    assert r.data["reassignTasksPreview"] == {"tasks": 1}, r.errors
    job = run(gateway, admin, REASSIGN_TASKS, tasks, "reassignTasks")
    assert (job["status"], job["counts"]) == ("SUCCEEDED", {"tasksMoved": 1})
    assert _task_owners(admin, world)["2026-04-01"] == "director"
    call = note_tasks.CALLS[-1]
    assert call["after"].isoformat().startswith("2026-03-15") and call["contact_ids"] is None
    assert call["company_id"] is not None
    # the multi-select of clients, and a range that holds nothing
    only = {**tasks, "startsAfter": None, "contactIds": [a]}
    assert admin(TASKS_PREVIEW, {"i": only}).data["reassignTasksPreview"] == {"tasks": 1}
    before = {**tasks, "startsAfter": None, "startsBefore": "2026-01-01T00:00:00Z"}
    assert admin(TASKS_PREVIEW, {"i": before}).data["reassignTasksPreview"] == {"tasks": 0}
    # typed errors
    same = {**tasks, "toUserId": users["rep2"]}
    assert admin(TASKS_PREVIEW, {"i": same}).codes == ["BAD_USER_INPUT"]
    reversed_range = {**tasks, "startsBefore": "2026-03-01T00:00:00Z"}
    r = admin(REASSIGN_TASKS, {"i": reversed_range})
    assert r.data["reassignTasks"]["errors"][0]["field"] == "startsBefore"


def test_with_no_module_owning_tasks_nothing_moves(gateway, as_, world):
    admin, users = as_("admin"), world["users"]
    r = admin('mutation { setModuleEnabled(name: "notes", enabled: false) { errors { code } } }')
    assert r.errors == [] and r.data["setModuleEnabled"]["errors"] == [], r
    tasks = {"fromUserId": users["rep1"], "toUserId": users["rep2"]}
    assert admin(TASKS_PREVIEW, {"i": tasks}).data["reassignTasksPreview"] == {"tasks": 0}
    job = run(gateway, admin, REASSIGN_TASKS, tasks, "reassignTasks")
    assert (job["status"], job["counts"]) == ("SUCCEEDED", {"tasksMoved": 0})


def test_the_job_is_all_or_nothing(gateway, as_, world):
    """A task that refuses to move fails the whole job: no client moved, no task either."""
    admin, c, users = as_("admin"), world["client"], world["users"]
    a = c("Alpha", (IBERIA, "rep1"))
    b = c("Bravo", (IBERIA, "rep1"))
    _task(admin, world, users["rep1"], "2026-03-01", a)
    _task(admin, world, users["rep1"], "2026-03-02", b, suffix=" locked")
    before = placed(admin, world["mark"])
    ask = _ask(world, (IBERIA, "rep1"), (PORTUGAL, "rep2"), withTasks=True)
    job = run(gateway, admin, REASSIGN, ask, "reassignClients")
    assert job["status"] == "FAILED"
    assert [e["code"] for e in job["errors"]] == ["CONFLICT"]
    assert job["counts"] == {}
    assert placed(admin, world["mark"]) == before
    assert set(_task_owners(admin, world).values()) == {"rep1"}


def test_hook_crm_count_tasks_to_reassign(as_, world):
    """The previews ask the modules that own tasks, summed; what a caller may not change
    (here: another rep's private tasks) is not counted for them."""
    admin, rep1, users = as_("admin"), as_("rep1"), world["users"]
    _task(admin, world, users["rep2"], "2026-05-01", None)
    _task(admin, world, users["rep2"], "2026-05-02", None)
    tasks = {"fromUserId": users["rep2"], "toUserId": users["rep1"]}
    assert admin(TASKS_PREVIEW, {"i": tasks}).data["reassignTasksPreview"] == {"tasks": 2}
    assert rep1(TASKS_PREVIEW, {"i": tasks}).data["reassignTasksPreview"] == {"tasks": 0}
    window = {**tasks, "startsAfter": "2026-05-02T00:00:00Z"}
    assert admin(TASKS_PREVIEW, {"i": window}).data["reassignTasksPreview"] == {"tasks": 1}
