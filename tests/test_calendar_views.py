"""Calendar views over HTTP on both engines (MISSION T3, L5): the today / this week /
overdue shortcuts, the counts per status of a kanban board and the dashboard figures — a
rep sees only their hierarchy's tasks in every one of them."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from plugins.calendar.views import spans

CREATE = """mutation($i: CreateTaskInput!) { createTask(input: $i) {
  task { id } errors { code field } } }"""
COMPLETE = """mutation($id: ID!) { completeTask(id: $id, done: true) { errors { code } } }"""
LIST = """query($f: TaskFilterInput) { tasks(first: 100, filter: $f) {
  totalCount edges { node { title } } } }"""
COUNTS = """query($f: TaskFilterInput) { taskCounts(filter: $f) { status count } }"""
DASHBOARD = """{ dashboard(modules: ["calendar"]) { figures { key count } } }"""


def _iso(moment: datetime) -> str:
    return moment.isoformat().replace("+00:00", "Z")


def _create(client, title, deadline, **given):
    r = client(CREATE, {"i": {"title": title, "deadline": _iso(deadline), **given}})
    assert r.errors == [] and r.data["createTask"]["errors"] == [], r
    return r.data["createTask"]["task"]["id"]


def _titles(client, flt):
    r = client(LIST, {"f": flt})
    assert r.errors == [], r.errors
    titles = {e["node"]["title"] for e in r.data["tasks"]["edges"]}
    assert len(titles) == r.data["tasks"]["totalCount"]
    return titles


def _setup(as_):
    """rep1: one due later today, one overdue, one far away; rep2 (a peer): one private
    due today. The demo tenant's time zone is UTC."""
    rep1, rep2 = as_("rep1"), as_("rep2")
    local = spans("UTC")
    ids = {
        "today": _create(rep1, "Today", local.today[1] - timedelta(minutes=1)),
        "overdue": _create(rep1, "Overdue", local.today[0] - timedelta(days=1, hours=1)),
        "far": _create(rep1, "Far", local.now + timedelta(days=30)),
        "peer": _create(rep2, "Rob today", local.today[1] - timedelta(minutes=1)),
    }
    return rep1, rep2, ids


def test_due_shortcuts_follow_the_hierarchy(as_):
    rep1, rep2, _ = _setup(as_)
    assert _titles(rep1, {"due": "TODAY"}) == {"Today"}
    assert _titles(rep1, {"due": "OVERDUE"}) == {"Overdue"}
    week = _titles(rep1, {"due": "THIS_WEEK"})
    assert "Today" in week and "Far" not in week and "Rob today" not in week
    assert _titles(rep2, {"due": "TODAY"}) == {"Rob today"}
    manager = as_("manager")
    assert {"Today", "Rob today"} <= _titles(manager, {"due": "TODAY"})
    # combined with other filters: the range and the shortcut both apply
    far = _iso(spans("UTC").now + timedelta(days=60))
    assert _titles(rep1, {"due": "TODAY", "from": far}) == set()


def test_counts_per_status_are_the_kanban_headers(as_):
    rep1, rep2, ids = _setup(as_)
    assert rep1(COMPLETE, {"id": ids["far"]}).data["completeTask"]["errors"] == []
    counts = {c["status"]: c["count"] for c in rep1(COUNTS).data["taskCounts"]}
    assert counts["DONE"] == len(_titles(rep1, {"status": "DONE"})) == 1
    assert counts["OPEN"] == len(_titles(rep1, {"status": "OPEN"}))
    # the same filter narrows the counts; every status is listed, zero when none
    today = rep1(COUNTS, {"f": {"due": "TODAY", "status": "DONE"}}).data["taskCounts"]
    assert today == [{"status": "OPEN", "count": 1}, {"status": "DONE", "count": 0}]
    peer = {c["status"]: c["count"] for c in rep2(COUNTS).data["taskCounts"]}
    # Rob's own task and the manager's public one, none of Rita's
    assert peer == {"OPEN": len(_titles(rep2, {})), "DONE": 0}
    assert not _titles(rep2, {}) & {"Today", "Overdue", "Far"}
    manager = {c["status"]: c["count"] for c in as_("manager")(COUNTS).data["taskCounts"]}
    assert manager["OPEN"] >= counts["OPEN"] + peer["OPEN"]


def test_dashboard_figures_per_caller(as_):
    rep1, rep2, ids = _setup(as_)
    assert rep1(COMPLETE, {"id": ids["today"]}).data["completeTask"]["errors"] == []

    def figures(client):
        r = client(DASHBOARD)
        assert r.errors == [], r.errors
        return {f["key"]: f["count"] for f in r.data["dashboard"]["figures"]}

    mine = figures(rep1)
    week = _titles(rep1, {"due": "THIS_WEEK", "includeCompleted": True})
    assert mine["calendar.thisWeek"] == len(week)
    assert mine["calendar.doneThisWeek"] == 1
    assert mine["calendar.overdue"] == 1
    assert mine["calendar.open"] == len(_titles(rep1, {}))
    peer = figures(rep2)
    assert peer["calendar.overdue"] == 0 and peer["calendar.doneThisWeek"] == 0
    assert peer["calendar.open"] == len(_titles(rep2, {}))


def test_spans_follow_the_local_calendar():
    # Sunday 2026-03-29 in Madrid has 23 hours (summer time began at 02:00)
    local = spans("Europe/Madrid", datetime(2026, 3, 29, 10, 0, tzinfo=UTC))
    assert local.today == (
        datetime(2026, 3, 28, 23, 0, tzinfo=UTC),
        datetime(2026, 3, 29, 22, 0, tzinfo=UTC),
    )
    assert local.week == (
        datetime(2026, 3, 22, 23, 0, tzinfo=UTC),
        datetime(2026, 3, 29, 22, 0, tzinfo=UTC),
    )


def test_figures_and_counts_take_one_statement_each(as_, sql_log):
    rep1, _, _ = _setup(as_)
    for query in (DASHBOARD, COUNTS):
        with sql_log:
            assert rep1(query).errors == []
        assert len(sql_log.touching("FROM tasks")) == 1, sql_log.touching("tasks")
