"""PostgreSQL, two real workers: an import whose worker is killed with SIGKILL mid-import is
rolled back whole and retried by the other worker, and ends complete — never half-written,
never doubled (issue 14, "Done when")."""

from __future__ import annotations

import os
import signal

import pytest
from sqlalchemy import func, select
from strawberry.relay import from_base64

from gateway.jobs import Job, JobStatus
from plugins.contacts.models import Contact
from tests.test_files import upload
from tests.test_imports_flow import START, _rows, _workbook
from tests.test_jobs_workers import wait_for, workers  # noqa: F401  (the fixture)

pytestmark = pytest.mark.slow
ROWS = 2000

JOB = "query($id: ID!) { job(id: $id) { status progress { done } } }"


def _imported(gateway) -> int:
    with gateway.db.reading() as s:
        return s.scalar(select(func.count()).select_from(Contact).where(Contact.city == "Zaragoza"))


def test_an_import_killed_mid_way_is_rolled_back_and_retried_elsewhere(gateway, as_, workers):  # noqa: F811
    manager = as_("manager")
    sent = upload(manager, _workbook(_rows(ROWS)), name="big.xlsx")
    assert sent.status_code == 201, sent.text
    r = manager(
        START, {"input": {"fileId": sent.json()["id"], "entity": "contact", "variant": "company"}}
    )
    job_id = r.data["startImport"]["job"]["id"]
    pk = int(from_base64(job_id)[1])
    first, second = workers("w1"), workers("w2")

    def running_mid_way() -> bool:
        job = manager(JOB, {"id": job_id}).data["job"]
        return job["status"] == "RUNNING" and 0 < job["progress"]["done"] < ROWS

    wait_for(running_mid_way, 60, "the import to be mid-way")
    with gateway.db.reading() as session:
        claim = session.get(Job, pk).claim
    victim_pid = int(claim.split(":")[1])
    victim = first if victim_pid == first.pid else second
    assert victim.pid == victim_pid
    os.kill(victim.pid, signal.SIGKILL)
    victim.wait(timeout=10)
    # nothing of the killed attempt was ever committed
    assert _imported(gateway) == 0
    wait_for(
        lambda: manager(JOB, {"id": job_id}).data["job"]["status"] == "SUCCEEDED",
        120,
        "the retried import",
    )
    assert _imported(gateway) == ROWS  # complete, and not doubled
    with gateway.db.reading() as session:
        job = session.get(Job, pk)
        assert job.status == JobStatus.SUCCEEDED and job.attempts == 2
