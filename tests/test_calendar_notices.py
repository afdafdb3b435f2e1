""" "Notify the responsible" and deadlines in the organisation's time zone (issue 15) on both
engines: a task given to someone else with `notifyResponsible` tells them once, after the
change commits (the `calendar.notices` kind), never for a task they may not see nor for
one the caller keeps; emails state the deadline in the organisation's time zone, as the
reminders' emails do."""

from __future__ import annotations

import threading
from dataclasses import replace
from datetime import UTC, datetime

import pytest

from gateway.app import Gateway
from gateway.jobs import run_pending
from plugins.calendar import notices, reminders

CREATE = """mutation($i: CreateTaskInput!) { createTask(input: $i) {
  task { id } errors { code field } } }"""
CREATE_MANY = """mutation($i: CreateTaskInput!, $c: [ID!]!) { createTasks(input: $i, contactIds: $c) {
  tasks { id } errors { code field } } }"""
UPDATE = """mutation($id: ID!, $i: UpdateTaskInput!) { updateTask(id: $id, input: $i) {
  task { id } errors { code field } } }"""
NOTES = "{ notifications { kind title subjectId } }"
CONTACTS = "{ contacts(first: 3) { edges { node { id } } } }"


def _users(admin):
    return {
        u["email"].split("@")[0]: u["id"] for u in admin("{ users { id email } }").data["users"]
    }


def _create(client, title, notify=True, **given):
    given = {
        "title": title,
        "deadline": "2026-06-01T09:00:00Z",
        "notifyResponsible": notify,
        **given,
    }
    r = client(CREATE, {"i": given})
    assert r.errors == [] and r.data["createTask"]["errors"] == [], r.body
    return r.data["createTask"]["task"]["id"]


def _deliver(gw: Gateway) -> int:
    with gw.db.transaction() as session:
        return notices.deliver(gw, session)


def _notices(client):
    return [n for n in client(NOTES).data["notifications"] if n["kind"] == "calendar.assigned"]


def _mailing(gateway, smtp_server) -> Gateway:
    settings = replace(gateway.settings, smtp_host="127.0.0.1", smtp_port=smtp_server.port)
    return Gateway(settings=settings, db=gateway.db, registry=gateway.registry)


def test_the_responsible_is_told_once_after_the_commit(gateway, as_):
    admin, manager, rep1 = as_("admin"), as_("manager"), as_("rep1")
    users = _users(admin)
    task = _create(manager, "Call the distributor", responsibleId=users["rep1"])
    _create(manager, "Quietly", notify=False, responsibleId=users["rep1"])
    _create(manager, "My own")  # the caller is responsible: nobody to tell
    # a refused change asks for nothing (nothing is written)
    r = manager(
        CREATE,
        {
            "i": {
                "title": "",
                "deadline": "2026-06-01T09:00:00Z",
                "notifyResponsible": True,
                "responsibleId": users["rep2"],
            }
        },
    )
    assert r.data["createTask"]["errors"][0]["field"] == "title"
    assert _notices(rep1) == []  # not before the job runs
    assert _deliver(gateway) == 1
    assert _deliver(gateway) == 0  # exactly once
    assert _notices(rep1) == [
        {
            "kind": "calendar.assigned",
            "title": "Task for you: Call the distributor",
            "subjectId": task,
        }
    ]
    assert _notices(manager) == [] and _notices(as_("rep2")) == []
    # handing it over later with the flag tells the new responsible
    r = manager(
        UPDATE, {"id": task, "i": {"responsibleId": users["rep2"], "notifyResponsible": True}}
    )
    assert r.data["updateTask"]["errors"] == []
    assert _deliver(gateway) == 1
    assert [n["subjectId"] for n in _notices(as_("rep2"))] == [task]


def test_the_periodic_kind_delivers_them(gateway, as_):
    admin, manager, rep1 = as_("admin"), as_("manager"), as_("rep1")
    _create(manager, "Through the queue", responsibleId=_users(admin)["rep1"])
    run_pending(gateway, now=datetime.now(UTC)) if gateway.db.is_sqlite else _deliver(gateway)
    assert [n["title"] for n in _notices(rep1)] == ["Task for you: Through the queue"]


def test_never_for_a_task_the_responsible_may_not_see(gateway, as_):
    """rep2 loses the calendar permissions between the change and the delivery."""
    admin, manager, rep2 = as_("admin"), as_("manager"), as_("rep2")
    users = _users(admin)
    _create(manager, "Not for your eyes", responsibleId=users["rep2"])
    r = admin(
        """mutation { createProfile(input: {name: "No tasks", kind: HIERARCHICAL,
        permissions: ["contacts.contact.read"]}) { profile { id } errors { code } } }"""
    )
    profile = r.data["createProfile"]["profile"]["id"]
    r = admin(
        "mutation($id: ID!, $p: ID!) { updateUser(id: $id, input: {profileId: $p}) { errors { code } } }",
        {"id": users["rep2"], "p": profile},
    )
    assert r.data["updateUser"]["errors"] == []
    assert _deliver(gateway) == 1  # claimed, and dropped
    assert _notices(rep2) == []


def test_a_group_creation_is_one_notice_and_one_email(gateway, as_, smtp_server):
    admin, manager, rep1 = as_("admin"), as_("manager"), as_("rep1")
    users = _users(admin)
    contacts = [e["node"]["id"] for e in manager(CONTACTS).data["contacts"]["edges"]]
    r = admin(
        'mutation { updateOrganization(input: {timezone: "Europe/Madrid"}) { errors { code } } }'
    )
    assert r.data["updateOrganization"]["errors"] == []
    r = manager(
        CREATE_MANY,
        {
            "i": {
                "title": "Send the catalogue",
                "deadline": "2026-06-01T09:00:00Z",
                "responsibleId": users["rep1"],
                "notifyResponsible": True,
            },
            "c": contacts,
        },
    )
    assert r.data["createTasks"]["errors"] == [], r.body
    assert _deliver(_mailing(gateway, smtp_server)) == len(contacts)
    [note] = _notices(rep1)
    assert note["title"] == f"{len(contacts)} tasks for you: Send the catalogue, …"
    [message] = smtp_server.messages
    assert message["To"] == "rep1@demo.test"
    # 09:00 UTC is 11:00 in Madrid (summer time)
    assert "Send the catalogue (due 2026-06-01 11:00 Europe/Madrid)" in message.get_content()


def test_reminder_emails_state_the_deadline_in_the_organisations_zone(gateway, as_, smtp_server):
    admin, rep1 = as_("admin"), as_("rep1")
    r = admin(
        'mutation { updateOrganization(input: {timezone: "America/New_York"}) { errors { code } } }'
    )
    assert r.data["updateOrganization"]["errors"] == []
    _create(rep1, "Offer", notify=False, reminderMinutes=60)
    _create(
        rep1,
        "All day",
        notify=False,
        allDay=True,
        deadline="2026-06-02T09:00:00Z",
        reminderMinutes=60,
    )
    with gateway.db.transaction() as session:
        mailing = _mailing(gateway, smtp_server)
        assert reminders.deliver(mailing, session, datetime(2026, 6, 2, tzinfo=UTC)) == 2
    bodies = sorted(m.get_content() for m in smtp_server.messages)
    assert "Due 2026-06-01 05:00 America/New_York." in bodies[1]  # EDT, UTC-4
    assert "Due 2026-06-02 (all day)." in bodies[0]


def test_a_users_own_time_zone_wins_over_the_organisations(gateway, as_, smtp_server):
    admin, manager, rep1 = as_("admin"), as_("manager"), as_("rep1")
    r = admin(
        'mutation { updateOrganization(input: {timezone: "Europe/Madrid"}) { errors { code } } }'
    )
    assert r.data["updateOrganization"]["errors"] == []
    r = rep1(
        """mutation { updateMySettings(input: {timezone: "Asia/Tokyo"}) { errors { code } } }"""
    )
    assert r.data["updateMySettings"]["errors"] == []
    _create(manager, "Call Osaka", responsibleId=_users(admin)["rep1"], reminderMinutes=60)
    mailing = _mailing(gateway, smtp_server)
    assert _deliver(mailing) == 1
    with gateway.db.transaction() as session:
        assert reminders.deliver(mailing, session, datetime(2026, 6, 1, 8, tzinfo=UTC)) == 1
    notice, reminder = smtp_server.messages
    # 09:00 UTC is 18:00 in Tokyo
    assert "Call Osaka (due 2026-06-01 18:00 Asia/Tokyo)" in notice.get_content()
    assert "Due 2026-06-01 18:00 Asia/Tokyo." in reminder.get_content()


def test_two_concurrent_claimers_deliver_each_notice_once(gateway, as_):
    admin, manager, rep1 = as_("admin"), as_("manager"), as_("rep1")
    users = _users(admin)
    for i in range(5):
        _create(manager, f"Task {i}", responsibleId=users["rep1"])
    counts: list[int] = []
    start = threading.Barrier(2)

    def worker() -> None:
        start.wait()
        counts.append(_deliver(gateway))

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert len(counts) == 2 and sum(counts) == 5, counts
    told = [n["title"] for n in _notices(rep1)]
    # each claimer tells rep1 about the tasks it took: 5 tasks in all, none twice
    assert sum(1 if t.startswith("Task for you:") else int(t.split()[0]) for t in told) == 5, told


@pytest.mark.parametrize("notify", [True, False])
def test_a_rep_handing_a_task_to_a_peer_notifies_only_when_asked(gateway, as_, notify):
    admin, rep1, rep2 = as_("admin"), as_("rep1"), as_("rep2")
    _create(rep1, "For Rob", notify=notify, responsibleId=_users(admin)["rep2"])
    assert _deliver(gateway) == (1 if notify else 0)
    assert len(_notices(rep2)) == (1 if notify else 0)
