"""Background jobs (MISSION M9) on both engines, through GraphQL over HTTP: a job runs as
the user who started it, in one transaction; progress, cancellation, retries, typed
errors, notifications, and who may see a job. Queued jobs are run deterministically with
``gateway.jobs.run_pending`` (SQLite: the in-process runner's loop; PostgreSQL: a real
procrastinate worker that stops when idle)."""

from __future__ import annotations

import threading
import time
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select, text

from gateway.app import Gateway
from gateway.context import CallerContext, Via
from gateway.errors import BadUserInput
from gateway.jobs import Job, JobStatus, defer_job, run_pending
from gateway.plugins import build_registry
from tests.plugins.notes.models import Note

START = """mutation($p: String!, $n: Int!, $k: String!, $w: String, $s: String, $f: String,
  $t: Int!) { startNoteJob(prefix: $p, count: $n, kind: $k, waitFor: $w, startedFlag: $s,
  fail: $f, transient: $t) { job { id status } errors { code message } } }"""
JOB = """query($id: ID!) { job(id: $id) { id kind status progress { done total }
  resultCounts { name value } errors { code message row column } attempts maxAttempts
  cancelRequested createdAt startedAt finishedAt startedBy { email } } }"""


@pytest.fixture
def gw(gateway):
    """The gateway with progress written at every call (deterministic cancellation)."""
    return Gateway(
        settings=replace(gateway.settings, job_progress_seconds=0.0),
        db=gateway.db,
        registry=gateway.registry,
    )


def start(client, prefix, count=3, kind="notes.write", **extra):
    variables = {"p": prefix, "n": count, "k": kind, "w": None, "s": None, "f": None, "t": 0}
    variables.update(extra)
    r = client(START, variables)
    assert r.errors == [], r.errors
    return r.data["startNoteJob"]


def job_of(client, job_id):
    r = client(JOB, {"id": job_id})
    assert r.errors == [], r.errors
    return r.data["job"]


def notes_titled(gateway, prefix) -> int:
    with gateway.db.reading() as session:
        return session.scalar(
            select(func.count()).select_from(Note).where(Note.title.like(f"{prefix} %"))
        )


def test_hook_crm_job_kinds(registry):
    """Kinds are collected per module; a kind outside its module's namespace fails start-up."""
    assert registry.job_kinds["notes.write"].title == "Write notes"
    assert registry.job_kind_module["notes.write"] == "notes"
    assert registry.job_kinds["notes.sweep"].schedule == "*/5 * * * *"
    from gateway.contract import JobKind, PluginInfo
    from gateway.errors import PluginError
    from gateway.hookspecs import hookimpl

    class Rogue:
        @hookimpl
        def crm_plugin_info(self):
            return PluginInfo(name="rogue", title="Rogue", version="1")

        @hookimpl
        def crm_job_kinds(self):
            return [JobKind("contacts.import", lambda *a: None)]

    import sys
    import types

    module = types.ModuleType("rogue_jobs_plugin")
    module.plugin = Rogue()
    module.crm_plugin_info = module.plugin.crm_plugin_info
    module.crm_job_kinds = module.plugin.crm_job_kinds
    sys.modules["rogue_jobs_plugin"] = module
    try:
        with pytest.raises(
            PluginError, match=r"must be a JobKind whose name starts with 'rogue\.'"
        ):
            build_registry(builtin=("gateway.core.plugin", "rogue_jobs_plugin"), entry_points=False)
    finally:
        del sys.modules["rogue_jobs_plugin"]


def test_a_job_runs_as_its_user_sees_what_they_see_and_notifies_them(gw, as_):
    rep, manager = as_("rep1"), as_("manager")
    for client, title in ((rep, "mine"), (as_("rep2"), "theirs"), (manager, "boss")):
        client("mutation($t: String!) { createNote(title: $t) { errors { code } } }", {"t": title})
    rep_sees = rep("{ noteCount }").data["noteCount"]
    assert manager("{ noteCount }").data["noteCount"] > rep_sees

    started = start(rep, "rep-job", 3)
    assert started["errors"] == [] and started["job"]["status"] == "QUEUED"
    job_id = started["job"]["id"]
    run_pending(gw)

    job = job_of(rep, job_id)
    assert job["status"] == "SUCCEEDED", job
    assert job["kind"] == "notes.write" and job["startedBy"] == {"email": "rep1@demo.test"}
    assert job["progress"] == {"done": 3, "total": 3}
    assert {c["name"]: c["value"] for c in job["resultCounts"]} == {
        "visible": rep_sees,
        "written": 3,
    }
    assert job["errors"] == [] and job["attempts"] == 1 and job["finishedAt"]
    # What it wrote belongs to rep1 and is visible to rep1.
    assert rep("{ noteCount }").data["noteCount"] == rep_sees + 3
    notes = rep("{ notifications { kind title subjectId } }").data["notifications"]
    assert {"kind": "job.succeeded", "title": "Write notes finished", "subjectId": job_id} in notes


def test_a_failing_job_has_typed_errors_and_leaves_nothing_written(gw, as_):
    rep = as_("rep1")
    typed = start(rep, "typed", 3, f="typed")["job"]["id"]
    crash = start(rep, "crash", 3, f="crash")["job"]["id"]
    run_pending(gw)
    job = job_of(rep, typed)
    assert job["status"] == "FAILED"
    assert job["errors"] == [
        {"code": "INVALID", "message": "no title", "row": 2, "column": "title"}
    ]
    assert job["resultCounts"] == []
    job = job_of(rep, crash)
    assert job["status"] == "FAILED"
    assert [e["code"] for e in job["errors"]] == ["INTERNAL"]
    assert "hunter2" not in str(job)
    assert notes_titled(gw, "typed") == notes_titled(gw, "crash") == 0
    kinds = [n["kind"] for n in rep("{ notifications { kind } }").data["notifications"]]
    assert kinds.count("job.failed") == 2


def test_transient_failures_retry_then_succeed_or_give_up(gw, as_):
    rep = as_("rep1")
    once = start(rep, "once", 2, t=1)["job"]["id"]
    always = start(rep, "always", 2, t=9)["job"]["id"]
    for _ in range(4):  # PostgreSQL: each retry is a new procrastinate job
        run_pending(gw)
    job = job_of(rep, once)
    assert job["status"] == "SUCCEEDED" and job["attempts"] == 2
    assert notes_titled(gw, "once") == 2  # the failed attempt's rows rolled back
    job = job_of(rep, always)
    assert job["status"] == "FAILED" and job["attempts"] == job["maxAttempts"] == 3
    assert [e["code"] for e in job["errors"]] == ["UNAVAILABLE"]
    assert notes_titled(gw, "always") == 0


CANCEL = (
    "mutation($id: ID!) { cancelJob(id: $id) { job { status cancelRequested } errors { code } } }"
)


def test_cancelling_a_queued_job_and_a_finished_one(gw, as_):
    rep = as_("rep1")
    job_id = start(rep, "queued")["job"]["id"]
    r = rep(CANCEL, {"id": job_id}).data["cancelJob"]
    assert r == {"job": {"status": "CANCELLED", "cancelRequested": True}, "errors": []}
    run_pending(gw)
    assert job_of(rep, job_id)["status"] == "CANCELLED"
    assert notes_titled(gw, "queued") == 0
    done = start(rep, "done")["job"]["id"]
    run_pending(gw)
    assert rep(CANCEL, {"id": done}).data["cancelJob"]["errors"] == [{"code": "CONFLICT"}]


def test_cancelling_a_running_job_rolls_its_work_back(gw, as_, tmp_path):
    rep = as_("rep1")
    flag, release = tmp_path / "started", tmp_path / "release"
    job_id = start(rep, "running", 6, w=str(release), s=str(flag))["job"]["id"]
    runner = threading.Thread(target=run_pending, args=(gw,))
    runner.start()
    try:
        deadline = time.monotonic() + 20
        while not flag.exists():
            assert time.monotonic() < deadline, "the job never started"
            time.sleep(0.05)
        job = job_of(rep, job_id)
        assert job["status"] == "RUNNING" and job["progress"]["total"] == 6
        assert 1 <= job["progress"]["done"] <= 6
        r = rep(CANCEL, {"id": job_id}).data["cancelJob"]
        assert r["errors"] == [] and r["job"]["cancelRequested"] is True
    finally:
        runner.join(30)
        release.touch()
    assert not runner.is_alive()
    job = job_of(rep, job_id)
    assert job["status"] == "CANCELLED", job
    assert notes_titled(gw, "running") == 0
    kinds = [n["kind"] for n in rep("{ notifications { kind } }").data["notifications"]]
    assert "job.cancelled" in kinds


def test_only_its_starter_and_admins_of_its_tenant_see_a_job(gw, as_, client_for):
    rep1, rep2, admin = as_("rep1"), as_("rep2"), as_("admin")
    job_id = start(rep1, "private")["job"]["id"]
    other = client_for("admin@acme.test")
    assert rep2(JOB, {"id": job_id}).data["job"] is None
    assert other(JOB, {"id": job_id}).data["job"] is None
    assert admin(JOB, {"id": job_id}).data["job"]["startedBy"] == {"email": "rep1@demo.test"}
    listed = "{ jobs(first: 10) { totalCount edges { node { id } } } }"
    assert rep2(listed).data["jobs"]["totalCount"] == 0
    assert other(listed).data["jobs"]["totalCount"] == 0
    assert admin(listed).data["jobs"]["totalCount"] == 1
    assert rep2(CANCEL, {"id": job_id}).data["cancelJob"]["errors"] == [{"code": "NOT_FOUND"}]
    assert other(CANCEL, {"id": job_id}).data["cancelJob"]["errors"] == [{"code": "NOT_FOUND"}]


def test_jobs_list_filters_by_status_and_pages(gw, as_):
    rep = as_("rep1")
    ids = [start(rep, f"list{i}", 1)["job"]["id"] for i in range(3)]
    rep(CANCEL, {"id": ids[0]})
    query = """query($s: [JobStatus!], $a: String) { jobs(first: 1, after: $a, status: $s)
      { totalCount pageInfo { hasNextPage endCursor } edges { node { id status } } } }"""
    queued = rep(query, {"s": ["QUEUED"]}).data["jobs"]
    assert queued["totalCount"] == 2 and queued["edges"][0]["node"]["id"] == ids[2]
    page2 = rep(query, {"s": ["QUEUED"], "a": queued["pageInfo"]["endCursor"]}).data["jobs"]
    assert [e["node"]["id"] for e in page2["edges"]] == [ids[1]]
    assert page2["pageInfo"]["hasNextPage"] is False


def test_a_kind_needing_a_permission_and_a_switched_off_module(gw, as_):
    rep, admin = as_("rep1"), as_("admin")
    r = rep(START, {"p": "x", "n": 1, "k": "notes.secret", "t": 0})
    assert r.data["startNoteJob"]["errors"][0]["code"] == "FORBIDDEN"
    r = rep(START, {"p": "x", "n": 1, "k": "notes.nope", "t": 0})
    assert r.data["startNoteJob"]["errors"][0]["code"] == "BAD_USER_INPUT"
    job_id = start(rep, "off")["job"]["id"]
    off = 'mutation { setModuleEnabled(name: "notes", enabled: false) { errors { code } } }'
    assert admin(off).data["setModuleEnabled"]["errors"] == []
    run_pending(gw)
    with gw.db.reading() as session:
        job = session.get(Job, int(_pk(job_id)))
        assert job.status == JobStatus.FAILED
        assert [e["code"] for e in job.errors] == ["MODULE_DISABLED"]


def _pk(global_id: str) -> str:
    from strawberry.relay import from_base64

    return from_base64(global_id)[1]


def test_defer_job_commits_or_rolls_back_with_the_callers_transaction(gw, demo):
    rep = demo["demo"].users["rep1@demo.test"]
    ctx = CallerContext.acting_for(gw, rep.id, via=Via.CLI)

    def failing_work() -> None:
        with ctx.transaction():
            defer_job(ctx, "notes.write", {"prefix": "rolled", "count": 1})
            raise RuntimeError("the triggering work failed")

    with pytest.raises(RuntimeError):
        failing_work()
    ctx.close()
    with gw.db.reading() as session:
        assert session.scalar(select(func.count()).select_from(Job)) == 0
        if not gw.db.is_sqlite:
            assert session.scalar(text("SELECT count(*) FROM procrastinate_jobs")) == 0
    ctx = CallerContext.acting_for(gw, rep.id, via=Via.CLI)
    with ctx.transaction():
        job = defer_job(ctx, "notes.write", {"prefix": "kept", "count": 1})
    ctx.close()
    if not gw.db.is_sqlite:
        with gw.db.reading() as session:
            args = session.scalar(text("SELECT args FROM procrastinate_jobs"))
            assert args == {"job_id": job.id}
    run_pending(gw)
    assert notes_titled(gw, "kept") == 1
    visitor = CallerContext.visitor(gw, rep.tenant_id, frozenset({"core"}), via=Via.CLI)
    with pytest.raises(BadUserInput, match="needs for_user"):
        defer_job(visitor, "notes.write", {})
    visitor.close()


def test_sqlite_restart_requeues_or_fails_jobs_of_a_dead_runner(gw, demo, as_):
    if not gw.db.is_sqlite:
        pytest.skip("PostgreSQL recovers through procrastinate's heartbeats (test_jobs_workers)")
    from gateway.jobs.runner import recover

    rep_user = demo["demo"].users["rep1@demo.test"]
    dead = "nohost:999999:abc"
    with gw.db.transaction() as session:
        again = Job(
            tenant_id=rep_user.tenant_id,
            user_id=rep_user.id,
            kind="notes.write",
            params={"prefix": "again", "count": 2},
            status=JobStatus.RUNNING,
            attempts=1,
            max_attempts=3,
            claim=dead,
            errors=[],
        )
        spent = Job(
            tenant_id=rep_user.tenant_id,
            user_id=rep_user.id,
            kind="notes.write",
            params={"prefix": "spent", "count": 2},
            status=JobStatus.RUNNING,
            attempts=3,
            max_attempts=3,
            claim=dead,
            errors=[],
        )
        session.add_all([again, spent])
    assert sorted(recover(gw)) == sorted([again.id, spent.id])
    run_pending(gw)
    with gw.db.reading() as session:
        assert session.get(Job, again.id).status == JobStatus.SUCCEEDED
        failed = session.get(Job, spent.id)
        assert failed.status == JobStatus.FAILED
        assert [e["code"] for e in failed.errors] == ["INTERRUPTED"]
    assert notes_titled(gw, "again") == 2 and notes_titled(gw, "spent") == 0
    kinds = [n["kind"] for n in as_("rep1")("{ notifications { kind } }").data["notifications"]]
    assert kinds.count("job.failed") == 1


def test_sqlite_periodic_kinds_run_once_per_tick_without_a_user(gw, demo):
    if not gw.db.is_sqlite:
        pytest.skip("PostgreSQL ticks come from procrastinate's periodic deferrer")
    # a tick after the real clock: the per-tenant jobs the sweep queues are due "now"
    tomorrow = datetime.now(UTC) + timedelta(days=1)
    tick = tomorrow.replace(hour=10, minute=7, second=0, microsecond=0)
    run_pending(gw, now=tick)
    run_pending(gw, now=tick)
    with gw.db.reading() as session:
        sweeps = session.scalars(select(Job).where(Job.kind == "notes.sweep")).all()
        assert [(j.periodic_key, j.user_id, j.status) for j in sweeps] == [
            (f"notes.sweep@{tick.replace(minute=5).isoformat()}", None, JobStatus.SUCCEEDED)
        ]
        assert sweeps[0].result == {"counts": {"queued": 2}}
    assert notes_titled(gw, "sweep") == 2  # one per tenant, each written as its admin
