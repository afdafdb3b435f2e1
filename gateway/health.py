"""Probes for orchestrators: ``GET /healthz`` (the process answers) and ``GET /readyz``
(this process can serve: database reachable, migrations current, job engine reachable).

``/readyz`` answers 200 ``{"status": "ready", "checks": {...}}`` or 503 ``"not ready"``
with the failing check's ``problem``. Problems never carry a driver's message (it may name
hosts or users): that goes to the log. Both are unauthenticated and read no tenant data.
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import anyio
import anyio.to_thread
from alembic.script import ScriptDirectory
from sqlalchemy import text
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from gateway import migrate

if TYPE_CHECKING:
    from gateway.app import Gateway

log = logging.getLogger("gateway.health")

#: Seconds a readiness check may take before the probe answers 503 anyway.
READY_TIMEOUT = 5.0
#: A procrastinate worker whose last heartbeat is older than this is not counted.
WORKER_SILENCE_SECONDS = 60
#: The function the API calls to queue a job on PostgreSQL (gateway.jobs.queue).
DEFER_FUNCTION = "procrastinate_defer_jobs_v1(procrastinate_job_to_defer_v1[])"


async def healthz(_request: Request) -> Response:
    """Liveness: the process and its event loop answer. Touches no database."""
    return JSONResponse({"status": "ok"})


@dataclass
class Readiness:
    """The ``/readyz`` checks of one app; the migration scripts are read once."""

    gateway: Gateway
    #: Whether this process runs jobs itself (SQLite, ``CRM_JOBS_IN_PROCESS``): its
    #: runner thread, set by the app's lifespan.
    runner: Any = None
    _script: ScriptDirectory | None = field(default=None, init=False)

    def check(self) -> dict[str, dict[str, Any]]:
        """Every check's result, ``{"ok": bool, ...}``; later checks are skipped when the
        database is unreachable."""
        checks: dict[str, dict[str, Any]] = {"database": self._database()}
        if not checks["database"]["ok"]:
            skipped = {"ok": False, "problem": "not checked: the database is unreachable"}
            return {**checks, "migrations": skipped, "jobs": skipped}
        checks["migrations"] = self._migrations()
        checks["jobs"] = self._jobs()
        return checks

    def _database(self) -> dict[str, Any]:
        try:
            with self.gateway.db.engine.connect() as connection:
                connection.execute(text("SELECT 1"))
        except Exception:
            log.exception("readiness: the database is unreachable")
            return {"ok": False, "problem": "the database is unreachable"}
        return {"ok": True}

    def _migrations(self) -> dict[str, Any]:
        registry = self.gateway.registry
        engine = self.gateway.db.engine
        try:
            if self._script is None:
                self._script = migrate.script_directory(registry)
            pending = migrate.pending(engine, registry, self._script)
            missing = {} if pending else migrate.missing_tables(engine, registry)
        except Exception:
            log.exception("readiness: checking the migrations failed")
            return {"ok": False, "problem": "the migrations could not be checked"}
        if pending:
            return {
                "ok": False,
                "problem": f"{len(pending)} revisions not applied: run `crm-gateway db upgrade`",
                "pending": sorted(pending),
            }
        if missing:
            modules = ", ".join(sorted(missing))
            return {"ok": False, "problem": f"tables missing for the modules {modules}"}
        return {"ok": True}

    def _jobs(self) -> dict[str, Any]:
        if self.gateway.db.is_sqlite:
            if self.runner is None:
                # Jobs run in `crm-gateway worker` processes, which this one cannot see.
                return {"ok": True, "engine": "external worker"}
            if not self.runner.alive:
                return {"ok": False, "engine": "in-process", "problem": "the job runner stopped"}
            return {"ok": True, "engine": "in-process"}
        try:
            with self.gateway.db.engine.connect() as connection:
                defer = connection.scalar(text("SELECT to_regprocedure(:f)"), {"f": DEFER_FUNCTION})
                workers = (
                    connection.scalar(
                        text(
                            "SELECT count(*) FROM procrastinate_workers WHERE last_heartbeat"
                            " > now() - make_interval(secs => :silence)"
                        ),
                        {"silence": WORKER_SILENCE_SECONDS},
                    )
                    if defer is not None
                    else 0
                )
        except Exception:
            log.exception("readiness: the job engine is unreachable")
            return {"ok": False, "engine": "procrastinate", "problem": "unreachable"}
        if defer is None:
            return {
                "ok": False,
                "engine": "procrastinate",
                "problem": "its schema is missing: run `crm-gateway db upgrade`",
            }
        # Workers may run elsewhere and start later: reported, not required to serve.
        return {"ok": True, "engine": "procrastinate", "workers": workers}

    async def endpoint(self, _request: Request) -> Response:
        """``GET /readyz``: 200 when every check passes, else 503."""
        try:
            with anyio.fail_after(READY_TIMEOUT):
                checks = await anyio.to_thread.run_sync(self.check, abandon_on_cancel=True)
        except TimeoutError:
            problem = f"the checks took more than {math.ceil(READY_TIMEOUT)} s"
            checks = {"database": {"ok": False, "problem": problem}}
        ready = all(c["ok"] for c in checks.values())
        return JSONResponse(
            {"status": "ready" if ready else "not ready", "checks": checks},
            status_code=200 if ready else 503,
        )
