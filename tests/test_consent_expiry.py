"""Expiry is recorded in the consent ledger by the periodic kind ``consent.expire`` (issue 16,
K3/K6): a sent request past its links' expiry becomes EXPIRED with one ledger entry, exactly
once — however many ticks, concurrent claimers or racing triggers meet it. Both engines, real
SMTP on loopback."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from sqlalchemy import select

from gateway.db import utcnow
from gateway.jobs.models import Job
from gateway.jobs.runner import run_due
from plugins.consent import expiry
from plugins.consent.models import ConsentRequest, LedgerEntry, LedgerEvent, RequestStatus
from tests.consent_support import LEDGER, UPDATE_CONTACT, answer_path, form_token, mailing_env


@pytest.fixture
def env(gateway, demo, smtp_server):
    yield from mailing_env(gateway, smtp_server)


def _expired_entries(gateway) -> list[int | None]:
    with gateway.db.reading() as session:
        return list(
            session.scalars(
                select(LedgerEntry.request_id).where(LedgerEntry.event == LedgerEvent.EXPIRED)
            )
        )


def test_the_periodic_kind_records_expiry_once(env, gateway):
    env.configure(linkValidDays=2)
    late = env.client("Late", "late@late.test")
    answered = env.client("Answered", "ans@answered.test")
    env.run()
    path = answer_path(env.mails_to("ans@answered.test")[0])
    page = env.http.get(path).text
    env.http.post(path, data={"form": form_token(page), "answer": "accept"})
    # Not yet due: nothing is recorded.
    run_due(env.gateway, utcnow() + timedelta(days=1))
    assert _expired_entries(gateway) == []
    later = utcnow() + timedelta(days=3)
    run_due(env.gateway, later)
    run_due(env.gateway, later + timedelta(minutes=10))  # a second tick finds nothing
    with gateway.db.reading() as session:
        rows = session.execute(
            select(ConsentRequest.id, ConsentRequest.status, ConsentRequest.pending_key)
        ).all()
        ticks = session.scalars(select(Job.status).where(Job.kind == expiry.KIND)).all()
    assert len(ticks) >= 2  # (env.run() ticks too)
    by_status = {status: (request_id, key) for request_id, status, key in rows}
    assert set(by_status) == {RequestStatus.EXPIRED, RequestStatus.ACCEPTED}
    expired_id, key = by_status[RequestStatus.EXPIRED]
    assert key is None  # the next trigger may ask again
    assert _expired_entries(gateway) == [expired_id]
    entries = env.as_("admin")(LEDGER, {"c": late}).data["consentLedger"]
    assert [(e["event"], e["channel"]) for e in entries] == [
        ("REQUESTED", "SYSTEM"),
        ("SENT", "EMAIL"),
        ("EXPIRED", "SYSTEM"),
    ]
    assert env.consent(late)["requests"][0]["status"] == "EXPIRED"
    assert env.consent(answered)["requests"][0]["status"] == "ACCEPTED"
    # A trigger then asks again, and the old link stays refused.
    env.as_("rep1")(UPDATE_CONTACT, {"id": late, "i": {"city": "Ourense"}})
    env.run()
    assert len(env.mails_to("late@late.test")) == 2
    assert env.http.get(answer_path(env.mails_to("late@late.test")[0])).status_code == 410


def test_concurrent_claimers_and_a_racing_answer_record_each_expiry_once(env, gateway):
    env.configure(linkValidDays=1)
    contacts = [env.client(f"Client {i}", f"c{i}@clients.test") for i in range(5)]
    env.run()
    first_link = answer_path(env.mails_to("c0@clients.test")[0])
    page = env.http.get(first_link).text
    now = utcnow() + timedelta(days=2)
    counts: list[int] = []
    start = threading.Barrier(2)

    def worker() -> None:
        start.wait()
        with gateway.db.transaction() as session:
            counts.append(expiry.expire(session, now))

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert len(counts) == 2 and sum(counts) == 5, counts
    # The link's own expiry path meets an already recorded request: nothing more.
    late = env.http.post(first_link, data={"form": form_token(page), "answer": "accept"})
    assert late.status_code == 410
    recorded = _expired_entries(gateway)
    assert len(recorded) == len(set(recorded)) == len(contacts)


def test_a_switched_off_organisation_is_left_alone(env, gateway):
    env.configure(linkValidDays=1)
    contact = env.client("Paused", "p@paused.test")
    env.run()
    switch = 'mutation { setModuleEnabled(name: "consent", enabled: false) { errors { code } } }'
    assert env.as_("admin")(switch).data["setModuleEnabled"]["errors"] == []
    run_due(env.gateway, utcnow() + timedelta(days=2))
    assert _expired_entries(gateway) == []
    switch_on = switch.replace("false", "true")
    assert env.as_("admin")(switch_on).data["setModuleEnabled"]["errors"] == []
    run_due(env.gateway, utcnow() + timedelta(days=2, minutes=10))
    assert len(_expired_entries(gateway)) == 1
    assert env.consent(contact)["requests"][0]["status"] == "EXPIRED"
