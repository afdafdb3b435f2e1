"""Two-way Google Calendar sync (issue 15, item 8) against the local fake Calendar v3 server,
with the real google-api-python-client: create/update/delete in each direction, the seed's
two deletion rules, 410 resync, 412 conflicts (last writer wins), a retried insert that does
not duplicate, rate limits retried by the job kernel, a revoked token, the user's rights."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from gateway.jobs import run_pending
from gateway.jobs.models import Job, JobStatus
from plugins.calendar.google import mapping
from plugins.calendar.google.models import GoogleConnection, GoogleEventLink
from tests.google_sync_kit import (
    CAL,
    CONNECTION,
    DELETE,
    DISCONNECT,
    SYNC,
    UPDATE,
    connect,
    counts,
    create_task,
    fake,
    google_event,
    google_gateway,
    google_http,
    live_events,
    sync,
    tasks,
    user,
)

__all__ = ["fake", "google_gateway", "google_http", "user"]
NOTES = "{ notifications { kind title } }"


def _connected(user, google_http, name="rep1"):
    client = user(name)
    connect(client, google_http)
    return client


def _links(gateway) -> list[GoogleEventLink]:
    with gateway.db.reading() as session:
        return list(session.scalars(select(GoogleEventLink).order_by(GoogleEventLink.id)))


def _pk(global_id: str) -> int:
    import base64

    return int(base64.b64decode(global_id).decode().split(":")[1])


def test_crm_tasks_are_created_updated_and_deleted_in_google(
    google_gateway, google_http, user, fake
):
    rep1 = _connected(user, google_http)
    task = create_task(rep1, "Call Ana", description="About the offer")
    create_task(rep1, "Fair", deadline="2026-12-12T00:00:00Z", allDay=True)
    create_task(user("rep2"), "Not mine")  # another user's task never reaches rep1's calendar
    job = sync(rep1, google_gateway)
    assert job["status"] == "SUCCEEDED" and counts(job)["pushed"] == 2
    events = live_events(fake)
    assert set(events) == {"Call Ana", "Fair"}
    call = events["Call Ana"]
    assert call["id"] == mapping.event_id(
        _tenant(google_gateway), _connection(google_gateway).user_id, _pk(task)
    )
    assert call["start"] == {"dateTime": "2026-12-10T09:00:00Z"}
    assert call["end"] == {"dateTime": "2026-12-10T09:30:00Z"}
    assert call["description"] == "About the offer"
    assert call["extendedProperties"]["private"] == {
        "crmOrigin": "crm",
        "crmTaskId": str(_pk(task)),
        "crmTenant": str(_tenant(google_gateway)),
    }
    assert events["Fair"]["start"] == {"date": "2026-12-12"}
    assert events["Fair"]["end"] == {"date": "2026-12-13"}

    # an edit is a patch on the etag last seen
    etag = call["etag"]
    r = rep1(
        UPDATE, {"id": task, "i": {"title": "Call Ana again", "deadline": "2026-12-10T11:00:00Z"}}
    )
    assert r.data["updateTask"]["errors"] == []
    assert counts(sync(rep1, google_gateway))["pushed"] == 1
    [patch] = [q for q in fake.requests if q.method == "PATCH"]
    assert patch.headers["if-match"] == etag
    moved = fake.event(CAL, call["id"])
    assert (moved["summary"], moved["start"]) == (
        "Call Ana again",
        {"dateTime": "2026-12-10T11:00:00Z"},
    )
    # nothing Google shows changed: nothing written
    r = rep1(UPDATE, {"id": task, "i": {"reminderMinutes": 30}})
    assert r.data["updateTask"]["errors"] == []
    before = len(fake.requests)
    assert counts(sync(rep1, google_gateway)).get("pushed") is None
    assert all(q.method == "GET" for q in fake.requests[before:])

    # deleting a CRM-made task removes its event
    assert rep1(DELETE, {"id": task}).data["deleteTask"]["errors"] == []
    assert counts(sync(rep1, google_gateway))["removed_in_google"] == 1
    assert fake.event(CAL, call["id"])["status"] == "cancelled"
    assert set(live_events(fake)) == {"Fair"}
    assert len(_links(google_gateway)) == 1


def _tenant(gateway) -> int:
    return _connection(gateway).tenant_id


def _connection(gateway) -> GoogleConnection:
    with gateway.db.reading() as session:
        return session.scalars(select(GoogleConnection)).one()


def test_google_events_are_created_updated_and_deleted_in_the_crm(
    google_gateway, google_http, user, fake
):
    rep1 = _connected(user, google_http)
    made = fake.put_event(CAL, google_event("Lunch with Luis", description="Bring the catalogue"))
    fake.put_event(
        CAL, {"summary": "Holiday", "start": {"date": "2026-12-24"}, "end": {"date": "2026-12-26"}}
    )
    long_ago = {"dateTime": "2020-03-02T10:00:00Z"}
    fake.put_event(CAL, {"summary": "History", "start": long_ago, "end": long_ago})
    job = sync(rep1, google_gateway)
    assert (counts(job)["pulled"], counts(job)["past"]) == (2, 1)  # history stays in Google
    mine = tasks(rep1)
    assert mine["Lunch with Luis"]["deadline"] == "2026-12-11T10:00:00+00:00"
    assert mine["Lunch with Luis"]["description"] == "Bring the catalogue"
    assert mine["Lunch with Luis"]["responsible"] == {"email": "rep1@demo.test"}
    assert mine["Holiday"]["allDay"] is True
    assert "Lunch with Luis" not in tasks(user("rep2"), own=False)  # a PRIVATE task of rep1

    fake.edit_event(
        CAL,
        made["id"],
        summary="Lunch moved",
        start={"dateTime": "2026-12-11T13:00:00Z"},
        end={"dateTime": "2026-12-11T14:30:00Z"},
    )
    assert counts(sync(rep1, google_gateway))["pulled"] == 1
    moved = tasks(rep1)["Lunch moved"]
    assert moved["deadline"] == "2026-12-11T13:00:00+00:00"
    # the CRM's edit of a Google event keeps the event's length
    r = rep1(UPDATE, {"id": moved["id"], "i": {"deadline": "2026-12-11T15:00:00Z"}})
    assert r.data["updateTask"]["errors"] == []
    sync(rep1, google_gateway)
    event = fake.event(CAL, made["id"])
    assert event["end"] == {"dateTime": "2026-12-11T16:30:00Z"}
    assert "crmOrigin" not in event.get("extendedProperties", {}).get("private", {})

    # deleting in Google a task that came from Google, rep1 its only participant: deleted
    fake.remove_event(CAL, made["id"])
    assert counts(sync(rep1, google_gateway))["deleted"] == 1
    assert set(tasks(rep1)) == {"Holiday"}


def test_deleting_in_google_keeps_crm_tasks_and_shared_events(
    google_gateway, google_http, user, fake
):
    rep1 = _connected(user, google_http)
    create_task(rep1, "Made in the CRM")
    shared = fake.put_event(
        CAL,
        google_event(
            "Team meeting",
            attendees=[{"email": CAL, "self": True}, {"email": "boss@example.test"}],
        ),
    )
    sync(rep1, google_gateway)
    crm_event = live_events(fake)["Made in the CRM"]
    fake.remove_event(CAL, crm_event["id"])
    fake.remove_event(CAL, shared["id"])
    job = sync(rep1, google_gateway)
    assert counts(job)["kept"] == 2 and "deleted" not in counts(job)
    assert {"Made in the CRM", "Team meeting"} <= set(tasks(rep1))
    # a CRM task removed in Google is not pushed there again, even when edited
    r = rep1(UPDATE, {"id": tasks(rep1)["Made in the CRM"]["id"], "i": {"title": "Edited"}})
    assert r.data["updateTask"]["errors"] == []
    sync(rep1, google_gateway)
    assert live_events(fake) == {}


def test_deleting_in_the_crm_leaves_events_made_in_google(google_gateway, google_http, user, fake):
    rep1 = _connected(user, google_http)
    made = fake.put_event(CAL, google_event("Dentist"))
    sync(rep1, google_gateway)
    task = tasks(rep1)["Dentist"]["id"]
    assert rep1(DELETE, {"id": task}).data["deleteTask"]["errors"] == []
    sync(rep1, google_gateway)
    assert fake.event(CAL, made["id"])["status"] == "confirmed"
    [tombstone] = _links(google_gateway)
    assert (tombstone.task_id, tombstone.event_id) == (None, made["id"])
    # later edits of it in Google do not bring the task back
    fake.edit_event(CAL, made["id"], summary="Dentist (moved)")
    sync(rep1, google_gateway)
    assert tasks(rep1) == {}


def test_an_expired_sync_token_is_a_full_resync(google_gateway, google_http, user, fake):
    rep1 = _connected(user, google_http)
    gone = fake.put_event(CAL, google_event("Will vanish"))
    sync(rep1, google_gateway)
    fake.invalidate_sync_tokens(CAL)
    fake.put_event(CAL, google_event("Arrives meanwhile", hour=15))
    fake.remove_event(CAL, gone["id"])
    job = sync(rep1, google_gateway)
    assert job["status"] == "SUCCEEDED"
    assert counts(job)["full_resyncs"] == 1
    assert counts(job)["pulled"] == 1 and counts(job)["deleted"] == 1
    lists = [q for q in fake.requests if q.method == "GET" and q.path.endswith("/events")]
    assert [q.status for q in lists[-2:]] == [410, 200]
    assert "syncToken" not in lists[-1].query
    assert set(tasks(rep1)) == {"Arrives meanwhile"}
    # and the new token is used next time
    sync(rep1, google_gateway)
    lists = [q for q in fake.requests if q.method == "GET" and q.path.endswith("/events")]
    assert "syncToken" in lists[-1].query and lists[-1].status == 200


def test_a_conflict_is_won_by_the_later_writer(google_gateway, google_http, user, fake):
    rep1 = _connected(user, google_http)
    first = create_task(rep1, "Ours later")
    second = create_task(rep1, "Theirs later", deadline="2026-12-10T10:00:00Z")
    sync(rep1, google_gateway)
    events = live_events(fake)
    # Google edits first, then the CRM: the CRM's version wins
    fake.edit_event(CAL, events["Ours later"]["id"], summary="Google's title", location="Room 1")
    rep1(UPDATE, {"id": first, "i": {"title": "CRM's title"}})
    # the CRM edits first, then Google: Google's version wins
    rep1(UPDATE, {"id": second, "i": {"title": "CRM's other title"}})
    fake.edit_event(CAL, events["Theirs later"]["id"], summary="Google's other title")
    job = sync(rep1, google_gateway)
    assert counts(job)["conflicts"] == 2
    statuses = [q.status for q in fake.requests if q.method == "PATCH"]
    assert statuses.count(412) == 2
    ours = fake.event(CAL, events["Ours later"]["id"])
    assert (ours["summary"], ours["location"]) == ("CRM's title", "Room 1")  # merged
    assert fake.event(CAL, events["Theirs later"]["id"])["summary"] == "Google's other title"
    assert {"CRM's title", "Google's other title"} <= set(tasks(rep1))


def test_a_retried_insert_does_not_duplicate(google_gateway, google_http, user, fake):
    rep1 = _connected(user, google_http)
    create_task(rep1, "Only once")
    # the insert reaches Google, then the pull is rate-limited: the job rolls back and is
    # queued again; the next run's insert of the same id is 409 and adopts the event
    fake.fail_next(1, status=429, reason="rateLimitExceeded", method="GET")
    job = sync(rep1, google_gateway)
    assert (job["status"], job["attempts"]) == ("QUEUED", 1)
    assert _links(google_gateway) == []
    assert len(live_events(fake)) == 1
    job = sync(rep1, google_gateway)
    assert job["status"] == "SUCCEEDED" and counts(job)["adopted"] == 1
    inserts = [q.status for q in fake.requests if q.method == "POST"]
    assert inserts == [200, 409]
    assert len([e for e in fake.calendars[CAL].events.values()]) == 1
    assert len(_links(google_gateway)) == 1


def test_rate_limits_are_retried_by_the_job_kernel(google_gateway, google_http, user, fake):
    rep1 = _connected(user, google_http)
    fake.put_event(CAL, google_event("Later"))
    fake.fail_next(1, status=403, reason="userRateLimitExceeded")
    job = sync(rep1, google_gateway)
    assert (job["status"], job["attempts"]) == ("QUEUED", 1)
    assert tasks(rep1) == {}  # nothing half-written
    with google_gateway.db.transaction() as session:
        queued = session.scalars(select(Job).where(Job.kind == "calendar.google_sync")).one()
        assert queued.run_after > queued.created_at  # backed off
    if google_gateway.db.is_sqlite:
        run_pending(google_gateway, now=queued.run_after)
        assert set(tasks(rep1)) == {"Later"}


def test_a_revoked_token_breaks_the_connection_until_reconnected(
    google_gateway, google_http, user, fake
):
    rep1 = _connected(user, google_http)
    create_task(rep1, "Before")
    assert sync(rep1, google_gateway)["status"] == "SUCCEEDED"
    assert rep1(NOTES).data["notifications"] == []  # a quiet kind: no news is good news
    fake.oauth.revoke_all()
    create_task(rep1, "After")
    job = sync(rep1, google_gateway)
    assert job["status"] == "SUCCEEDED" and counts(job)["broken"] == 1
    state = rep1(CONNECTION).data["googleCalendarConnection"]
    assert (state["connected"], state["status"]) == (False, "BROKEN")
    assert "invalid_grant" in state["lastError"]
    assert [n["kind"] for n in rep1(NOTES).data["notifications"]] == ["calendar.google_broken"]
    refused = rep1(SYNC).data["syncGoogleCalendar"]
    assert refused["errors"][0]["code"] == "BAD_USER_INPUT"
    assert set(live_events(fake)) == {"Before"}
    # reconnecting the same account starts again where it stopped: nothing twice
    connect(rep1, google_http)
    assert rep1(CONNECTION).data["googleCalendarConnection"]["status"] == "CONNECTED"
    assert counts(sync(rep1, google_gateway)) == {"pushed": 1}
    assert sorted(e["summary"] for e in fake.calendars[CAL].events.values()) == [
        "After",
        "Before",
    ]


def test_a_task_that_left_the_user_is_no_longer_synced_by_them(
    google_gateway, google_http, user, fake
):
    rep1 = _connected(user, google_http)
    made = fake.put_event(CAL, google_event("Handover"))
    sync(rep1, google_gateway)
    task = tasks(rep1)["Handover"]["id"]
    rep2_id = user("rep2")("{ me { user { id } } }").data["me"]["user"]["id"]
    r = rep1(UPDATE, {"id": task, "i": {"responsibleId": rep2_id, "access": "PUBLIC_READ"}})
    assert r.data["updateTask"]["errors"] == [], r
    assert counts(sync(rep1, google_gateway))["unlinked"] == 1
    fake.edit_event(CAL, made["id"], summary="Renamed in rep1's Google")
    sync(rep1, google_gateway)
    assert "Handover" in tasks(user("rep2"))  # untouched: it is not rep1's any more
    fake.remove_event(CAL, made["id"])
    sync(rep1, google_gateway)
    assert "Handover" in tasks(user("rep2"))


def test_sqlite_the_periodic_kind_syncs_every_connected_user(
    google_gateway, google_http, user, fake
):
    if not google_gateway.db.is_sqlite:
        pytest.skip("PostgreSQL ticks come from procrastinate's periodic deferrer (real time)")
    rep1 = _connected(user, google_http)
    create_task(rep1, "Synced by the tick")
    tick = datetime(2030, 1, 7, 10, 0, tzinfo=UTC)
    run_pending(google_gateway, now=tick)
    run_pending(google_gateway, now=tick)  # the sync the tick queued
    assert set(live_events(fake)) == {"Synced by the tick"}
    assert rep1(CONNECTION).data["googleCalendarConnection"]["lastSyncedAt"] is not None
    with google_gateway.db.reading() as session:
        kinds = [j.kind for j in session.scalars(select(Job).order_by(Job.id))]
    assert kinds.count("calendar.google_sync") == 1
    # a broken connection is not queued any more
    fake.oauth.revoke_all()
    later = tick + timedelta(minutes=5)
    run_pending(google_gateway, now=later)
    run_pending(google_gateway, now=later)
    assert rep1(CONNECTION).data["googleCalendarConnection"]["status"] == "BROKEN"
    run_pending(google_gateway, now=later + timedelta(minutes=5))
    with google_gateway.db.reading() as session:
        syncs = session.scalars(select(Job).where(Job.kind == "calendar.google_sync")).all()
    assert len(syncs) == 2 and {j.status for j in syncs} == {JobStatus.SUCCEEDED}


def test_a_task_given_to_another_user_moves_to_their_calendar(
    google_gateway, google_http, user, fake
):
    rep1 = _connected(user, google_http)
    fake.oauth.email = "rep2.google@gmail.test"
    rep2 = _connected(user, google_http, "rep2")
    task = create_task(rep1, "Visit the client")
    sync(rep1, google_gateway)
    sync(rep2, google_gateway)
    assert set(live_events(fake)) == {"Visit the client"}  # rep1's calendar only
    rep2_calendar = fake.calendars.get("rep2.google@gmail.test")
    assert rep2_calendar is None or rep2_calendar.events == {}
    rep2_id = rep2("{ me { user { id } } }").data["me"]["user"]["id"]
    r = rep1(UPDATE, {"id": task, "i": {"responsibleId": rep2_id}})
    assert r.data["updateTask"]["errors"] == [], r
    assert counts(sync(rep1, google_gateway))["removed_in_google"] == 1
    assert counts(sync(rep2, google_gateway))["pushed"] == 1
    assert live_events(fake) == {}
    [moved] = fake.calendars["rep2.google@gmail.test"].events.values()
    assert (moved["summary"], moved["status"]) == ("Visit the client", "confirmed")


def test_after_a_disconnect_a_new_connection_adopts_the_crm_events(
    google_gateway, google_http, user, fake
):
    rep1 = _connected(user, google_http)
    create_task(rep1, "Kept")
    gone = create_task(rep1, "Deleted in Google meanwhile")
    sync(rep1, google_gateway)
    assert rep1(DISCONNECT).data["disconnectGoogleCalendar"]["ok"] is True
    fake.remove_event(CAL, live_events(fake)["Deleted in Google meanwhile"]["id"])
    connect(rep1, google_http)
    job = sync(rep1, google_gateway)
    assert counts(job)["adopted"] == 2
    assert [q.status for q in fake.requests if q.method == "POST"][-2:] == [409, 409]
    # one event per task: the kept one adopted, the deleted one restored
    assert sorted(e["summary"] for e in fake.calendars[CAL].events.values()) == [
        "Deleted in Google meanwhile",
        "Kept",
    ]
    assert set(live_events(fake)) == {"Kept", "Deleted in Google meanwhile"}
    assert gone in {t["id"] for t in tasks(rep1).values()}
