"""PostgreSQL: with two ``crm-gateway worker`` processes running, each trigger mails exactly
one consent request — however many times the client changes meanwhile — and the links the
workers sign work on the web app (issue 16, "Done when")."""

from __future__ import annotations

import time

import pytest
from sqlalchemy import select

from gateway.jobs.models import Job, JobStatus
from plugins.consent.models import ConsentRequest, RequestStatus
from tests.consent_support import UPDATE_CONTACT, answer_path, mailing_env, post_answer
from tests.test_jobs_workers import wait_for, workers  # noqa: F401 (fixture)

pytestmark = pytest.mark.slow


@pytest.fixture
def env(gateway, demo, smtp_server):
    yield from mailing_env(gateway, smtp_server)


def test_two_workers_mail_each_trigger_once(env, workers, monkeypatch):  # noqa: F811
    monkeypatch.setenv("CRM_SMTP_HOST", "127.0.0.1")
    monkeypatch.setenv("CRM_SMTP_PORT", str(env.inbox.port))
    monkeypatch.setenv("CRM_DATA_DIR", str(env.gateway.settings.data_dir))
    env.configure()
    workers("w1")
    workers("w2")
    rep = env.as_("rep1")
    clients = [env.client(f"Client {i}", f"c{i}@clients.test") for i in range(6)]
    for contact in clients:  # more triggers while the first requests are being mailed
        for city in ("Lugo", "Soria"):
            assert rep(UPDATE_CONTACT, {"id": contact, "i": {"city": city}}).errors == []

    def all_done() -> bool:
        with env.gateway.db.reading() as session:
            jobs = session.scalars(select(Job).where(Job.kind == "consent.send")).all()
            return bool(jobs) and all(j.status is JobStatus.SUCCEEDED for j in jobs)

    wait_for(all_done, 60, "the consent jobs")
    time.sleep(1.5)  # anything mailed twice would arrive by now
    assert sorted(m["To"] for m in env.messages) == sorted(f"c{i}@clients.test" for i in range(6))
    with env.gateway.db.reading() as session:
        statuses = session.scalars(select(ConsentRequest.status)).all()
    assert statuses == [RequestStatus.SENT] * 6
    # A link a worker signed is answered on the web app.
    first = env.mails_to("c0@clients.test")[0]
    assert post_answer(env.http, answer_path(first), "accept").status_code == 200


def test_two_workers_mail_each_task_and_user_trigger_once(env, workers, monkeypatch):  # noqa: F811
    """The other triggers under the same load: a task created then edited twice, a user
    created then changed twice — one request each."""
    from tests.test_consent import CREATE_TASK, UPDATE_TASK
    from tests.test_consent_employees import CREATE_USER, EMPLOYEES, UPDATE_USER, _profile

    monkeypatch.setenv("CRM_SMTP_HOST", "127.0.0.1")
    monkeypatch.setenv("CRM_SMTP_PORT", str(env.inbox.port))
    monkeypatch.setenv("CRM_DATA_DIR", str(env.gateway.settings.data_dir))
    env.configure(triggers=["TASK_SAVED"])
    env.configure(**EMPLOYEES, appliesTo=[], clientKinds=[])
    workers("w1")
    workers("w2")
    rep, admin = env.as_("rep1"), env.as_("admin")
    clients = [env.client(f"Tasked {i}", f"t{i}@clients.test") for i in range(4)]
    for contact in clients:
        made = rep(
            CREATE_TASK,
            {"i": {"title": "Call", "deadline": "2030-01-01T09:00:00Z", "contactId": contact}},
        )
        task = made.data["createTask"]["task"]["id"]
        for title in ("Call again", "Call once more"):
            assert rep(UPDATE_TASK, {"id": task, "i": {"title": title}}).errors == []
    profile = _profile(env)
    for i in range(3):
        r = admin(CREATE_USER, {"e": f"staff{i}@demo.test", "n": f"Staff {i}", "p": profile})
        user = r.data["createUser"]["user"]["id"]
        for name in ("Staff A", "Staff B"):
            assert admin(UPDATE_USER, {"id": user, "n": name}).errors == []

    def all_done() -> bool:
        with env.gateway.db.reading() as session:
            jobs = session.scalars(select(Job).where(Job.kind == "consent.send")).all()
            return len(jobs) == 7 and all(j.status is JobStatus.SUCCEEDED for j in jobs)

    wait_for(all_done, 60, "the consent jobs")
    time.sleep(1.5)  # anything mailed twice would arrive by now
    expected = [f"t{i}@clients.test" for i in range(4)] + [f"staff{i}@demo.test" for i in range(3)]
    assert sorted(m["To"] for m in env.messages) == sorted(expected)
