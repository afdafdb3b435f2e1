"""Task reminders (issue 15, item 2) on both engines: delivered once and not before their
time, rescheduled when the deadline or reminder changes, never for a done task, exactly
once with two concurrent claimers, emailed when SMTP is configured. The clock is the
``now`` given to ``reminders.deliver`` (and, on SQLite, ``run_pending(gw, now=…)``)."""

from __future__ import annotations

import threading
from dataclasses import replace
from datetime import UTC, datetime

import pytest
from sqlalchemy import select

from gateway.app import Gateway
from gateway.jobs import run_pending
from gateway.jobs.models import Job, JobStatus
from plugins.calendar import reminders

CREATE = """mutation($i: CreateTaskInput!) { createTask(input: $i) {
  task { id } errors { code field } } }"""
UPDATE = """mutation($id: ID!, $i: UpdateTaskInput!) { updateTask(id: $id, input: $i) {
  task { id } errors { code field } } }"""
COMPLETE = """mutation($id: ID!) { completeTask(id: $id) { task { status } errors { code } } }"""
NOTES = "{ notifications { kind title subjectId } }"


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def _create(client, title, deadline="2026-06-01T09:00:00Z", minutes=60):
    r = client(CREATE, {"i": {"title": title, "deadline": deadline, "reminderMinutes": minutes}})
    assert r.errors == [] and r.data["createTask"]["errors"] == [], r
    return r.data["createTask"]["task"]["id"]


def _deliver(gw: Gateway, now: str) -> int:
    with gw.db.transaction() as session:
        return reminders.deliver(gw, session, at(now))


def _reminders(client):
    notes = client(NOTES).data["notifications"]
    return [n for n in notes if n["kind"] == "calendar.reminder"]


def test_delivered_once_and_not_before_its_time(gateway, as_):
    rep1 = as_("rep1")
    task = _create(rep1, "Call Ana")
    assert _deliver(gateway, "2026-06-01T07:59:59") == 0
    assert _reminders(rep1) == []
    assert _deliver(gateway, "2026-06-01T08:00:00") == 1
    assert _deliver(gateway, "2026-06-01T08:30:00") == 0
    assert _reminders(rep1) == [
        {"kind": "calendar.reminder", "title": "Reminder: Call Ana", "subjectId": task}
    ]
    assert _reminders(as_("rep2")) == []  # the responsible only


def test_rescheduled_when_the_deadline_or_reminder_changes(gateway, as_):
    rep1 = as_("rep1")
    task = _create(rep1, "Visit Luis")
    assert _deliver(gateway, "2026-06-01T08:00:00") == 1
    moved = rep1(UPDATE, {"id": task, "i": {"deadline": "2026-06-02T09:00:00Z"}})
    assert moved.data["updateTask"]["errors"] == []
    assert _deliver(gateway, "2026-06-01T12:00:00") == 0  # not before the new time
    assert _deliver(gateway, "2026-06-02T08:00:00") == 1
    earlier = rep1(UPDATE, {"id": task, "i": {"reminderMinutes": 120}})
    assert earlier.data["updateTask"]["errors"] == []
    assert _deliver(gateway, "2026-06-02T07:00:00") == 1
    never = rep1(UPDATE, {"id": task, "i": {"reminderMinutes": None, "title": "Renamed"}})
    assert never.data["updateTask"]["errors"] == []
    assert _deliver(gateway, "2026-06-03T00:00:00") == 0
    assert len(_reminders(rep1)) == 3


def test_never_for_a_done_task(gateway, as_):
    rep1 = as_("rep1")
    task = _create(rep1, "Done already")
    assert rep1(COMPLETE, {"id": task}).data["completeTask"]["task"]["status"] == "DONE"
    assert _deliver(gateway, "2030-01-01T00:00:00") == 0
    assert _reminders(rep1) == []


def test_two_concurrent_claimers_deliver_each_reminder_once(gateway, as_):
    rep1 = as_("rep1")
    for i in range(5):
        _create(rep1, f"Task {i}")
    counts: list[int] = []
    start = threading.Barrier(2)

    def worker() -> None:
        start.wait()
        counts.append(_deliver(gateway, "2026-06-01T08:00:00"))

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert len(counts) == 2 and sum(counts) == 5, counts
    assert len(_reminders(rep1)) == 5


def test_emailed_when_smtp_is_configured(gateway, as_, smtp_server):
    mailing = Gateway(
        settings=replace(gateway.settings, smtp_host="127.0.0.1", smtp_port=smtp_server.port),
        db=gateway.db,
        registry=gateway.registry,
    )
    _create(as_("rep1"), "Send the offer")
    assert _deliver(mailing, "2026-06-01T08:00:00") == 1
    [message] = smtp_server.messages
    assert message["To"] == "rep1@demo.test"
    assert message["Subject"] == "Reminder: Send the offer"
    assert "Due 2026-06-01 09:00 UTC" in message.get_content()


def test_sqlite_the_periodic_kind_reminds_as_of_its_tick(gateway, as_):
    if not gateway.db.is_sqlite:
        pytest.skip("PostgreSQL ticks come from procrastinate's periodic deferrer (real time)")
    rep1 = as_("rep1")
    _create(rep1, "Tick")
    run_pending(gateway, now=at("2026-06-01T07:59:00"))
    assert _reminders(rep1) == []
    run_pending(gateway, now=at("2026-06-01T08:00:00"))
    run_pending(gateway, now=at("2026-06-01T08:00:00"))
    run_pending(gateway, now=at("2026-06-01T08:01:00"))
    assert len(_reminders(rep1)) == 1
    with gateway.db.transaction() as session:
        jobs = session.scalars(select(Job).where(Job.kind == "calendar.reminders")).all()
        assert {j.status for j in jobs} == {JobStatus.SUCCEEDED}
        assert sorted(j.result["counts"]["reminded"] for j in jobs) == [0, 0, 1]


def test_none_while_the_calendar_is_switched_off(gateway, as_):
    rep1, admin = as_("rep1"), as_("admin")
    _create(rep1, "Quiet")
    switch = """mutation($e: Boolean!) { setModuleEnabled(name: "calendar", enabled: $e) {
      errors { code } } }"""
    assert admin(switch, {"e": False}).data["setModuleEnabled"]["errors"] == []
    assert _deliver(gateway, "2026-06-01T08:00:00") == 0
    assert admin(switch, {"e": True}).data["setModuleEnabled"]["errors"] == []
    assert _deliver(gateway, "2026-06-01T08:00:00") == 1  # kept, not lost
